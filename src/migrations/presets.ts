/**
 * What each migration tool keeps where: its history table (and how to read applied migrations
 * from it as ordered string IDs), its default migrate and check commands, and how berth learns
 * which migrations the code has — from the directory the tool keeps them in, or by running a
 * listing command once per run (never once per tenant).
 *
 * Every history query returns rows `(id text, state text)`, state one of `applied`, `dirty`
 * (golang-migrate's flag) or `failed` (a Prisma row that never finished, a Flyway row with
 * success = false), so history.ts reads every tool the same way.
 */
import type { Config, MigrationTool } from '../config/schema.js';
import type { DetectedProject, StarterTool } from '../config/starter.js';
import { assertNever } from '../core/errors.js';

/** How the IDs of a directory's entries are ordered (the order the tool applies them in). */
export type Ordering =
  /** Plain string order (timestamps of equal width, node-pg-migrate, knex, Prisma). */
  | 'lexical'
  /** Integer order of the ID (Rails and golang-migrate versions, TypeORM timestamps). */
  | 'numeric'
  /** Dotted versions compared part by part as integers (Flyway's 1.10 after 1.9). */
  | 'version';

/** The output formats berth parses from a listing command. */
export type ListingFormat = 'django-plan' | 'alembic-history';

export type KnownSource =
  | {
      kind: 'directory';
      /** Relative to berth.yaml; migrations.directory overrides it. */
      directory: string;
      /** Files, or (Prisma) one directory per migration. */
      entries: 'files' | 'directories';
      /** The ID the tool records for an entry; undefined when the entry is not a migration. */
      id: (entry: string) => string | undefined;
      /** The order of the IDs; the key an ID sorts by. */
      ordering: Ordering;
      /** For `version` ordering, the ID's sort key when it is not the ID itself (TypeORM). */
      sortKey?: (id: string) => string;
    }
  | {
      kind: 'listing';
      /** Run once, in the task's environment; migrations.listCommand overrides it. */
      command: string[];
      format: ListingFormat;
    }
  /** berth cannot learn the code's migrations: pending stays unknown and every tenant gets a task. */
  | { kind: 'none'; reason: string };

export interface HistorySource {
  /** The history table, in database.schema. */
  table: string;
  /** SELECT returning ordered (id, state) rows; `{table}` stands for the quoted table name. */
  select: string;
  /**
   * `each`: one row per applied migration. `head`: only the current version (golang-migrate,
   * Alembic): what is applied is everything up to it in the code's order.
   */
  records: 'each' | 'head';
}

export interface MigrationPreset {
  tool: MigrationTool;
  /** The tool's name as people write it. */
  label: string;
  history: HistorySource;
  /** The default migrate command (`berth init` writes it into task.command). */
  migrateCommand: string[];
  /** A command that exits non-zero when migrations are pending, when the tool has one. */
  checkCommand?: string[];
  known: KnownSource;
  /**
   * When pending migrations cannot be known without running the tool, why; absent when they
   * can (given the known migrations).
   */
  pendingCaveat?: string;
}

// The database URL the Go tools (dbmate, golang-migrate; both on lib/pq) read, built from what
// berth sets. The password stays out of it: lib/pq reads PGPASSWORD when the URL has none, so a
// password with URL characters (`@`, `/`, `#`, `%`, `?`, which generated RDS passwords have)
// needs no encoding. sslmode comes from PGSSLMODE (`require` on RDS with rds.force_ssl), and
// is `disable` otherwise, as the embedded server has no TLS.
const DATABASE_URL =
  'postgres://$DATABASE_USER@$DATABASE_HOST:$DATABASE_PORT/$DATABASE_NAME?sslmode=${PGSSLMODE:-disable}';
/** libpq's variables (node-postgres reads them too) from what berth sets. */
const PG_ENV =
  'PGHOST="$DATABASE_HOST" PGPORT="$DATABASE_PORT" PGUSER="$DATABASE_USER" PGPASSWORD="$DATABASE_PASSWORD" PGDATABASE="$DATABASE_NAME"';
/** DATABASE_URL for Prisma, percent-encoded by node (a Prisma project has it). */
const PRISMA_URL =
  'DATABASE_URL="$(node -e \'const e = process.env, c = encodeURIComponent; process.stdout.write(`postgresql://${c(e.DATABASE_USER)}:${c(e.DATABASE_PASSWORD)}@${e.DATABASE_HOST}:${e.DATABASE_PORT}/${c(e.DATABASE_NAME)}`)\')"';
/** `sh -c` a Go tool's command with the URL and the password as lib/pq reads them. */
const withUrl = (command: string) =>
  `DATABASE_URL="${DATABASE_URL}" PGPASSWORD="$DATABASE_PASSWORD" exec ${command}`;

