import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { appliedMigrations, query } from '../support/pg.js';
import {
  baseConfig,
  collect,
  createProject,
  exampleMigrations,
  migrationsWith,
  parseJsonLines,
  type TestProject,
} from '../support/project.js';

const tenants = (n: number) =>
  Array.from({ length: n }, (_, i) => `tenant_${String(i + 1).padStart(3, '0')}`);

const failIn = (database: string) => `-- Up Migration
CREATE TABLE fixture_marker (id integer PRIMARY KEY);
DO $$ BEGIN
  IF current_database() = '${database}' THEN
    RAISE EXCEPTION 'fixture: % refuses this migration', current_database();
  END IF;
END $$;
-- Down Migration
DROP TABLE fixture_marker;
`;

/** A project whose fleet is `names` (from a tenants file) and whose migrations include `extra`. */
async function fleetProject(
  names: string[],
  extra: Record<string, string> = {},
  fleet: Record<string, unknown> = {},
  task: Record<string, unknown> = {},
): Promise<TestProject> {
  const project = await createProject();
  const base = baseConfig();
  const dir = Object.keys(extra).length
    ? await migrationsWith(project.dir, extra)
    : (base.migrations as { directory: string }).directory;
  await writeFile(path.join(project.dir, 'tenants.txt'), `# the fleet\n${names.join('\n')}\n`);
  await writeFile(
    project.configFile,
    stringify({
      ...base,
      task: { ...(base.task as object), environment: { MIGRATIONS_DIR: dir }, ...task },
      database: { ...(base.database as object), tenants: { file: 'tenants.txt' } },
      migrations: { ...(base.migrations as object), directory: dir },
      fleet: { concurrency: 4, ...fleet },
    }),
  );
  return project;
}

const byDatabase = (stdout: string) =>
  new Map(
    parseJsonLines(stdout)
      .filter((l) => l.type === 'database')
      .map((l) => [l.database as string, l]),
  );

