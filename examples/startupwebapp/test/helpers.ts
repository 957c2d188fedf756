// Shared plumbing for the integration tests: per-test databases in the shared cluster, and
// running the built dist/ entry points as child processes, exactly as a task would.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { inject } from 'vitest';
import { freePort } from './net.js';

export const packageRoot = fileURLToPath(new URL('..', import.meta.url));
export const fixture = (name: string): string =>
  fileURLToPath(new URL(`fixtures/${name}`, import.meta.url));

type Env = Record<string, string>;

export function postgres() {
  return inject('postgres');
}

export function clientFor(database: string): pg.Client {
  const { host, port, user, password } = postgres();
  return new pg.Client({ host, port, user, password, database });
}

export async function withClient<T>(
  database: string,
  use: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = clientFor(database);
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/** Creates an empty database with a unique name, like a freshly provisioned tenant. */
export async function createDatabase(prefix = 'tenant'): Promise<string> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  await withClient('postgres', (client) => client.query(`CREATE DATABASE "${name}"`));
  return name;
}

/** The environment the ECS task would receive for `database`. */
export function databaseEnv(database: string, overrides: Env = {}): Env {
  const { host, port, user, password } = postgres();
  return {
    DATABASE_NAME: database,
    DATABASE_HOST: host,
    DATABASE_PORT: String(port),
    DATABASE_USER: user,
    DATABASE_PASSWORD: password,
    ...overrides,
  };
}

export async function publicTables(database: string): Promise<string[]> {
  return withClient(database, async (client) => {
    const { rows } = await client.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables
        WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
        ORDER BY table_name`,
    );
    return rows.map((row) => row.table_name);
  });
}

/** Names recorded in node-pg-migrate's history table, or null when the table does not exist. */
export async function recordedMigrations(database: string): Promise<string[] | null> {
  return withClient(database, async (client) => {
    const exists = await client.query<{ exists: boolean }>(
      `SELECT to_regclass('public.pgmigrations') IS NOT NULL AS exists`,
    );
    if (exists.rows[0]?.exists !== true) return null;
    const { rows } = await client.query<{ name: string }>(
      'SELECT name FROM pgmigrations ORDER BY run_on, id',
    );
    return rows.map((row) => row.name);
  });
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout split into non-empty lines. */
  lines: string[];
  durationMs: number;
}

function childEnv(env: Env): Env {
  // Only what the test passes, plus PATH: the runner's own DATABASE_*/PG* variables must not
  // leak into the command under test.
  return { PATH: process.env.PATH ?? '', ...env };
}

/** Runs `node dist/<script>.js ...args` to completion. */
export async function runDist(script: string, args: string[], env: Env): Promise<RunResult> {
  const started = Date.now();
  const child = spawn(process.execPath, [`dist/${script}.js`, ...args], {
    cwd: packageRoot,
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout = collect(child.stdout);
  const stderr = collect(child.stderr);
  const [code] = (await once(child, 'close')) as [number | null];
  const out = stdout();
  return {
    code,
    stdout: out,
    stderr: stderr(),
    lines: out.split('\n').filter((line) => line !== ''),
    durationMs: Date.now() - started,
  };
}

export const migrate = (env: Env, ...args: string[]) => runDist('migrate', args, env);

export interface RunningServer {
  readonly port: number;
  readonly url: string;
  readonly child: ChildProcess;
  output(): string;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Starts dist/server.js on a free loopback port and waits until it listens. */
export async function startServer(env: Env): Promise<RunningServer> {
  const port = await freePort();
  const child = spawn(process.execPath, ['dist/server.js'], {
    cwd: packageRoot,
    env: childEnv({ HOST: '127.0.0.1', PORT: String(port), ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout = collect(child.stdout);
  const stderr = collect(child.stderr);
  const output = () => stdout() + stderr();
  const exited = once(child, 'exit').then(([code]) => code as number | null);

  const deadline = Date.now() + 15_000;
  while (!stdout().includes('listening on')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server did not start:\n${output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  return {
    port,
    url: `http://127.0.0.1:${port}`,
    child,
    output,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

function collect(stream: NodeJS.ReadableStream | null): () => string {
  let text = '';
  stream?.setEncoding('utf8');
  stream?.on('data', (chunk: string) => {
    text += chunk;
  });
  return () => text;
}
