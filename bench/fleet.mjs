// Fleet benchmarks (issue "Fleet at scale"): N tenant databases on the embedded PostgreSQL.
//   - raw floor: the example's 57-table DDL applied through one plain connection per database,
//     one transaction per migration file, at the same concurrency berth uses;
//   - berth migrate --all on N fresh tenants (same concurrency), and its ratio to the floor;
//   - berth migrate --all on N up-to-date tenants (target ≤ 10 ms per tenant);
//   - berth's peak RSS at N tenants against 10 tenants (target within 1.5×).
// BENCH_TENANTS (default 1000) and BENCH_CONCURRENCY (default: the number of CPUs) scale it.
import { execFileSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { EXAMPLE, createProject, median } from './lib.mjs';

const N = Number(process.env.BENCH_TENANTS ?? 1000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? os.cpus().length);
// A fleet configured for scale: the app's batch command migrates BATCH tenants per process.
const BATCH = Number(process.env.BENCH_BATCH ?? 25);
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

async function createDatabases(project, list) {
  const c = await project.client();
  try {
    for (const n of list) await c.query(`CREATE DATABASE ${pg.escapeIdentifier(n)}`);
  } finally {
    await c.end();
  }
}

async function dropDatabases(project, list) {
  const c = await project.client();
  try {
    for (const n of list) await c.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(n)}`);
  } finally {
    await c.end();
  }
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

async function withClient(project, fn) {
  const c = await project.client();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
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

async function rawFloor(project, list, ups) {
  const secret = await project.secret();
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
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
        for (const sql of ups) {
          await c.query('BEGIN');
          await c.query(sql);
          await c.query('COMMIT');
        }
        await c.end();
      }
    }),
  );
  return performance.now() - started;
}

export async function run(log) {
  const figures = {};
  const tenants = names('tenant', N);
  const project = await createProject(tenants, fleetConfig);
  try {
    // Start the server and create the fleet (setup, not measured).
    await project.run(['status']);
    await project.run(['migrate', '--database', tenants[0]]);
    await dropDatabases(project, [tenants[0]]);
    // The disk and CPU of a shared VM drift: the floor is measured before AND after berth's
    // run, and berth is compared with their mean.
    log(`creating ${N} tenant databases and 2 × ${N} floor databases…`);
    await createDatabases(project, tenants);
    const floorA = names('floora', N);
    const floorB = names('floorb', N);
    await createDatabases(project, floorA);
    await createDatabases(project, floorB);

    const ups = await upSections();
    // No background maintenance in the timed phases: with autovacuum on, each phase pays for
    // vacuuming and analysing the catalogs of the thousand databases the phase before it
    // migrated (hundreds of autovacuum runs per 200 databases), and its launcher cycles
    // through every database. That cost belongs to neither berth nor the floor.
    await withClient(project, async (c) => {
      await c.query('ALTER SYSTEM SET autovacuum = off');
      await c.query('SELECT pg_reload_conf()');
    });
    await checkpoint(project);
    const floorBeforeMs = await rawFloor(project, floorA, ups);
    await checkpoint(project);

    const fresh = await project.run(['migrate', '--all', '--json'], { sampleRss: true });
    if (fresh.code !== 0)
      throw new Error(`fresh migrate failed (${fresh.code}): ${fresh.stderr.slice(-2000)}`);
    await checkpoint(project);
    const floorAfterMs = await rawFloor(project, floorB, ups);
    const floorMs = (floorBeforeMs + floorAfterMs) / 2;
    log(
      `raw floor: ${N} databases in ${(floorBeforeMs / 1000).toFixed(1)} s before and ${(floorAfterMs / 1000).toFixed(1)} s after, at concurrency ${CONCURRENCY}`,
    );
    log(
      `berth migrate --all, ${N} fresh (batches of ${BATCH}): ${(fresh.ms / 1000).toFixed(1)} s (${(fresh.ms / floorMs).toFixed(2)}× the floor), peak RSS ${fresh.peakRssMb.toFixed(0)} MB`,
    );
    await dropDatabases(project, [...floorA, ...floorB]);

    const noop = [];
    let noopRss = 0;
    for (let i = 0; i < 3; i++) {
      const r = await project.run(['migrate', '--all', '--json'], { sampleRss: true });
      if (r.code !== 0) throw new Error('up-to-date migrate failed');
      noop.push(r.ms);
      noopRss = Math.max(noopRss, r.peakRssMb);
    }
    log(
      `berth migrate --all, ${N} up to date: ${(median(noop) / 1000).toFixed(2)} s (${(median(noop) / N).toFixed(2)} ms per tenant)`,
    );

    // The same berth at 10 tenants, for the memory comparison.
    const small = await createProject(names('small', 10), fleetConfig);
    let smallFresh;
    let smallNoop;
    try {
      smallFresh = await small.run(['migrate', '--all', '--json'], { sampleRss: true });
      await small.run(['migrate', '--all', '--json']);
      smallFresh = await (async () => {
        // Fresh run measured against an already started server, like the large one.
        const list = names('small', 10);
        await dropDatabases(small, list);
        return small.run(['migrate', '--all', '--json'], { sampleRss: true });
      })();
      smallNoop = await small.run(['migrate', '--all', '--json'], { sampleRss: true });
    } finally {
      await small.cleanup();
    }
    log(
      `peak RSS: ${smallFresh.peakRssMb.toFixed(0)} MB at 10 fresh, ${fresh.peakRssMb.toFixed(0)} MB at ${N} fresh; ${smallNoop.peakRssMb.toFixed(0)} / ${noopRss.toFixed(0)} MB up to date`,
    );

    figures.fleet = {
      tenants: N,
      concurrency: CONCURRENCY,
      batchSize: BATCH,
      autovacuum: 'off in the timed phases',
      rawFloorFreshMs: Math.round(floorMs),
      rawFloorBeforeMs: Math.round(floorBeforeMs),
      rawFloorAfterMs: Math.round(floorAfterMs),
      berthFreshMs: Math.round(fresh.ms),
      freshRatioToFloor: Number((fresh.ms / floorMs).toFixed(3)),
      freshTargetRatio: 1.5,
      berthUpToDateMs: { median: Math.round(median(noop)), runs: noop.length },
      upToDateMsPerTenant: Number((median(noop) / N).toFixed(3)),
      upToDateTargetMs: 10_000,
      peakRssMb: {
        fresh10: Number(smallFresh.peakRssMb.toFixed(1)),
        [`fresh${N}`]: Number(fresh.peakRssMb.toFixed(1)),
        upToDate10: Number(smallNoop.peakRssMb.toFixed(1)),
        [`upToDate${N}`]: Number(noopRss.toFixed(1)),
        freshRatio: Number((fresh.peakRssMb / smallFresh.peakRssMb).toFixed(3)),
        upToDateRatio: Number((noopRss / smallNoop.peakRssMb).toFixed(3)),
        targetRatio: 1.5,
      },
    };
  } finally {
    await project.cleanup();
  }
  return figures;
}
