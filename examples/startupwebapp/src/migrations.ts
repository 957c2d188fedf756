// Applying and inspecting the SQL migrations: node-pg-migrate's file format, file discovery,
// history table and advisory lock, applied by a small runner of our own.
//
// Why not node-pg-migrate's runner: per database it reads information_schema twice (a view
// that costs a fresh backend several milliseconds of catalog loading) and sends four round
// trips per file. On a fleet migrated in batches (one process, hundreds of databases) that was
// a fifth of the whole run beside the DDL itself (berth's bench/fleet.mjs). This runner keeps
// everything a node-pg-migrate user relies on, so its CLI and this runner can take turns on the
// same database: the same `pgmigrations` table and ordering, the same advisory lock key, the
// same check that no pending file sorts before an applied one, one transaction per file.
import { basename, extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
// Deep import (served by the package's "./*" export): files are discovered exactly as
// node-pg-migrate discovers them, with the same ignore rule and numeric-prefix ordering.
import { getMigrationFilePaths } from 'node-pg-migrate/migration';
import { toClientConfig, type DatabaseConfig } from './config.js';
import { readSqlMigration, type SqlMigration } from './sql-migration.js';

export const MIGRATIONS_TABLE = 'pgmigrations';
export const MIGRATIONS_SCHEMA = 'public';
/** node-pg-migrate's advisory lock key (its PG_MIGRATE_LOCK_ID): its CLI and this runner exclude each other. */
export const MIGRATION_LOCK_ID = '7241865325823964';
const HISTORY = `${MIGRATIONS_SCHEMA}.${MIGRATIONS_TABLE}`;

/** `<package root>/migrations`, from both src/ (tests, tsx) and dist/ (the shipped build). */
export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL('../migrations', import.meta.url));

/** What the runner has to say beside progress (the failing statement, with a caret). */
export interface MigrationLog {
  warn(message: string): void;
  error(message: string): void;
}

export interface ApplyOptions {
  readonly config: DatabaseConfig;
  readonly dir: string;
  /** Called right before a migration's SQL is sent, inside that migration's transaction. */
  readonly onApply: (name: string) => void;
  readonly log: MigrationLog;
  /**
   * 'wait' (the default) queues behind another session holding the migration lock, e.g. the
   * backend of a task that was killed mid-migration, which Postgres only reaps once it
   * notices its client is gone. 'fail' exits at once instead.
   */
  readonly lockMode?: 'wait' | 'fail';
}

/** Raised when a migration's SQL fails; `migration` names the file whose transaction rolled back. */
export class MigrationFailedError extends Error {
  override name = 'MigrationFailedError';
  constructor(
    readonly migration: string,
    cause: unknown,
  ) {
    super(`${migration} failed: ${errorMessage(cause)}`, { cause });
  }
}

interface MigrationFile extends SqlMigration {
  readonly name: string;
}

/**
 * The migrations of a directory, in order, read once per process: a batch migrates hundreds
 * of databases from the same files.
 */
const loaded = new Map<string, Promise<MigrationFile[]>>();
function migrationFiles(dir: string): Promise<MigrationFile[]> {
  let files = loaded.get(dir);
  if (!files) {
    files = getMigrationFilePaths(dir).then((paths) =>
      Promise.all(
        paths.map(async (path) => ({
          name: migrationName(path),
          ...(await readSqlMigration(path)),
        })),
      ),
    );
    // A failed read is not cached: the next database reports it again.
    files.catch(() => loaded.delete(dir));
    loaded.set(dir, files);
  }
  return files;
}

/** Applies every pending migration in order. Resolves to the names applied (empty when up to date). */
export async function applyMigrations(options: ApplyOptions): Promise<string[]> {
  const files = await migrationFiles(options.dir);
  const client = new pg.Client(toClientConfig(options.config));
  // A backend that dies mid-run surfaces as the failing query's error, not as an 'error' event.
  client.on('error', () => undefined);
  await client.connect();
  let locked = false;
  try {
    // Session advisory lock, taken before anything else: two runs on the same database must
    // not interleave. The orchestrator (berth) bounds the wait with its own lock and timeout.
    if (options.lockMode === 'fail') {
      const { rows } = await client.query<{ ok: boolean }>(
        `SELECT pg_try_advisory_lock(${MIGRATION_LOCK_ID}) AS ok`,
      );
      if (rows[0]?.ok !== true)
        throw new Error(
          "Another migration is already running. Advisory lock mode is set to 'fail'.",
        );
    } else {
      await client.query(`SELECT pg_advisory_lock(${MIGRATION_LOCK_ID})`);
    }
    locked = true;
    const applied = await appliedMigrations(client, { create: true });
    assertOrder(
      applied,
      files.map((file) => file.name),
    );
    const done = new Set(applied);
    const ran: string[] = [];
    for (const file of files) {
      if (done.has(file.name)) continue;
      options.onApply(file.name);
      await applyOne(client, file, options.log);
      ran.push(file.name);
    }
    return ran;
  } finally {
    // Ending the session would free the lock too; unlocking first makes it free by the time
    // this resolves, whatever the server's pace in tearing the session down.
    if (locked)
      await client.query(`SELECT pg_advisory_unlock(${MIGRATION_LOCK_ID})`).catch(() => undefined);
    await client.end().catch(() => undefined);
  }
}

