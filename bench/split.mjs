// Where a fresh fleet's time goes, phase by phase, on one embedded server (bench/README.md,
// "What is left, and what this machine can show"). Not part of `npm run bench`: an analysis
// tool for the figures that section quotes, so they can be measured again.
//
//   node bench/split.mjs [TENANTS=200] [ROUNDS=2] [PHASES=floor,app,berth]
//
// Every phase gets fresh databases of its own; the order of the phases is reversed every other
// round. One JSON line per phase and round: wall time, the server's CPU (the postmaster's
// reaped children, from /proc) and the client's (this process, and its reaped children).
// Phases:
//   floor          the raw-DDL floor: the example's migrations through one plain connection
//                  per database, two databases at a time (as the fleet section's floor);
//   app            the example's batch command alone, 25 databases per process, two at once;
//   berth          `berth migrate --all`, as the fleet section runs it;
//   floorLock      the floor, plus what any per-tenant lock and read-back needs: a second
//                  session per database that takes the lock before the DDL and reads the
//                  catalog back after it;
//   floorForwarded the floor with every message through a forwarding process on loopback (the
//                  hop an in-berth session proxy would add);
//   conns          one plain connection per database (connect, SELECT 1, end), 32 at a time.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { EXAMPLE, createProject } from './lib.mjs';

// The forwarder: started as `node bench/split.mjs --forward HOST PORT`, prints its port.
if (process.argv[2] === '--forward') {
  const [host, port] = [process.argv[3], Number(process.argv[4])];
  const server = net.createServer((client) => {
    const upstream = net.connect({ host, port });
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) socket.on('error', end).on('close', end);
  });
  server.listen(0, '127.0.0.1', () => console.log(server.address().port));
} else {
  await main();
}

