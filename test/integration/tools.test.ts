/**
 * The migration-tool presets against the real tools on real PostgreSQL: Alembic (Debian's
 * python3-alembic), Rails' ActiveRecord (Debian's ruby-activerecord and ruby-pg, behind a
 * stand-in bin/rails), knex, dbmate, Sequelize (sequelize-cli) and TypeORM (npm
 * devDependencies), node-pg-migrate (the example app's). Each fixture app under
 * test/fixtures/tools/ has two migrations; berth.yaml sits beside it with only
 * `migrations.tool` set, so the preset's history table, migrations directory (or listing
 * command) and migrate command are the ones under test. Per tool: migrate three tenants, a
 * second run that starts no migration task, verify, a third migration listed by --plan, and an
 * applied migration unknown to the code reported as drift by verify (exit 6).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readHistory } from '../../src/migrations/history.js';
import { parseAlembicHistory } from '../../src/migrations/known.js';
import { PRESETS } from '../../src/migrations/presets.js';
import { query, tableCount } from '../support/pg.js';
import {
  ROOT,
  TENANTS,
  baseConfig,
  createProject,
  parseJsonLines,
  type TestProject,
} from '../support/project.js';

const PYTHON = '/usr/bin/python3';
const FIXTURES = path.join(ROOT, 'test/fixtures/tools');
const works = (command: string, args: string[]) =>
  spawnSync(command, args, { stdio: 'ignore' }).status === 0;

interface ToolCase {
  tool: 'alembic' | 'rails' | 'knex' | 'dbmate' | 'node-pg-migrate' | 'sequelize' | 'typeorm';
  /** The fixture's two migrations, as the IDs the tool records. */
  ids: [string, string];
  /** Whether this machine has the tool (CI installs it: a missing tool fails there). */
  available: boolean;
  /** What berth.yaml sets beyond `migrations.tool` (only what the machine makes necessary). */
  task?: Record<string, unknown>;
  migrations?: Record<string, unknown>;
  /** Tables the two migrations leave, the history table(s) included. */
  tables: number;
  /** The third migration: file (relative to the app) and content, and the ID it records. */
  third: { file: string; text: string; id: string };
  /** SQL recording, in one tenant, a migration the code does not have; and its ID. */
  drift: { sql: string; id: string };
  /** A listing tool starts one listing task per run (never one per tenant). */
  listingTasks: number;
  /** Prepares the copied app (e.g. node_modules as a user's project has it). */
  prepare?: (dir: string) => Promise<void>;
}

