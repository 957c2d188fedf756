/** `berth prune` and `berth tasks list --limit` through the built CLI, on a project's .berth. */
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TaskStore } from '../../src/state/task-store.js';
import { statePaths } from '../../src/state/paths.js';
import { createProject, type TestProject } from '../support/project.js';

let project: TestProject;
let tasksDir: string;
const DAY = 86_400_000;

beforeAll(async () => {
  project = await createProject();
  const paths = statePaths(path.join(project.dir, '.berth'));
  tasksDir = paths.tasks;
  const store = new TaskStore(paths.tasks, paths.logs);
  for (const [n, ageDays] of [
    [1, 30],
    [2, 10],
    [3, 0],
  ] as const) {
    const id = `migrate-2026010${n}T000000-00000${n}`;
    await store.save({
      id,
      kind: 'migrate',
      runtime: 'process',
      databases: ['startupwebapp_prod'],
      command: ['node', 'dist/migrate.js'],
      status: 'STOPPED',
      exitCode: 0,
      startedAt: new Date(Date.now() - ageDays * DAY).toISOString(),
      logFile: store.logFile(id),
    });
  }
});
afterAll(async () => {
  // No server was started: remove the directory only.
  await rm(project.dir, { recursive: true, force: true });
});

describe('berth prune (CLI)', () => {
  it('--dry-run lists what would go and deletes nothing', async () => {
    const run = await project.berth(['prune', '--older-than', '7d', '--dry-run']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('migrate-20260101T000000-000001');
    expect(run.stdout).toContain('would remove 2 task(s), 0 run(s), 0 stray log(s)');
    expect(run.stdout).toContain('dry run: nothing was deleted');
    expect(await readdir(tasksDir)).toHaveLength(3);
  });

  it('tasks list --limit shows the newest N', async () => {
    const run = await project.berth(['tasks', 'list', '--limit', '2', '--json']);
    expect(run.code).toBe(0);
    const { tasks } = JSON.parse(run.stdout) as { tasks: { id: string }[] };
    expect(tasks.map((t) => t.id)).toEqual([
      'migrate-20260102T000000-000002',
      'migrate-20260103T000000-000003',
    ]);
  });

  it('--keep 1 removes all but the newest, and reports it as JSON', async () => {
    const run = await project.berth(['prune', '--keep', '1', '--json']);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as { removed: { id: string }[]; dryRun: boolean };
    expect(result.dryRun).toBe(false);
    expect(result.removed.map((i) => i.id)).toEqual([
      'migrate-20260102T000000-000002',
      'migrate-20260101T000000-000001',
    ]);
    expect(await readdir(tasksDir)).toEqual(['migrate-20260103T000000-000003.json']);
  });

  it('a bad --older-than or neither option is a usage error (exit 2)', async () => {
    const bad = await project.berth(['prune', '--older-than', '7']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--older-than must be a whole number with a unit m, h, d or w');
    const none = await project.berth(['prune']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('prune needs --older-than AGE or --keep N');
  });
});
