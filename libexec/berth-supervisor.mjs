#!/usr/bin/env node
// berth's task supervisor (local provider). berth starts it for every task, in its own
// session, and talks to it over three pipes:
//   stdin   berth -> supervisor: the first line is the job (JSON, it carries the task's
//           environment, so secrets never reach argv); later lines are requests ({"stop":…}).
//           End of file means berth is gone (exited, crashed or SIGKILLed).
//   fd 1/2  the task's own stdout/stderr (the task inherits them).
//   fd 3    supervisor -> berth: events, one JSON object a line.
//
// It guarantees, for the local provider, what berth's own advisory locks cannot once berth
// dies: the task never outlives berth, and a "task running" lock exists as long as any
// process of the task can still change a database.
//   1. With `locks`, it takes the task lock of each database (class `taskClass`, key = the
//      database's OID, held on one connection to `controlDatabase`) and checks that berth
//      still holds the migration lock of each one (the fence: berth may have died between
//      spawning it and now). Refused -> the task never starts.
//   2. It starts the task as the leader of a new process group.
//   3. When berth asks it to stop, when berth's end of stdin closes, or on SIGTERM: the whole
//      group gets SIGTERM, then SIGKILL after `graceMs` (a container is stopped with the
//      engine's CLI first). When the leader exits, any process it left in its group is ended
//      the same way.
//   4. Once the group is empty, it waits (up to `graceMs`) for the task's database sessions to
//      end, then releases the task locks by exiting.
// Plain JavaScript (no build step) so that it runs as it is from the sources, where `pg`
// resolves from the package's node_modules. Built berth runs dist/berth-supervisor.cjs, a
// one-file bundle of this script with pg inside, which starts with less CPU (scripts/build.mjs).
import { spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import readline from 'node:readline';

const events = createWriteStream('', { fd: 3 });
events.on('error', () => undefined);
const emit = (event) => events.write(`${JSON.stringify(event)}\n`);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Exits once the events are flushed to berth (within a second, in case berth is gone). */
function exitAfterEvents(code) {
  setTimeout(() => process.exit(code), 1_000).unref();
  events.end(() => process.exit(code));
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot), or undefined. */
function startTime(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}

function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

function signalGroup(pgid, signal) {
  try {
    process.kill(-pgid, signal);
  } catch {
    // Already gone.
  }
}

function runCli(cli, args, env, timeoutMs) {
  return new Promise((resolve) => {
    const child = spawn(cli, args, { env, stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', () => {
      clearTimeout(timer);
      resolve(false);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve(code === 0);
    });
  });
}

let job;
let berthGone = false;
let stopping;
let child;
let leaderExit;
let lockClient;
const waiters = [];
const onStopRequest = (reason) => {
  if (stopping) return;
  stopping = reason;
  for (const wake of waiters.splice(0)) wake();
};

const input = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
const firstLine = new Promise((resolve) => {
  input.on('line', (line) => {
    if (!job) {
      job = JSON.parse(line);
      resolve();
      return;
    }
    try {
      const request = JSON.parse(line);
      if (request.stop) onStopRequest(String(request.stop));
    } catch {
      // Not a request.
    }
  });
  input.on('close', () => {
    berthGone = true;
    onStopRequest('berth exited while the task was running');
    resolve();
  });
});
process.stdin.on('error', () => undefined);
process.on('SIGTERM', () =>
  onStopRequest('stopped: its supervisor got SIGTERM (e.g. from `berth tasks stop`)'),
);
process.on('SIGINT', () => undefined);
process.on('SIGHUP', () => undefined);

async function takeLocks(locks) {
  const { default: pg } = await import('pg');
  lockClient = new pg.Client({
    ...locks.connection,
    database: locks.controlDatabase,
    application_name: 'berth-supervisor',
    connectionTimeoutMillis: 10_000,
  });
  lockClient.on('error', () => undefined);
  await lockClient.connect();
  const names = locks.databases.map((d) => d.name);
  // The task lock's second key is the database's OID (its low 31 bits, to fit an int).
  const { rows } = await lockClient.query(
    `SELECT datname, oid::int8::text AS oid, (oid::int8 & 2147483647)::int AS key
       FROM pg_database WHERE datname = ANY($1)`,
    [names],
  );
  const byName = new Map(rows.map((r) => [r.datname, r]));
  for (const { name } of locks.databases) {
    const row = byName.get(name);
    if (row === undefined) return `database ${name} does not exist`;
    const got = await lockClient.query('SELECT pg_try_advisory_lock($1::int, $2::int) AS ok', [
      locks.taskClass,
      row.key,
    ]);
    if (!got.rows[0]?.ok) return `another task is still running on ${name}`;
  }
  const oids = new Map(rows.map((r) => [r.datname, r.oid]));
  // The fence: berth's session must still hold the migration lock of every database.
  const held = await lockClient.query(
    `SELECT count(DISTINCT l.database)::int AS n
       FROM pg_locks l
       JOIN unnest($3::oid[], $4::int[]) AS h(db, pid) ON h.db = l.database AND h.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted
        AND l.classid = $1::int::oid AND l.objid = $2::int::oid AND l.objsubid = 2`,
    [
      locks.migrationKey[0],
      locks.migrationKey[1],
      locks.databases.map((d) => oids.get(d.name)),
      locks.databases.map((d) => d.holderPid),
    ],
  );
  if (held.rows[0]?.n !== locks.databases.length) {
    return 'berth no longer holds the migration lock';
  }
  const now = await lockClient.query('SELECT now() AS t');
  return { since: now.rows[0].t };
}

/** SIGTERM to the group, SIGKILL after the grace period, until no process is left in it. */
async function endGroup(pgid, graceMs) {
  if (!groupAlive(pgid)) return;
  signalGroup(pgid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (groupAlive(pgid) && Date.now() < deadline) await sleep(50);
  while (groupAlive(pgid)) {
    signalGroup(pgid, 'SIGKILL');
    await sleep(50);
  }
}

async function stopTask(pgid) {
  const graceMs = job.graceMs ?? 5_000;
  if (job.container) {
    const { cli, name, env } = job.container;
    const graceSeconds = String(Math.max(0, Math.ceil(graceMs / 1000)));
    // Like ECS StopTask: SIGTERM in the container, SIGKILL after the grace period.
    await runCli(cli, ['stop', '--time', graceSeconds, name], env, graceMs + 10_000);
  }
  await endGroup(pgid, graceMs);
  if (job.container) {
    // The CLI may have died before it started the container: make sure none is left.
    const { cli, name, env } = job.container;
    await runCli(cli, ['rm', '--force', name], env, 10_000);
  }
}

/** The task's own sessions (opened since it started, not berth's) on its databases. */
async function waitForSessions(locks, since, graceMs) {
  const deadline = Date.now() + graceMs;
  for (;;) {
    let busy = 0;
    try {
      const { rows } = await lockClient.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE datname = ANY($1) AND backend_type = 'client backend'
            AND pid <> pg_backend_pid() AND backend_start >= $2
            AND coalesce(application_name, '') NOT LIKE 'berth%'`,
        [locks.databases.map((d) => d.name), since],
      );
      busy = rows[0]?.n ?? 0;
    } catch {
      return;
    }
    if (busy === 0 || Date.now() >= deadline) return;
    await sleep(25);
  }
}

async function main() {
  await firstLine;
  if (!job) return exitAfterEvents(70);
  let since;
  if (job.locks) {
    let taken;
    try {
      taken = await takeLocks(job.locks);
    } catch (error) {
      taken = `could not take the task lock: ${error.message}`;
    }
    if (typeof taken === 'string') {
      emit({ type: 'refused', reason: taken });
      await lockClient?.end().catch(() => undefined);
      return exitAfterEvents(75);
    }
    since = taken.since;
  }
  if (berthGone || stopping) {
    emit({ type: 'refused', reason: stopping ?? 'berth exited before the task started' });
    await lockClient?.end().catch(() => undefined);
    return exitAfterEvents(75);
  }

  child = spawn(job.command, job.args, {
    cwd: job.cwd,
    env: job.env,
    detached: true,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise((resolve) => {
    child.on('error', (error) => {
      leaderExit = { error: error.message };
      resolve();
    });
    child.on('exit', (code, signal) => {
      leaderExit = { code, signal };
      resolve();
    });
  });
  const pgid = child.pid;
  if (pgid !== undefined) emit({ type: 'started', pid: pgid, startTime: startTime(pgid) });

  const stopRequested = new Promise((resolve) => {
    if (stopping) resolve();
    else waiters.push(resolve);
  });
  await Promise.race([exited, stopRequested]);
  if (pgid !== undefined) {
    if (stopping && !leaderExit) await stopTask(pgid);
    else {
      await endGroup(pgid, job.graceMs ?? 5_000);
      // The CLI was ended from outside (e.g. SIGTERM to its pid): no container may outlive it.
      if (job.container && leaderExit?.signal) {
        const { cli, name, env } = job.container;
        await runCli(cli, ['rm', '--force', name], env, 10_000);
      }
    }
  }
  await exited;
  if (job.locks && lockClient && since !== undefined) {
    await waitForSessions(job.locks, since, job.graceMs ?? 5_000);
  }
  emit({ type: 'exited', ...leaderExit, ...(stopping ? { stopped: stopping } : {}) });
  await lockClient?.end().catch(() => undefined);
  exitAfterEvents(0);
}

main().catch((error) => {
  emit({ type: 'failed', reason: String(error?.message ?? error) });
  if (child?.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
  exitAfterEvents(70);
});
