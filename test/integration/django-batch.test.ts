/**
 * Django's batch mode on real PostgreSQL and real Django: the snippet berth ships
 * (snippets/django/berth_migrate.py), installed with `berth snippet django --app`, run as
 * task.batchCommand. One Python process migrates a whole batch; each tenant's result is
 * exact (one whose migration raises fails, the others apply); a tenant whose migration lock
 * another session holds is reported locked and migrated once, later; berth killed mid-run and
 * run again applies nothing twice.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchLogParser } from '../../src/fleet/batch-script.js';
import { query } from '../support/pg.js';
import {
  ROOT,
  baseConfig,
  collect,
  createProject,
  parseJsonLines,
  type TestProject,
} from '../support/project.js';
import { DJANGO_FIXTURE, PYTHON, hasDjango, skipWithoutDjango } from '../support/python.js';

const FIXTURE = DJANGO_FIXTURE;
const skip = skipWithoutDjango;

const tenants = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => `tenant_${from + i}`);
const ALL = tenants(1, 14);

/**
 * A migration after the fixture's own that does what the test's control directory says for
 * the database it runs on: `fail_DB` makes it raise, `sleep` makes it wait (so a run can be
 * killed inside it), and it prints the session's lock_timeout.
 */
const CONTROLLED_MIGRATION = `import os
import time

from django.db import migrations


def controlled(apps, schema_editor):
    control = os.environ["FIXTURE_CONTROL"]
    name = schema_editor.connection.settings_dict["NAME"]
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SHOW lock_timeout")
        print("lock_timeout=%s on %s" % (cursor.fetchone()[0], name))
    if os.path.exists(os.path.join(control, "sleep")):
        time.sleep(float(open(os.path.join(control, "sleep")).read()))
    if os.path.exists(os.path.join(control, "fail_" + name)):
        raise RuntimeError("fixture: the migration of %s raises" % name)


class Migration(migrations.Migration):
    dependencies = [("shop", "0002_product_active")]
    operations = [migrations.RunPython(controlled, migrations.RunPython.noop)]
`;

/** Every start of manage.py appends its subcommand to the control directory's starts.log. */
const COUNTING_PREAMBLE = `import os, sys
if os.environ.get("FIXTURE_CONTROL"):
    with open(os.path.join(os.environ["FIXTURE_CONTROL"], "starts.log"), "a") as log:
        log.write("%s %s\\n" % (sys.argv[1] if len(sys.argv) > 1 else "", os.getpid()))
`;

interface Secret {
  username: string;
  password: string;
  host: string;
  port: number;
}

