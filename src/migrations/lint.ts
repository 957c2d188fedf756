/**
 * `berth lint`: the SQL of migrations, checked with squawk (the `squawk-cli` npm package ships
 * its binary in per-platform packages) before it runs against every tenant. berth finds the
 * SQL per tool, hands the "up" part to squawk, and sorts its findings: the rules whose
 * statements lock or rewrite an existing table, or break running clients, are errors; the rest
 * (style, types) are warnings. What berth already sets for every task (lock_timeout through
 * PGOPTIONS) is not asked of the migration.
 */
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '../config/schema.js';
import { BerthError, errorMessage } from '../core/errors.js';
import { exec as realExec, type Exec } from '../core/exec.js';
import { redactor } from '../core/redact.js';
import type { MigrationPreset } from './presets.js';

export interface SqlMigration {
  /** The ID the tool records (what `migrate --plan` lists). */
  id: string;
  /** The file, absolute. */
  file: string;
  /** The file's "up" part: all of it, up to a down marker (line numbers unchanged). */
  sql: string;
  /**
   * Set when the SQL is not the file's text but what the tool printed for it (Django's
   * sqlmigrate, Alembic's offline mode): findings then point at the file's first line and
   * carry the line in that SQL.
   */
  generatedBy?: string;
}

export interface SqlSources {
  migrations: SqlMigration[];
  /** Why some or all of the tool's migrations cannot be linted (not SQL, or SQL only a task can produce). */
  unsupported?: string;
}

/** Rules berth fails on: the statement locks or rewrites an existing table, or breaks clients. */
export const ERROR_RULES: readonly string[] = [
  'adding-required-field',
  'adding-not-nullable-field',
  'adding-field-with-default',
  'adding-serial-primary-key-field',
  'adding-foreign-key-constraint',
  'constraint-missing-not-valid',
  'disallowed-unique-constraint',
  'require-concurrent-index-creation',
  'require-concurrent-index-deletion',
  'ban-concurrent-index-creation-in-transaction',
  'changing-column-type',
  'renaming-column',
  'renaming-table',
  'ban-drop-column',
  'ban-drop-table',
  'ban-drop-database',
  'ban-truncate-cascade',
  'syntax-error',
];

/** Tools that run each migration file in a transaction (squawk's --assume-in-transaction). */
// Alembic runs its offline range in one transaction (transactional DDL), but berth lints each
// revision's part alone, without the BEGIN; Django's sqlmigrate prints its own BEGIN/COMMIT.
const IN_TRANSACTION: readonly string[] = [
  'custom',
  'node-pg-migrate',
  'dbmate',
  'flyway',
  'alembic',
];

const DOWN_MARKER = /^--\s*(Down Migration|migrate:down)\b/im;

/** The tool's SQL migrations, by ID; `ids` narrows them (the pending ones). */
export async function sqlMigrations(
  tool: Config['migrations']['tool'],
  preset: MigrationPreset,
  configDir: string,
  ids?: ReadonlySet<string>,
): Promise<SqlSources> {
  const known = preset.known;
  if (known.kind === 'listing')
    return {
      migrations: [],
      unsupported: `${tool} migrations are Python: their SQL comes from ${tool === 'django' ? '`manage.py sqlmigrate`' : "Alembic's offline mode (`upgrade --sql`)"}, run in a task for what is pending on the tenants; \`berth lint --every\` reads no tenant, so it cannot lint them`,
    };
  if (known.kind === 'none') return { migrations: [], unsupported: known.reason };
  const dir = path.resolve(configDir, known.directory);
  const entries = await readdir(dir, { withFileTypes: true });
  const migrations: SqlMigration[] = [];
  let notSql = 0;
  const notSqlFiles: string[] = [];
  for (const entry of entries) {
    if (entry.isDirectory() !== (known.entries === 'directories')) continue;
    const id = known.id(entry.name);
    if (id === undefined || (ids && !ids.has(id))) continue;
    const file =
      known.entries === 'directories'
        ? path.join(dir, entry.name, 'migration.sql')
        : path.join(dir, entry.name);
    if (!file.endsWith('.sql')) {
      notSql++;
      notSqlFiles.push(entry.name);
      continue;
    }
    const text = await readFile(file, 'utf8');
    const down = DOWN_MARKER.exec(text);
    migrations.push({ id, file, sql: down ? text.slice(0, down.index) : text });
  }
  migrations.sort((a, b) => (a.file < b.file ? -1 : 1));
  return {
    migrations,
    ...(notSql > 0
      ? {
          unsupported: `${notSql} migration(s) are not SQL files (${tool}: ${notSqlFiles.slice(0, 3).join(', ')}${notSql > 3 ? ', …' : ''}): ${NOT_SQL[tool] ?? 'berth cannot get their SQL, so it cannot lint them'}`,
        }
      : {}),
  };
}

