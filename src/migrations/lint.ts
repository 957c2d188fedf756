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
  /**
   * The pending migrations of each tenant, in the order they apply (distinct lists only).
   * Each list is linted as one script, so a table an earlier migration of the same run creates
   * is new to squawk in the later ones (a fresh tenant's `ADD COLUMN … NOT NULL` on a table
   * created a moment before locks nothing anyone uses). Migrations in no list are linted alone,
   * as if every table they touch already existed.
   */
  sequences?: string[][];
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
    const scripts = await writeScripts(tmp, options.migrations, options.sequences ?? []);
    const args = [
      squawkBinary(),
      '--reporter',
      'json',
      '--pg-version',
      '16',
      ...(IN_TRANSACTION.includes(options.tool) ? ['--assume-in-transaction'] : []),
      ...(excluded.length ? ['--exclude', excluded.join(',')] : []),
      ...scripts.keys(),
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
    const seen = new Set<string>();
    for (const v of violations) {
      const script = scripts.get(path.resolve(tmp, v.file)) ?? scripts.get(v.file);
      const part = script?.find((p) => v.line >= p.start && v.line < p.end);
      if (!part) continue;
      const m = part.migration;
      if (options.ignore[m.id]?.includes(v.rule_name)) continue;
      if (NEW_TABLE_SAFE.includes(v.rule_name) && script && alteredTableIsNew(script, v.line))
        continue;
      // The same statement can be found in several tenants' scripts: report it once.
      const key = `${m.id}\0${v.rule_name}\0${v.line - part.start}\0${v.column}`;
      if (seen.has(key)) continue;
      seen.add(key);
      v.line -= part.start;
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

/** One migration's lines in a script squawk reads: [start, end), 0-based. */
interface ScriptPart {
  migration: SqlMigration;
  start: number;
  end: number;
  /** The whole script's lines (shared by its parts). */
  lines: string[];
}

/**
 * Rules squawk reports even when the altered table was created earlier in the same script,
 * though an empty table nobody reads yet cannot fail them or be scanned for long: a NOT NULL
 * column on it, and a foreign key from it to a table the script did not create (squawk 2.61
 * spares one between two tables it saw created; Django's references to auth_user are not).
 * The referenced table's SHARE ROW EXCLUSIVE lock is then held only for the empty scan, and
 * berth's lock_timeout bounds the wait for it.
 */
const NEW_TABLE_SAFE: readonly string[] = [
  'adding-required-field',
  'adding-foreign-key-constraint',
];

const NAME = String.raw`(?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*)`;
const CREATE_TABLE = new RegExp(
  String.raw`\bCREATE\s+(?:UNLOGGED\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(?:${NAME}\.)?(${NAME})`,
  'gi',
);
const ALTER_TABLE = new RegExp(
  String.raw`\bALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?(?:${NAME}\.)?(${NAME})`,
  'i',
);

/** An identifier as PostgreSQL folds it: quoted as written, unquoted in lower case. */
const folded = (name: string) =>
  name.startsWith('"') ? name.slice(1, -1).replace(/""/g, '"') : name.toLowerCase();

/** Whether the ALTER TABLE at (0-based) `line` of the script alters a table created above it. */
function alteredTableIsNew(script: ScriptPart[], line: number): boolean {
  const lines = script[0]?.lines ?? [];
  const altered = ALTER_TABLE.exec(lines.slice(line, line + 5).join('\n'))?.[1];
  if (!altered) return false;
  const before = lines.slice(0, line).join('\n');
  return [...before.matchAll(CREATE_TABLE)].some((m) => folded(m[1] ?? '') === folded(altered));
}

/**
 * The files squawk lints: one script per tenant's pending list (its migrations one after the
 * other, in apply order), and one file for each migration in no list. Each part keeps its own
 * line numbers through its offset.
 */
async function writeScripts(
  dir: string,
  migrations: SqlMigration[],
  sequences: string[][],
): Promise<Map<string, ScriptPart[]>> {
  const byId = new Map(migrations.map((m) => [m.id, m]));
  const scripts = new Map<string, ScriptPart[]>();
  const inSequence = new Set<string>();
  const distinct = new Map(sequences.map((ids) => [ids.join('\n'), ids]));
  let n = 0;
  for (const ids of distinct.values()) {
    const parts: ScriptPart[] = [];
    const texts: string[] = [];
    const lines: string[] = [];
    let line = 0;
    for (const id of ids) {
      const m = byId.get(id);
      if (!m) continue;
      inSequence.add(id);
      // Each part ends with a newline, so the next starts on a line of its own.
      const text = m.sql.endsWith('\n') ? m.sql : `${m.sql}\n`;
      const own = text.split('\n').slice(0, -1);
      parts.push({ migration: m, start: line, end: line + own.length, lines });
      lines.push(...own);
      texts.push(text);
      line += own.length;
    }
    if (parts.length === 0) continue;
    const file = path.join(dir, `run-${String(n++).padStart(4, '0')}.sql`);
    await writeFile(file, texts.join(''));
    scripts.set(file, parts);
  }
  for (const [i, m] of migrations.entries()) {
    if (inSequence.has(m.id)) continue;
    const file = path.join(dir, `${String(i).padStart(4, '0')}-${path.basename(m.file)}`);
    await writeFile(file, m.sql);
    const lines = m.sql.split('\n');
    scripts.set(file, [{ migration: m, start: 0, end: Number.POSITIVE_INFINITY, lines }]);
  }
  return scripts;
}
