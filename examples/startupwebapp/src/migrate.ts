// The migrate command a berth task runs against one tenant database (DATABASE_NAME).
//
//   node dist/migrate.js           apply pending migrations        exit 0 ok, 1 failure
//   node dist/migrate.js --check   report pending, change nothing  exit 0 none, 1 pending, 2 error
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

const USAGE = 'Usage: migrate [--check]';

// Exit codes. --check keeps "pending" (1) distinct from "could not tell" (2), so a pipeline
// gate never mistakes an unreachable database for one that merely needs migrating.
const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_PENDING = 1;
const EXIT_CHECK_ERROR = 2;
const EXIT_USAGE = 2;

async function main(argv: readonly string[]): Promise<number> {
  const unknown = argv.filter((arg) => arg !== '--check');
  if (unknown.length > 0) {
    printError(`unknown argument ${unknown.join(' ')}\n${USAGE}`);
    return EXIT_USAGE;
  }
  const check = argv.includes('--check');
  const failure = check ? EXIT_CHECK_ERROR : EXIT_FAILED;

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
