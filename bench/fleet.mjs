// Fleet benchmarks (issue 12: the TypeScript example's fleet of N tenants, local provider):
//   - fresh: berth migrate --all on N fresh tenants, each repetition between two raw-DDL
//     floors measured in the same run (the example's DDL through one plain connection per
//     database, one transaction per migration file, at the same concurrency), ratio to their
//     mean; target ≤ 1.25×;
//   - up to date: berth migrate --all on N up-to-date tenants, each repetition between two
//     probe floors (one plain connection per database reading its history table, at berth's
//     probe concurrency); target ≤ 3 s at 1,000;
//   - berth's peak RSS at N tenants against 10 tenants (target within 1.5×).
// Every repetition is kept in the figures (`runs`), and the whole figure is appended to
// bench/results/fleet-history.ndjson, so no run is lost to a median.
// BENCH_TENANTS (default 1000), BENCH_CONCURRENCY (default: the number of CPUs), BENCH_BATCH
// (default 25), BENCH_REPEATS (fresh repetitions, default 3), BENCH_UPTODATE_REPEATS (default
// 5) scale it; BENCH_BASE=path/to/other/bin/berth.js also times that berth up to date, in
// turn with this one (an A/B in the same run).
import { execFileSync } from 'node:child_process';
import { appendFile, readdir, readFile, statfs } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { EXAMPLE, ROOT, createProject, gitRevision, median } from './lib.mjs';

const N = Number(process.env.BENCH_TENANTS ?? 1000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? os.cpus().length);
// A fleet configured for scale: the app's batch command migrates BATCH tenants per process.
const BATCH = Number(process.env.BENCH_BATCH ?? 25);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const UP_TO_DATE_REPEATS = Number(process.env.BENCH_UPTODATE_REPEATS ?? 5);
const BASE = process.env.BENCH_BASE;
// berth's probe concurrency for maxConnections 300 (local-backend.ts: max/4, at most 32).
const PROBE_CONCURRENCY = 32;
const FRESH_TARGET = 1.25;
const UP_TO_DATE_TARGET_MS = 3000;
const fleetConfig = {
  fleet: { concurrency: CONCURRENCY, batchSize: BATCH },
  task: {
    family: 'startupwebapp-migration-task',
    command: ['node', 'dist/migrate.js'],
    batchCommand: ['node', 'dist/migrate.js', '--batch'],
    environment: { NODE_ENV: 'production' },
  },
};
const names = (prefix, n) =>
  Array.from({ length: n }, (_, i) => `${prefix}_${String(i + 1).padStart(4, '0')}`);

