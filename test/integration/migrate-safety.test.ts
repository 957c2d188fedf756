import { afterEach, describe, expect, it } from 'vitest';
import { appliedMigrations, query, tableCount } from '../support/pg.js';
import {
  TENANTS,
  baseConfig,
  collect,
  createProject,
  exampleMigrations,
  migrationsWith,
  parseJsonLines,
  type TestProject,
} from '../support/project.js';

const FAIL_IN_FINTECH = `-- Up Migration
CREATE TABLE fixture_marker (id integer PRIMARY KEY);
DO $$ BEGIN
  IF current_database() = 'fintech_experiment' THEN
    RAISE EXCEPTION 'fixture: refusing to migrate %', current_database();
  END IF;
END $$;
-- Down Migration
DROP TABLE fixture_marker;
`;

const SLOW = `-- Up Migration
SELECT pg_sleep(1.5);
CREATE TABLE slow_marker (id integer PRIMARY KEY);
-- Down Migration
DROP TABLE slow_marker;
`;

async function projectWithExtraMigration(
  name: string,
  sql: string,
  overrides: Record<string, unknown> = {},
): Promise<TestProject> {
  const project = await createProject();
  const dir = await migrationsWith(project.dir, { [name]: sql });
  const base = baseConfig();
  const config = {
    ...base,
    task: { ...(base.task as object), environment: { MIGRATIONS_DIR: dir } },
    migrations: { ...(base.migrations as object), directory: dir },
    ...overrides,
  };
  const { writeFile } = await import('node:fs/promises');
  const { stringify } = await import('yaml');
  await writeFile(project.configFile, stringify(config));
  return project;
}

