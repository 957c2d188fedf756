/**
 * Faults injected during real runs on real PostgreSQL (issue 11): a stdout closed early, a
 * tenant dropped mid-run, the server killed mid-run, an unwritable state directory. After
 * each, the next run leaves every database complete with each migration recorded once.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { appliedMigrations, query } from '../support/pg.js';
import {
  TENANTS,
  baseConfig,
  collect,
  createProject,
  migrationsWith,
  type TestProject,
} from '../support/project.js';

const SLOW = `-- Up Migration
SELECT pg_sleep(2);
CREATE TABLE slow_marker (id integer PRIMARY KEY);
-- Down Migration
DROP TABLE slow_marker;
`;

async function slowProject(): Promise<TestProject> {
  const project = await createProject();
  const dir = await migrationsWith(project.dir, { '0013_slow.sql': SLOW });
  const base = baseConfig();
  await writeFile(
    project.configFile,
    stringify({
      ...base,
      task: { ...(base.task as object), environment: { MIGRATIONS_DIR: dir } },
      migrations: { ...(base.migrations as object), directory: dir },
      // The example's 57 tables, and the slow migration's marker.
      database: { ...(base.database as object), expectedTables: 58 },
    }),
  );
  return project;
}

/** Resolves once berth has started a task (its progress line on stderr). */
function taskStarted(child: ReturnType<TestProject['spawnBerth']>): Promise<void> {
  return new Promise((resolve) =>
    child.stderr?.on('data', (d: Buffer) => / {2}start {2}/.test(d.toString()) && resolve()),
  );
}

async function runStates(project: TestProject): Promise<string[]> {
  const runs = await project.berth(['runs', 'list', '--json']);
  return (JSON.parse(runs.stdout) as { runs: { state: string }[] }).runs.map((r) => r.state);
}

async function expectCompleteOnce(project: TestProject): Promise<void> {
  const after = await project.berth(['migrate', '--all']);
  expect(after.code, after.stderr).toBe(0);
  const verify = await project.berth(['verify', '--all']);
  expect(verify.code, verify.stdout).toBe(0);
  for (const database of TENANTS) {
    const names = await appliedMigrations(project.dir, database);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toContain('0013_slow');
  }
}

describe('faults during a run, on real PostgreSQL', () => {
  let project: TestProject | undefined;
  afterEach(async () => {
    await project?.cleanup();
    project = undefined;
  });

  it('a stdout closed early (`| head -1`) stops the output, not the run: no crash, the journal is closed', async () => {
    project = await slowProject();
    const child = project.spawnBerth(['migrate', '--all', '--json']);
    const done = collect(child);
    child.stdout?.once('data', () => child.stdout?.destroy());
    const result = await done;
    expect(result.stderr).not.toMatch(/internal error|EPIPE/);
    expect(result.code).toBe(0);
    expect(await runStates(project)).toEqual(['finished']);
    await expectCompleteOnce(project);
  });

  it('a tenant dropped mid-run fails that tenant with the reason (exit 4); the others finish', async () => {
    project = await slowProject();
    // --on-error continue: with the default (stop), whether fintech_experiment still starts
    // depends on whether its task began before the drop was noticed (it is then skipped, as
    // it should be); this test is about the dropped tenant's own result.
    const child = project.spawnBerth(['migrate', '--all', '--on-error', 'continue']);
    const done = collect(child);
    await taskStarted(child);
    await query(project.dir, 'postgres', 'DROP DATABASE healthtech_experiment WITH (FORCE)');
    const result = await done;
    expect(result.stderr).not.toMatch(/internal error/);
    expect(result.code, result.stdout).toBe(4);
    expect(result.stdout).toMatch(/^healthtech_experiment +failed /m);
    expect(result.stdout).toMatch(/3 database\(s\): 2 applied, 0 up to date, 1 failed/);
    expect(await runStates(project)).not.toContain('running');
    // The next run recreates the dropped tenant from scratch and completes every database.
    await expectCompleteOnce(project);
  });

  it('a server killed mid-run gives exit 7 with the result table, and a closed journal', async () => {
    project = await slowProject();
    const child = project.spawnBerth(['migrate', '--all']);
    const done = collect(child);
    await taskStarted(child);
    const pidFile = path.join(project.dir, '.berth/postgres/data/postmaster.pid');
    const pid = Number.parseInt((await readFile(pidFile, 'utf8')).split('\n')[0] ?? '', 10);
    process.kill(pid, 'SIGKILL');
    const result = await done;
    expect(result.stderr).not.toMatch(/internal error/);
    expect(result.code).toBe(7);
    expect(result.stdout).toMatch(/database server went away/);
    expect(result.stdout).toMatch(/3 database\(s\):/);
    expect(await runStates(project)).not.toContain('running');
    // berth starts the server again and finishes the work.
    await expectCompleteOnce(project);
  });

  it('local stop refuses while a migrate run is going (exit 2, naming the run); --force stops the server', async () => {
    project = await slowProject();
    const child = project.spawnBerth(['migrate', '--all']);
    const done = collect(child);
    await taskStarted(child);
    const refused = await project.berth(['local', 'stop']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/a migrate run is still going here: run-\S+ \(berth pid \d+\)/);
    expect(refused.stderr).toContain('--force');
    const forced = await project.berth(['local', 'stop', '--force']);
    expect(forced.code).toBe(0);
    const result = await done;
    expect(result.code).toBe(7);
    expect(result.stdout).toMatch(/database server went away/);
    await expectCompleteOnce(project);
  });

  it('an unwritable state directory is exit 7 naming the path, before anything is created', async () => {
    project = await createProject();
    await mkdir(path.join(project.dir, '.berth'), { recursive: true });
    await writeFile(path.join(project.dir, '.berth/runs'), 'not a directory\n');
    const result = await project.berth(['migrate', '--all']);
    expect(result.code).toBe(7);
    expect(result.stderr).toContain(path.join(project.dir, '.berth/runs'));
    await expect(
      readFile(path.join(project.dir, '.berth/postgres/data/PG_VERSION')),
    ).rejects.toThrow();
  });
});
