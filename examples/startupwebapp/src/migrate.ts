// The migrate command a berth task runs against one tenant database (DATABASE_NAME).
//
//   node dist/migrate.js           apply pending migrations        exit 0 ok, 1 failure
//   node dist/migrate.js --check   report pending, change nothing  exit 0 none, 1 pending, 2 error
//   node dist/migrate.js --batch   migrate every database in DATABASE_NAMES (comma-separated)
//                                  in this one process, framing each with berth's batch markers
//                                  (::berth-begin DB / ::berth-end DB CODE); exit 0 when all
//                                  succeeded, else 1; BERTH_ON_ERROR=stop ends at the first failure
//
// stdout carries the progress lines berth and operators read; errors go to stderr. Nothing
// printed may contain the database password, so every line passes through redact().
import { resolve } from 'node:path';
import { ConfigError, loadDatabaseConfig, redact, type DatabaseConfig } from './config.js';
import {
  applyMigrations,
  DEFAULT_MIGRATIONS_DIR,
  errorMessage,
  migrationStatus,
} from './migrations.js';

const USAGE = 'Usage: migrate [--check | --batch]';
// berth's batch protocol (see berth's src/fleet/batch-script.ts); a per-tenant Node process
// costs more than the tenant's DDL, so a batch reuses this one.
const BEGIN_MARKER = '::berth-begin';
const END_MARKER = '::berth-end';
const DATABASE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

// Exit codes. --check keeps "pending" (1) distinct from "could not tell" (2), so a pipeline
// gate never mistakes an unreachable database for one that merely needs migrating.
const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_PENDING = 1;
const EXIT_CHECK_ERROR = 2;
const EXIT_USAGE = 2;

async function main(argv: readonly string[]): Promise<number> {
  const unknown = argv.filter((arg) => arg !== '--check' && arg !== '--batch');
  if (unknown.length > 0) {
    printError(`unknown argument ${unknown.join(' ')}\n${USAGE}`);
    return EXIT_USAGE;
  }
  const check = argv.includes('--check');
  const failure = check ? EXIT_CHECK_ERROR : EXIT_FAILED;
  if (argv.includes('--batch')) {
    if (check) {
      printError(`--batch and --check do not go together\n${USAGE}`);
      return EXIT_USAGE;
    }
    return runBatch();
  }

  let config: DatabaseConfig;
  try {
    config = loadDatabaseConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    printError(error.message);
    return failure;
  }

  // Relative to the working directory, like any other path given on a command line.
  const dir = process.env.MIGRATIONS_DIR
    ? resolve(process.env.MIGRATIONS_DIR)
    : DEFAULT_MIGRATIONS_DIR;
  const out = (line: string): void => void process.stdout.write(`${redact(line, config)}\n`);
  // node-pg-migrate's own diagnostics (e.g. the failing SQL with a caret), passed through as is.
  const diagnostic = (text: string): void => void process.stderr.write(`${redact(text, config)}\n`);

  try {
    return check ? await runCheck(config, dir, out) : await runApply(config, dir, out, diagnostic);
  } catch (error) {
    printError(errorMessage(error), config);
    return failure;
  }
}

async function runApply(
  config: DatabaseConfig,
  dir: string,
  out: (line: string) => void,
  diagnostic: (text: string) => void,
): Promise<number> {
  const applied = await applyMigrations({
    config,
    dir,
    onApply: (name) => out(`Applying ${name}`),
    log: { warn: diagnostic, error: diagnostic },
    lockMode: process.env.MIGRATION_LOCK_MODE === 'fail' ? 'fail' : 'wait',
  });
  out(
    applied.length === 0
      ? `No migrations to apply: ${config.database} is up to date`
      : `Applied ${applied.length} migration(s) to ${config.database}`,
  );
  return EXIT_OK;
}

async function runBatch(): Promise<number> {
  const names = (process.env.DATABASE_NAMES ?? '').split(',').filter(Boolean);
  const invalid = names.filter((name) => !DATABASE_NAME.test(name));
  if (names.length === 0 || invalid.length > 0) {
    printError(
      names.length === 0
        ? 'Missing required environment variable: DATABASE_NAMES'
        : `DATABASE_NAMES has invalid database names: ${invalid.join(', ')}`,
    );
    return EXIT_USAGE;
  }
  let base: DatabaseConfig;
  try {
    base = loadDatabaseConfig({ ...process.env, DATABASE_NAME: names[0] });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    printError(error.message);
    return EXIT_FAILED;
  }
  const dir = process.env.MIGRATIONS_DIR
    ? resolve(process.env.MIGRATIONS_DIR)
    : DEFAULT_MIGRATIONS_DIR;
  const stopOnError = process.env.BERTH_ON_ERROR === 'stop';
  // Everything goes to stdout in a batch, so a tenant's error lines can never land in
  // another tenant's section of the log.
  let worst = EXIT_OK;
  for (const database of names) {
    const config = { ...base, database };
    const out = (line: string): void => void process.stdout.write(`${redact(line, config)}\n`);
    out(`${BEGIN_MARKER} ${database}`);
    let code: number;
    try {
      code = await runApply(config, dir, out, out);
    } catch (error) {
      out(`Error: ${errorMessage(error)}`);
      code = EXIT_FAILED;
    }
    out(`${END_MARKER} ${database} ${code}`);
    if (code !== EXIT_OK) {
      worst = code;
      if (stopOnError) break;
    }
  }
  return worst;
}

async function runCheck(
  config: DatabaseConfig,
  dir: string,
  out: (line: string) => void,
): Promise<number> {
  const { pending } = await migrationStatus(config, dir);
  if (pending.length === 0) {
    out(`No pending migrations: ${config.database} is up to date`);
    return EXIT_OK;
  }
  for (const name of pending) out(`Pending: ${name}`);
  return EXIT_PENDING;
}

function printError(message: string, config?: DatabaseConfig): void {
  // Before the config is parsed the password can only have come from the environment.
  const secret = config ?? { password: process.env.DATABASE_PASSWORD ?? '' };
  process.stderr.write(`Error: ${redact(message, secret)}\n`);
}

// exitCode rather than process.exit(): let node-postgres finish closing its socket, which is
// also what ends the session (and with it any advisory lock) cleanly on the server.
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    printError(errorMessage(error));
    process.exitCode = EXIT_FAILED;
  },
);
