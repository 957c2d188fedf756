/**
 * Lock-safe DDL on real PostgreSQL: the example app's migrate command (its runner over
 * node-postgres, which reads PGOPTIONS) runs with berth's lock_timeout; a migration that
 * ALTERs a table another session holds gives up after the lock timeout instead of queueing,
 * is retried under berth's lock, and applies once the lock is free.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appliedMigrations, query } from '../support/pg.js';
import {
  baseConfig,
  collect,
  createProject,
  migrationsWith,
  type TestProject,
} from '../support/project.js';

const ALTER = `-- Up Migration
ALTER TABLE audit_log ADD COLUMN lock_fixture integer;
-- Down Migration
ALTER TABLE audit_log DROP COLUMN lock_fixture;
`;

async function connect(projectDir: string, database: string): Promise<pg.Client> {
  const secret = JSON.parse(
    await readFile(path.join(projectDir, '.berth/secret.json'), 'utf8'),
  ) as {
    username: string;
    password: string;
    host: string;
    port: number;
  };
  const client = new pg.Client({
    host: secret.host,
    port: secret.port,
    user: secret.username,
    password: secret.password,
    database,
  });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

describe('lock_timeout and lock-timeout retries (real PostgreSQL)', () => {
  let project: TestProject;
  let dir: string;
  const writeConfig = (migrations: Record<string, unknown>) => {
    const base = baseConfig();
    return writeFile(
      project.configFile,
      stringify({
        ...base,
        task: { ...(base.task as object), environment: { MIGRATIONS_DIR: dir } },
        migrations: { ...(base.migrations as object), directory: dir, ...migrations },
      }),
    );
  };

  beforeAll(async () => {
    project = await createProject();
    dir = await migrationsWith(project.dir, {});
    await writeConfig({ lockTimeout: '1s', lockRetries: 3 });
    const first = await project.berth(['migrate', '--all']);
    expect(first.code).toBe(0);
    await writeFile(path.join(dir, '0013_lock_fixture.sql'), ALTER);
  });
  afterAll(() => project.cleanup());

  it('fails on its lock timeout with nothing applied, is retried, and applies once the lock is released', async () => {
    const holder = await connect(project.dir, 'startupwebapp_prod');
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE audit_log IN ACCESS EXCLUSIVE MODE');
    const child = project.spawnBerth(['migrate', '-d', 'startupwebapp_prod']);
    let released = false;
    let sawRetry = false;
    // Released once berth says the first attempt gave up: nothing was applied by then.
    child.stderr?.on('data', (d: Buffer) => {
      if (!released && /retry 1 of 3/.test(d.toString())) {
        sawRetry = true;
        released = true;
        void query<{ name: string }>(
          project.dir,
          'startupwebapp_prod',
          "SELECT name FROM pgmigrations WHERE name = '0013_lock_fixture'",
        ).then(async (rows) => {
          expect(rows).toEqual([]);
          await holder.query('COMMIT');
        });
      }
    });
    const run = await collect(child);
    if (!released) await holder.query('COMMIT');
    await holder.end();
    expect(run.stderr).toMatch(
      /a lock was not granted within lock_timeout 1s; nothing was applied/,
    );
    expect(sawRetry).toBe(true);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /startupwebapp_prod\s+applied\s+1\s+\S+\s+applied after \d lock-timeout retr/,
    );
    expect((await appliedMigrations(project.dir, 'startupwebapp_prod')).at(-1)).toBe(
      '0013_lock_fixture',
    );
  });

  it('with its retries exhausted it fails with the reason, nothing applied (exit 4)', async () => {
    await writeConfig({ lockTimeout: '1s', lockRetries: 1 });
    const holder = await connect(project.dir, 'healthtech_experiment');
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE audit_log IN ACCESS EXCLUSIVE MODE');
    let run;
    try {
      run = await project.berth(['migrate', '-d', 'healthtech_experiment', '--json']);
    } finally {
      await holder.query('COMMIT');
      await holder.end();
    }
    expect(run.code).toBe(4);
    const summary = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as {
      databases: { status: string; reason: string; lockRetries: number; logExcerpt: string[] }[];
    };
    expect(summary.databases[0]).toMatchObject({
      status: 'failed',
      lockRetries: 1,
      reason:
        'the migrate command exited 1: a lock was not granted (lock_timeout 1s) after 1 lock-timeout retry; nothing was applied',
    });
    expect(summary.databases[0]?.logExcerpt.join('\n')).toMatch(/lock timeout/);
    expect(await appliedMigrations(project.dir, 'healthtech_experiment')).not.toContain(
      '0013_lock_fixture',
    );
  });

  it("the application's readers are never blocked longer than the lock timeout while a migration waits", async () => {
    await writeConfig({ lockTimeout: '1s', lockRetries: 0 });
    // A long transaction that read the table (ACCESS SHARE): the ALTER must wait for it, and
    // without a lock timeout every reader after the ALTER would queue behind it until then.
    const holder = await connect(project.dir, 'fintech_experiment');
    await holder.query('BEGIN');
    await holder.query('SELECT count(*) FROM audit_log');
    const reader = await connect(project.dir, 'fintech_experiment');
    const child = project.spawnBerth(['migrate', '-d', 'fintech_experiment']);
    let exited = false;
    const done = collect(child).then((r) => {
      exited = true;
      return r;
    });
    const waits: number[] = [];
    while (!exited) {
      const started = performance.now();
      await reader.query('SELECT count(*) FROM audit_log');
      waits.push(performance.now() - started);
      await new Promise((r) => setTimeout(r, 50));
    }
    const run = await done;
    // The holder still holds its lock: every reader finished while it did, so none queued
    // behind the ALTER until the holder let go (which is what lock_timeout prevents).
    await holder.query('COMMIT');
    await holder.end();
    await reader.end();
    expect(run.code).toBe(4);
    expect(run.stdout).toMatch(/a lock was not granted \(lock_timeout 1s\)/);
    expect(waits.length).toBeGreaterThan(0);
    console.log(
      `readers during the migration: ${waits.length}, longest wait ${Math.round(Math.max(...waits))} ms (lock_timeout 1s)`,
    );
  });
});
