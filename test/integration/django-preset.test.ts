/**
 * The django preset on real PostgreSQL and the real Django fixture: berth lists the code's
 * migrations once with `showmigrations --plan`, reads django_migrations itself, skips
 * up-to-date tenants without starting Python, and verify reports pending and drift per tenant.
 * Hand-made history tables cover golang-migrate's dirty flag and Prisma's failed rows.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readHistory } from '../../src/migrations/history.js';
import { parseDjangoPlan } from '../../src/migrations/known.js';
import { PRESETS } from '../../src/migrations/presets.js';
import { query, tableCount } from '../support/pg.js';
import {
  BERTH,
  ROOT,
  TENANTS,
  collect,
  baseConfig,
  createProject,
  parseJsonLines,
  type TestProject,
} from '../support/project.js';
import {
  DJANGO_FIXTURE,
  PYTHON,
  hasDjango,
  skipWithoutDjango,
  withPythonWithoutDjango,
} from '../support/python.js';

const DJANGO = DJANGO_FIXTURE;
const skip = skipWithoutDjango;

const DJANGO_TABLES = 11;
const ENVIRONMENT = { DJANGO_SETTINGS_MODULE: 'tenantsite.settings', PYTHONDONTWRITEBYTECODE: '1' };

interface Secret {
  username: string;
  password: string;
  host: string;
  port: number;
}

describe.skipIf(skip)('the django preset: fast path, pending and drift per tenant', () => {
  let project: TestProject;
  let secret: Secret;

  const connect = async (database: string) => {
    const client = new pg.Client({
      host: secret.host,
      port: secret.port,
      user: secret.username,
      password: secret.password,
      database,
    });
    await client.connect();
    return client;
  };

  const tasks = async () => {
    const run = await project.berth(['tasks', 'list', '--json']);
    expect(run.code).toBe(0);
    return (
      JSON.parse(run.stdout) as { tasks: { id: string; kind: string; databases: string[] }[] }
    ).tasks;
  };

  beforeAll(async () => {
    const base = baseConfig();
    const { expectedTables: _ignored, ...database } = base.database as Record<string, unknown>;
    project = await createProject({
      ...base,
      task: {
        family: 'djangoapp-migration-task',
        command: [PYTHON, 'manage.py', 'migrate', '--noinput'],
        environment: ENVIRONMENT,
      },
      // No expectedTables, no checkCommand: pending and drift come from berth's own reading.
      database,
      // No listCommand: the listing runs with task.command's interpreter, not with the
      // `python3` on PATH, which here is a stand-in without Django (a pyenv shim, a system
      // Python beside the project's virtualenv).
      migrations: { tool: 'django' },
      local: { workdir: DJANGO, dataDir: '.berth' },
    });
    await withPythonWithoutDjango(project);
  });
  afterAll(() => project.cleanup());

  it('has Django available (CI installs python3-django)', () => {
    expect(hasDjango).toBe(true);
  });

  it('config validate accepts the preset config', async () => {
    const run = await project.berth(['config', 'validate', '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
  });

  it('migrates every tenant: pending came from the listing, applied from django_migrations', async () => {
    const run = await project.berth(['migrate', '--all', '--json']);
    expect(run.stderr).not.toMatch(/internal error/);
    expect(run.code).toBe(0);
    const results = parseJsonLines(run.stdout).filter((l) => l.type === 'database');
    expect(results).toHaveLength(3);
    for (const r of results) {
      expect(r.status).toBe('applied');
      expect(r.applied).toEqual(
        expect.arrayContaining(['contenttypes.0001_initial', 'shop.0002_product_active']),
      );
    }
    for (const db of TENANTS) expect(await tableCount(project.dir, db)).toBe(DJANGO_TABLES);
    secret = JSON.parse(
      await readFile(path.join(project.dir, '.berth/secret.json'), 'utf8'),
    ) as Secret;
  });

  it('a run with nothing pending starts no process per tenant: one listing task, no migrate task', async () => {
    const before = await tasks();
    const run = await project.berth(['migrate', '--all', '--json']);
    expect(run.code).toBe(0);
    const summary = parseJsonLines(run.stdout).at(-1) as { databases: Record<string, unknown>[] };
    expect(summary.databases.map((d) => [d.database, d.status])).toEqual(
      TENANTS.map((t) => [t, 'up-to-date']),
    );
    const seen = new Set(before.map((t) => t.id));
    const started = (await tasks()).filter((t) => !seen.has(t.id));
    expect(started.map((t) => [t.kind, t.databases])).toEqual([['probe', []]]);
  });

  it('status shows what exists when the listing cannot run, with pending unknown and why', async () => {
    const original = await readFile(project.configFile, 'utf8');
    // The listing with the `python3` on PATH: the stand-in without Django; and a tenant that
    // does not exist yet.
    const broken = parse(original) as {
      migrations: Record<string, unknown>;
      database: { tenants: string[] };
    };
    broken.migrations.listCommand = ['python3', 'manage.py', 'showmigrations', '--plan'];
    broken.database.tenants.push('late_tenant');
    await writeFile(project.configFile, stringify(broken));
    try {
      // migrate stops at the listing, before it creates anything.
      const migrate = await project.berth(['migrate', '--all']);
      expect(migrate.code).toBe(3);
      expect(migrate.stderr).toMatch(/could not list the code's migrations/);
      expect(migrate.stderr).not.toMatch(/creating databases/);
      const run = await project.berth(['status', '--json']);
      expect(run.stderr).not.toMatch(/internal error/);
      expect(run.code).toBe(0);
      const status = JSON.parse(run.stdout) as {
        postgres: { state: string };
        databases: { name: string; exists: boolean; tables: number; pending: number | null }[];
        pendingUnknown?: string;
      };
      expect(status.postgres.state).toBe('up');
      expect(status.pendingUnknown).toMatch(/could not list the code's migrations.*Django/);
      expect(status.databases.map((d) => [d.name, d.exists, d.tables, d.pending])).toEqual([
        ...TENANTS.map((t) => [t, true, DJANGO_TABLES, null]),
        ['late_tenant', false, 0, null],
      ]);
      const text = await project.berth(['status']);
      expect(text.stdout).toContain('pending unknown: could not list');
    } finally {
      await writeFile(project.configFile, original);
    }
  });

  it('verify passes every tenant on pending, drift and the schema (no check command; the table count from the scratch reference)', async () => {
    const run = await project.berth(['verify', '--all', '--json']);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as { ok: boolean; databases: Record<string, unknown>[] };
    expect(result.ok).toBe(true);
    for (const d of result.databases)
      expect(d).toMatchObject({
        tables: DJANGO_TABLES,
        expectedTables: DJANGO_TABLES,
        schema: 'matches',
        pending: 0,
        check: 'not-configured',
        ok: true,
      });
  });

  it('verify names a tenant with a migration unknown to the code (drift) and one with a pending migration, exit 6', async () => {
    await query(
      project.dir,
      'fintech_experiment',
      "INSERT INTO django_migrations (app, name, applied) VALUES ('shop', '0003_hotfix_from_a_branch', now())",
    );
    await query(
      project.dir,
      'healthtech_experiment',
      "DELETE FROM django_migrations WHERE app = 'shop' AND name = '0002_product_active'",
    );
    const run = await project.berth(['verify', '--all', '--json']);
    expect(run.code).toBe(6);
    const byName = new Map(
      (JSON.parse(run.stdout) as { databases: Record<string, unknown>[] }).databases.map((d) => [
        d.name,
        d,
      ]),
    );
    expect(byName.get('fintech_experiment')).toMatchObject({
      ok: false,
      pending: 0,
      unknownMigrations: ['shop.0003_hotfix_from_a_branch'],
    });
    expect(byName.get('fintech_experiment')?.reason).toContain(
      'unknown to the code: shop.0003_hotfix_from_a_branch',
    );
    expect(byName.get('healthtech_experiment')).toMatchObject({
      ok: false,
      pending: 1,
      pendingMigrations: ['shop.0002_product_active'],
    });
    expect(byName.get('startupwebapp_prod')).toMatchObject({ ok: true });
  });

  it('the library reads django_migrations as ordered app.name IDs', async () => {
    const client = await connect('fintech_experiment');
    try {
      const history = await readHistory(client, PRESETS.django, 'public');
      expect(history.applied).toContain('shop.0003_hotfix_from_a_branch');
      expect(history.applied).toContain('auth.0001_initial');
      expect(history.applied).toEqual([...history.applied].sort());
      expect(history.dirty).toBeUndefined();
    } finally {
      await client.end();
    }
  });

  it("real `showmigrations --plan` output parses into the fixture's migrations in plan order", () => {
    const run = spawnSync(PYTHON, ['manage.py', 'showmigrations', '--plan'], {
      cwd: DJANGO,
      encoding: 'utf8',
      env: {
        ...process.env,
        ...ENVIRONMENT,
        DATABASE_NAME: 'startupwebapp_prod',
        DATABASE_USER: secret.username,
        DATABASE_PASSWORD: secret.password,
        DATABASE_HOST: secret.host,
        DATABASE_PORT: String(secret.port),
      },
    });
    expect(run.status).toBe(0);
    const ids = parseDjangoPlan(run.stdout);
    expect(ids).toContain('shop.0001_initial');
    expect(ids.indexOf('shop.0001_initial')).toBeLessThan(ids.indexOf('shop.0002_product_active'));
    expect(ids.indexOf('contenttypes.0001_initial')).toBeLessThan(ids.indexOf('auth.0001_initial'));
    expect(ids).toHaveLength(new Set(ids).size);
  });

  it('PGOPTIONS in the task environment sets lock_timeout for psycopg2 (Django) and node-postgres', () => {
    const env = {
      ...process.env,
      PGOPTIONS: '-c lock_timeout=4321ms',
      PGPASSWORD: secret.password,
    };
    const python = spawnSync(
      PYTHON,
      [
        '-c',
        'import psycopg2,sys; c=psycopg2.connect(host=sys.argv[1], port=sys.argv[2], user=sys.argv[3], dbname="postgres"); cur=c.cursor(); cur.execute("SHOW lock_timeout"); print(cur.fetchone()[0])',
        secret.host,
        String(secret.port),
        secret.username,
      ],
      { encoding: 'utf8', env },
    );
    expect(python.stderr).toBe('');
    expect(python.stdout.trim()).toBe('4321ms');
    const node = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import pg from 'pg'; const c = new pg.Client({ host: ${JSON.stringify(secret.host)}, port: ${secret.port}, user: ${JSON.stringify(secret.username)}, database: 'postgres' }); await c.connect(); console.log((await c.query('SHOW lock_timeout')).rows[0].lock_timeout); await c.end();`,
      ],
      { encoding: 'utf8', env, cwd: ROOT },
    );
    expect(node.stderr).toBe('');
    expect(node.stdout.trim()).toBe('4321ms');
  });

  it('a missing history table reads as nothing applied', async () => {
    const client = await connect('postgres');
    try {
      expect(await readHistory(client, PRESETS.prisma, 'public')).toEqual({ applied: [] });
      expect(await readHistory(client, PRESETS.django, 'no_such_schema')).toEqual({ applied: [] });
    } finally {
      await client.end();
    }
  });

  it('golang-migrate: a dirty version is reported as dirty, never applied', async () => {
    const client = await connect('startupwebapp_prod');
    try {
      await client.query('CREATE SCHEMA gm');
      await client.query(
        'CREATE TABLE gm.schema_migrations (version bigint PRIMARY KEY, dirty boolean NOT NULL)',
      );
      await client.query('INSERT INTO gm.schema_migrations VALUES (3, false)');
      expect(await readHistory(client, PRESETS['golang-migrate'], 'gm')).toEqual({
        applied: ['3'],
      });
      await client.query('UPDATE gm.schema_migrations SET version = 4, dirty = true');
      expect(await readHistory(client, PRESETS['golang-migrate'], 'gm')).toEqual({
        applied: [],
        dirty: '4',
      });
    } finally {
      await client.end();
    }
  });

  it('Prisma: a row neither finished nor rolled back is failed; rolled-back rows are ignored', async () => {
    const client = await connect('startupwebapp_prod');
    try {
      await client.query('CREATE SCHEMA pr');
      // The table `prisma migrate deploy` creates.
      await client.query(`CREATE TABLE pr._prisma_migrations (
        id varchar(36) PRIMARY KEY, checksum varchar(64) NOT NULL, finished_at timestamptz,
        migration_name varchar(255) NOT NULL, logs text, rolled_back_at timestamptz,
        started_at timestamptz NOT NULL DEFAULT now(), applied_steps_count integer NOT NULL DEFAULT 0)`);
      await client.query(`INSERT INTO pr._prisma_migrations (id, checksum, migration_name, started_at, finished_at, rolled_back_at) VALUES
        ('1', 'c', '20240101000000_init', '2024-01-01', '2024-01-01', NULL),
        ('2', 'c', '20240102000000_orders', '2024-01-02', NULL, '2024-01-02'),
        ('3', 'c', '20240102000000_orders', '2024-01-03', NULL, NULL)`);
      expect(await readHistory(client, PRESETS.prisma, 'pr')).toEqual({
        applied: ['20240101000000_init'],
        failed: ['20240102000000_orders'],
      });
    } finally {
      await client.end();
    }
  });

  it('Flyway: success = false is failed; the schema marker is not a migration', async () => {
    const client = await connect('startupwebapp_prod');
    try {
      await client.query('CREATE SCHEMA fw');
      await client.query(`CREATE TABLE fw.flyway_schema_history (
        installed_rank int PRIMARY KEY, version varchar(50), description varchar(200) NOT NULL,
        type varchar(20) NOT NULL, script varchar(1000) NOT NULL, checksum int,
        installed_by varchar(100) NOT NULL, installed_on timestamp NOT NULL DEFAULT now(),
        execution_time int NOT NULL, success boolean NOT NULL)`);
      await client.query(`INSERT INTO fw.flyway_schema_history VALUES
        (0, '0', '<< Flyway Schema Creation >>', 'SCHEMA', '"fw"', NULL, 'u', now(), 0, true),
        (1, '1', 'init', 'SQL', 'V1__init.sql', 1, 'u', now(), 5, true),
        (2, NULL, 'views', 'SQL', 'R__views.sql', 2, 'u', now(), 5, true),
        (3, '1.1', 'orders', 'SQL', 'V1_1__orders.sql', 3, 'u', now(), 5, false)`);
      expect(await readHistory(client, PRESETS.flyway, 'fw')).toEqual({
        applied: ['1'],
        failed: ['1.1'],
      });
    } finally {
      await client.end();
    }
  });
});

describe('berth init and config validate for a Django project', () => {
  let root: string;
  const berthIn = (dir: string, args: string[]) =>
    collect(
      spawn(process.execPath, [BERTH, ...args], {
        cwd: dir,
        env: { ...process.env, NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'berth-django-init-'));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('init finds manage.py and writes a django preset config that validates', async () => {
    const dir = path.join(root, 'shop-app');
    await mkdir(dir);
    await writeFile(path.join(dir, 'manage.py'), '# a Django project\n');
    const init = await berthIn(dir, ['init']);
    expect(init.code).toBe(0);
    const text = await readFile(path.join(dir, 'berth.yaml'), 'utf8');
    expect(text).toContain('tool: django');
    expect(text).not.toMatch(/expectedTables: \d/);
    const validate = await berthIn(dir, ['config', 'validate', '--json']);
    expect(validate.code).toBe(0);
    expect(JSON.parse(validate.stdout)).toMatchObject({
      config: {
        migrations: { tool: 'django' },
        task: { command: ['python3', 'manage.py', 'migrate', '--noinput'] },
      },
    });
  });

  it('config validate rejects a migrations directory that migrate could not read (exit 3)', async () => {
    const dir = path.join(root, 'no-migrations');
    await mkdir(dir);
    const config = baseConfig();
    await writeFile(
      path.join(dir, 'berth.yaml'),
      stringify({ ...config, migrations: { directory: 'migrations' } }),
    );
    const run = await berthIn(dir, ['config', 'validate']);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('migrations.directory');
    expect(run.stderr).toContain(`${path.join(dir, 'migrations')} does not exist`);
    await mkdir(path.join(dir, 'migrations'));
    // An empty migrations directory is refused too: a fresh database would look up to date.
    const empty = await berthIn(dir, ['config', 'validate']);
    expect(empty.code).toBe(3);
    expect(empty.stderr).toContain('holds no migration files');
    await writeFile(path.join(dir, 'migrations', '0001_init.sql'), 'CREATE TABLE t (id int);\n');
    expect((await berthIn(dir, ['config', 'validate'])).code).toBe(0);
  });
});