describe('fleets of tenant databases', () => {
  let project: TestProject | undefined;
  afterEach(async () => {
    await project?.cleanup();
    project = undefined;
  });

  it('one tenant failing among 50 with --on-error continue: 49 applied, 1 failed with its excerpt, exit 4', async () => {
    const names = tenants(50);
    project = await fleetProject(names, { '0013_fixture.sql': failIn('tenant_037') });
    const run = await project.berth(['migrate', '--all', '--on-error', 'continue', '--json']);
    expect(run.code).toBe(4);
    const results = byDatabase(run.stdout);
    expect(results.size).toBe(50);
    const failed = [...results.values()].filter((r) => r.status === 'failed');
    expect(failed.map((r) => r.database)).toEqual(['tenant_037']);
    expect((failed[0]?.logExcerpt as string[]).join('\n')).toContain(
      'fixture: tenant_037 refuses this migration',
    );
    expect([...results.values()].filter((r) => r.status === 'applied')).toHaveLength(49);
    const summary = parseJsonLines(run.stdout).at(-1);
    expect(summary).toMatchObject({
      type: 'summary',
      ok: false,
      counts: { total: 50, applied: 49, failed: 1 },
    });
    // The failed tenant keeps everything before the failing migration and nothing of it.
    const known = await exampleMigrations();
    expect(await appliedMigrations(project.dir, 'tenant_037')).toEqual(known);

    // Human output for a large fleet: successes counted, the failure listed with its excerpt.
    const human = await project.berth(['migrate', '--all', '--on-error', 'continue']);
    expect(human.stdout).toContain('50 database(s): 0 applied, 49 up to date, 1 failed');
    expect(human.stdout).toContain('tenant_037');
    expect(human.stdout).not.toContain('tenant_036');
  });

  it('batching K=7 over 50 tenants gives exact per-tenant results, including a failure inside a batch', async () => {
    const names = tenants(50);
    project = await fleetProject(names, { '0013_fixture.sql': failIn('tenant_010') });
    const run = await project.berth([
      'migrate',
      '--all',
      '--batch-size',
      '7',
      '--on-error',
      'continue',
      '--json',
    ]);
    expect(run.code).toBe(4);
    const results = byDatabase(run.stdout);
    expect(results.size).toBe(50);
    // 50 tenants in batches of 7: 8 tasks, each shared by the tenants of its batch.
    const tasks = new Set([...results.values()].map((r) => r.taskId));
    expect(tasks.size).toBe(8);
    const failed = results.get('tenant_010');
    const known = await exampleMigrations();
    // Fresh database: the 12 good migrations applied, the fixture rolled back and still pending.
    expect(failed).toMatchObject({
      status: 'failed',
      exitCode: 1,
      applied: known,
      pending: ['0013_fixture'],
    });
    expect(await appliedMigrations(project.dir, 'tenant_010')).toEqual(known);
    expect((failed?.logExcerpt as string[]).join('\n')).toContain(
      'fixture: tenant_010 refuses this migration',
    );
    // Its batch-mates (tenant_008..tenant_014) ran in the same task and are exact.
    for (const name of ['tenant_008', 'tenant_009', 'tenant_011', 'tenant_014']) {
      expect(results.get(name)).toMatchObject({
        status: 'applied',
        exitCode: 0,
        taskId: failed?.taskId,
      });
      expect((results.get(name)?.applied as string[]).at(-1)).toBe('0013_fixture');
    }
    expect([...results.values()].filter((r) => r.status === 'applied')).toHaveLength(49);
    for (const name of ['tenant_001', 'tenant_050']) {
      expect((await appliedMigrations(project.dir, name)).at(-1)).toBe('0013_fixture');
    }
  });

  it("with the app's batch command, one process migrates a whole batch and results stay exact", async () => {
    const names = tenants(20);
    project = await fleetProject(
      names,
      { '0013_fixture.sql': failIn('tenant_012') },
      {},
      {
        batchCommand: ['node', 'dist/migrate.js', '--batch'],
      },
    );
    const run = await project.berth([
      'migrate',
      '--all',
      '--batch-size',
      '10',
      '--on-error',
      'continue',
      '--json',
    ]);
    expect(run.code).toBe(4);
    const results = byDatabase(run.stdout);
    expect(results.size).toBe(20);
    expect(new Set([...results.values()].map((r) => r.taskId)).size).toBe(2);
    const failed = results.get('tenant_012');
    expect(failed).toMatchObject({ status: 'failed', exitCode: 1, pending: ['0013_fixture'] });
    expect((failed?.logExcerpt as string[]).join('\n')).toContain(
      'fixture: tenant_012 refuses this migration',
    );
    expect([...results.values()].filter((r) => r.status === 'applied')).toHaveLength(19);
    // The task log shows one process: a single "Applying 0001_auth" per tenant, all in one file.
    const logs = await project.berth(['logs', String(failed?.taskId)]);
    expect(logs.stdout.match(/::berth-begin tenant_/g)).toHaveLength(10);

    // --on-error stop: the batch command stops at the failure; the rest of the batch is skipped.
    const stop = await fleetProject(
      tenants(5),
      { '0013_fixture.sql': failIn('tenant_002') },
      {},
      {
        batchCommand: ['node', 'dist/migrate.js', '--batch'],
      },
    );
    try {
      const r = await stop.berth([
        'migrate',
        '--all',
        '--batch-size',
        '5',
        '--on-error',
        'stop',
        '--json',
      ]);
      expect([...byDatabase(r.stdout).values()].map((x) => [x.database, x.status])).toEqual([
        ['tenant_001', 'applied'],
        ['tenant_002', 'failed'],
        ['tenant_003', 'skipped'],
        ['tenant_004', 'skipped'],
        ['tenant_005', 'skipped'],
      ]);
    } finally {
      await stop.cleanup();
    }
  });

  it('batching with --on-error stop reports the rest of a failing batch as skipped, not failed', async () => {
    project = await fleetProject(tenants(7), { '0013_fixture.sql': failIn('tenant_003') });
    const run = await project.berth([
      'migrate',
      '--all',
      '--batch-size',
      '7',
      '--on-error',
      'stop',
      '--json',
    ]);
    expect(run.code).toBe(4);
    const results = byDatabase(run.stdout);
    expect([...results.values()].map((r) => [r.database, r.status])).toEqual([
      ['tenant_001', 'applied'],
      ['tenant_002', 'applied'],
      ['tenant_003', 'failed'],
      ['tenant_004', 'skipped'],
      ['tenant_005', 'skipped'],
      ['tenant_006', 'skipped'],
      ['tenant_007', 'skipped'],
    ]);
    expect(await appliedMigrations(project.dir, 'tenant_004')).toEqual([]);
  });

  it('SIGKILL mid-fleet, then --resume completes only the tenants not finished', async () => {
    const names = tenants(40);
    project = await fleetProject(names, {}, { concurrency: 2 });
    const child = project.spawnBerth(['migrate', '--all', '--json'], { detached: true });
    const done = collect(child);
    let seen = 0;
    await new Promise<void>((resolve) =>
      child.stdout?.on('data', (d: Buffer) => {
        seen += d
          .toString()
          .split('\n')
          .filter((l) => l.includes('"type":"database"')).length;
        if (seen >= 10) resolve();
      }),
    );
    process.kill(-(child.pid ?? 0), 'SIGKILL');
    await done;

    const runs = JSON.parse((await project.berth(['runs', 'list', '--json'])).stdout) as {
      runs: { id: string; state: string }[];
    };
    const killed = runs.runs.at(-1);
    expect(killed?.state).toBe('running');
    const shown = JSON.parse(
      (await project.berth(['runs', 'show', killed?.id ?? '', '--json'])).stdout,
    ) as { results: { database: string; status: string }[]; unfinished: string[] };
    const finished = shown.results.filter((r) => r.status === 'applied').map((r) => r.database);
    expect(finished.length).toBeGreaterThanOrEqual(10);
    expect(shown.unfinished.length).toBe(40 - shown.results.length);

    const resumed = await project.berth(['migrate', '--resume', '--json']);
    expect(resumed.code).toBe(0);
    const results = byDatabase(resumed.stdout);
    // Only the rest: nothing already finished is touched again.
    expect([...results.keys()].sort()).toEqual(names.filter((n) => !finished.includes(n)).sort());
    const known = await exampleMigrations();
    for (const name of names) expect(await appliedMigrations(project.dir, name)).toEqual(known);

    // The interrupted run is not offered again.
    const again = await project.berth(['migrate', '--resume']);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('no interrupted migrate run to resume');
  });

  it('discovers tenants with a SQL query against the control database', async () => {
    project = await fleetProject(['seed_only']);
    // Create the tenants the query should find (and one it should not).
    expect((await project.berth(['migrate', '--all'])).code).toBe(0);
    for (const name of ['tenant_a', 'tenant_b', 'other_db'])
      await query(project.dir, 'postgres', `CREATE DATABASE ${name}`);
    const base = baseConfig();
    await writeFile(
      project.configFile,
      stringify({
        ...base,
        database: {
          ...(base.database as object),
          tenants: {
            query: "SELECT datname FROM pg_database WHERE datname LIKE 'tenant_%' ORDER BY 1",
            database: 'postgres',
          },
        },
      }),
    );
    const run = await project.berth(['migrate', '--all', '--json']);
    expect(run.code).toBe(0);
    expect([...byDatabase(run.stdout).keys()].sort()).toEqual(['tenant_a', 'tenant_b']);
  });

  it('an invalid name in the tenants file is a config error naming file and line (exit 3)', async () => {
    project = await fleetProject(['tenant_001', 'Bad-Name', 'tenant_003']);
    const run = await project.berth(['migrate', '--all']);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('tenants.txt:3: "Bad-Name" is not a valid database name');
  });
});