describe.skipIf(skip)('django batch mode: one Python process per batch, exact per tenant', () => {
  let root: string;
  let app: string;
  let control: string;
  let project: TestProject;
  let secret: Secret;
  let known: string[];

  const starts = async () =>
    (await readFile(path.join(control, 'starts.log'), 'utf8').catch(() => ''))
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(' ')[0]);

  const history = async (database: string) =>
    (
      await query<{ id: string }>(
        project.dir,
        database,
        "SELECT app || '.' || name AS id FROM django_migrations WHERE to_regclass('public.django_migrations') IS NOT NULL ORDER BY id",
      ).catch(() => [])
    )
      .map((r) => r.id)
      .sort();

  const migrate = (databases: string[], extra: string[] = []) =>
    project.berth([
      'migrate',
      '--database',
      databases.join(','),
      '--runtime',
      'process',
      '--json',
      ...extra,
    ]);

  const results = (stdout: string) =>
    new Map(
      parseJsonLines(stdout)
        .filter((l) => l.type === 'database')
        .map((l) => [l.database as string, l]),
    );

  const migrateTasks = async () => {
    const run = await project.berth(['tasks', 'list', '--json']);
    return (
      JSON.parse(run.stdout) as { tasks: { id: string; kind: string; databases: string[] }[] }
    ).tasks.filter((t) => t.kind === 'migrate');
  };

  const admin = async (database = 'postgres') => {
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

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'berth-django-batch-'));
    app = path.join(root, 'app');
    control = path.join(root, 'control');
    await mkdir(control);
    await cp(FIXTURE, app, {
      recursive: true,
      filter: (source) => !source.includes('__pycache__'),
    });
    await writeFile(path.join(app, 'shop/migrations/0003_controlled.py'), CONTROLLED_MIGRATION);
    const manage = await readFile(path.join(app, 'manage.py'), 'utf8');
    await writeFile(
      path.join(app, 'manage.py'),
      manage.replace('import os\nimport sys\n', `${COUNTING_PREAMBLE}`),
    );
    const base = baseConfig();
    const { expectedTables: _ignored, ...database } = base.database as Record<string, unknown>;
    project = await createProject({
      ...base,
      task: {
        family: 'djangoapp-migration-task',
        command: [PYTHON, 'manage.py', 'migrate', '--noinput'],
        batchCommand: [PYTHON, 'manage.py', 'berth_migrate'],
        environment: {
          DJANGO_SETTINGS_MODULE: 'tenantsite.settings',
          PYTHONDONTWRITEBYTECODE: '1',
          PYTHONUNBUFFERED: '1',
          FIXTURE_CONTROL: control,
        },
      },
      database: { ...database, tenants: ALL },
      migrations: {
        tool: 'django',
        listCommand: [PYTHON, 'manage.py', 'showmigrations', '--plan'],
        lockWaitSeconds: 1,
        lockTimeout: '1234ms',
      },
      fleet: { concurrency: 2, batchSize: 6, onError: 'continue' },
      local: { workdir: app, dataDir: '.berth' },
    });
    expect((await project.berth(['local', 'start'])).code).toBe(0);
    secret = JSON.parse(
      await readFile(path.join(project.dir, '.berth/secret.json'), 'utf8'),
    ) as Secret;
  });
  afterAll(async () => {
    await project.cleanup();
    await rm(root, { recursive: true, force: true });
  });

  it('has Django available (CI installs python3-django)', () => {
    expect(hasDjango).toBe(true);
  });

  it('config validate names the missing management command until `berth snippet django --app` installs it', async () => {
    const before = await project.berth(['config', 'validate']);
    expect(before.code).toBe(3);
    expect(before.stderr).toContain('task.batchCommand');
    expect(before.stderr).toContain('berth snippet django --app');

    const install = await project.berth(['snippet', 'django', '--app', path.join(app, 'shop')]);
    expect(install.stderr).toBe('');
    expect(install.code).toBe(0);
    const installed = path.join(app, 'shop/management/commands/berth_migrate.py');
    expect(await readFile(installed, 'utf8')).toBe(
      await readFile(path.join(ROOT, 'snippets/django/berth_migrate.py'), 'utf8'),
    );
    expect(existsSync(path.join(app, 'shop/management/__init__.py'))).toBe(true);
    expect(existsSync(path.join(app, 'shop/management/commands/__init__.py'))).toBe(true);
    // Printed as is without --app; installed again, nothing changes.
    const printed = await project.berth(['snippet', 'django']);
    expect(printed.stdout.trimEnd()).toBe((await readFile(installed, 'utf8')).trimEnd());
    const again = await project.berth(['snippet', 'django', '--app', path.join(app, 'shop')]);
    expect(again.stdout).toContain('nothing was changed');

    expect((await project.berth(['config', 'validate'])).code).toBe(0);
  });

  it('one Python process migrates six tenants; the one whose migration raises fails, the five others apply', async () => {
    await writeFile(path.join(control, 'fail_tenant_3'), '');
    const before = await starts();
    const run = await migrate(tenants(1, 6));
    expect(run.stderr).not.toMatch(/internal error/);
    expect(run.code).toBe(4);

    const started = (await starts()).slice(before.length);
    // One listing (showmigrations, once per run) and ONE berth_migrate for the six tenants.
    expect(started.filter((s) => s === 'berth_migrate')).toHaveLength(1);
    expect(started.filter((s) => s === 'migrate')).toHaveLength(0);
    const tasks = await migrateTasks();
    expect(tasks.map((t) => t.databases)).toEqual([tenants(1, 6)]);

    const byName = results(run.stdout);
    known = (await history('tenant_1')).sort();
    expect(known).toContain('shop.0003_controlled');
    expect(known).toContain('contenttypes.0001_initial');
    for (const db of tenants(1, 6)) {
      if (db === 'tenant_3') continue;
      expect(byName.get(db)).toMatchObject({ status: 'applied', exitCode: 0 });
      expect((byName.get(db)?.applied as string[]).sort()).toEqual(known);
      expect(await history(db)).toEqual(known);
    }
    const failed = byName.get('tenant_3');
    expect(failed).toMatchObject({
      status: 'failed',
      exitCode: 1,
      pending: ['shop.0003_controlled'],
    });
    expect((failed?.logExcerpt as string[]).join('\n')).toContain(
      'RuntimeError: fixture: the migration of tenant_3 raises',
    );
    // The task's log: each tenant's output in its own section, on a connection with berth's
    // lock_timeout (migrations.lockTimeout, through PGOPTIONS).
    const log = await project.berth(['logs', String(failed?.taskId)]);
    const parser = new BatchLogParser(1000);
    for (const line of log.stdout.split('\n')) parser.line(line);
    for (const db of tenants(1, 6)) {
      const section = parser.section(db);
      expect(section?.exitCode).toBe(db === 'tenant_3' ? 1 : 0);
      expect(section?.tail.filter((l) => l.startsWith('lock_timeout='))).toEqual([
        `lock_timeout=1234ms on ${db}`,
      ]);
    }
    // Its earlier migrations committed; the one that raised rolled back.
    expect(await history('tenant_3')).toEqual(known.filter((m) => m !== 'shop.0003_controlled'));
    // Caches keyed by connection alias were reset per tenant: every tenant got its own
    // content types and permissions from post_migrate, not only the first.
    for (const db of ['tenant_1', 'tenant_6']) {
      const [row] = await query<{ types: number; perms: number }>(
        project.dir,
        db,
        'SELECT (SELECT count(*)::int FROM django_content_type) AS types, (SELECT count(*)::int FROM auth_permission) AS perms',
      );
      expect(row?.types).toBeGreaterThan(0);
      expect(row?.perms).toBeGreaterThan(0);
    }
  });

  it('the next run starts Python only for the failed tenant, which then applies', async () => {
    await rm(path.join(control, 'fail_tenant_3'));
    const tasksBefore = (await migrateTasks()).length;
    const run = await migrate(tenants(1, 6));
    expect(run.code, run.stderr).toBe(0);
    const byName = results(run.stdout);
    expect(byName.get('tenant_3')).toMatchObject({
      status: 'applied',
      applied: ['shop.0003_controlled'],
    });
    for (const db of ['tenant_1', 'tenant_2', 'tenant_4', 'tenant_5', 'tenant_6'])
      expect(byName.get(db)).toMatchObject({ status: 'up-to-date' });
    const tasks = await migrateTasks();
    expect(tasks.length - tasksBefore).toBe(1);
    expect(tasks.map((t) => t.databases)).toContainEqual(['tenant_3']);
    expect(await history('tenant_3')).toEqual(known);
  });

  it('a tenant whose migration lock another session holds is reported locked, untouched, and applied once by the next run', async () => {
    const postgres = await admin();
    await postgres.query('CREATE DATABASE tenant_7');
    await postgres.end();
    const holder = await admin('tenant_7');
    try {
      await holder.query('SELECT pg_advisory_lock($1, $2)', [0x62657274, 1]);
      const run = await migrate(['tenant_7', 'tenant_8']);
      expect(run.code).not.toBe(0);
      const byName = results(run.stdout);
      expect(byName.get('tenant_7')).toMatchObject({ status: 'locked', applied: [] });
      expect(byName.get('tenant_8')).toMatchObject({ status: 'applied' });
      expect(await history('tenant_7')).toEqual([]);
    } finally {
      await holder.end();
    }
    const run = await migrate(['tenant_7', 'tenant_8']);
    expect(run.code, run.stderr).toBe(0);
    expect(results(run.stdout).get('tenant_7')).toMatchObject({ status: 'applied' });
    expect(results(run.stdout).get('tenant_8')).toMatchObject({ status: 'up-to-date' });
    expect(await history('tenant_7')).toEqual(known);
  });

  describe('the command on its own (as a task inside the VPC runs it: it takes the lock itself)', () => {
    const runCommand = (databases: string[], env: Record<string, string> = {}) => {
      const run = spawnSync(PYTHON, ['manage.py', 'berth_migrate'], {
        cwd: app,
        encoding: 'utf8',
        env: {
          PATH: process.env.PATH,
          DJANGO_SETTINGS_MODULE: 'tenantsite.settings',
          PYTHONDONTWRITEBYTECODE: '1',
          FIXTURE_CONTROL: control,
          DATABASE_NAMES: databases.join(','),
          DATABASE_NAME: databases[0] ?? '',
          DATABASE_USER: secret.username,
          DATABASE_PASSWORD: secret.password,
          DATABASE_HOST: secret.host,
          DATABASE_PORT: String(secret.port),
          PGOPTIONS: '-c lock_timeout=4321ms',
          ...env,
        },
      });
      const parser = new BatchLogParser(200);
      for (const line of run.stdout.split('\n')) parser.line(line);
      return { run, section: (db: string) => parser.section(db) };
    };

    it('reports a tenant whose lock is held ::berth-locked with 75 and migrates the others; PGOPTIONS reaches every connection', async () => {
      const postgres = await admin();
      await postgres.query('CREATE DATABASE tenant_9');
      await postgres.query('CREATE DATABASE tenant_10');
      await postgres.end();
      const holder = await admin('tenant_9');
      try {
        await holder.query('SELECT pg_advisory_lock($1, $2)', [0x62657274, 1]);
        const { run, section } = runCommand(['tenant_9', 'tenant_10']);
        expect(run.stderr).toBe('');
        expect(run.status).toBe(75);
        expect(section('tenant_9')).toMatchObject({ exitCode: 75, locked: true, tail: [] });
        expect(section('tenant_10')?.exitCode).toBe(0);
        expect(section('tenant_10')?.tail).toContain('lock_timeout=4321ms on tenant_10');
        expect(await history('tenant_9')).toEqual([]);
        expect(await history('tenant_10')).toEqual(known);
      } finally {
        await holder.end();
      }
      // The lock ends with the command's session: nothing is left held.
      const again = runCommand(['tenant_9', 'tenant_10']);
      expect(again.run.status).toBe(0);
      expect(again.section('tenant_9')?.exitCode).toBe(0);
      expect(await history('tenant_9')).toEqual(known);
    });

    it('with BERTH_ON_ERROR=stop the first failure ends the batch; with BERTH_LOCK_HELD=1 it takes no lock', async () => {
      const postgres = await admin();
      await postgres.query('CREATE DATABASE tenant_11');
      await postgres.query('CREATE DATABASE tenant_12');
      await postgres.end();
      await writeFile(path.join(control, 'fail_tenant_11'), '');
      try {
        const stopped = runCommand(['tenant_11', 'tenant_12'], { BERTH_ON_ERROR: 'stop' });
        expect(stopped.run.status).toBe(1);
        expect(stopped.section('tenant_11')?.exitCode).toBe(1);
        expect(stopped.section('tenant_12')).toBeUndefined();
        expect(await history('tenant_12')).toEqual([]);
      } finally {
        await rm(path.join(control, 'fail_tenant_11'));
      }
      // A lock held by this test's session would make a locking run report 75: with
      // BERTH_LOCK_HELD=1 (the runner holds it, as berth's local provider does) it migrates.
      const holder = await admin('tenant_12');
      try {
        await holder.query('SELECT pg_advisory_lock($1, $2)', [0x62657274, 1]);
        const held = runCommand(['tenant_12'], { BERTH_LOCK_HELD: '1' });
        expect(held.run.status).toBe(0);
        expect(held.section('tenant_12')).toMatchObject({ exitCode: 0 });
        expect(held.section('tenant_12')?.locked).toBeUndefined();
      } finally {
        await holder.end();
      }
    });
  });

  it('berth killed mid-batch, then run again at once: every migration applied exactly once', async () => {
    const batch = tenants(13, 14);
    await writeFile(path.join(control, 'sleep'), '1.5');
    try {
      const first = project.spawnBerth([
        'migrate',
        '--database',
        batch.join(','),
        '--runtime',
        'process',
        '--json',
      ]);
      const firstDone = collect(first);
      const deadline = Date.now() + 60_000;
      // Inside the batch: the first tenant has its first migrations and sleeps in the last.
      while (!(await history('tenant_13')).includes('shop.0002_product_active')) {
        if (Date.now() > deadline) throw new Error('the first run never started migrating');
        await new Promise((r) => setTimeout(r, 100));
      }
      first.kill('SIGKILL');
      expect((await firstDone).code).toBeNull();

      // The killed run's task may still be ending (its supervisor stops it): a tenant it held
      // is reported locked, never migrated beside it; the run is repeated until it is free.
      let second = await migrate(batch);
      for (let i = 0; i < 10 && second.code !== 0; i++) {
        const statuses = [...results(second.stdout).values()].map((r) => r.status);
        expect(statuses.every((s) => s === 'locked' || s === 'applied' || s === 'up-to-date')).toBe(
          true,
        );
        await new Promise((r) => setTimeout(r, 500));
        second = await migrate(batch);
      }
      expect(second.code, second.stderr).toBe(0);
    } finally {
      await rm(path.join(control, 'sleep'));
    }
    for (const db of batch) {
      const rows = await query<{ id: string; n: number }>(
        project.dir,
        db,
        "SELECT app || '.' || name AS id, count(*)::int AS n FROM django_migrations GROUP BY 1 ORDER BY 1",
      );
      expect(rows.map((r) => r.id)).toEqual(known);
      expect(rows.every((r) => r.n === 1)).toBe(true);
    }
  });

  it('config validate passes a batched Django fleet without the batch command, with a note saying what it costs', async () => {
    const config = parse(await readFile(project.configFile, 'utf8')) as {
      task: Record<string, unknown>;
    };
    delete config.task.batchCommand;
    await writeFile(project.configFile, stringify(config));
    const human = await project.berth(['config', 'validate']);
    expect(human.code).toBe(0);
    expect(human.stderr).toContain(
      'note: fleet.batchSize is 6 but task.batchCommand is not set: each tenant of a batch still starts Python',
    );
    const json = await project.berth(['config', 'validate', '--json']);
    expect((JSON.parse(json.stdout) as { notes: string[] }).notes).toHaveLength(1);
  });
});
