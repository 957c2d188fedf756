/**
 * Faults injected during real runs on real PostgreSQL, with a migrate command that takes no
 * lock of its own (test/fixtures/lockless-migrate, like Django's): berth SIGKILLed while its
 * tasks run, and a timeout inside a shell-loop batch. After each, every database is complete
 * with each migration applied and recorded exactly once, and no task process is left.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { parse, stringify } from 'yaml';
import { query } from '../support/pg.js';
import {
  ROOT,
  TENANTS,
  baseConfig,
  collect,
  createProject,
  parseJsonLines,
  type TestProject,
} from '../support/project.js';

const FIXTURE = path.join(ROOT, 'test/fixtures/lockless-migrate');
const MIGRATIONS = path.join(FIXTURE, 'migrations');

async function knownMigrations(): Promise<string[]> {
  return (await readdir(MIGRATIONS))
    .filter((f) => f.endsWith('.sql'))
    .map((f) => f.replace(/\.sql$/, ''))
    .sort();
}

async function locklessProject(
  environment: Record<string, string>,
  overrides: { task?: Record<string, unknown>; migrate?: Record<string, unknown> } = {},
): Promise<{ project: TestProject; pidDir: string }> {
  const project = await createProject();
  const pidDir = path.join(project.dir, 'pids');
  await mkdir(pidDir);
  const base = baseConfig();
  const config = {
    ...base,
    task: {
      ...(base.task as object),
      command: ['node', path.join(FIXTURE, 'migrate.mjs')],
      environment: { MIGRATIONS_DIR: MIGRATIONS, PID_DIR: pidDir, ...environment },
      ...overrides.task,
    },
    database: { ...(base.database as object), expectedTables: 9 },
    migrations: { ...(base.migrations as object), directory: MIGRATIONS },
    local: { workdir: FIXTURE, dataDir: '.berth' },
    ...(overrides.migrate ? { migrate: overrides.migrate } : {}),
  };
  await writeFile(project.configFile, stringify(config));
  return { project, pidDir };
}

/** The pids every task process recorded when it started. */
async function taskPids(pidDir: string): Promise<number[]> {
  return (await readdir(pidDir)).map((f) => Number(f.split('.').at(-1)));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function history(dir: string, database: string): Promise<string[]> {
  const rows = await query<{ name: string }>(
    dir,
    database,
    "SELECT name FROM pgmigrations WHERE to_regclass('public.pgmigrations') IS NOT NULL ORDER BY id",
  ).catch(() => []);
  return rows.map((r) => r.name);
}

async function effects(dir: string, database: string): Promise<string[]> {
  const rows = await query<{ name: string }>(
    dir,
    database,
    'SELECT name FROM effects ORDER BY at',
  ).catch(() => []);
  return rows.map((r) => r.name);
}

async function waitFor(check: () => Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('faults with a lock-less migrate command, on real PostgreSQL', () => {
  let project: TestProject | undefined;
  afterEach(async () => {
    await project?.cleanup();
    project = undefined;
  });

  it('SIGKILL of berth during its tasks, then a second run at once: each migration applied and recorded exactly once', async () => {
    const made = await locklessProject({ SLEEP_MS: '700', IGNORE_SIGTERM: '1' });
    project = made.project;
    const known = await knownMigrations();
    const first = project.spawnBerth([
      'migrate',
      '--all',
      '--concurrency',
      '3',
      '--runtime',
      'process',
      '--json',
    ]);
    const firstDone = collect(first);
    // Every task has applied something and is still going.
    await waitFor(async () => {
      for (const db of TENANTS) if ((await history(made.project.dir, db)).length < 1) return false;
      return true;
    }, 'the first run to apply a migration everywhere');
    first.kill('SIGKILL');
    expect((await firstDone).code).toBeNull();
    const pidsOfFirst = await taskPids(made.pidDir);
    expect(pidsOfFirst.length).toBe(TENANTS.length);

    // At once: the old tasks ignore SIGTERM, so their supervisors need the whole grace period
    // (5 s) to end them; meanwhile the task locks keep the second run waiting.
    const second = await project.berth(['migrate', '--all', '--runtime', 'process', '--json']);
    expect(second.code, second.stderr).toBe(0);

    for (const db of TENANTS) {
      expect(await history(project.dir, db)).toEqual(known);
      expect((await effects(project.dir, db)).sort()).toEqual(known);
    }
    for (const pid of pidsOfFirst) expect(alive(pid)).toBe(false);
  });

  it('a timeout inside a shell-loop batch ends the whole process tree: berth returns, the child is dead, nothing commits after', async () => {
    // The child ignores SIGTERM and would keep committing a migration every 3 s.
    const made = await locklessProject(
      { SLEEP_MS: '3000', IGNORE_SIGTERM: '1' },
      { task: { timeoutSeconds: 10 } },
    );
    project = made.project;
    const database = TENANTS[0] ?? '';
    const result = await project.berth([
      'migrate',
      '--database',
      database,
      '--batch-size',
      '2',
      '--runtime',
      'process',
      '--json',
    ]);
    expect(result.code).toBe(4);
    const [pid] = await taskPids(made.pidDir);
    expect(pid).toBeDefined();
    expect(alive(pid ?? 0)).toBe(false);

    const atReturn = await history(project.dir, database);
    expect(atReturn.length).toBeGreaterThan(0);
    expect(atReturn.length).toBeLessThan((await knownMigrations()).length);
    // Longer than the child's pause between commits: a survivor would have committed again.
    await new Promise((r) => setTimeout(r, 4_000));
    expect(await history(project.dir, database)).toEqual(atReturn);

    const summary = parseJsonLines(result.stdout).find((e) => e.type === 'summary') as
      { databases: { status: string; reason?: string }[] } | undefined;
    expect(summary?.databases[0]?.status).toBe('failed');
    expect(summary?.databases[0]?.reason).toMatch(/timed out after 10s/);
  });

  it('a database whose task lock is held (the task of a berth that died) is reported locked and nothing starts', async () => {
    const made = await locklessProject({ SLEEP_MS: '0' });
    project = made.project;
    const base = baseConfig();
    await writeFile(
      project.configFile,
      stringify({
        ...(parse(await readFile(project.configFile, 'utf8')) as object),
        migrations: { ...(base.migrations as object), directory: MIGRATIONS, lockWaitSeconds: 1 },
      }),
    );
    expect((await project.berth(['local', 'start'])).code).toBe(0);
    const database = TENANTS[0] ?? '';
    const secret = JSON.parse(
      await readFile(path.join(project.dir, '.berth/secret.json'), 'utf8'),
    ) as { username: string; password: string; host: string; port: number };
    const holder = new pg.Client({
      host: secret.host,
      port: secret.port,
      user: secret.username,
      password: secret.password,
      database: 'postgres',
    });
    await holder.connect();
    try {
      await holder.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`);
      // What a supervisor holds while its task runs: class "beru", key = the database's OID.
      await holder.query(
        `SELECT pg_advisory_lock(${0x62657275}, (oid::int8 & 2147483647)::int) FROM pg_database WHERE datname = $1`,
        [database],
      );
      const held = await project.berth([
        'migrate',
        '--database',
        database,
        '--runtime',
        'process',
        '--json',
      ]);
      expect(held.code).toBe(5);
      const summary = parseJsonLines(held.stdout).find((e) => e.type === 'summary') as
        { databases: { status: string }[] } | undefined;
      expect(summary?.databases[0]?.status).toBe('locked');
      expect(await history(project.dir, database)).toEqual([]);
      expect(await taskPids(made.pidDir)).toEqual([]);
    } finally {
      await holder.end();
    }
    const free = await project.berth(['migrate', '--database', database, '--runtime', 'process']);
    expect(free.code, free.stderr).toBe(0);
    expect(await history(project.dir, database)).toEqual(await knownMigrations());
  });
});
