// Django fleet benchmarks (issue 12 point 4): N tenants of test/fixtures/django-tenants (a copy,
// with berth's batch command installed by `berth snippet django --app shop`) on the embedded
// PostgreSQL, Debian's Django at /usr/bin/python3.
//   - fresh: `berth migrate --all` in batch mode (task.batchCommand = manage.py berth_migrate,
//     fleet.batchSize tenants per Python process) against the floor measured in the same run:
//     a plain shell loop (xargs -P) of `manage.py migrate` per tenant at the same concurrency;
//   - up to date: `berth migrate --all` when every tenant is migrated (target ≤ 10 ms per
//     tenant, ≤ 10 s at 1,000).
// Every repetition is reported; a target is called met only when its margin is larger than the
// spread between repetitions (the noise of this machine).
// BENCH_DJANGO_TENANTS (default 1000), BENCH_DJANGO_REPEAT (default 2), BENCH_DJANGO_BATCH
// (default 25), BENCH_CONCURRENCY (default: the number of CPUs).
import { execFileSync, spawn } from 'node:child_process';
import { appendFile, cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { ROOT, createProject, gitRevision, median } from './lib.mjs';

const PYTHON = '/usr/bin/python3';
const FIXTURE = path.join(ROOT, 'test/fixtures/django-tenants');
const N = Number(process.env.BENCH_DJANGO_TENANTS ?? 1000);
const REPEAT = Math.max(2, Number(process.env.BENCH_DJANGO_REPEAT ?? 2));
// BENCH_DJANGO_FLOOR=0: no shell-loop floor (it costs ~0.3–0.6 s a tenant): berth's fresh and
// up-to-date runs only, e.g. for the up-to-date figure at 1,000 tenants; no fresh ratio then.
const WITH_FLOOR = process.env.BENCH_DJANGO_FLOOR !== '0';
const BATCH = Number(process.env.BENCH_DJANGO_BATCH ?? 25);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? os.cpus().length);
const UP_TO_DATE_TARGET_MS_PER_TENANT = 10;
const ENVIRONMENT = { DJANGO_SETTINGS_MODULE: 'tenantsite.settings' };

const names = (prefix, n) =>
  Array.from({ length: n }, (_, i) => `${prefix}_${String(i + 1).padStart(4, '0')}`);
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
/** (max - min) / min: how far apart repetitions of the same work landed. */
const spread = (xs) => (Math.max(...xs) - Math.min(...xs)) / Math.min(...xs);

