import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appliedMigrations, tableCount } from '../support/pg.js';
import {
  TENANTS,
  createProject,
  exampleMigrations,
  parseJsonLines,
  type TestProject,
} from '../support/project.js';

describe('berth migrate / verify / status on the local provider (real PostgreSQL 16)', () => {
  let project: TestProject;
  let known: string[];

  beforeAll(async () => {
    project = await createProject();
    known = await exampleMigrations();
  });
  afterAll(() => project.cleanup());

  it('migrates every tenant database to 57 tables and reports what it applied', async () => {
    const run = await project.berth(['migrate', '--all', '--json']);
    expect(run.stderr).not.toMatch(/internal error/);
    expect(run.code).toBe(0);
    const lines = parseJsonLines(run.stdout);
    const perDb = lines.filter((l) => l.type === 'database');
    expect(perDb.map((l) => l.database).sort()).toEqual([...TENANTS].sort());
    for (const line of perDb) {
      expect(line.status).toBe('applied');
      expect(line.applied).toEqual(known);
      expect(line.exitCode).toBe(0);
    }
    const summary = lines.at(-1);
    expect(summary).toMatchObject({
      type: 'summary',
      ok: true,
      counts: { total: 3, applied: 3, failed: 0 },
    });
    for (const db of TENANTS) {
      expect(await tableCount(project.dir, db)).toBe(57);
      expect(await appliedMigrations(project.dir, db)).toEqual(known);
    }
  });

  it('reports every database up-to-date on a second run and starts no task', async () => {
    const run = await project.berth(['migrate', '--all', '--json']);
    expect(run.code).toBe(0);
    const perDb = parseJsonLines(run.stdout).filter((l) => l.type === 'database');
    expect(perDb).toHaveLength(3);
    for (const line of perDb) {
      expect(line.status).toBe('up-to-date');
      expect(line.applied).toEqual([]);
      expect(line.taskId).toBeUndefined();
    }
  });

  it('verify --all --json prints the documented shape with ok: true', async () => {
    const run = await project.berth(['verify', '--all', '--json']);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as { ok: boolean; databases: Record<string, unknown>[] };
    expect(result.ok).toBe(true);
    expect(result.databases.map((d) => d.name)).toEqual(TENANTS);
    for (const d of result.databases) {
      expect(d).toMatchObject({
        tables: 57,
        expectedTables: 57,
        pending: 0,
        ok: true,
        check: 'passed',
      });
    }
  });

  it('verify fails with exit 6 and names the database when a table is missing', async () => {
    const { query } = await import('../support/pg.js');
    await query(project.dir, 'healthtech_experiment', 'DROP TABLE audit_log CASCADE');
    const run = await project.berth([
      'verify',
      '--database',
      'healthtech_experiment',
      '--json',
      '--skip-check',
    ]);
    expect(run.code).toBe(6);
    const result = JSON.parse(run.stdout) as {
      ok: boolean;
      databases: { name: string; ok: boolean; tables: number }[];
    };
    expect(result.ok).toBe(false);
    expect(result.databases[0]).toMatchObject({
      name: 'healthtech_experiment',
      ok: false,
      tables: 56,
    });
  });

  it('status shows the server up and each database with its tables and pending count', async () => {
    const run = await project.berth(['status', '--json']);
    expect(run.code).toBe(0);
    const status = JSON.parse(run.stdout) as {
      postgres: { state: string };
      databases: { name: string; exists: boolean; pending: number }[];
    };
    expect(status.postgres.state).toBe('up');
    expect(status.databases.map((d) => [d.name, d.exists, d.pending])).toEqual(
      TENANTS.map((t) => [t, true, 0]),
    );
  });

  it('logs TASK_ID prints the task output with its exit code', async () => {
    const tasks = JSON.parse((await project.berth(['tasks', 'list', '--json'])).stdout) as {
      tasks: { id: string; kind: string; databases: string[] }[];
    };
    const task = tasks.tasks.find(
      (t) => t.kind === 'migrate' && t.databases[0] === 'fintech_experiment',
    );
    expect(task).toBeDefined();
    const run = await project.berth(['logs', task?.id ?? '']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Applying 0001_auth');
    expect(run.stderr).toContain('exit code 0');
  });

  it('rejects an unknown database with exit 2 and touches nothing', async () => {
    const run = await project.berth(['migrate', '--database', 'nope_db']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('not in the fleet: nope_db');
  });

  it('never prints the database password: not in output, logs, journals or task records', async () => {
    const secret = JSON.parse(
      await readFile(path.join(project.dir, '.berth/secret.json'), 'utf8'),
    ) as { password: string };
    const outputs = await Promise.all([
      project.berth(['migrate', '--all']),
      project.berth(['status']),
      project.berth(['verify', '--all', '--json']),
    ]);
    for (const out of outputs) {
      expect(out.stdout + out.stderr).not.toContain(secret.password);
    }
    for (const sub of ['logs', 'tasks', 'runs']) {
      const root = path.join(project.dir, '.berth', sub);
      for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
        if (!entry.isFile()) continue;
        const text = await readFile(path.join(entry.parentPath, entry.name), 'utf8');
        expect(text).not.toContain(secret.password);
      }
    }
    const mode = (await import('node:fs/promises')).stat(
      path.join(project.dir, '.berth/secret.json'),
    );
    expect((await mode).mode & 0o777).toBe(0o600);
  });
});