async function main() {
  const N = Number(process.argv[2] ?? 200);
  const ROUNDS = Number(process.argv[3] ?? 2);
  const PHASES = (process.argv[4] ?? 'floor,app,berth').split(',');
  const BATCH = 25;
  const WIDTH = 2;
  const TICKS = 100; // clock ticks per second in /proc/PID/stat
  const LOCK = 'SELECT pg_try_advisory_lock(1650815604, 1) AS locked';

  const names = (prefix) =>
    Array.from({ length: N }, (_, i) => `${prefix}_${String(i + 1).padStart(4, '0')}`);
  /** utime, stime, cutime, cstime of a process, in seconds. */
  const cpuOf = (pid) => {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return [11, 12, 13, 14].map((i) => Number(f[i]) / TICKS);
  };

  const project = await createProject(
    names('tenant'),
    {
      fleet: { concurrency: WIDTH, batchSize: BATCH },
      task: {
        family: 'startupwebapp-migration-task',
        command: ['node', 'dist/migrate.js'],
        batchCommand: ['node', 'dist/migrate.js', '--batch'],
        environment: { NODE_ENV: 'production' },
      },
    },
    { inFile: true },
  );
  const started = await project.run(['local', 'start']);
  if (started.code !== 0) throw new Error(started.stderr);
  const secret = await project.secret();
  const pidFile = readdirSync(path.join(project.dir, '.berth'), { recursive: true }).find((f) =>
    f.endsWith('postmaster.pid'),
  );
  const postmaster = Number(
    readFileSync(path.join(project.dir, '.berth', pidFile), 'utf8').split('\n')[0],
  );
  const admin = await project.client();
  // As in the fleet section: autovacuum would bill one phase for another's catalogs.
  await admin.query('ALTER SYSTEM SET autovacuum = off');
  await admin.query('SELECT pg_reload_conf()');
  const dir = path.join(EXAMPLE, 'migrations');
  const ups = await Promise.all(
    readdirSync(dir)
      .filter((f) => f.endsWith('.sql'))
      .sort()
      .map(
        async (f) => (await readFile(path.join(dir, f), 'utf8')).split(/^-- Down Migration/m)[0],
      ),
  );

  const connect = async (database, port = secret.port, host = secret.host) => {
    const c = new pg.Client({
      host,
      port,
      user: secret.username,
      password: secret.password,
      database,
    });
    await c.connect();
    return c;
  };
  /** `work(item)` for every item of `list`, `width` at a time. */
  const pool = (list, width, work) => {
    let next = 0;
    return Promise.all(
      Array.from({ length: width }, async () => {
        while (next < list.length) await work(list[next++]);
      }),
    );
  };
  const migrate = async (c) => {
    for (const sql of ups) {
      await c.query('BEGIN');
      await c.query(sql);
      await c.query('COMMIT');
    }
  };
  const floorOn = (list, port, host) =>
    pool(list, WIDTH, async (database) => {
      const c = await connect(database, port, host);
      await migrate(c);
      await c.end();
    });
  const exitOf = (child) => new Promise((resolve) => child.on('close', resolve));

  const phases = {
    floor: (list) => floorOn(list),
    async app(list) {
      const batches = [];
      for (let i = 0; i < list.length; i += BATCH) batches.push(list.slice(i, i + BATCH));
      await pool(batches, WIDTH, async (batch) => {
        const env = {
          PATH: process.env.PATH,
          NODE_ENV: 'production',
          DATABASE_NAMES: batch.join(','),
          DATABASE_NAME: batch[0],
          DATABASE_HOST: secret.host,
          DATABASE_PORT: String(secret.port),
          DATABASE_USER: secret.username,
          DATABASE_PASSWORD: secret.password,
          BERTH_LOCK_HELD: '1',
          BERTH_ON_ERROR: 'continue',
        };
        const child = spawn('node', ['dist/migrate.js', '--batch'], {
          env,
          cwd: EXAMPLE,
          stdio: ['ignore', 'ignore', 'inherit'],
        });
        const code = await exitOf(child);
        if (code !== 0) throw new Error(`the app's batch command exited ${code}`);
      });
    },
    async berth(list) {
      await project.setTenants(list);
      const run = await project.run(['migrate', '--all']);
      if (run.code !== 0) throw new Error(`berth exited ${run.code}: ${run.stderr.slice(-2000)}`);
    },
    floorLock: (list) =>
      pool(list, WIDTH, async (database) => {
        const lock = await connect(database);
        await lock.query(LOCK);
        const c = await connect(database);
        await migrate(c);
        await c.end();
        await lock.query(
          `SELECT count(*) FROM pg_catalog.pg_class WHERE relnamespace = 'public'::regnamespace`,
        );
        await lock.end();
      }),
    async floorForwarded(list) {
      const forwarder = spawn(
        process.execPath,
        [
          path.resolve(import.meta.dirname, 'split.mjs'),
          '--forward',
          secret.host,
          String(secret.port),
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      const port = await new Promise((resolve) =>
        forwarder.stdout.once('data', (d) => resolve(Number(String(d).trim()))),
      );
      try {
        await floorOn(list, port, '127.0.0.1');
      } finally {
        forwarder.kill('SIGTERM');
        await exitOf(forwarder);
      }
    },
    conns: (list) =>
      pool(list, 32, async (database) => {
        const c = await connect(database);
        await c.query('SELECT 1');
        await c.end();
      }),
  };
  const unknown = PHASES.filter((p) => !(p in phases));
  if (unknown.length) throw new Error(`unknown phase(s) ${unknown.join(', ')}`);

  let set = 0;
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const name of round % 2 ? [...PHASES].reverse() : PHASES) {
        const list = names(`p${++set}`);
        for (const database of list) await admin.query(`CREATE DATABASE ${database}`);
        await admin.query('CHECKPOINT');
        execFileSync('sync');
        const server0 = cpuOf(postmaster);
        const client0 = cpuOf(process.pid);
        const t0 = performance.now();
        await phases[name](list);
        const wall = (performance.now() - t0) / 1000;
        const server1 = cpuOf(postmaster);
        const client1 = cpuOf(process.pid);
        const sum = (a, b, from, to) =>
          b.slice(from, to).reduce((s, x, i) => s + x - a[from + i], 0);
        const row = {
          round,
          phase: name,
          wallS: +wall.toFixed(2),
          serverCpuS: +sum(server0, server1, 2, 4).toFixed(2),
          clientCpuS: +sum(client0, client1, 0, 4).toFixed(2),
        };
        console.log(JSON.stringify(row));
      }
    }
  } finally {
    await admin.end();
    await project.cleanup();
  }
}