const SCRIPT = /\.(js|cjs|mjs|ts|cts|mts)$/;
const isScript = (f: string) => SCRIPT.test(f) && !/\.d\.[cm]?ts$/.test(f);
const withoutExtension = (f: string) => f.replace(/\.[^.]+$/, '');

/** A leading run of digits followed by `_` (Rails, dbmate): the version. */
function leadingVersion(file: string, ext: RegExp): string | undefined {
  if (!ext.test(file)) return undefined;
  return /^(\d+)_/.exec(file)?.[1];
}

export const PRESETS: Readonly<Record<Exclude<MigrationTool, 'custom'>, MigrationPreset>> = {
  django: {
    tool: 'django',
    label: 'Django',
    history: {
      table: 'django_migrations',
      select: `SELECT app || '.' || name AS id, 'applied' AS state FROM {table} ORDER BY id`,
      records: 'each',
    },
    migrateCommand: ['python3', 'manage.py', 'migrate', '--noinput'],
    checkCommand: ['python3', 'manage.py', 'migrate', '--check'],
    known: {
      kind: 'listing',
      command: ['python3', 'manage.py', 'showmigrations', '--plan'],
      format: 'django-plan',
    },
  },
  rails: {
    tool: 'rails',
    label: 'Rails (ActiveRecord)',
    history: {
      table: 'schema_migrations',
      select: `SELECT version::text AS id, 'applied' AS state FROM {table} ORDER BY length(version::text), version`,
      records: 'each',
    },
    migrateCommand: ['bin/rails', 'db:migrate'],
    // The rake task prints nothing when nothing is pending, and verify does not take a silent
    // exit 0 as a pass: say so.
    checkCommand: [
      'sh',
      '-c',
      'bin/rails db:abort_if_pending_migrations && echo "no pending migrations"',
    ],
    known: {
      kind: 'directory',
      directory: 'db/migrate',
      entries: 'files',
      id: (f) => leadingVersion(f, /\.rb$/),
      ordering: 'numeric',
    },
  },
  alembic: {
    tool: 'alembic',
    label: 'Alembic',
    history: {
      table: 'alembic_version',
      select: `SELECT version_num AS id, 'applied' AS state FROM {table} ORDER BY id`,
      records: 'head',
    },
    migrateCommand: ['alembic', 'upgrade', 'heads'],
    known: { kind: 'listing', command: ['alembic', 'history'], format: 'alembic-history' },
    pendingCaveat:
      'alembic_version holds only the current head(s): berth computes pending from `alembic history` when the history is one straight line; with branches or merges it cannot, and every tenant gets a task',
  },
  prisma: {
    tool: 'prisma',
    label: 'Prisma Migrate',
    history: {
      table: '_prisma_migrations',
      // Rolled-back rows are history Prisma itself ignores; a row neither finished nor rolled
      // back is a failed migration (P3009) that needs `prisma migrate resolve`.
      select: `SELECT migration_name AS id, CASE WHEN finished_at IS NULL THEN 'failed' ELSE 'applied' END AS state FROM {table} WHERE rolled_back_at IS NULL ORDER BY started_at, migration_name`,
      records: 'each',
    },
    // schema.prisma reads the URL from env("DATABASE_URL"), which berth does not set; Prisma
    // has no PG* fallback, so the URL is built with every part percent-encoded.
    migrateCommand: ['sh', '-c', `${PRISMA_URL} exec npx prisma migrate deploy`],
    checkCommand: ['sh', '-c', `${PRISMA_URL} exec npx prisma migrate status`],
    known: {
      kind: 'directory',
      directory: 'prisma/migrations',
      entries: 'directories',
      id: (d) => (/^\d/.test(d) ? d : undefined),
      ordering: 'lexical',
    },
  },
  flyway: {
    tool: 'flyway',
    label: 'Flyway',
    history: {
      table: 'flyway_schema_history',
      // Versioned migrations only: repeatable ones (version NULL) re-run on change, and the
      // schema-creation and baseline markers are not migrations of the code.
      select: `SELECT version AS id, CASE WHEN success THEN 'applied' ELSE 'failed' END AS state FROM {table} WHERE version IS NOT NULL AND type NOT IN ('SCHEMA', 'BASELINE') ORDER BY installed_rank`,
      records: 'each',
    },
    migrateCommand: ['flyway', 'migrate'],
    checkCommand: ['flyway', 'validate'],
    known: {
      kind: 'directory',
      directory: 'sql',
      entries: 'files',
      // V1_2__add_index.sql → 1.2 (Flyway reads _ in a version as .)
      id: (f) => /^V(\d+(?:[._]\d+)*)__.+\.sql$/.exec(f)?.[1]?.replace(/_/g, '.'),
      ordering: 'version',
    },
  },
  'golang-migrate': {
    tool: 'golang-migrate',
    label: 'golang-migrate',
    history: {
      table: 'schema_migrations',
      select: `SELECT version::text AS id, CASE WHEN dirty THEN 'dirty' ELSE 'applied' END AS state FROM {table}`,
      records: 'head',
    },
    migrateCommand: [
      'sh',
      '-c',
      `PGPASSWORD="$DATABASE_PASSWORD" exec migrate -path migrations -database "${DATABASE_URL}" up`,
    ],
    known: {
      kind: 'directory',
      directory: 'migrations',
      entries: 'files',
      // 000003_add_orders.up.sql → 3 (recorded as a bigint)
      id: (f) => {
        const m = /^(\d+)_.*\.up\.[a-z]+$/.exec(f);
        return m?.[1] === undefined ? undefined : BigInt(m[1]).toString();
      },
      ordering: 'numeric',
    },
  },
  dbmate: {
    tool: 'dbmate',
    label: 'dbmate',
    history: {
      table: 'schema_migrations',
      select: `SELECT version::text AS id, 'applied' AS state FROM {table} ORDER BY version`,
      records: 'each',
    },
    // `migrate`, not `up`: `up` creates a missing database, and a mistyped tenant must fail,
    // not appear empty. --no-dump-schema: no pg_dump needed in the task, no db/schema.sql written.
    migrateCommand: ['sh', '-c', withUrl('dbmate --no-dump-schema migrate')],
    checkCommand: ['sh', '-c', withUrl('dbmate status --exit-code')],
    known: {
      kind: 'directory',
      directory: 'db/migrations',
      entries: 'files',
      id: (f) => leadingVersion(f, /\.sql$/),
      ordering: 'lexical',
    },
  },
  knex: {
    tool: 'knex',
    label: 'Knex',
    history: {
      table: 'knex_migrations',
      select: `SELECT name AS id, 'applied' AS state FROM {table} ORDER BY id`,
      records: 'each',
    },
    migrateCommand: ['npx', 'knex', 'migrate:latest'],
    // knex records the file name with its extension.
    known: {
      kind: 'directory',
      directory: 'migrations',
      entries: 'files',
      id: (f) => (isScript(f) ? f : undefined),
      ordering: 'lexical',
    },
  },
  sequelize: {
    tool: 'sequelize',
    label: 'Sequelize (sequelize-cli)',
    history: {
      table: 'SequelizeMeta',
      select: `SELECT name AS id, 'applied' AS state FROM {table} ORDER BY name`,
      records: 'each',
    },
    migrateCommand: ['npx', 'sequelize-cli', 'db:migrate'],
    known: {
      kind: 'directory',
      directory: 'migrations',
      entries: 'files',
      id: (f) => (isScript(f) ? f : undefined),
      ordering: 'lexical',
    },
  },
  typeorm: {
    tool: 'typeorm',
    label: 'TypeORM',
    history: {
      table: 'migrations',
      select: `SELECT name AS id, 'applied' AS state FROM {table} ORDER BY "timestamp", id`,
      records: 'each',
    },
    migrateCommand: ['npx', 'typeorm', 'migration:run', '-d', 'dist/data-source.js'],
    known: {
      kind: 'directory',
      directory: 'src/migrations',
      entries: 'files',
      // `typeorm migration:generate` writes 1700000000000-AddOrders.ts with class
      // AddOrders1700000000000, the name TypeORM records.
      id: (f) => {
        if (!isScript(f)) return undefined;
        const m = /^(\d+)-(\w+)$/.exec(withoutExtension(f));
        return m ? `${m[2]}${m[1]}` : undefined;
      },
      ordering: 'numeric',
      sortKey: (id) => /(\d+)$/.exec(id)?.[1] ?? id,
    },
  },
  'node-pg-migrate': {
    tool: 'node-pg-migrate',
    label: 'node-pg-migrate',
    history: {
      table: 'pgmigrations',
      select: `SELECT name AS id, 'applied' AS state FROM {table} ORDER BY run_on, id`,
      records: 'each',
    },
    // node-pg-migrate's CLI wants DATABASE_URL or PGHOST/PGUSER/PGDATABASE and refuses to start
    // with berth's DATABASE_* alone; PG* (read by node-postgres) need no URL encoding.
    migrateCommand: ['sh', '-c', `${PG_ENV} exec npx node-pg-migrate up`],
    known: {
      kind: 'directory',
      directory: 'migrations',
      entries: 'files',
      id: (f) => (isScript(f) || f.endsWith('.sql') ? withoutExtension(f) : undefined),
      ordering: 'lexical',
    },
  },
};

