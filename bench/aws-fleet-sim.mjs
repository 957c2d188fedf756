// A simulated fleet on "AWS": `berth migrate` of 1,000 tenants through the library, against
// the in-memory fake with its latency and quota model switched on — Fargate starts of 30–60 s,
// log events that reach CloudWatch 1–10 s late (so streams appear late), and RunTask,
// launches, DescribeTasks, GetLogEvents and FilterLogEvents limited to AWS's documented rates
// with ThrottlingException — on a simulated clock (SimClock), so an hour of ECS time takes
// seconds. Fresh tenants (3 migrations each, 2–6 s per tenant) and up-to-date tenants, at
// batch sizes 1, 10, 25, 50 and concurrency 10, 50. No AWS endpoint is involved.
//
// `node bench/aws-fleet-sim.mjs` prints the figures; `node bench/run.mjs awsFleetSim` writes
// them into bench/results/latest.json. BENCH_SIM_TENANTS (default 1000), BENCH_SIM_SEED (7),
// BENCH_SIM_REPS (3: the median run is reported), BENCH_SIM_TIMELINE=1 (every task: kind,
// databases, created, started, stopped, in simulated seconds, on stderr).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { migrateFleet, migrateOptions, openProvider, upStack } from '../dist/index.js';
import {
  AWS_RATE_LIMITS,
  SimClock,
  createAwsFake,
  sampleConfig,
  seedPrerequisites,
} from '../dist/testing.js';

const MIGRATIONS = ['0001_auth', '0002_catalog', '0003_orders'];
const TARGETS = { freshMinutes: 10, upToDateMinutes: 3 };

/** mulberry32: a seeded 0..1 generator, so the figures repeat. */
function seeded(seed) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A fake RDS: what each task prints and changes, like test/support/aws-fleet.ts. */
function tenantScripts(applied, random) {
  const probeLine = (db) =>
    `::berth-probe ${JSON.stringify({ database: db, exists: true, tables: (applied.get(db) ?? []).length * 19, applied: applied.get(db) ?? [] })}`;
  const migrate = (db) => {
    const done = applied.get(db) ?? [];
    const pending = MIGRATIONS.filter((m) => !done.includes(m));
    applied.set(db, [...done, ...pending]);
    return [
      ...pending.map((m) => `Applying ${m}`),
      pending.length ? `Applied ${pending.length} migration(s) to ${db}` : `${db} is up to date`,
    ];
  };
  // Time a tenant's migrations take: 2–6 s fresh, 0.3 s when nothing is pending.
  const tenantMs = (db) =>
    MIGRATIONS.some((m) => !(applied.get(db) ?? []).includes(m)) ? 2000 + random() * 4000 : 300;
  return (task) => {
    const names = task.overrideEnvironment.DATABASE_NAMES;
    if (names !== undefined) {
      const dbs = names.split(',');
      return {
        runMs: 1000 + 20 * dbs.length,
        run: () => ({ logs: ['probe starting', ...dbs.map(probeLine)] }),
      };
    }
    if (task.command[0] === 'sh' && task.command[1] === '-c') {
      const dbs = task.command.slice(4);
      return {
        runMs: Math.round(dbs.reduce((ms, db) => ms + tenantMs(db), 0)),
        run: () => ({
          exitCode: 0,
          logs: dbs.flatMap((db) => [`::berth-begin ${db}`, ...migrate(db), `::berth-end ${db} 0`]),
        }),
      };
    }
    const db = task.environment.DATABASE_NAME ?? '';
    return { runMs: Math.round(tenantMs(db)), run: () => ({ exitCode: 0, logs: migrate(db) }) };
  };
}

