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

describe('canary waves (real PostgreSQL)', () => {
  let project: TestProject;
  let migrations: string;
  beforeAll(async () => {
    ({ project, migrations } = await rolloutProject(5, ['t02'], {
      rollout: { canary: ['t02'] },
    }));
  });
  afterAll(() => project.cleanup());

  it('a canary wave that fails: the rest are skipped, exit 4, each result shows its wave', async () => {
    const run = await project.berth(['migrate', '--all', '--json']);
    expect(run.stderr).not.toMatch(/internal error/);
    expect(run.code).toBe(4);
    const lines = parseJsonLines(run.stdout);
    const summary = lines.at(-1) as {
      counts: Record<string, number>;
      databases: { database: string; status: string; wave: number; reason?: string }[];
      waves: { wave: number; state: string; databases: string[] }[];
    };
    expect(summary.counts).toMatchObject({ total: 5, failed: 1, skipped: 4, applied: 0 });
    expect(summary.databases.map((d) => [d.database, d.status, d.wave])).toEqual([
      ['t00', 'skipped', 2],
      ['t01', 'skipped', 2],
      ['t02', 'failed', 1],
      ['t03', 'skipped', 2],
      ['t04', 'skipped', 2],
    ]);
    expect(summary.databases[0]?.reason).toMatch(/^not started: wave 1 did not succeed/);
    expect(summary.waves.map((w) => [w.wave, w.state, w.databases])).toEqual([
      [1, 'failed', ['t02']],
      [2, 'not-started', ['t00', 't01', 't03', 't04']],
    ]);
    // The NDJSON lines carry the wave too.
    expect(lines.find((l) => l.database === 't02')).toMatchObject({ wave: 1 });
    // Nothing of the canary was applied; later waves were not even prepared.
    expect(await appliedMigrations(project.dir, 't02')).toEqual([]);
  });

  it('--resume continues from the failed wave once the migration is fixed', async () => {
    await writeFile(path.join(migrations, '0001_rollout.sql'), failingIn([]));
    const run = await project.berth(['migrate', '--resume']);
    expect(run.stderr).toContain('from wave 1');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/✓ wave 1 \(1 database\(s\)\): succeeded/);
    expect(run.stdout).toMatch(/✓ wave 2 \(4 database\(s\)\): succeeded/);
    expect(run.stdout.split('\n').find((l) => l.includes('t02'))).toMatch(/^1\s+t02\s+applied/);
    for (const d of tenants(5))
      expect(await appliedMigrations(project.dir, d)).toEqual(['0001_rollout']);
    const again = await project.berth(['migrate', '--resume']);
    expect(again.code).toBe(2);
  });
});