/** Today's behaviour without a preset: the history table and directory as configured. */
function customPreset(migrations: Config['migrations']): MigrationPreset {
  const columns = (migrations.nameColumns ?? ['name']).map((c) => `"${c}"`);
  return {
    tool: 'custom',
    label: 'custom',
    history: {
      table: migrations.table ?? 'pgmigrations',
      select: `SELECT concat_ws('.', ${columns.join(', ')}) AS id, 'applied' AS state FROM {table}`,
      records: 'each',
    },
    migrateCommand: [],
    known: migrations.directory
      ? {
          kind: 'directory',
          directory: migrations.directory,
          entries: 'files',
          id: (f) =>
            /\.(sql|js|cjs|mjs|ts|py)$/.test(f) && !f.endsWith('.d.ts') && !f.startsWith('__')
              ? withoutExtension(f)
              : undefined,
          ordering: 'lexical',
        }
      : {
          kind: 'none',
          reason: 'migrations.directory is not set (tool: custom)',
        },
  };
}

/**
 * The migrate command a task runs: task.command, else the preset's default. Config rules
 * refuse a custom tool without task.command, so this never returns an empty command for a
 * loaded config.
 */
export function migrateCommandOf(config: Pick<Config, 'task' | 'migrations'>): string[] {
  return config.task.command ?? resolvePreset(config.migrations).migrateCommand;
}

