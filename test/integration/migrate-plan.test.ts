import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appliedMigrations } from '../support/pg.js';
import {
  baseConfig,
  createProject,
  exampleMigrations,
  migrationsWith,
  parseJsonLines,
  type TestProject,
} from '../support/project.js';

const EXTRA = `-- Up Migration
CREATE TABLE plan_fixture (id integer PRIMARY KEY);
-- Down Migration
DROP TABLE plan_fixture;
`;

describe('berth migrate --plan on the local provider (real PostgreSQL)', () => {
  let project: TestProject;
  let known: string[];

  // A mixed fleet: startupwebapp_prod up to date, healthtech_experiment 1 pending,
  // fintech_experiment fresh (not even created).
  beforeAll(async () => {
    project = await createProject();
    known = await exampleMigrations();
    const dir = await migrationsWith(project.dir, {});
    const base = baseConfig();
    const write = () =>
      writeFile(
        project.configFile,
        stringify({
          ...base,
          task: { ...(base.task as object), environment: { MIGRATIONS_DIR: dir } },
          migrations: { ...(base.migrations as object), directory: dir },
        }),
      );
    await write();
    const first = await project.berth([
      'migrate',
      '-d',
      'startupwebapp_prod',
      '-d',
      'healthtech_experiment',
    ]);
    expect(first.code).toBe(0);
    await writeFile(path.join(dir, '0013_plan_fixture.sql'), EXTRA);
    const second = await project.berth(['migrate', '-d', 'startupwebapp_prod']);
    expect(second.code).toBe(0);
  });
  afterAll(() => project.cleanup());

  it('prints each tenant’s pending migrations by name and exits 9, starting no migration', async () => {
    const run = await project.berth(['migrate', '--all', '--plan']);
    expect(run.stderr).not.toMatch(/internal error/);
    expect(run.code).toBe(9);
    const rows = run.stdout.split('\n');
    expect(rows.find((l) => l.startsWith('startupwebapp_prod'))).toMatch(/up-to-date\s+0/);
    expect(rows.find((l) => l.startsWith('healthtech_experiment'))).toMatch(
      /pending\s+1\s+0013_plan_fixture/,
    );
    expect(rows.find((l) => l.startsWith('fintech_experiment (new)'))).toMatch(
      /pending\s+13\s+0001_auth, /,
    );
    expect(run.stdout).toContain('no migration was started');
    // Nothing was applied, nothing created.
    expect(await appliedMigrations(project.dir, 'healthtech_experiment')).toEqual(known);
    const runs = await project.berth(['runs', 'list', '--json']);
    expect(runs.stdout).not.toContain('0013_plan_fixture');
  });

  it('--json gives one plan document with the per-tenant lists', async () => {
    const run = await project.berth(['migrate', '--all', '--plan', '--json']);
    expect(run.code).toBe(9);
    const [doc, ...rest] = parseJsonLines(run.stdout);
    expect(rest).toEqual([]);
    expect(doc).toMatchObject({
      type: 'plan',
      upToDate: false,
      counts: { total: 3, upToDate: 1, pending: 2, unknown: 0, unreadable: 0 },
    });
    expect(doc?.databases).toEqual([
      {
        database: 'startupwebapp_prod',
        state: 'up-to-date',
        exists: true,
        pending: [],
        applied: 13,
      },
      {
        database: 'healthtech_experiment',
        state: 'pending',
        exists: true,
        pending: ['0013_plan_fixture'],
        applied: 12,
      },
      {
        database: 'fintech_experiment',
        state: 'pending',
        exists: false,
        pending: [...known, '0013_plan_fixture'],
        applied: 0,
      },
    ]);
  });

  it('exits 0 when the selected tenants are up to date', async () => {
    const run = await project.berth(['migrate', '-d', 'startupwebapp_prod', '--plan']);
    expect(run.code).toBe(0);
  });
});
