/**
 * Safe rollouts on real PostgreSQL: the failure budget and canary waves, each over a fleet
 * of small tenants with one fixture migration (the example app's migrate command applies it).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
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

interface Summary {
  runId: string;
  counts: Record<string, number>;
  databases: { database: string; status: string; wave: number; reason?: string }[];
  waves: { wave: number; state: string; databases: string[] }[];
}

async function journalOf(project: TestProject, runId: string) {
  const meta = JSON.parse(
    await readFile(path.join(project.dir, '.berth/runs', runId, 'run.json'), 'utf8'),
  ) as { counts: Record<string, number>; stoppedAtWave?: number; state: string };
  const lines = (
    await readFile(path.join(project.dir, '.berth/runs', runId, 'results.ndjson'), 'utf8')
  )
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { database: string; status: string; wave: number });
  return { meta, lines };
}

describe('the failure budget across waves (real PostgreSQL)', () => {
  let project: TestProject;
  let migrations: string;
  beforeAll(async () => {
    ({ project, migrations } = await rolloutProject(20, ['t03', 't07', 't11'], {
      rollout: { waves: [2, '100%'] },
    }));
  });
  afterAll(() => project.cleanup());

  it('a 10% budget is of the run (2 of 20), not of the wave (1 of 18): stops after the third failure, exact counts in the journal', async () => {
    const run = await project.berth([
      'migrate',
      '--all',
      '--max-failures',
      '10%',
      '--concurrency',
      '1',
      '--json',
    ]);
    expect(run.stderr).not.toMatch(/internal error/);
    expect(run.code).toBe(4);
    const summary = parseJsonLines(run.stdout).at(-1) as unknown as Summary;
    const counts = { total: 20, applied: 9, upToDate: 0, failed: 3, skipped: 8, locked: 0 };
    expect(summary.counts).toEqual(counts);
    expect(summary.waves.map((w) => [w.wave, w.state, w.databases.length])).toEqual([
      [1, 'succeeded', 2],
      [2, 'failed', 18],
    ]);
    expect(summary.databases.filter((d) => d.status === 'failed').map((d) => d.database)).toEqual([
      't03',
      't07',
      't11',
    ]);
    expect(summary.databases.find((d) => d.database === 't12')).toMatchObject({
      status: 'skipped',
      wave: 2,
      reason:
        'not started: the failure budget was spent (3 failed, at most 2 tolerated = 10% of the run)',
    });
    // The journal holds the same counts, one line per database with its wave.
    const { meta, lines } = await journalOf(project, summary.runId);
    expect(meta.counts).toEqual(counts);
    expect(meta.stoppedAtWave).toBe(2);
    expect(lines).toHaveLength(20);
    expect(lines.filter((l) => l.status === 'failed')).toHaveLength(3);
    expect(new Set(lines.map((l) => l.database)).size).toBe(20);
    expect(await appliedMigrations(project.dir, 't02')).toEqual(['0001_rollout']);
    expect(await appliedMigrations(project.dir, 't12')).toEqual([]);
  });

  it('--resume takes exactly the failed and skipped tenants, in their wave, and counts them alone', async () => {
    await writeFile(path.join(migrations, '0001_rollout.sql'), failingIn([]));
    const run = await project.berth(['migrate', '--resume', '--max-failures', '10%', '--json']);
    expect(run.stderr).not.toMatch(/internal error/);
    expect(run.code).toBe(0);
    const summary = parseJsonLines(run.stdout).at(-1) as unknown as Summary;
    const counts = { total: 11, applied: 11, upToDate: 0, failed: 0, skipped: 0, locked: 0 };
    expect(summary.counts).toEqual(counts);
    expect(summary.waves.map((w) => [w.wave, w.state, w.databases.length])).toEqual([
      [2, 'succeeded', 11],
    ]);
    expect((await journalOf(project, summary.runId)).meta.counts).toEqual(counts);
    for (const d of tenants(20))
      expect(await appliedMigrations(project.dir, d)).toEqual(['0001_rollout']);
  });
});

describe('a budget left in a wave never starts the next one (real PostgreSQL)', () => {
  let project: TestProject;
  beforeAll(async () => {
    ({ project } = await rolloutProject(6, ['t01'], { rollout: { waves: [3, '100%'] } }));
  });
  afterAll(() => project.cleanup());

  it('the first wave goes on past its failure within the budget; the second is not started, exit 4', async () => {
    const run = await project.berth([
      'migrate',
      '--all',
      '--max-failures',
      '5',
      '--concurrency',
      '1',
      '--json',
    ]);
    expect(run.code).toBe(4);
    const summary = parseJsonLines(run.stdout).at(-1) as unknown as Summary;
    expect(summary.counts).toMatchObject({ total: 6, applied: 2, failed: 1, skipped: 3 });
    expect(summary.databases.map((d) => [d.database, d.status, d.wave])).toEqual([
      ['t00', 'applied', 1],
      ['t01', 'failed', 1],
      ['t02', 'applied', 1],
      ['t03', 'skipped', 2],
      ['t04', 'skipped', 2],
      ['t05', 'skipped', 2],
    ]);
    expect(summary.databases[3]?.reason).toBe(
      'not started: wave 1 did not succeed (1 failed, 0 locked, 0 skipped)',
    );
    // The second wave was not even prepared: its databases were never created.
    await expect(appliedMigrations(project.dir, 't03')).rejects.toThrow(/does not exist/);
    expect(await appliedMigrations(project.dir, 't02')).toEqual(['0001_rollout']);
  });
});
