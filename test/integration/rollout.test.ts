/**
 * Safe rollouts on real PostgreSQL: the failure budget and canary waves, each over a fleet
 * of small tenants with one fixture migration (the example app's migrate command applies it).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appliedMigrations } from '../support/pg.js';
import { baseConfig, createProject, parseJsonLines, type TestProject } from '../support/project.js';

/** A migration that fails (nothing applied: one transaction) in the named tenants. */
const failingIn = (names: string[]) => `-- Up Migration
CREATE TABLE rollout_marker (id integer PRIMARY KEY);
DO $$ BEGIN
  IF current_database() IN (${names.map((n) => `'${n}'`).join(', ') || "''"}) THEN
    RAISE EXCEPTION 'fixture: refusing to migrate %', current_database();
  END IF;
END $$;
-- Down Migration
DROP TABLE rollout_marker;
`;

const tenants = (n: number) =>
  Array.from({ length: n }, (_, i) => `t${String(i).padStart(2, '0')}`);

async function rolloutProject(
  count: number,
  failing: string[],
  extra: Record<string, unknown> = {},
): Promise<{ project: TestProject; migrations: string }> {
  const project = await createProject();
  const migrations = path.join(project.dir, 'migrations-rollout');
  await mkdir(migrations);
  await writeFile(path.join(migrations, '0001_rollout.sql'), failingIn(failing));
  const base = baseConfig();
  await writeFile(
    project.configFile,
    stringify({
      ...base,
      task: { ...(base.task as object), environment: { MIGRATIONS_DIR: migrations } },
      database: {
        ...(base.database as object),
        tenants: tenants(count),
        expectedTables: undefined,
      },
      migrations: { ...(base.migrations as object), directory: migrations },
      ...extra,
    }),
  );
  return { project, migrations };
}

describe('the failure budget (real PostgreSQL)', () => {
  let project: TestProject;
  beforeAll(async () => {
    ({ project } = await rolloutProject(20, ['t03', 't07', 't11', 't15']));
  });
  afterAll(() => project.cleanup());

  it('a budget of 2 over 20 tenants, 3 of which fail: stops after the third failure, exact counts, exit 4', async () => {
    const run = await project.berth([
      'migrate',
      '--all',
      '--max-failures',
      '2',
      '--concurrency',
      '1',
      '--json',
    ]);
    expect(run.stderr).not.toMatch(/internal error/);
    expect(run.code).toBe(4);
    const summary = parseJsonLines(run.stdout).at(-1) as {
      counts: Record<string, number>;
      databases: { database: string; status: string; reason?: string }[];
    };
    expect(summary.counts).toEqual({
      total: 20,
      applied: 9,
      upToDate: 0,
      failed: 3,
      skipped: 8,
      locked: 0,
    });
    expect(summary.databases.filter((d) => d.status === 'failed').map((d) => d.database)).toEqual([
      't03',
      't07',
      't11',
    ]);
    expect(summary.databases[12]).toMatchObject({
      status: 'skipped',
      reason: 'not started: the failure budget was spent (3 failed, at most 2 tolerated)',
    });
    // What the counts say is what the databases hold.
    expect(await appliedMigrations(project.dir, 't02')).toEqual(['0001_rollout']);
    expect(await appliedMigrations(project.dir, 't03')).toEqual([]);
    expect(await appliedMigrations(project.dir, 't12')).toEqual([]);
  });
});