export async function simulate({ tenants, batchSize, concurrency, fresh, seed, share = 1 }) {
  const names = Array.from({ length: tenants }, (_v, i) => `tenant_${String(i).padStart(4, '0')}`);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-sim-'));
  try {
    await mkdir(path.join(dir, 'migrations'));
    for (const m of MIGRATIONS) await writeFile(path.join(dir, 'migrations', `${m}.sql`), '--\n');
    await writeFile(path.join(dir, 'tenants.txt'), `${names.join('\n')}\n`);
    const config = sampleConfig((y) =>
      y
        .replace(
          'tenants: [startupwebapp_prod, healthtech_experiment, fintech_experiment]',
          'tenants: { file: tenants.txt }',
        )
        .replace(
          '  command: [node, dist/migrate.js]',
          '  command: [node, dist/migrate.js]\n  probeCommand: [node, dist/probe.js]',
        ),
    );
    const fake = createAwsFake({ region: config.aws.region });
    seedPrerequisites(fake, config);
    await upStack({ clients: fake.clients, config, region: config.aws.region });
    fake.pushImage(config.registry.name, 'sim');
    const uri = fake.repositories.get(config.registry.name).repository.uri;
    const random = seeded(seed);
    const applied = new Map();
    if (!fresh) for (const n of names) applied.set(n, [...MIGRATIONS]);
    fake.onRunTask(tenantScripts(applied, random));
    // share < 1: another client in the account uses the rest of every rate, so this run's
    // own buckets (set to AWS's full rates) are too generous and AWS throttles it.
    const limits = Object.fromEntries(
      Object.entries(AWS_RATE_LIMITS).map(([api, l]) => [
        api,
        { perSecond: l.perSecond * share, burst: Math.max(1, Math.floor(l.burst * share)) },
      ]),
    );
    fake.ecsTasks.model = { startMs: [30_000, 60_000], logLagMs: [1_000, 10_000], limits, random };
    fake.resetCalls();
    const sim = new SimClock(fake.clock);
    const loaded = { config, file: path.join(dir, 'berth.yaml'), dir };
    const reporter = { emit: () => undefined };
    const provider = await openProvider(loaded, {
      name: 'aws',
      reporter,
      clock: sim,
      createClients: () => fake.clients,
    });
    const started = sim.now();
    const realStart = performance.now();
    let result;
    let quotas;
    try {
      const fleet = await sim.run(provider.openFleet({ purpose: 'migrate', image: `${uri}:sim` }));
      quotas = fleet.backend.runtime.quotas;
      result = await sim.run(
        migrateFleet(
          fleet.backend,
          migrateOptions(
            config,
            provider.state.paths.runs,
            { databases: names, reporter },
            { batchSize, concurrency, onError: 'continue' },
          ),
        ),
      );
    } finally {
      await provider.close();
    }
    // What Fargate bills (from the image pull to the stop, at least a minute per task; the
    // simulation bills from RunTask, a little more) and what CloudWatch Logs ingests
    // (message bytes + 26 per event).
    const calls = fake.calls.slice();
    const throttlesHit = { ...fake.ecsTasks.throttles };
    fake.ecsTasks.model = {}; // the bench's own reads below are not the run's
    const arns = fake.ecsTasks.started().map((t) => t.arn);
    const tasks = [];
    for (let i = 0; i < arns.length; i += 100)
      tasks.push(
        ...(await fake.clients.ecs.describeTasks(config.cluster.name, arns.slice(i, i + 100)))
          .tasks,
      );
    const billedSeconds = tasks.reduce(
      (sum, t) => sum + Math.max(60, ((t.stoppedAt ?? sim.now()) - t.createdAt) / 1000),
      0,
    );
    // Tasks alive at once (RunTask to STOPPED): what the account's Fargate vCPU quota must hold.
    const edges = tasks.flatMap((t) => [
      [t.createdAt.getTime(), 1],
      [(t.stoppedAt ?? new Date(sim.now())).getTime(), -1],
    ]);
    edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let alive = 0;
    let peakTasks = 0;
    for (const [, d] of edges) peakTasks = Math.max(peakTasks, (alive += d));
    let logBytes = 0;
    for (const t of tasks)
      for (const e of fake.ecsTasks.logEvents(config.logs.group, `migration/migration/${t.id}`))
        logBytes += Buffer.byteLength(e.message) + 26;
    if (process.env.BENCH_SIM_TIMELINE) {
      for (const t of tasks)
        console.error(
          t.tags['berth:kind'],
          t.tags['berth:databases']?.split(' ').length,
          Math.round((t.createdAt - started) / 1000),
          Math.round(((t.startedAt ?? t.createdAt) - started) / 1000),
          Math.round((t.stoppedAt - started) / 1000),
        );
    }
    const byType = {};
    for (const c of calls) {
      const key = `${c.service}.${c.method}`;
      byType[key] = (byType[key] ?? 0) + 1;
    }
    const counts = {};
    for (const d of result.databases) counts[d.status] = (counts[d.status] ?? 0) + 1;
    const surfaced = result.databases.filter((d) =>
      /throttl|rate exceeded|too many requests/i.test(d.reason ?? ''),
    ).length;
    const wanted = fresh ? 'applied' : 'up-to-date';
    const totalCalls = calls.length;
    return {
      tenants,
      batchSize,
      concurrency,
      fresh,
      rateShare: share,
      simulatedSeconds: Math.round((sim.now() - started) / 1000),
      allOk: (counts[wanted] ?? 0) === tenants,
      results: counts,
      tasks: fake.ecsTasks.started().length,
      peakTasks,
      fargate: {
        billedTaskSeconds: Math.round(billedSeconds),
        vcpuSeconds: Math.round(billedSeconds * (Number(config.task.cpu) / 1024)),
        gbSeconds: Math.round(billedSeconds * (Number(config.task.memory) / 1024)),
      },
      logBytesIngested: logBytes,
      apiCalls: { total: totalCalls, perTenant: round(totalCalls / tenants), byType },
      throttlesHit,
      throttlesRetried: { ...quotas.stats.retried },
      throttlingErrorsSurfaced: surfaced,
      realMs: Math.round(performance.now() - realStart),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const round = (x) => Math.round(x * 100) / 100;

/** Median of `reps` simulations by simulated time (task order, and so the draws, vary with I/O). */
async function median(options, reps) {
  const all = [];
  for (let i = 0; i < reps; i++) all.push(await simulate(options));
  all.sort((a, b) => a.simulatedSeconds - b.simulatedSeconds);
  const mid = all[Math.floor(all.length / 2)];
  return {
    ...mid,
    simulatedSecondsRange: [all[0].simulatedSeconds, all.at(-1).simulatedSeconds],
    repetitions: reps,
  };
}

function describeRun(r) {
  const thr = Object.values(r.throttlesHit).reduce((a, b) => a + b, 0);
  const retried = Object.values(r.throttlesRetried).reduce((a, b) => a + b, 0);
  return (
    `sim ${r.fresh ? 'fresh' : 'up-to-date'} ${r.tenants} tenants, batch ${r.batchSize}, concurrency ${r.concurrency}` +
    `${r.rateShare < 1 ? `, ${r.rateShare * 100}% of the rates` : ''}: ` +
    `${(r.simulatedSeconds / 60).toFixed(1)} simulated min (${r.simulatedSecondsRange.map((x) => (x / 60).toFixed(1)).join('-')}), ` +
    `${r.tasks} tasks, ${r.apiCalls.total} calls (${r.apiCalls.perTenant}/tenant), ` +
    `${thr} throttles hit, ${retried} retried, ${r.throttlingErrorsSurfaced} surfaced, ${JSON.stringify(r.results)}`
  );
}

export async function run(log) {
  const tenants = Number(process.env.BENCH_SIM_TENANTS ?? 1000);
  const seed = Number(process.env.BENCH_SIM_SEED ?? 7);
  const reps = Number(process.env.BENCH_SIM_REPS ?? 3);
  const runs = [];
  for (const fresh of [true, false])
    for (const batchSize of [1, 10, 25, 50])
      for (const concurrency of [10, 50]) {
        const r = await median({ tenants, batchSize, concurrency, fresh, seed }, reps);
        runs.push(r);
        log(describeRun(r));
      }
  // Some of the same runs while other clients in the account take 80% of every rate: AWS
  // throttles this run, berth retries, and no result may say so.
  const contended = [];
  for (const [fresh, batchSize] of [
    [true, 1],
    [true, 25],
    [false, 25],
  ]) {
    const r = await median({ tenants, batchSize, concurrency: 50, fresh, seed, share: 0.2 }, reps);
    contended.push(r);
    log(describeRun(r));
  }
  const best = (fresh) =>
    runs
      .filter((r) => r.fresh === fresh && r.allOk)
      .sort((a, b) => a.simulatedSeconds - b.simulatedSeconds)[0];
  const bestFresh = best(true);
  const bestUpToDate = best(false);
  return {
    awsFleetSim: {
      model: {
        taskStartSeconds: [30, 60],
        logLagSeconds: [1, 10],
        migrationSecondsPerFreshTenant: [2, 6],
        rateLimits: AWS_RATE_LIMITS,
        seed,
      },
      targets: {
        freshMinutes: TARGETS.freshMinutes,
        upToDateMinutes: TARGETS.upToDateMinutes,
        throttlingErrorsSurfaced: 0,
      },
      met: {
        fresh: bestFresh ? bestFresh.simulatedSeconds <= TARGETS.freshMinutes * 60 : false,
        upToDate: bestUpToDate
          ? bestUpToDate.simulatedSeconds <= TARGETS.upToDateMinutes * 60
          : false,
        noThrottlingSurfaced: [...runs, ...contended].every(
          (r) => r.throttlingErrorsSurfaced === 0 && r.allOk,
        ),
      },
      best: {
        fresh: bestFresh && {
          batchSize: bestFresh.batchSize,
          concurrency: bestFresh.concurrency,
          simulatedSeconds: bestFresh.simulatedSeconds,
        },
        upToDate: bestUpToDate && {
          batchSize: bestUpToDate.batchSize,
          concurrency: bestUpToDate.concurrency,
          simulatedSeconds: bestUpToDate.simulatedSeconds,
        },
      },
      runs,
      contended,
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const figures = await run((...a) => console.error('[sim]', ...a));
  console.log(JSON.stringify(figures, null, 2));
}
