/**
 * Integration-test projects: a temp directory with a berth.yaml that points at the example
 * app (absolute paths) and keeps its own .berth state, so every test file gets its own real
 * PostgreSQL server. The CLI is the built one (dist/), run as a child process like a user would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const EXAMPLE = path.join(ROOT, 'examples/startupwebapp');
export const BERTH = path.join(ROOT, 'bin/berth.js');
export const TENANTS = ['startupwebapp_prod', 'healthtech_experiment', 'fintech_experiment'];

export interface TestProject {
  dir: string;
  configFile: string;
  berth(args: string[], options?: { env?: Record<string, string> }): Promise<CliResult>;
  spawnBerth(args: string[], options?: { detached?: boolean }): ChildProcess;
  cleanup(): Promise<void>;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function baseConfig(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: 1,
    app: 'startupwebapp',
    registry: { name: 'startupwebapp-backend' },
    cluster: { name: 'startupwebapp-cluster' },
    logs: { group: '/ecs/startupwebapp-migrations', retentionDays: 7 },
    roles: { execution: 'ecsTaskExecutionRole-startupwebapp', task: 'ecsTaskRole-startupwebapp' },
    task: {
      family: 'startupwebapp-migration-task',
      command: ['node', 'dist/migrate.js'],
      checkCommand: ['node', 'dist/migrate.js', '--check'],
      environment: { NODE_ENV: 'production' },
    },
    database: {
      secret: { name: 'rds/startupwebapp/multi-tenant/master' },
      tenants: TENANTS,
      expectedTables: 57,
    },
    migrations: {
      directory: path.join(EXAMPLE, 'migrations'),
      table: 'pgmigrations',
      lockWaitSeconds: 30,
    },
    pipeline: { test: ['node', '-e', 'process.exit(0)'] },
    local: { workdir: EXAMPLE, dataDir: '.berth' },
    ...overrides,
  };
}

export async function createProject(
  config: Record<string, unknown> = baseConfig(),
): Promise<TestProject> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-test-'));
  const configFile = path.join(dir, 'berth.yaml');
  await writeFile(configFile, stringify(config));
  const env = { ...process.env, NO_COLOR: '1' };
  const spawnBerth = (
    args: string[],
    options: { detached?: boolean; env?: Record<string, string> } = {},
  ) =>
    spawn(process.execPath, [BERTH, '--config', configFile, ...args], {
      cwd: dir,
      env: { ...env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: options.detached ?? false,
    });
  return {
    dir,
    configFile,
    spawnBerth,
    berth: (args, options = {}) => collect(spawnBerth(args, options)),
    async cleanup() {
      // Stop this project's server before deleting its data.
      await collect(spawnBerth(['local', 'stop', '--force']));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function collect(child: ChildProcess): Promise<CliResult> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A copy of the example's migrations plus extra fixture files, for failure scenarios. */
export async function migrationsWith(dir: string, extra: Record<string, string>): Promise<string> {
  const target = path.join(dir, 'migrations-fixture');
  await cp(path.join(EXAMPLE, 'migrations'), target, { recursive: true });
  for (const [name, sql] of Object.entries(extra)) await writeFile(path.join(target, name), sql);
  return target;
}

export async function exampleMigrations(): Promise<string[]> {
  return (await readdir(path.join(EXAMPLE, 'migrations')))
    .filter((f) => f.endsWith('.sql'))
    .map((f) => f.replace(/\.sql$/, ''))
    .sort();
}

export function parseJsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
