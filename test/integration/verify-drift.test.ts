/**
 * Drift acceptance (issue 12, points 2 and 3) on real PostgreSQL: a fleet migrated by berth,
 * then one tenant gets an extra column, one loses an index, one records a migration the code
 * does not have, and (golang-migrate) one is left dirty. `berth verify --all` names each, in
 * words, and exits 6; the reference is a scratch database berth migrates from zero and drops.
 */
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ProbeLogParser, probeResultFrom } from '../../src/fleet/probe-protocol.js';
import type { VerifyResult } from '../../src/fleet/verify.js';
import { query } from '../support/pg.js';
import {
  EXAMPLE,
  ROOT,
  baseConfig,
  collect,
  createProject,
  type TestProject,
} from '../support/project.js';

const FLEET = ['startupwebapp_prod', 'healthtech_experiment', 'fintech_experiment', 'edu_pilot'];

/** The example's probe (examples/startupwebapp/src/probe.ts) run on `databases`, as a probe task would. */
async function exampleProbe(
  project: TestProject,
  databases: string[],
): Promise<{ stdout: string; reports: ProbeLogParser }> {
  const secret = JSON.parse(
    await readFile(path.join(project.dir, '.berth/secret.json'), 'utf8'),
  ) as { username: string; password: string; host: string; port: number };
  const child = spawn(process.execPath, [path.join(EXAMPLE, 'dist/probe.js')], {
    env: {
      PATH: process.env.PATH ?? '',
      DATABASE_HOST: secret.host,
      DATABASE_PORT: String(secret.port),
      DATABASE_USER: secret.username,
      DATABASE_PASSWORD: secret.password,
      DATABASE_NAMES: databases.join(','),
      BERTH_PROBE_SCHEMA: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const run = await collect(child);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  const reports = new ProbeLogParser();
  for (const line of run.stdout.split('\n')) reports.line(line);
  return { stdout: run.stdout, reports };
}

const scratchDatabases = async (project: TestProject) =>
  (
    await query<{ datname: string }>(
      project.dir,
      'postgres',
      "SELECT datname FROM pg_database WHERE datname LIKE 'berth\\_reference\\_%'",
    )
  ).map((r) => r.datname);

describe('berth verify: schema drift on the example app (node-pg-migrate, real PostgreSQL)', () => {
  let project: TestProject;

  beforeAll(async () => {
    const base = baseConfig();
    const { expectedTables: _none, ...database } = base.database as Record<string, unknown>;
    const { checkCommand: _check, ...task } = base.task as Record<string, unknown>;
    // No expectedTables: the count comes from the reference. No check command: berth's own
    // reading decides (a check task per tenant would only slow the test down).
    project = await createProject({ ...base, task, database: { ...database, tenants: FLEET } });
    const run = await project.berth(['migrate', '--all']);
    expect(run.stderr).not.toMatch(/internal error/);
    expect(run.code).toBe(0);
  });
  afterAll(() => project.cleanup());

  it('passes on a clean fleet, with the expected table count derived from the reference', async () => {
    const run = await project.berth(['verify', '--all', '--json']);
    expect(run.stderr).not.toMatch(/internal error/);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as VerifyResult;
    expect(result.ok).toBe(true);
    expect(result.schema).toMatchObject({
      compared: true,
      reference: { kind: 'scratch', tables: 57 },
      expectedTables: { count: 57, from: 'reference' },
    });
    expect(result.schema?.reference?.name).toMatch(/^berth_reference_[0-9a-f]{12}$/);
    for (const d of result.databases) {
      expect(d).toMatchObject({ ok: true, tables: 57, expectedTables: 57, schema: 'matches' });
      expect(d.fingerprint).toBe(result.schema?.reference?.fingerprint);
    }
    // The scratch database is gone.
    expect(await scratchDatabases(project)).toEqual([]);

    const human = await project.berth(['verify', '--all']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(
      /schema compared with the scratch database berth_reference_[0-9a-f]{12} \(migrated from zero, then dropped\) \(fingerprint [0-9a-f]{12}, 57 tables\); expected tables: 57, from the reference/,
    );
  });

  it('names the tenant with an extra column, the one missing an index and the one with an unknown migration (exit 6)', async () => {
    await query(project.dir, 'fintech_experiment', 'ALTER TABLE orders ADD COLUMN note text');
    await query(project.dir, 'healthtech_experiment', 'DROP INDEX orders_order_date_idx');
    await query(
      project.dir,
      'edu_pilot',
      "INSERT INTO pgmigrations (name, run_on) VALUES ('0099_hotfix', now())",
    );

    const run = await project.berth(['verify', '--all']);
    expect(run.stderr).not.toMatch(/internal error/);
    expect(run.code).toBe(6);
    expect(run.stdout).toContain('fintech_experiment: extra column orders.note');
    expect(run.stdout).toContain('healthtech_experiment: missing index orders_order_date_idx');
    expect(run.stdout).toMatch(
      /edu_pilot +.*FAILED 1 applied migration\(s\) unknown to the code: 0099_hotfix/,
    );
    expect(run.stdout).toContain('3 of 4 database(s) incomplete');

    const json = await project.berth(['verify', '--all', '--json']);
    expect(json.code).toBe(6);
    const result = JSON.parse(json.stdout) as VerifyResult;
    const byName = new Map(result.databases.map((d) => [d.name, d]));
    expect(byName.get('startupwebapp_prod')).toMatchObject({ ok: true, schema: 'matches' });
    expect(byName.get('fintech_experiment')).toMatchObject({
      ok: false,
      schema: 'differs',
      schemaDifferences: ['extra column orders.note'],
      reason: 'extra column orders.note',
    });
    expect(byName.get('healthtech_experiment')).toMatchObject({
      ok: false,
      schema: 'differs',
      schemaDifferences: ['missing index orders_order_date_idx'],
    });
    // The history row changes no structure: the schema matches, the drift check names it.
    expect(byName.get('edu_pilot')).toMatchObject({
      ok: false,
      schema: 'matches',
      unknownMigrations: ['0099_hotfix'],
      reason: '1 applied migration(s) unknown to the code: 0099_hotfix',
    });
    expect(await scratchDatabases(project)).toEqual([]);
  });

  it("the example's probe (what an AWS probe task prints) gives the same fingerprints as berth's own reading", async () => {
    const verify = JSON.parse(
      (await project.berth(['verify', '--all', '--json'])).stdout,
    ) as VerifyResult;
    const { stdout, reports } = await exampleProbe(project, FLEET);
    for (const d of verify.databases) {
      const report = reports.report(d.name);
      // 57 tables, plpgsql (the one extension every database has), the history table's serial
      // sequence (pgmigrations.id; the identity columns' sequences are their columns') and the
      // catalog query's version.
      expect(report && 'schema' in report ? report.schema?.length : undefined).toBe(60);
      const probe = probeResultFrom(report ?? { database: d.name, error: 'no line' }, undefined);
      expect(probe.fingerprint?.hash, d.name).toBe(d.fingerprint);
    }
    // Each line stays short enough for a log driver: one table per line.
    expect(Math.max(...stdout.split('\n').map((l) => l.length))).toBeLessThan(16 * 1024);
  });

  it('compares with the tenant verify.reference names instead, without a scratch database', async () => {
    const original = await readFile(project.configFile, 'utf8');
    const withReference = async (reference: string) =>
      writeFile(
        project.configFile,
        stringify({ ...(parse(original) as Record<string, unknown>), verify: { reference } }),
      );
    try {
      await withReference('startupwebapp_prod');
      const run = await project.berth(['verify', '--all', '--json']);
      expect(run.code).toBe(6);
      const result = JSON.parse(run.stdout) as VerifyResult;
      expect(result.schema).toMatchObject({
        compared: true,
        reference: { kind: 'tenant', name: 'startupwebapp_prod', tables: 57 },
        expectedTables: { count: 57, from: 'reference' },
      });
      expect(result.databases.map((d) => [d.name, d.schemaDifferences])).toEqual([
        ['startupwebapp_prod', []],
        ['healthtech_experiment', ['missing index orders_order_date_idx']],
        ['fintech_experiment', ['extra column orders.note']],
        ['edu_pilot', []],
      ]);

      // A reference that is not there fails verify, and says why.
      await withReference('no_such_tenant');
      const missing = await project.berth(['verify', '--database', 'startupwebapp_prod']);
      expect(missing.code).toBe(6);
      expect(missing.stdout).toContain(
        'schema not compared: the reference tenant no_such_tenant does not exist',
      );
    } finally {
      await writeFile(project.configFile, original);
    }
  });

  it('names the views, functions, triggers, enum types, sequences, domains, composite types and extensions a tenant has and the reference has not, and a sequence that differs', async () => {
    await query(
      project.dir,
      'edu_pilot',
      `CREATE EXTENSION citext;
       CREATE SEQUENCE invoice_no AS integer START 1000;
       ALTER SEQUENCE pgmigrations_id_seq INCREMENT BY 5;
       CREATE DOMAIN contact_email AS text NOT NULL CHECK (VALUE LIKE '%@%');
       CREATE TYPE money_amount AS (amount numeric(12,2), currency char(3));
       CREATE TYPE order_status AS ENUM ('new', 'paid');
       CREATE FUNCTION orders_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
       CREATE TRIGGER orders_audit AFTER INSERT ON orders FOR EACH ROW EXECUTE FUNCTION orders_audit();
       CREATE VIEW recent_orders AS SELECT * FROM orders WHERE order_date > now() - interval '1 day'`,
    );
    const json = await project.berth(['verify', '--database', 'edu_pilot', '--json']);
    expect(json.stderr).not.toMatch(/internal error/);
    expect(json.code).toBe(6);
    const result = JSON.parse(json.stdout) as VerifyResult;
    expect(result.databases[0]?.schemaDifferences).toEqual([
      'extra trigger orders.orders_audit',
      'extra composite type money_amount',
      'extra domain contact_email',
      'extra extension citext',
      'extra function orders_audit()',
      'extra sequence invoice_no',
      'sequence pgmigrations_id_seq: integer increment 5 minvalue 1 maxvalue 2147483647 start 1 cache 1 owned by pgmigrations.id, expected integer increment 1 minvalue 1 maxvalue 2147483647 start 1 cache 1 owned by pgmigrations.id',
      'extra type order_status',
      'extra view recent_orders',
    ]);
    // The example's probe reads them the same way: 57 tables (the trigger is part of orders),
    // the function, two sequences (invoice_no and the history table's serial), the domain,
    // the two types, the view, two extensions (plpgsql, always there, and citext; citext's own
    // functions and types are the extension's, not counted) and the query's version. The 55
    // identity columns' sequences are their columns', not counted either.
    const { reports } = await exampleProbe(project, ['edu_pilot']);
    const report = reports.report('edu_pilot');
    expect(report && 'schema' in report ? report.schema?.length : undefined).toBe(67);
    const probe = probeResultFrom(report ?? { database: 'edu_pilot', error: 'no line' }, undefined);
    expect(probe.fingerprint?.hash).toBe(result.databases[0]?.fingerprint);
  });
});

describe('berth verify: a dirty golang-migrate version (real PostgreSQL)', () => {
  let project: TestProject;
  const fixture = path.join(ROOT, 'test/fixtures/golang-migrate-lite');

  beforeAll(async () => {
    const base = baseConfig();
    project = await createProject({
      ...base,
      task: {
        family: 'golang-migrate-lite-task',
        command: ['node', 'migrate.mjs'],
      },
      database: {
        secret: { name: 'rds/lite/master' },
        tenants: ['lite_a', 'lite_b', 'lite_c'],
      },
      migrations: { tool: 'golang-migrate', directory: path.join(fixture, 'migrations') },
      local: { workdir: fixture, dataDir: '.berth' },
    });
    const run = await project.berth(['migrate', '--all']);
    expect(run.stderr).not.toMatch(/internal error/);
    expect(run.code).toBe(0);
  });
  afterAll(() => project.cleanup());

  it('passes clean, then names the dirty tenant and the one with an extra column (exit 6)', async () => {
    const clean = await project.berth(['verify', '--all', '--json']);
    expect(clean.code).toBe(0);
    const ok = JSON.parse(clean.stdout) as VerifyResult;
    // orders + schema_migrations, counted from the reference.
    expect(ok.schema?.expectedTables).toEqual({ count: 2, from: 'reference' });

    // A migration that stopped half-way, as golang-migrate leaves it.
    await query(project.dir, 'lite_b', 'UPDATE schema_migrations SET dirty = true');
    await query(project.dir, 'lite_c', 'ALTER TABLE orders ADD COLUMN note text');
    const run = await project.berth(['verify', '--all']);
    expect(run.code).toBe(6);
    expect(run.stdout).toMatch(
      /lite_b +.*FAILED dirty at version 2: a migration stopped half-way; fix it by hand/,
    );
    expect(run.stdout).toContain('lite_c: extra column orders.note');

    const json = await project.berth(['verify', '--all', '--json']);
    expect(json.code).toBe(6);
    const result = JSON.parse(json.stdout) as VerifyResult;
    expect(
      result.databases.map((d) => [d.name, d.ok, d.dirty ?? null, d.schemaDifferences]),
    ).toEqual([
      ['lite_a', true, null, []],
      ['lite_b', false, '2', []],
      ['lite_c', false, null, ['extra column orders.note']],
    ]);
  });

  const withCommand = async (command: string[], run: () => Promise<void>) => {
    const original = await readFile(project.configFile, 'utf8');
    const config = parse(original) as { task: Record<string, unknown> };
    await writeFile(
      project.configFile,
      stringify({ ...config, task: { ...config.task, command } }),
    );
    try {
      await run();
    } finally {
      await writeFile(project.configFile, original);
    }
  };

  it('a scratch database that does not migrate from zero fails verify, says why, and is dropped', async () => {
    await withCommand(
      ['node', '-e', 'console.error("boom: no such table"); process.exit(3)'],
      async () => {
        const run = await project.berth(['verify', '--database', 'lite_a', '--json']);
        expect(run.code).toBe(6);
        const result = JSON.parse(run.stdout) as VerifyResult;
        expect(result.ok).toBe(false);
        expect(result.databases[0]?.ok).toBe(true);
        expect(result.schema?.compared).toBe(false);
        expect(result.schema?.reason).toMatch(
          /^the scratch database berth_reference_[0-9a-f]{12} did not migrate from zero \(failed: .*boom: no such table/,
        );
        expect(await scratchDatabases(project)).toEqual([]);
      },
    );
  });

  it('an interrupted verify drops its scratch database too', async () => {
    await withCommand(['node', '-e', 'setTimeout(() => undefined, 120000)'], async () => {
      const child = project.spawnBerth(['verify', '--all']);
      const done = collect(child);
      // Wait until the scratch database exists (its migration is then running).
      for (let i = 0; i < 300 && (await scratchDatabases(project)).length === 0; i++)
        await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await scratchDatabases(project)).toHaveLength(1);
      child.kill('SIGINT');
      const run = await done;
      expect(run.code).toBe(130);
      expect(await scratchDatabases(project)).toEqual([]);
    });
  });

  it("a SIGKILLed verify's scratch database is dropped by the next verify; one a live verify holds is left alone", async () => {
    const waitFor = async (ok: (names: string[]) => boolean) => {
      for (let i = 0; i < 300 && !ok(await scratchDatabases(project)); i++)
        await new Promise((resolve) => setTimeout(resolve, 100));
      return scratchDatabases(project);
    };
    await withCommand(['node', '-e', 'setTimeout(() => undefined, 120000)'], async () => {
      // Killed outright: nothing of berth's runs to drop its scratch database.
      const killed = project.spawnBerth(['verify', '--database', 'lite_a']);
      const killedDone = collect(killed);
      const [left] = await waitFor((names) => names.length === 1);
      killed.kill('SIGKILL');
      await killedDone;
      expect(await scratchDatabases(project)).toEqual([left]);

      // The next verify drops it, then makes its own.
      const first = project.spawnBerth(['verify', '--database', 'lite_a']);
      const firstDone = collect(first);
      const [own] = await waitFor((names) => names.length === 1 && names[0] !== left);
      expect(own).toBeDefined();

      // A verify started meanwhile leaves the first one's (held) alone.
      const second = project.spawnBerth(['verify', '--database', 'lite_a']);
      const secondDone = collect(second);
      const both = await waitFor((names) => names.length === 2);
      expect(both).toContain(own);
      first.kill('SIGINT');
      second.kill('SIGINT');
      const [a, b] = await Promise.all([firstDone, secondDone]);
      expect([a.code, b.code]).toEqual([130, 130]);
      expect(a.stderr).toContain(
        `dropped 1 scratch database(s) left by a verify that did not finish: ${left}`,
      );
      expect(await scratchDatabases(project)).toEqual([]);
    });
  }, 120_000);
});