async function withClient(project, fn) {
  const c = await project.client();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

async function createDatabases(project, list) {
  await withClient(project, async (c) => {
    for (const n of list) await c.query(`CREATE DATABASE ${pg.escapeIdentifier(n)}`);
  });
}

async function dropDatabases(project, list) {
  await withClient(project, async (c) => {
    for (const n of list) await c.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(n)}`);
  });
}

/** How long the bench lets earlier deletions age before its first timed phase (BENCH_SETTLE_S). */
const SETTLE_S = Number(process.env.BENCH_SETTLE_S ?? 65);

/**
 * Lets files deleted before the bench (a test run's, an earlier bench's thousands of
 * databases) age out before the first timed phase. On an ext4 file system without a journal,
 * as on the VM these figures come from, the kernel skips an inode freed less than 60 s ago
 * (300 s more while its inode-table block is dirty) when it allocates one, and looks each
 * candidate up to find that out: `perf` put 55-70 % of a slow floor's samples there
 * (bench/README.md), and the first floor after a large deletion ran 1.8-2.8x the others.
 * `sync` makes the blocks clean, then the bench waits out the 60 s.
 */
async function settleDeletions(log) {
  if (SETTLE_S <= 0) return;
  execFileSync('sync');
  log(`  letting earlier deletions age ${SETTLE_S} s before the first floor (BENCH_SETTLE_S)…`);
  await new Promise((r) => setTimeout(r, SETTLE_S * 1000));
}

/**
 * Settles the machine before a timed phase: a CHECKPOINT writes out what the setup left in
 * shared buffers, and `sync` waits for the kernel to write back its dirty pages (creating
 * thousands of databases dirties gigabytes), so no phase pays for another's writes.
 */
async function checkpoint(project) {
  await withClient(project, (c) => c.query('CHECKPOINT'));
  execFileSync('sync');
}

async function upSections() {
  const dir = path.join(EXAMPLE, 'migrations');
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  return Promise.all(
    files.map(
      async (f) => (await readFile(path.join(dir, f), 'utf8')).split(/^-- Down Migration/m)[0],
    ),
  );
}

/** `work(client)` on every database of `list` through one plain connection each, `width` at a time. */
async function eachDatabase(project, list, width, work) {
  const secret = await project.secret();
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < list.length) {
        const database = list[next++];
        const c = new pg.Client({
          host: secret.host,
          port: secret.port,
          user: secret.username,
          password: secret.password,
          database,
        });
        await c.connect();
        await work(c);
        await c.end();
      }
    }),
  );
  return performance.now() - started;
}

/** The raw-DDL floor: the example's migrations, one transaction per file, no history table. */
function ddlFloor(project, list, ups) {
  return eachDatabase(project, list, CONCURRENCY, async (c) => {
    for (const sql of ups) {
      await c.query('BEGIN');
      await c.query(sql);
      await c.query('COMMIT');
    }
  });
}

/** The probe floor: read each database's history table, nothing else (no lock, no journal). */
function probeFloor(project, list) {
  return eachDatabase(project, list, PROBE_CONCURRENCY, (c) =>
    c.query('SELECT name FROM public.pgmigrations ORDER BY run_on, id'),
  );
}

const stats = (xs) => ({
  min: Number(Math.min(...xs).toFixed(3)),
  median: Number(median(xs).toFixed(3)),
  max: Number(Math.max(...xs).toFixed(3)),
  runs: xs.length,
});
const s = (ms) => (ms / 1000).toFixed(2);

/** An empty database of the embedded server takes about 7.5 MB on disk. */
const MB_PER_DATABASE = 8;

export async function run(log) {
  const figures = {};
  // Every phase has databases of its own: (floors + fresh runs) × N of them at the end.
  const databases = (2 * REPEATS + 1) * N + 10;
  const disk = await statfs(os.tmpdir());
  const needMb = databases * MB_PER_DATABASE;
  if ((disk.bavail * disk.bsize) / 2 ** 20 < needMb)
    throw new Error(
      `the fleet bench needs about ${Math.ceil(needMb / 1024)} GiB free in ${os.tmpdir()} for ${databases} databases; set BENCH_REPEATS or BENCH_TENANTS lower`,
    );
  const tenants = names('tenant', N);
  const project = await createProject(tenants, fleetConfig, { inFile: true });
  try {
    // Start the server (setup, not measured).
    const started = await project.run(['local', 'start']);
    if (started.code !== 0) throw new Error(`local start failed: ${started.stderr}`);
    const ups = await upSections();
    await withClient(project, async (c) => {
      // No background maintenance in the timed phases: with autovacuum on, each phase pays
      // for vacuuming and analysing the catalogs of the thousand databases the phase before
      // it migrated, and its launcher cycles through every database.
      await c.query('ALTER SYSTEM SET autovacuum = off');
      await c.query('SELECT pg_reload_conf()');
    });

    // Fresh: floor, berth, floor, berth, … floor; each berth run against the mean of the
    // floors on either side of it (the VM's DDL speed drifts from one minute to the next).
    // Every phase gets databases of its own, created before it and dropped by nobody (the
    // whole server goes at the end): a DROP DATABASE among thousands takes about a second.
    const floors = [];
    const fresh = [];
    let freshRss = 0;
    const floorSet = (i) => names(`floor${i}`, N);
    await settleDeletions(log);
    log(`fresh: ${REPEATS} berth runs of ${N} tenants between ${REPEATS + 1} raw-DDL floors…`);
    for (let i = 0; i <= REPEATS; i++) {
      await createDatabases(project, floorSet(i));
      await checkpoint(project);
      floors.push(await ddlFloor(project, floorSet(i), ups));
      log(`  raw-DDL floor ${i + 1}: ${s(floors[i])} s`);
      if (i === REPEATS) break;
      // berth's fresh tenants for this run: the last run's set is the up-to-date fleet.
      const set = i === REPEATS - 1 ? tenants : names(`fresh${i}`, N);
      await project.setTenants(set);
      await createDatabases(project, set);
      await checkpoint(project);
      const r = await project.run(['migrate', '--all', '--json'], { sampleRss: true });
      if (r.code !== 0)
        throw new Error(`fresh migrate failed (${r.code}): ${r.stderr.slice(-2000)}`);
      fresh.push(r.ms);
      freshRss = Math.max(freshRss, r.peakRssMb);
      log(`  berth fresh ${i + 1}: ${s(r.ms)} s`);
    }
    const freshRuns = fresh.map((ms, i) => {
      const floorMs = (floors[i] + floors[i + 1]) / 2;
      return { berthMs: Math.round(ms), floorMs: Math.round(floorMs), ratio: ms / floorMs };
    });
    const freshRatios = freshRuns.map((r) => r.ratio);
    log(
      `berth migrate --all, ${N} fresh (batches of ${BATCH}, concurrency ${CONCURRENCY}): ratio to the same-run floor ${freshRatios.map((r) => r.toFixed(2)).join(', ')} (median ${median(freshRatios).toFixed(2)}; target ≤ ${FRESH_TARGET})`,
    );

    // Up to date: probe floor, berth (and the base berth), probe floor, …
    await checkpoint(project);
    const probeFloors = [await probeFloor(project, tenants)];
    const upToDate = [];
    const baseUpToDate = [];
    let upToDateRss = 0;
    for (let i = 0; i < UP_TO_DATE_REPEATS; i++) {
      const r = await project.run(['migrate', '--all', '--json'], { sampleRss: true });
      if (r.code !== 0) throw new Error(`up-to-date migrate failed (${r.code})`);
      upToDate.push(r.ms);
      upToDateRss = Math.max(upToDateRss, r.peakRssMb);
      if (BASE) {
        const b = await project.run(['migrate', '--all', '--json'], { berth: BASE });
        if (b.code !== 0) throw new Error(`up-to-date migrate (base) failed (${b.code})`);
        baseUpToDate.push(b.ms);
      }
      probeFloors.push(await probeFloor(project, tenants));
      log(
        `  up to date ${i + 1}: berth ${s(r.ms)} s${BASE ? `, base ${s(baseUpToDate[i])} s` : ''}, probe floor ${s(probeFloors[i])} / ${s(probeFloors[i + 1])} s`,
      );
    }
    const upToDateRuns = upToDate.map((ms, i) => {
      const floorMs = (probeFloors[i] + probeFloors[i + 1]) / 2;
      return {
        berthMs: Math.round(ms),
        ...(BASE ? { baseMs: Math.round(baseUpToDate[i]) } : {}),
        probeFloorMs: Math.round(floorMs),
        ratio: ms / floorMs,
      };
    });
    log(
      `berth migrate --all, ${N} up to date: ${upToDate.map(s).join(', ')} s (median ${s(median(upToDate))} s; target ≤ ${s(UP_TO_DATE_TARGET_MS)} s); ratio to the probe floor ${upToDateRuns.map((r) => r.ratio.toFixed(2)).join(', ')}`,
    );

    // The same berth at 10 tenants, for the memory comparison.
    const small = await createProject(names('small', 10), fleetConfig);
    let smallFresh;
    let smallNoop;
    try {
      await small.run(['migrate', '--all', '--json']);
      await dropDatabases(small, names('small', 10));
      // Fresh run measured against an already started server, like the large one.
      smallFresh = await small.run(['migrate', '--all', '--json'], { sampleRss: true });
      smallNoop = await small.run(['migrate', '--all', '--json'], { sampleRss: true });
    } finally {
      await small.cleanup();
    }
    log(
      `peak RSS: ${smallFresh.peakRssMb.toFixed(0)} MB at 10 fresh, ${freshRss.toFixed(0)} MB at ${N} fresh; ${smallNoop.peakRssMb.toFixed(0)} / ${upToDateRss.toFixed(0)} MB up to date`,
    );

    const freshMedianRun = freshRuns.toSorted((a, b) => a.ratio - b.ratio)[
      Math.floor((freshRuns.length - 1) / 2)
    ];
    figures.fleet = {
      tenants: N,
      concurrency: CONCURRENCY,
      batchSize: BATCH,
      autovacuum: 'off in the timed phases',
      loadAverage: os.loadavg().map((l) => Number(l.toFixed(2))),
      fresh: {
        runs: freshRuns.map((r) => ({ ...r, ratio: Number(r.ratio.toFixed(3)) })),
        rawFloorRunsMs: floors.map(Math.round),
        ratio: stats(freshRatios),
        targetRatio: FRESH_TARGET,
      },
      upToDate: {
        runs: upToDateRuns.map((r) => ({ ...r, ratio: Number(r.ratio.toFixed(3)) })),
        probeFloorRunsMs: probeFloors.map(Math.round),
        ms: stats(upToDate),
        msPerTenant: Number((median(upToDate) / N).toFixed(3)),
        ratioToProbeFloor: stats(upToDateRuns.map((r) => r.ratio)),
        ...(BASE ? { baseMs: stats(baseUpToDate), base: path.relative(ROOT, BASE) } : {}),
        targetMs: UP_TO_DATE_TARGET_MS,
      },
      // The figures earlier reports used, from the median fresh run.
      rawFloorFreshMs: freshMedianRun.floorMs,
      berthFreshMs: freshMedianRun.berthMs,
      freshRatioToFloor: Number(freshMedianRun.ratio.toFixed(3)),
      berthUpToDateMs: { median: Math.round(median(upToDate)), runs: upToDate.length },
      peakRssMb: {
        fresh10: Number(smallFresh.peakRssMb.toFixed(1)),
        [`fresh${N}`]: Number(freshRss.toFixed(1)),
        upToDate10: Number(smallNoop.peakRssMb.toFixed(1)),
        [`upToDate${N}`]: Number(upToDateRss.toFixed(1)),
        freshRatio: Number((freshRss / smallFresh.peakRssMb).toFixed(3)),
        upToDateRatio: Number((upToDateRss / smallNoop.peakRssMb).toFixed(3)),
        targetRatio: 1.5,
      },
    };
    await appendFile(
      path.join(ROOT, 'bench/results/fleet-history.ndjson'),
      `${JSON.stringify({ date: new Date().toISOString(), ...gitRevision(), ...figures.fleet })}\n`,
    );
  } finally {
    await project.cleanup();
  }
  return figures;
}