/**
 * One file in its own transaction, with its history row, in one round trip: BEGIN, the file's
 * Up section, the INSERT and COMMIT go as one simple-query message. A failing statement ends
 * the message there, so the transaction is rolled back before the error is raised: earlier
 * files stay applied and recorded, nothing of this one remains.
 */
async function applyOne(client: pg.Client, file: MigrationFile, log: MigrationLog): Promise<void> {
  // The Up section may end in a comment: the statements after it start on lines of their own.
  const prefix = 'BEGIN;\n';
  const text = `${prefix}${file.up}\n;\nINSERT INTO ${HISTORY} (name, run_on) VALUES (${client.escapeLiteral(file.name)}, NOW());\nCOMMIT;`;
  try {
    await client.query(text);
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    const context = errorContext(text, prefix.length, error);
    if (context) log.error(context);
    throw new MigrationFailedError(file.name, error);
  }
}

/** The failing line of the file with a caret under the error's position, when Postgres gave one. */
function errorContext(text: string, offset: number, error: unknown): string | undefined {
  const position = Number((error as { position?: string }).position);
  if (!Number.isInteger(position) || position <= offset) return undefined;
  const at = position - 1;
  const lineStart = text.lastIndexOf('\n', at - 1) + 1;
  const lineEnd = text.indexOf('\n', at);
  const line = text.slice(lineStart, lineEnd < 0 ? undefined : lineEnd);
  const lineNumber = text.slice(offset, lineStart).split('\n').length;
  return `at line ${lineNumber} of the Up section:\n${line}\n${' '.repeat(at - lineStart)}^`;
}

export interface MigrationStatus {
  readonly applied: string[];
  readonly pending: string[];
}

/**
 * Reads which migrations are applied and which are pending without changing anything: unlike
 * node-pg-migrate's dry run it never creates the history table, and it runs in a READ ONLY
 * transaction so even a read-only database user can ask.
 */
export async function migrationStatus(
  config: DatabaseConfig,
  dir: string,
): Promise<MigrationStatus> {
  const available = (await getMigrationFilePaths(dir)).map(migrationName);
  const client = new pg.Client(toClientConfig(config));
  await client.connect();
  try {
    await client.query('BEGIN READ ONLY');
    const applied = await appliedMigrations(client);
    await client.query('COMMIT');
    assertOrder(applied, available);
    const done = new Set(applied);
    return { applied, pending: available.filter((name) => !done.has(name)) };
  } finally {
    await client.end();
  }
}

async function appliedMigrations(
  client: pg.Client,
  { create = false }: { create?: boolean } = {},
): Promise<string[]> {
  const { rows } = await client.query<{ exists: boolean }>(
    'SELECT to_regclass($1) IS NOT NULL AS exists',
    [HISTORY],
  );
  if (rows[0]?.exists !== true) {
    if (!create) return [];
    // node-pg-migrate's own definition of the table, so its CLI reads it unchanged.
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${HISTORY} (id SERIAL PRIMARY KEY, name varchar(255) NOT NULL, run_on timestamp NOT NULL)`,
    );
    return [];
  }
  // Same ordering node-pg-migrate uses when it compares history with the files on disk.
  const history = await client.query<{ name: string }>(
    `SELECT name FROM ${HISTORY} ORDER BY run_on, id`,
  );
  return history.rows.map((row) => row.name);
}

/** node-pg-migrate's checkOrder: no pending file may sort before an applied one (e.g. after a renumbering merge). */
function assertOrder(applied: readonly string[], available: readonly string[]): void {
  const length = Math.min(applied.length, available.length);
  for (let i = 0; i < length; i += 1) {
    if (applied[i] !== available[i]) {
      throw new Error(
        `Not run migration ${available[i]} is preceding already run migration ${applied[i]}`,
      );
    }
  }
}

/** node-pg-migrate records a migration under its file name without the extension. */
export function migrationName(filePath: string): string {
  return basename(filePath, extname(filePath));
}

export function errorMessage(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    // node-postgres surfaces "connection refused" on a dual-stack host as an AggregateError
    // with an empty message; the individual attempts carry the useful text.
    return error.errors.map(errorMessage).join('; ');
  }
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