describe('migration safety on real PostgreSQL', () => {
  let project: TestProject | undefined;
  afterEach(async () => {
    await project?.cleanup();
    project = undefined;
  });

  it('a migration failing in one database leaves it unchanged, migrates the others and exits 4 with the log excerpt', async () => {
    project = await createProject();
    expect((await project.berth(['migrate', '--all'])).code).toBe(0);
    const known = await exampleMigrations();
    // Now add a 13th migration that fails only in fintech_experiment.
    const dir = await migrationsWith(project.dir, { '0013_fixture_fail.sql': FAIL_IN_FINTECH });
    const base = baseConfig();
    const { writeFile } = await import('node:fs/promises');
    const { stringify } = await import('yaml');
    await writeFile(
      project.configFile,
      stringify({
        ...base,
        task: { ...(base.task as object), environment: { MIGRATIONS_DIR: dir } },
        migrations: { ...(base.migrations as object), directory: dir },
        fleet: { onError: 'continue' },
      }),
    );

    const run = await project.berth(['migrate', '--all', '--json']);
    expect(run.code).toBe(4);
    const results = parseJsonLines(run.stdout).filter((l) => l.type === 'database');
    const byDb = Object.fromEntries(results.map((r) => [r.database as string, r]));
    expect(byDb.fintech_experiment).toMatchObject({
      status: 'failed',
      exitCode: 1,
      applied: [],
      pending: ['0013_fixture_fail'],
    });
    expect(String(byDb.fintech_experiment?.reason)).toContain('exited 1');
    expect((byDb.fintech_experiment?.logExcerpt as string[]).join('\n')).toContain(
      'fixture: refusing to migrate fintech_experiment',
    );
    for (const db of ['startupwebapp_prod', 'healthtech_experiment']) {
      expect(byDb[db]).toMatchObject({ status: 'applied', applied: ['0013_fixture_fail'] });
      expect(await tableCount(project.dir, db)).toBe(58);
    }
    // The failed database is exactly as before: 57 tables, the first 12 migrations, no marker.
    expect(await tableCount(project.dir, 'fintech_experiment')).toBe(57);
    expect(await appliedMigrations(project.dir, 'fintech_experiment')).toEqual(known);

    // Human output names the failure and shows the excerpt.
    const human = await project.berth(['migrate', '--database', 'fintech_experiment']);
    expect(human.code).toBe(4);
    expect(human.stdout).toContain('fintech_experiment');
    expect(human.stdout).toContain('fixture: refusing to migrate');
    expect(human.stdout).toMatch(/berth logs migrate-/);
  });

  it('with --on-error stop, databases not yet started are reported skipped', async () => {
    project = await projectWithExtraMigration('0013_fixture_fail.sql', FAIL_IN_FINTECH, {
      database: {
        ...(baseConfig().database as object),
        tenants: ['fintech_experiment', 'startupwebapp_prod', 'healthtech_experiment'],
      },
    });
    const run = await project.berth([
      'migrate',
      '--all',
      '--json',
      '--concurrency',
      '1',
      '--on-error',
      'stop',
    ]);
    expect(run.code).toBe(4);
    const results = parseJsonLines(run.stdout).filter((l) => l.type === 'database');
    expect(results.map((r) => [r.database, r.status])).toEqual([
      ['fintech_experiment', 'failed'],
      ['startupwebapp_prod', 'skipped'],
      ['healthtech_experiment', 'skipped'],
    ]);
    expect(await appliedMigrations(project.dir, 'startupwebapp_prod')).toEqual([]);
  });

  it('two migrate --all started at the same moment apply each migration exactly once', async () => {
    project = await createProject();
    const known = await exampleMigrations();
    const [a, b] = await Promise.all([
      project.berth(['migrate', '--all', '--json']),
      project.berth(['migrate', '--all', '--json']),
    ]);
    expect([a.code, b.code]).toEqual([0, 0]);
    const statuses = (out: string) =>
      Object.fromEntries(
        parseJsonLines(out)
          .filter((l) => l.type === 'database')
          .map((r) => [r.database as string, r.status]),
      );
    const sa = statuses(a.stdout);
    const sb = statuses(b.stdout);
    for (const db of TENANTS) {
      // One run applied it, the other found it done (under the lock or in its first probe).
      expect([sa[db], sb[db]].sort()).toEqual(['applied', 'up-to-date']);
      const rows = await query<{ name: string; n: number }>(
        project.dir,
        db,
        'SELECT name, count(*)::int AS n FROM pgmigrations GROUP BY name ORDER BY name',
      );
      expect(rows).toEqual(known.map((name) => ({ name, n: 1 })));
    }
  });

  it('a run waiting longer than lockWaitSeconds reports the database locked (exit 5) and applies nothing', async () => {
    project = await projectWithExtraMigration('0013_slow.sql', SLOW, { migrations: undefined });
    const base = baseConfig();
    const dir = `${project.dir}/migrations-fixture`;
    const { writeFile } = await import('node:fs/promises');
    const { stringify } = await import('yaml');
    await writeFile(
      project.configFile,
      stringify({
        ...base,
        task: { ...(base.task as object), environment: { MIGRATIONS_DIR: dir } },
        migrations: { directory: dir, lockWaitSeconds: 0.2 },
      }),
    );
    const first = project.spawnBerth(['migrate', '--database', 'healthtech_experiment']);
    const firstDone = collect(first);
    // Start the second once the first has its task running (it holds the lock by then).
    await new Promise<void>((resolve) =>
      first.stderr?.on('data', (d: Buffer) => / {2}start {2}/.test(d.toString()) && resolve()),
    );
    const second = await project.berth([
      'migrate',
      '--database',
      'healthtech_experiment',
      '--json',
    ]);
    expect(second.code).toBe(5);
    const result = parseJsonLines(second.stdout).find((l) => l.type === 'database');
    expect(result).toMatchObject({
      database: 'healthtech_experiment',
      status: 'locked',
      applied: [],
    });
    expect((await firstDone).code).toBe(0);
    const names = await appliedMigrations(project.dir, 'healthtech_experiment');
    expect(new Set(names).size).toBe(names.length);
    expect(names).toContain('0013_slow');
  });

  it('SIGKILL mid-run leaves every database at a migration boundary and the next run completes it', async () => {
    project = await projectWithExtraMigration('0013_slow.sql', SLOW);
    const known = [...(await exampleMigrations()), '0013_slow'];
    // Its own process group, so the kill takes berth and its task processes, like a lost machine.
    const child = project.spawnBerth(['migrate', '--all', '--concurrency', '1'], {
      detached: true,
    });
    const done = collect(child);
    await new Promise<void>((resolve) =>
      child.stderr?.on('data', (d: Buffer) => / {2}start {2}/.test(d.toString()) && resolve()),
    );
    await new Promise((r) => setTimeout(r, 900));
    process.kill(-(child.pid ?? 0), 'SIGKILL');
    expect((await done).code).toBeNull();

    let interrupted = 0;
    for (const db of TENANTS) {
      const applied = await appliedMigrations(project.dir, db);
      // A prefix of the known list: no gaps, nothing half-recorded.
      expect(applied).toEqual(known.slice(0, applied.length));
      const marker = await query<{ t: string | null }>(
        project.dir,
        db,
        "SELECT to_regclass('public.slow_marker')::text AS t",
      );
      expect(Boolean(marker[0]?.t)).toBe(applied.includes('0013_slow'));
      if (applied.length < known.length) interrupted++;
    }
    expect(interrupted).toBeGreaterThan(0);

    // The journal knows the run did not finish.
    const runs = JSON.parse((await project.berth(['runs', 'list', '--json'])).stdout) as {
      runs: { state: string }[];
    };
    expect(runs.runs.at(-1)?.state).toBe('running');

    const again = await project.berth(['migrate', '--all', '--json']);
    expect(again.code).toBe(0);
    for (const db of TENANTS) {
      expect(await appliedMigrations(project.dir, db)).toEqual(known);
      expect(await tableCount(project.dir, db)).toBe(58);
    }
  });
});