async function withClient(project, fn) {
  const c = await project.client();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

const createDatabases = (project, list) =>
  withClient(project, async (c) => {
    for (const n of list) await c.query(`CREATE DATABASE ${pg.escapeIdentifier(n)}`);
  });

const dropDatabases = (project, list) =>
  withClient(project, async (c) => {
    for (const n of list)
      await c.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(n)} WITH (FORCE)`);
  });

/** A CHECKPOINT and `sync` before a timed phase, so no phase pays for another's writes. */
async function settle(project) {
  await withClient(project, (c) => c.query('CHECKPOINT'));
  execFileSync('sync');
}

/**
 * The Django-alone floor: what a team would script without berth, one `manage.py migrate`
 * per tenant, CONCURRENCY at a time (xargs -P), with the same credentials berth's tasks get.
 */
async function shellLoop(project, app, list) {
  const secret = await project.secret();
  const started = performance.now();
  await new Promise((resolve, reject) => {
    const child = spawn(
      'xargs',
      [
        '-P',
        String(CONCURRENCY),
        '-I{}',
        'sh',
        '-c',
        `DATABASE_NAME={} exec ${PYTHON} manage.py migrate --noinput >/dev/null`,
      ],
      {
        cwd: app,
        stdio: ['pipe', 'ignore', 'pipe'],
        env: {
          PATH: process.env.PATH,
          ...ENVIRONMENT,
          DATABASE_HOST: secret.host,
          DATABASE_PORT: String(secret.port),
          DATABASE_USER: secret.username,
          DATABASE_PASSWORD: secret.password,
        },
      },
    );
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`shell loop failed (${code}): ${stderr.slice(-2000)}`)),
    );
    child.stdin.end(`${list.join('\n')}\n`);
  });
  return performance.now() - started;
}

export async function run(log) {
  const root = await mkdtemp(path.join(os.tmpdir(), 'berth-bench-django-'));
  const app = path.join(root, 'app');
  await cp(FIXTURE, app, { recursive: true, filter: (s) => !s.includes('__pycache__') });
  const tenants = names('dj', N);
  const project = await createProject(tenants, {
    task: {
      family: 'djangoapp-migration-task',
      command: [PYTHON, 'manage.py', 'migrate', '--noinput'],
      batchCommand: [PYTHON, 'manage.py', 'berth_migrate'],
      environment: ENVIRONMENT,
    },
    database: { secret: { name: 'rds/djangoapp/master' }, tenants },
    migrations: {
      tool: 'django',
      listCommand: [PYTHON, 'manage.py', 'showmigrations', '--plan'],
    },
    fleet: { concurrency: CONCURRENCY, batchSize: BATCH, onError: 'continue' },
    local: { workdir: app, dataDir: '.berth', maxConnections: 300, runtime: 'process' },
  });
  try {
    const install = await project.run(['snippet', 'django', '--app', path.join(app, 'shop')]);
    if (install.code !== 0) throw new Error(`berth snippet django failed: ${install.stderr}`);
    const validate = await project.run(['config', 'validate']);
    if (validate.code !== 0) throw new Error(`config validate failed: ${validate.stderr}`);
    await project.run(['local', 'start']);
    // Python's bytecode for the app, written once, for the floor and berth alike.
    execFileSync(PYTHON, ['-m', 'compileall', '-q', app]);
    await withClient(project, async (c) => {
      await c.query('ALTER SYSTEM SET autovacuum = off');
      await c.query('SELECT pg_reload_conf()');
    });

    const runs = [];
    for (let i = 0; i < REPEAT; i++) {
      log(
        `django: repetition ${i + 1} of ${REPEAT}: creating ${N} tenants${WITH_FLOOR ? ` and ${N} floor databases` : ''}…`,
      );
      await dropDatabases(project, tenants);
      await createDatabases(project, tenants);
      const floorDbs = WITH_FLOOR ? names(`djfloor${i}`, N) : [];
      if (WITH_FLOOR) await createDatabases(project, floorDbs);
      // Alternate the order, so a drift of the machine's speed does not always favour one side.
      const phases = !WITH_FLOOR
        ? ['berth']
        : i % 2 === 0
          ? ['floor', 'berth']
          : ['berth', 'floor'];
      const result = { repetition: i + 1, order: phases.join(' then ') };
      for (const phase of phases) {
        await settle(project);
        if (phase === 'floor') result.floorMs = Math.round(await shellLoop(project, app, floorDbs));
        else {
          const fresh = await project.run(['migrate', '--all', '--json']);
          if (fresh.code !== 0)
            throw new Error(`fresh migrate failed (${fresh.code}): ${fresh.stderr.slice(-2000)}`);
          result.berthFreshMs = Math.round(fresh.ms);
        }
      }
      result.freshRatioToFloor = WITH_FLOOR
        ? Number((result.berthFreshMs / result.floorMs).toFixed(3))
        : null;
      if (WITH_FLOOR) await dropDatabases(project, floorDbs);
      await settle(project);
      // Up to date three times (it is cheap): every run kept, the median reported.
      result.upToDateRunsMs = [];
      for (let u = 0; u < 3; u++) {
        const upToDate = await project.run(['migrate', '--all', '--json']);
        if (upToDate.code !== 0) throw new Error(`up-to-date migrate failed: ${upToDate.stderr}`);
        result.upToDateRunsMs.push(Math.round(upToDate.ms));
      }
      result.berthUpToDateMs = median(result.upToDateRunsMs);
      result.upToDateMsPerTenant = Number((result.berthUpToDateMs / N).toFixed(2));
      log(
        `django ${i + 1}: ${WITH_FLOOR ? `floor ${seconds(result.floorMs)} (${(result.floorMs / N).toFixed(0)} ms/tenant), ` : ''}berth batch ${seconds(result.berthFreshMs)}${WITH_FLOOR ? ` = ${result.freshRatioToFloor}× the floor (${result.order})` : ''}; up to date ${result.upToDateRunsMs.map(seconds).join(', ')} (median ${result.upToDateMsPerTenant} ms/tenant)`,
      );
      runs.push(result);
    }

    const ratios = runs.map((r) => r.freshRatioToFloor);
    const noise = Math.max(
      spread(runs.map((r) => r.floorMs)),
      spread(runs.map((r) => r.berthFreshMs)),
    );
    const perTenant = runs.map((r) => r.upToDateMsPerTenant);
    const upNoise = spread(runs.map((r) => r.berthUpToDateMs));
    const verdict = (worst, target, margin, noiseLevel) =>
      worst > target ? 'not met' : margin > noiseLevel ? 'met' : 'inside the noise';
    const freshVerdict = WITH_FLOOR
      ? verdict(Math.max(...ratios), 1, 1 - Math.max(...ratios), noise)
      : 'not measured (BENCH_DJANGO_FLOOR=0)';
    const upVerdict = verdict(
      Math.max(...perTenant),
      UP_TO_DATE_TARGET_MS_PER_TENANT,
      1 - Math.max(...perTenant) / UP_TO_DATE_TARGET_MS_PER_TENANT,
      upNoise,
    );
    log(
      `django: fresh ratio ${ratios.join(', ')} (noise ${(noise * 100).toFixed(0)}%): target < 1× ${freshVerdict}; up to date ${perTenant.join(', ')} ms/tenant (noise ${(upNoise * 100).toFixed(0)}%): target ≤ ${UP_TO_DATE_TARGET_MS_PER_TENANT} ${upVerdict}`,
    );
    const figures = {
      django: {
        tenants: N,
        concurrency: CONCURRENCY,
        batchSize: BATCH,
        app: 'test/fixtures/django-tenants (11 tables: contenttypes, auth, shop), Debian python3-django',
        floor: 'xargs -P CONCURRENCY: one `manage.py migrate --noinput` per tenant',
        autovacuum: 'off in the timed phases',
        runs,
        freshRatioToFloor: { median: median(ratios), max: Math.max(...ratios) },
        freshNoise: Number(noise.toFixed(3)),
        freshTarget: 'faster than the floor (ratio < 1)',
        freshVerdict,
        upToDateMsPerTenant: { median: median(perTenant), max: Math.max(...perTenant) },
        upToDateNoise: Number(upNoise.toFixed(3)),
        upToDateTargetMsPerTenant: UP_TO_DATE_TARGET_MS_PER_TENANT,
        upToDateVerdict: upVerdict,
      },
    };
    // Every invocation is kept (latest.json holds only the last): one JSON line each.
    const history = path.join(ROOT, 'bench/results/django-runs.jsonl');
    await mkdir(path.dirname(history), { recursive: true });
    await appendFile(
      history,
      `${JSON.stringify({ date: new Date().toISOString(), ...gitRevision(), cpus: os.cpus().length, loadavg: os.loadavg().map((l) => Number(l.toFixed(2))), ...figures.django })}\n`,
    );
    return figures;
  } finally {
    await project.cleanup();
    await rm(root, { recursive: true, force: true });
  }
}
