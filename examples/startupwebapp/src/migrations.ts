// Applying and inspecting the SQL migrations, on top of node-pg-migrate's programmatic runner.
import { basename, extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { runner, type RunnerOption } from 'node-pg-migrate';
// Deep import (served by the package's "./*" export): --check must discover files exactly as
// the runner does, with the same ignore rule and the same numeric-prefix ordering.
import { getMigrationFilePaths } from 'node-pg-migrate/migration';
import { toClientConfig, type DatabaseConfig } from './config.js';
import { loadSqlMigrations } from './sql-migration.js';

export const MIGRATIONS_TABLE = 'pgmigrations';
export const MIGRATIONS_SCHEMA = 'public';

/** `<package root>/migrations`, from both src/ (tests, tsx) and dist/ (the shipped build). */
export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL('../migrations', import.meta.url));

/** What node-pg-migrate has to say while it runs (SQL errors with context, warnings). */
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

/** Applies every pending migration in order. Resolves to the names applied (empty when up to date). */
export async function applyMigrations(options: ApplyOptions): Promise<string[]> {
  let current: string | undefined;
  let failed = false;

  const runnerOptions: RunnerOption = {
    databaseUrl: toClientConfig(options.config),
    dir: options.dir,
    migrationsTable: MIGRATIONS_TABLE,
    migrationsSchema: MIGRATIONS_SCHEMA,
    schema: MIGRATIONS_SCHEMA,
    direction: 'up',
    // BEGIN/COMMIT around each file: a failure rolls back only that file, and everything
    // before it stays applied and recorded, the same contract as Django's per-migration atomicity.
    singleTransaction: false,
    // Refuse to run when a file sorts before one that is already applied (e.g. a merge that
    // renumbered migrations) rather than silently applying it out of order.
    checkOrder: true,
    // Session advisory lock: two tasks migrating the same tenant at once must not interleave.
    // The orchestrator (berth) bounds the wait with its own lock and the task timeout.
    noLock: false,
    advisoryLockMode: options.lockMode ?? 'wait',
    migrationLoaderStrategies: [
      {
        extensions: ['.sql'],
        // Our loader calls back when the runner builds a migration's SQL, i.e. right before
        // sending it, so progress lines appear as each migration really starts.
        loader: (filePaths) =>
          loadSqlMigrations(filePaths, (filePath) => {
            current = migrationName(filePath);
            options.onApply(current);
          }),
      },
    ],
    logger: {
      // Progress is reported through onApply; node-pg-migrate's own chatter is left out.
      debug: () => {},
      info: () => {},
      // Only the first error is reported. After a failed statement node-pg-migrate's advisory
      // unlock runs inside the aborted transaction and fails too ("current transaction is
      // aborted"); closing the session releases the lock and rolls the transaction back
      // anyway, so those follow-on messages would only mislead whoever reads the task log.
      warn: (message: string) => {
        if (!failed) options.log.warn(message);
      },
      error: (message: string) => {
        if (!failed) options.log.error(message);
        failed = true;
      },
    },
  };

  try {
    const applied = await runner(runnerOptions);
    return applied.map((migration) => migration.name);
  } catch (error) {
    throw current !== undefined && failed ? new MigrationFailedError(current, error) : error;
  }
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

async function appliedMigrations(client: pg.Client): Promise<string[]> {
  const table = `${MIGRATIONS_SCHEMA}.${MIGRATIONS_TABLE}`;
  const { rows } = await client.query<{ exists: boolean }>(
    'SELECT to_regclass($1) IS NOT NULL AS exists',
    [table],
  );
  if (rows[0]?.exists !== true) return [];
  // Same ordering node-pg-migrate uses when it compares history with the files on disk.
  const history = await client.query<{ name: string }>(
    `SELECT name FROM ${table} ORDER BY run_on, id`,
  );
  return history.rows.map((row) => row.name);
}

/** Mirrors the runner's checkOrder, so --check reports the problem `migrate` would hit. */
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