/** Why a tool's non-SQL migrations are not linted (README "Migration lint" lists them). */
const NOT_SQL: Partial<Record<Config['migrations']['tool'], string>> = {
  rails:
    'ActiveRecord prints no SQL without running them against a database (no dry run), so berth cannot lint them',
  knex: 'knex builds their SQL at run time and has no dry run that prints it, so berth cannot lint them',
  sequelize: 'sequelize-cli has no dry run that prints their SQL, so berth cannot lint them',
  typeorm:
    'TypeORM has no dry run that prints the SQL of existing migrations, so berth cannot lint them',
  'node-pg-migrate':
    'node-pg-migrate builds their SQL at run time (its --dry-run needs a database and a lock), so berth cannot lint them',
  custom: 'berth cannot get their SQL, so it cannot lint them',
};

export interface LintFinding {
  migration: string;
  file: string;
  /** 1-based, in the migration file (1 for SQL the tool generated). */
  line: number;
  column: number;
  /** For SQL the tool generated: the 1-based line in that SQL. */
  sqlLine?: number;
  rule: string;
  level: 'error' | 'warning';
  message: string;
  help?: string;
}

export interface LintSettings {
  /** Rules not checked at all. */
  exclude: string[];
  /** Rules that are errors beyond ERROR_RULES, and rules demoted to warnings. */
  errors: string[];
  warnings: string[];
  /** Per migration ID: rules ignored in it (with the reason in berth.yaml's comment). */
  ignore: Record<string, string[]>;
}

export interface LintOptions extends LintSettings {
  migrations: SqlMigration[];
  tool: Config['migrations']['tool'];
  /** Whether berth sets lock_timeout / statement_timeout for the tasks (then not asked of the SQL). */
  lockTimeoutSet: boolean;
  statementTimeoutSet: boolean;
  exec?: Exec;
}

export interface LintResult {
  ok: boolean;
  linted: string[];
  findings: LintFinding[];
  /** Rules left out, and why (berth's own settings, config). */
  excluded: string[];
}

interface SquawkViolation {
  file: string;
  line: number;
  column: number;
  level: string;
  message: string;
  help: string | null;
  rule_name: string;
}

export function squawkBinary(): string {
  return createRequire(import.meta.url).resolve('squawk-cli/js/bin/squawk');
}

export async function lintMigrations(options: LintOptions): Promise<LintResult> {
  const excluded = [
    ...(options.lockTimeoutSet ? ['require-lock-timeout'] : []),
    ...(options.statementTimeoutSet ? ['require-statement-timeout'] : []),
    ...options.exclude,
  ];
  if (options.migrations.length === 0) return { ok: true, linted: [], findings: [], excluded };
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'berth-lint-'));
  try {
    const byTemp = new Map<string, SqlMigration>();
    for (const [i, m] of options.migrations.entries()) {
      const temp = path.join(tmp, `${String(i).padStart(4, '0')}-${path.basename(m.file)}`);
      await writeFile(temp, m.sql);
      byTemp.set(temp, m);
    }
    const args = [
      squawkBinary(),
      '--reporter',
      'json',
      '--pg-version',
      '16',
      ...(IN_TRANSACTION.includes(options.tool) ? ['--assume-in-transaction'] : []),
      ...(excluded.length ? ['--exclude', excluded.join(',')] : []),
      ...byTemp.keys(),
    ];
    const run = await (options.exec ?? realExec)(process.execPath, args);
    // squawk prints a JSON array (`[]` when clean) and exits 0 or 1 (findings); anything else
    // - no output, another code - means it did not lint (e.g. its platform binary is missing),
    // which must never read as "no findings".
    const unavailable = (why: string) =>
      new BerthError('LINTER_UNAVAILABLE', `squawk did not lint the migrations: ${why}`, {
        hint: 'squawk-cli installs its binary from a per-platform optional package (@squawk-cli/<platform>-<arch>); reinstall with `npm install --include=optional`',
      });
    const stderr = redactor.redact(run.stderr.trim().slice(0, 500));
    if ((run.code !== 0 && run.code !== 1) || !run.stdout.trim().startsWith('['))
      throw unavailable(`exit ${run.code ?? 'none'}${stderr ? `: ${stderr}` : ''}`);
    let violations: SquawkViolation[];
    try {
      violations = JSON.parse(run.stdout) as SquawkViolation[];
    } catch (error) {
      throw unavailable(`its output is not JSON (${errorMessage(error)})`);
    }
    const errors = new Set([...ERROR_RULES, ...options.errors]);
    const findings: LintFinding[] = [];
    for (const v of violations) {
      const m = byTemp.get(path.resolve(tmp, v.file)) ?? byTemp.get(v.file);
      if (!m) continue;
      if (options.ignore[m.id]?.includes(v.rule_name)) continue;
      findings.push({
        migration: m.id,
        file: m.file,
        ...(m.generatedBy
          ? { line: 1, column: 1, sqlLine: v.line + 1 }
          : { line: v.line + 1, column: v.column + 1 }),
        rule: v.rule_name,
        level:
          (v.level === 'Error' || errors.has(v.rule_name)) &&
          !options.warnings.includes(v.rule_name)
            ? 'error'
            : 'warning',
        message: v.message,
        ...(v.help ? { help: v.help } : {}),
      });
    }
    return {
      ok: findings.every((f) => f.level !== 'error'),
      linted: options.migrations.map((m) => m.id),
      findings,
      excluded,
    };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