/**
 * The preset for a config, with the config's overrides applied: migrations.directory replaces
 * the preset's directory (and makes a listing tool read that directory's files instead),
 * migrations.listCommand replaces the listing command.
 */
export function resolvePreset(migrations: Config['migrations']): MigrationPreset {
  const tool = migrations.tool;
  if (tool === 'custom') return customPreset(migrations);
  const preset = PRESETS[tool];
  const known = preset.known;
  switch (known.kind) {
    case 'directory':
      return migrations.directory
        ? { ...preset, known: { ...known, directory: migrations.directory } }
        : preset;
    case 'listing':
      return migrations.listCommand
        ? { ...preset, known: { ...known, command: migrations.listCommand } }
        : preset;
    case 'none':
      return preset;
    default:
      return assertNever(known, 'known source');
  }
}

/**
 * The preset as a run uses it: resolvePreset, with the default listing command run by the
 * migrate command's own program. A project that names its interpreter in task.command
 * (`[.venv/bin/python, manage.py, migrate, --noinput]`) lists its migrations with it too,
 * rather than with the preset's `python3`, which may have no Django (a pyenv shim, a system
 * Python beside a virtualenv). Only when migrations.listCommand is not set, and task.command
 * keeps the default's shape (the same first argument, e.g. `manage.py`): an `alembic` run as
 * `python3 -m alembic` needs its listCommand spelled out.
 */
export function presetFor(config: Pick<Config, 'migrations' | 'task'>): MigrationPreset {
  const preset = resolvePreset(config.migrations);
  const known = preset.known;
  const command = config.task.command;
  if (known.kind !== 'listing' || config.migrations.listCommand || !command) return preset;
  const [program, first] = command;
  const [defaultProgram, defaultFirst] = preset.migrateCommand;
  if (!program || program === defaultProgram || first !== defaultFirst) return preset;
  if (known.command[0] !== defaultProgram) return preset;
  return { ...preset, known: { ...known, command: [program, ...known.command.slice(1)] } };
}

/** Compares two IDs by an ordering rule (sortKey already applied). */
export function compareIds(ordering: Ordering, a: string, b: string): number {
  switch (ordering) {
    case 'lexical':
      return a < b ? -1 : a > b ? 1 : 0;
    case 'numeric': {
      const x = /^\d+$/.test(a) ? BigInt(a) : undefined;
      const y = /^\d+$/.test(b) ? BigInt(b) : undefined;
      if (x !== undefined && y !== undefined) return x < y ? -1 : x > y ? 1 : 0;
      return a < b ? -1 : a > b ? 1 : 0;
    }
    case 'version': {
      const xs = a.split('.').map(Number);
      const ys = b.split('.').map(Number);
      for (let i = 0; i < Math.max(xs.length, ys.length); i++) {
        const d = (xs[i] ?? 0) - (ys[i] ?? 0);
        if (d !== 0) return d;
      }
      return 0;
    }
    default:
      return assertNever(ordering, 'ordering');
  }
}

/** What `berth init` writes for a detected project: its tool's preset, as plain data. */
export function starterTool(project: DetectedProject): StarterTool {
  const preset = PRESETS[project.tool];
  const known = preset.known;
  return {
    ...project,
    label: preset.label,
    table: preset.history.table,
    migrateCommand: preset.migrateCommand,
    ...(preset.checkCommand ? { checkCommand: preset.checkCommand } : {}),
    known:
      known.kind === 'listing'
        ? { kind: 'listing', command: known.command }
        : { kind: 'directory', directory: known.kind === 'directory' ? known.directory : '.' },
    ...(preset.pendingCaveat ? { pendingCaveat: preset.pendingCaveat } : {}),
  };
}