const linkNodeModules = async (dir: string) => {
  await symlink(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
};

const CASES: ToolCase[] = [
  {
    tool: 'alembic',
    ids: ['1a2b3c4d5e6f', '2b3c4d5e6f7a'],
    available: works(PYTHON, ['-c', 'import alembic, psycopg2']),
    // Debian's python3-alembic has the module but not the `alembic` console script.
    task: { command: [PYTHON, '-m', 'alembic', 'upgrade', 'heads'] },
    migrations: { listCommand: [PYTHON, '-m', 'alembic', 'history'] },
    tables: 2,
    third: {
      file: 'alembic/versions/3c4d5e6f7a8b_add_orders_note.py',
      text: `"""add orders.note"""
import sqlalchemy as sa
from alembic import op

revision = "3c4d5e6f7a8b"
down_revision = "2b3c4d5e6f7a"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("orders", sa.Column("note", sa.Text))


def downgrade():
    op.drop_column("orders", "note")
`,
      id: '3c4d5e6f7a8b',
    },
    // A head from a branch this code does not have.
    drift: { sql: "UPDATE alembic_version SET version_num = 'ffee00112233'", id: 'ffee00112233' },
    listingTasks: 1,
  },
  {
    tool: 'rails',
    ids: ['20240101000000', '20240201000000'],
    available: works('/usr/bin/ruby', ['-e', 'require "active_record"; require "pg"']),
    tables: 3, // orders, schema_migrations, ar_internal_metadata
    third: {
      file: 'db/migrate/20240301000000_add_note_to_orders.rb',
      text: `class AddNoteToOrders < ActiveRecord::Migration[6.1]
  def change
    add_column :orders, :note, :text
  end
end
`,
      id: '20240301000000',
    },
    drift: {
      sql: "INSERT INTO schema_migrations (version) VALUES ('20240215000000')",
      id: '20240215000000',
    },
    listingTasks: 0,
  },
  {
    tool: 'knex',
    ids: ['20240101000000_create_orders.js', '20240201000000_add_orders_created.js'],
    available: existsSync(path.join(ROOT, 'node_modules/knex/package.json')),
    tables: 3, // orders, knex_migrations, knex_migrations_lock
    third: {
      file: 'migrations/20240301000000_add_orders_note.js',
      text: `exports.up = (knex) => knex.schema.alterTable('orders', (t) => { t.text('note'); });
exports.down = (knex) => knex.schema.alterTable('orders', (t) => { t.dropColumn('note'); });
`,
      id: '20240301000000_add_orders_note.js',
    },
    drift: {
      sql: "INSERT INTO knex_migrations (name, batch, migration_time) VALUES ('20240215000000_hotfix.js', 9, now())",
      id: '20240215000000_hotfix.js',
    },
    listingTasks: 0,
    prepare: linkNodeModules,
  },
  {
    tool: 'dbmate',
    ids: ['20240101000000', '20240201000000'],
    available: existsSync(path.join(ROOT, 'node_modules/.bin/dbmate')),
    tables: 2, // orders, schema_migrations
    third: {
      file: 'db/migrations/20240301000000_add_orders_note.sql',
      text: '-- migrate:up\nALTER TABLE orders ADD COLUMN note text;\n\n-- migrate:down\nALTER TABLE orders DROP COLUMN note;\n',
      id: '20240301000000',
    },
    drift: {
      sql: "INSERT INTO schema_migrations (version) VALUES ('20240215000000')",
      id: '20240215000000',
    },
    listingTasks: 0,
    prepare: linkNodeModules,
  },
  {
    tool: 'sequelize',
    ids: ['20240101000000-create-orders.js', '20240201000000-add-orders-created.js'],
    available: existsSync(path.join(ROOT, 'node_modules/.bin/sequelize-cli')),
    tables: 2, // orders, SequelizeMeta
    third: {
      file: 'migrations/20240301000000-add-orders-note.js',
      text: `module.exports = {
  up: (queryInterface, Sequelize) => queryInterface.addColumn('orders', 'note', { type: Sequelize.TEXT }),
  down: (queryInterface) => queryInterface.removeColumn('orders', 'note'),
};
`,
      id: '20240301000000-add-orders-note.js',
    },
    drift: {
      sql: `INSERT INTO "SequelizeMeta" (name) VALUES ('20240215000000-hotfix.js')`,
      id: '20240215000000-hotfix.js',
    },
    listingTasks: 0,
    prepare: linkNodeModules,
  },
  {
    tool: 'typeorm',
    // The class names TypeORM records (file 1700000000000-CreateOrders.js: CreateOrders1700000000000).
    ids: ['CreateOrders1700000000000', 'AddOrdersCreated1700000000100'],
    available: existsSync(path.join(ROOT, 'node_modules/.bin/typeorm')),
    tables: 2, // orders, migrations
    third: {
      file: 'src/migrations/1700000000200-AddOrdersNote.js',
      text: `module.exports = class AddOrdersNote1700000000200 {
  async up(queryRunner) {
    await queryRunner.query('ALTER TABLE orders ADD COLUMN note text');
  }
  async down(queryRunner) {
    await queryRunner.query('ALTER TABLE orders DROP COLUMN note');
  }
};
`,
      id: 'AddOrdersNote1700000000200',
    },
    drift: {
      sql: `INSERT INTO migrations ("timestamp", name) VALUES (1700000000150, 'Hotfix1700000000150')`,
      id: 'Hotfix1700000000150',
    },
    listingTasks: 0,
    prepare: linkNodeModules,
  },
  {
    tool: 'node-pg-migrate',
    ids: ['1700000000000_create-orders', '1700000000100_add-orders-created'],
    available: existsSync(path.join(ROOT, 'node_modules/.bin/node-pg-migrate')),
    tables: 2, // orders, pgmigrations
    third: {
      file: 'migrations/1700000000200_add-orders-note.sql',
      text: '-- Up Migration\nALTER TABLE orders ADD COLUMN note text;\n\n-- Down Migration\nALTER TABLE orders DROP COLUMN note;\n',
      id: '1700000000200_add-orders-note',
    },
    drift: {
      sql: "INSERT INTO pgmigrations (name, run_on) VALUES ('1700000000150_hotfix', now())",
      id: '1700000000150_hotfix',
    },
    listingTasks: 0,
    prepare: linkNodeModules,
  },
];

/** Per-tenant rows in a stable order (results stream in as tenants finish). */
const byTenant = <T extends unknown[]>(rows: T[]) =>
  rows.sort((a, b) => String(a[0]).localeCompare(String(b[0])));
const SORTED = [...TENANTS].sort();

interface TaskRow {
  id: string;
  kind: string;
  databases: string[];
}

describe.each(CASES)('the $tool preset with the real tool', (c) => {
  // In CI a missing tool is a failure, never a skip.
  const skip = !c.available && !process.env.CI;
  let project: TestProject;
  // The tool on PATH as a user's machine or image has it (dbmate's npm binary).
  const env = { PATH: `${path.join(ROOT, 'node_modules/.bin')}:${process.env.PATH ?? ''}` };
  const berth = (args: string[]) => project.berth(args, { env });

  const tasks = async () => {
    const run = await berth(['tasks', 'list', '--json']);
    expect(run.code).toBe(0);
    return (JSON.parse(run.stdout) as { tasks: TaskRow[] }).tasks;
  };

  beforeAll(async () => {
    if (skip) return;
    project = await createProject({});
    await cp(path.join(FIXTURES, c.tool), project.dir, { recursive: true });
    await c.prepare?.(project.dir);
    const base = baseConfig();
    const { expectedTables: _none, ...database } = base.database as Record<string, unknown>;
    // What `berth init` writes for the tool: the preset's migrate command (unless this machine
    // lacks its executable); the preset supplies the history table and the migrations.
    const task: Record<string, unknown> = {
      family: `${c.tool}-migration-task`,
      command: PRESETS[c.tool].migrateCommand,
      // verify runs it on every tenant: it must pass on an up-to-date one.
      ...(PRESETS[c.tool].checkCommand ? { checkCommand: PRESETS[c.tool].checkCommand } : {}),
      ...c.task,
    };
    await writeFile(
      project.configFile,
      stringify({
        ...base,
        task,
        database,
        migrations: { tool: c.tool, ...c.migrations },
        local: { workdir: '.', dataDir: '.berth' },
      }),
    );
  });
  afterAll(async () => {
    if (!skip) await project.cleanup();
  });

  it.skipIf(skip)('has the tool (CI installs it)', () => {
    expect(c.available).toBe(true);
  });

  it.skipIf(skip)('config validate accepts the preset config', async () => {
    const run = await berth(['config', 'validate']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
  });

  it.skipIf(skip)('migrate --all applies both migrations on every tenant', async () => {
    const run = await berth(['migrate', '--all', '--json']);
    expect(run.stderr).not.toMatch(/internal error/);
    const results = parseJsonLines(run.stdout).filter((l) => l.type === 'database');
    expect(byTenant(results.map((r) => [r.database, r.status, r.applied]))).toEqual(
      SORTED.map((t) => [t, 'applied', c.ids]),
    );
    expect(run.code).toBe(0);
    for (const db of TENANTS) expect(await tableCount(project.dir, db)).toBe(c.tables);
  });

  it.skipIf(skip)('a second run is up to date and starts no migration task', async () => {
    const before = new Set((await tasks()).map((t) => t.id));
    const run = await berth(['migrate', '--all', '--json']);
    expect(run.code).toBe(0);
    const summary = parseJsonLines(run.stdout).at(-1) as { databases: Record<string, unknown>[] };
    expect(summary.databases.map((d) => [d.database, d.status])).toEqual(
      TENANTS.map((t) => [t, 'up-to-date']),
    );
    const started = (await tasks()).filter((t) => !before.has(t.id));
    expect(started.map((t) => [t.kind, t.databases])).toEqual(
      Array.from({ length: c.listingTasks }, () => ['probe', []]),
    );
  });

  it.skipIf(skip)('verify passes every tenant from the history alone', async () => {
    const run = await berth(['verify', '--all', '--json']);
    const result = JSON.parse(run.stdout) as { ok: boolean; databases: Record<string, unknown>[] };
    const check = PRESETS[c.tool].checkCommand ? 'passed' : 'not-configured';
    expect(result.databases.map((d) => [d.name, d.ok, d.pending, d.check])).toEqual(
      TENANTS.map((t) => [t, true, 0, check]),
    );
    expect(run.code).toBe(0);
  });

  it.skipIf(skip)(
    'a third migration: --plan lists it pending by name on every tenant (exit 9), migrate applies it',
    async () => {
      await writeFile(path.join(project.dir, c.third.file), c.third.text);
      const plan = await berth(['migrate', '--all', '--plan', '--json']);
      expect(plan.stderr).not.toMatch(/internal error/);
      const [doc] = parseJsonLines(plan.stdout);
      expect(
        (doc?.databases as Record<string, unknown>[]).map((d) => [d.database, d.state, d.pending]),
      ).toEqual(TENANTS.map((t) => [t, 'pending', [c.third.id]]));
      expect(plan.code).toBe(9);
      if (PRESETS[c.tool].checkCommand) {
        // The preset's check command agrees: it fails while the migration is pending.
        const verify = await berth(['verify', '-d', 'startupwebapp_prod', '--json']);
        const [db] = (JSON.parse(verify.stdout) as { databases: Record<string, unknown>[] })
          .databases;
        expect(db).toMatchObject({ ok: false, pending: 1, check: 'failed' });
        expect(verify.code).toBe(6);
      }
      const run = await berth(['migrate', '--all', '--json']);
      const results = parseJsonLines(run.stdout).filter((l) => l.type === 'database');
      expect(byTenant(results.map((r) => [r.database, r.status, r.applied]))).toEqual(
        SORTED.map((t) => [t, 'applied', [c.third.id]]),
      );
      expect(run.code).toBe(0);
    },
  );

  it.skipIf(skip)(
    'an applied migration unknown to the code is drift: verify names the tenant, exit 6',
    async () => {
      await query(project.dir, 'fintech_experiment', c.drift.sql);
      const run = await berth(['verify', '--all', '--json']);
      const byName = new Map(
        (JSON.parse(run.stdout) as { databases: Record<string, unknown>[] }).databases.map((d) => [
          d.name,
          d,
        ]),
      );
      expect(byName.get('fintech_experiment')).toMatchObject({
        ok: false,
        unknownMigrations: [c.drift.id],
      });
      expect(byName.get('fintech_experiment')?.reason).toContain(
        `unknown to the code: ${c.drift.id}`,
      );
      expect(byName.get('startupwebapp_prod')).toMatchObject({ ok: true });
      expect(byName.get('healthtech_experiment')).toMatchObject({ ok: true });
      expect(run.code).toBe(6);
    },
  );
});

describe.skipIf(!existsSync(path.join(ROOT, 'node_modules/.bin/dbmate')) && !process.env.CI)(
  "the dbmate preset's command with a password that would break a URL; histories written by hand",
  () => {
    let project: TestProject;
    beforeAll(async () => {
      project = await createProject();
      await cp(path.join(FIXTURES, 'dbmate'), project.dir, { recursive: true });
      // Starts the embedded server (and writes .berth/secret.json) without migrating anything.
      const status = await project.berth(['migrate', '-d', 'startupwebapp_prod', '--plan']);
      expect(status.code).toBe(9);
    });
    afterAll(() => project.cleanup());

    it('connects through PGPASSWORD and migrates', async () => {
      const password = "p@ss/w#rd%?x:y'z";
      await query(
        project.dir,
        'postgres',
        `CREATE ROLE url_hostile LOGIN PASSWORD '${password.replace(/'/g, "''")}'`,
      );
      await query(project.dir, 'postgres', 'CREATE DATABASE url_hostile_db OWNER url_hostile');
      const secret = JSON.parse(
        await readFile(path.join(project.dir, '.berth/secret.json'), 'utf8'),
      ) as { host: string; port: number };
      const [program = '', ...args] = PRESETS.dbmate.migrateCommand;
      const run = spawnSync(program, args, {
        cwd: project.dir,
        encoding: 'utf8',
        env: {
          PATH: `${path.join(ROOT, 'node_modules/.bin')}:${process.env.PATH ?? ''}`,
          DATABASE_USER: 'url_hostile',
          DATABASE_PASSWORD: password,
          DATABASE_HOST: secret.host,
          DATABASE_PORT: String(secret.port),
          DATABASE_NAME: 'url_hostile_db',
        },
      });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      expect(
        await query<{ version: string }>(
          project.dir,
          'url_hostile_db',
          'SELECT version FROM schema_migrations ORDER BY version',
        ),
      ).toEqual([{ version: '20240101000000' }, { version: '20240201000000' }]);
    });

    it('Sequelize and TypeORM: their history tables, in the shapes the tools create, read in order', async () => {
      const secret = JSON.parse(
        await readFile(path.join(project.dir, '.berth/secret.json'), 'utf8'),
      ) as { host: string; port: number; username: string; password: string };
      const client = new pg.Client({
        host: secret.host,
        port: secret.port,
        user: secret.username,
        password: secret.password,
        database: 'postgres',
      });
      await client.connect();
      try {
        await client.query('CREATE SCHEMA hand');
        // sequelize-cli's SequelizeMeta (case kept, quoted).
        await client.query(
          'CREATE TABLE hand."SequelizeMeta" (name varchar(255) NOT NULL PRIMARY KEY)',
        );
        await client.query(
          `INSERT INTO hand."SequelizeMeta" VALUES ('20240201000000-add-note.js'), ('20240101000000-create-orders.js')`,
        );
        expect(await readHistory(client, PRESETS.sequelize, 'hand')).toEqual({
          applied: ['20240101000000-create-orders.js', '20240201000000-add-note.js'],
        });
        // TypeORM's migrations table: ordered by timestamp, not by name.
        await client.query(
          'CREATE TABLE hand.migrations (id serial PRIMARY KEY, "timestamp" bigint NOT NULL, name varchar NOT NULL)',
        );
        await client.query(
          `INSERT INTO hand.migrations ("timestamp", name) VALUES (1700000000100, 'AddNote1700000000100'), (1700000000000, 'Init1700000000000')`,
        );
        expect(await readHistory(client, PRESETS.typeorm, 'hand')).toEqual({
          applied: ['Init1700000000000', 'AddNote1700000000100'],
        });
      } finally {
        await client.end();
      }
    });
  },
);

describe.skipIf(!works(PYTHON, ['-c', 'import alembic']) && !process.env.CI)(
  'Alembic with branches, as the real `alembic history` prints them',
  () => {
    const history = async (revisions: Record<string, string>) => {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-alembic-'));
      try {
        await cp(path.join(FIXTURES, 'alembic'), dir, { recursive: true });
        for (const [file, text] of Object.entries(revisions))
          await writeFile(path.join(dir, 'alembic/versions', file), text);
        const run = spawnSync(PYTHON, ['-m', 'alembic', 'history'], { cwd: dir, encoding: 'utf8' });
        expect(run.status).toBe(0);
        return parseAlembicHistory(run.stdout);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    };
    const revision = (id: string, down: string) =>
      `revision = "${id}"\ndown_revision = ${down}\nbranch_labels = None\ndepends_on = None\n\n\ndef upgrade():\n    pass\n\n\ndef downgrade():\n    pass\n`;

    it('a straight line is ordered from base to head', async () => {
      expect(await history({})).toEqual({ ids: ['1a2b3c4d5e6f', '2b3c4d5e6f7a'], ordered: true });
    });

    it('a branch, and its merge, leave pending unknowable: every tenant gets a task', async () => {
      const branch = { 'b1_branch.py': revision('b1b1b1b1b1b1', '"1a2b3c4d5e6f"') };
      const branched = await history(branch);
      expect(branched.ordered).toBe(false);
      expect(branched.reason).toContain('branches or merges');
      expect([...branched.ids].sort()).toEqual(['1a2b3c4d5e6f', '2b3c4d5e6f7a', 'b1b1b1b1b1b1']);
      const merged = await history({
        ...branch,
        'm1_merge.py': revision('m1m1m1m1m1m1', '("b1b1b1b1b1b1", "2b3c4d5e6f7a")'),
      });
      expect(merged.ordered).toBe(false);
      expect(merged.ids).toContain('m1m1m1m1m1m1');
    });
  },
);

describe.skipIf(!works(PYTHON, ['-c', 'import alembic, psycopg2']) && !process.env.CI)(
  'Alembic with a branch: berth cannot know pending and runs the tool on every tenant',
  () => {
    let project: TestProject;
    const berth = (args: string[]) => project.berth(args);
    const tasks = async () => {
      const run = await berth(['tasks', 'list', '--json']);
      return (JSON.parse(run.stdout) as { tasks: TaskRow[] }).tasks;
    };

    beforeAll(async () => {
      project = await createProject({});
      await cp(path.join(FIXTURES, 'alembic'), project.dir, { recursive: true });
      // A second head beside 2b3c4d5e6f7a: `alembic upgrade heads` applies both.
      await writeFile(
        path.join(project.dir, 'alembic/versions/b1b1b1b1b1b1_branch.py'),
        'import sqlalchemy as sa\nfrom alembic import op\n\nrevision = "b1b1b1b1b1b1"\ndown_revision = "1a2b3c4d5e6f"\nbranch_labels = None\ndepends_on = None\n\n\ndef upgrade():\n    op.create_table("branch_t", sa.Column("id", sa.Integer, primary_key=True))\n\n\ndef downgrade():\n    op.drop_table("branch_t")\n',
      );
      const { expectedTables: _none, ...database } = baseConfig().database as Record<
        string,
        unknown
      >;
      await writeFile(
        project.configFile,
        stringify({
          ...baseConfig(),
          task: {
            family: 'alembic-migration-task',
            command: [PYTHON, '-m', 'alembic', 'upgrade', 'heads'],
          },
          database,
          migrations: { tool: 'alembic', listCommand: [PYTHON, '-m', 'alembic', 'history'] },
          local: { workdir: '.', dataDir: '.berth' },
        }),
      );
    });
    afterAll(() => project.cleanup());

    it('--plan says pending is unknown for each tenant', async () => {
      const plan = await berth(['migrate', '--all', '--plan', '--json']);
      const [doc] = parseJsonLines(plan.stdout);
      expect(
        (doc?.databases as Record<string, unknown>[]).map((d) => [d.database, d.state]),
      ).toEqual(TENANTS.map((t) => [t, 'unknown']));
    });

    it('migrate runs Alembic on every tenant, and again on a second run (no fast path)', async () => {
      const first = await berth(['migrate', '--all', '--json']);
      expect(first.code).toBe(0);
      for (const db of TENANTS) expect(await tableCount(project.dir, db)).toBe(3);
      const heads = await query<{ v: string }>(
        project.dir,
        'startupwebapp_prod',
        'SELECT version_num AS v FROM alembic_version ORDER BY 1',
      );
      expect(heads.map((h) => h.v)).toEqual(['2b3c4d5e6f7a', 'b1b1b1b1b1b1']);
      const before = new Set((await tasks()).map((t) => t.id));
      const second = await berth(['migrate', '--all', '--json']);
      expect(second.code).toBe(0);
      const started = (await tasks()).filter((t) => !before.has(t.id));
      expect(
        started
          .filter((t) => t.kind !== 'probe')
          .flatMap((t) => t.databases)
          .sort(),
      ).toEqual([...TENANTS].sort());
    });
  },
);
