// The local provider's task supervisor, started once per task (a batch of 25 tenants in the
// fleet bench, so 40 starts per 1,000 fresh tenants): the CPU of one start, with the plain
// script (libexec/berth-supervisor.mjs: ESM, pg from node_modules, what berth ran before) and
// with the bundle built berth runs (dist/berth-supervisor.cjs). Each start does a task's whole
// path: take the task lock, check the fence against a session that holds the migration lock,
// run `true`, wait for the task's sessions, release. CPU is the supervisor's user + system time
// (this process's reaped children, from /proc/self/stat); the two alternate, ROUNDS × STARTS.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, createProject, median } from './lib.mjs';

const STARTS = Number(process.env.BENCH_SUPERVISOR_STARTS ?? 20);
const ROUNDS = Number(process.env.BENCH_SUPERVISOR_ROUNDS ?? 5);
const TICK_MS = 10; // USER_HZ is 100 on Linux

/** CPU time (ms) of this process's reaped children so far. */
function childrenCpuMs() {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // cutime and cstime are fields 16 and 17 of the whole line, 14 and 15 after the name.
  return (Number(fields[13]) + Number(fields[14])) * TICK_MS;
}

function startOnce(script, job) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], {
      stdio: ['pipe', 'ignore', 'ignore', 'pipe'],
    });
    let events = '';
    child.stdio[3].on('data', (d) => (events += d));
    child.stdin.write(`${JSON.stringify(job)}\n`);
    child.on('error', reject);
    child.on('exit', () => {
      child.stdin.destroy();
      if (!events.includes('"type":"exited"')) {
        reject(new Error(`the supervisor did not run the task: ${events.trim()}`));
      } else resolve();
    });
  });
}

export async function run(log) {
  const variants = {
    plainScript: path.join(ROOT, 'libexec/berth-supervisor.mjs'),
    bundle: path.join(ROOT, 'dist/berth-supervisor.cjs'),
  };
  const project = await createProject(['tenant_a']);
  try {
    const migrated = await project.run(['migrate', '--all']);
    if (migrated.code !== 0) throw new Error(`migrate failed: ${migrated.stderr}`);
    const secret = await project.secret();
    const migrationKey = [0x62657274, 1];
    // The session berth would hold: the migration lock of tenant_a, for the fence.
    const holder = await project.client('tenant_a');
    const { rows } = await holder.query(
      'SELECT pg_advisory_lock($1::int, $2::int), pg_backend_pid() AS pid',
      migrationKey,
    );
    const job = {
      command: 'true',
      args: [],
      env: { PATH: process.env.PATH },
      graceMs: 500,
      locks: {
        connection: {
          host: secret.host,
          port: secret.port,
          user: secret.username,
          password: secret.password,
        },
        controlDatabase: 'postgres',
        taskClass: 0x62657275,
        migrationKey,
        databases: [{ name: 'tenant_a', holderPid: rows[0].pid }],
      },
    };
    const runs = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
    for (const script of Object.values(variants)) await startOnce(script, job); // warm caches
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, script] of Object.entries(variants)) {
        const before = childrenCpuMs();
        const started = performance.now();
        for (let i = 0; i < STARTS; i++) await startOnce(script, job);
        runs[name].push({
          cpuMsPerStart: (childrenCpuMs() - before) / STARTS,
          wallMsPerStart: (performance.now() - started) / STARTS,
        });
      }
      log(
        `supervisor round ${round + 1}: CPU per start`,
        Object.entries(runs)
          .map(([name, r]) => `${name} ${r.at(-1).cpuMsPerStart.toFixed(1)} ms`)
          .join(', '),
      );
    }
    await holder.end();
    const figures = { starts: STARTS, rounds: ROUNDS };
    for (const [name, r] of Object.entries(runs)) {
      figures[name] = { cpuMsPerStartMedian: median(r.map((x) => x.cpuMsPerStart)), runs: r };
    }
    const saved = runs.plainScript.map((p, i) => p.cpuMsPerStart - runs.bundle[i].cpuMsPerStart);
    figures.savedCpuMsPerStart = {
      min: Math.min(...saved),
      median: median(saved),
      max: Math.max(...saved),
    };
    log(
      `supervisor: the bundle saves ${saved.map((s) => s.toFixed(1)).join(', ')} ms of CPU per start (one per round)`,
    );
    return { supervisor: figures };
  } finally {
    await project.cleanup();
  }
}
