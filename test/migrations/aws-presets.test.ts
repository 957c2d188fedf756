/**
 * A migration preset on the aws provider, against the in-memory AWS fake: the listing command
 * runs once as an ECS task (never once per tenant, and once per image digest: a later command
 * reads what it printed), the probe task's IDs are compared with it,
 * and verify names drift per tenant. Probe lines may carry golang-migrate's dirty flag and
 * Prisma/Flyway failed rows.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { migrateCommand } from '../../src/cli/commands/migrate.js';
import { verifyCommand } from '../../src/cli/commands/verify.js';
import { ExitCode } from '../../src/core/exit-codes.js';
import { parseProbeLine, probeResultFrom } from '../../src/fleet/probe-protocol.js';
import type { VerifyResult } from '../../src/fleet/verify.js';
import {
  awsFleetHarness,
  DATABASES,
  FakeTenants,
  type AwsFleetHarness,
} from '../support/aws-fleet.js';

const DJANGO_IDS = ['contenttypes.0001_initial', 'auth.0001_initial', 'shop.0001_initial'];

let h: AwsFleetHarness;
afterEach(async () => {
  await h.cleanup();
});

async function djangoHarness(): Promise<AwsFleetHarness> {
  const harness = await awsFleetHarness({
    patch: (yaml) => yaml.replace('  directory: migrations\n', '  tool: django\n'),
  });
  const tenants = new FakeTenants(DJANGO_IDS);
  harness.tenants = tenants;
  harness.fake.onRunTask((task) =>
    task.command.includes('showmigrations')
      ? { run: () => ({ exitCode: 0, logs: DJANGO_IDS.map((id) => `[ ]  ${id}`) }) }
      : tenants.script(task),
  );
  return harness;
}

describe('the django preset on the aws provider', () => {
  it('lists the migrations with one task on the control database; up-to-date tenants get no migrate task', async () => {
    h = await djangoHarness();
    for (const db of DATABASES) h.tenants.applied.set(db, [...DJANGO_IDS]);
    expect(await migrateCommand(h.ctx(), { all: true }, h.fleetDeps)).toBe(ExitCode.ok);
    const started = h.fake.ecsTasks.started();
    expect(started.map((t) => t.tags['berth:kind'])).toEqual(['probe', 'probe']);
    const listing = started.find((t) => t.command.includes('showmigrations'));
    expect(listing?.command).toEqual(['python3', 'manage.py', 'showmigrations', '--plan']);
    expect(listing?.overrideEnvironment.DATABASE_NAME).toBe('postgres');
    const summary = h.jsonLines<{ type: string; databases?: { status: string }[] }>().at(-1);
    expect(summary?.databases?.map((d) => d.status)).toEqual(DATABASES.map(() => 'up-to-date'));
  });

  it('lists once per image: verify after migrate reads the listing recorded for its digest; a re-pushed tag is listed again', async () => {
    h = await djangoHarness();
    for (const db of DATABASES) h.tenants.applied.set(db, [...DJANGO_IDS]);
    const listings = () =>
      h.fake.ecsTasks.started().filter((t) => t.command.includes('showmigrations')).length;
    h.fake.resetCalls();
    expect(await migrateCommand(h.ctx(), { all: true }, h.fleetDeps)).toBe(ExitCode.ok);
    expect(listings()).toBe(1);
    // ECR in a run that lists: the commit's tag found (the repository and the tag), then the
    // listing's image pinned before and after it (the repository once per run, the tag twice).
    const ecr = h.fake.calls.filter((c) => c.service === 'ecr').map((c) => c.method);
    expect(ecr.filter((m) => m === 'describeRepository')).toHaveLength(2);
    expect(ecr.filter((m) => m === 'describeImageTag')).toHaveLength(3);
    h.jsonLines();
    expect(await verifyCommand(h.ctx(), { all: true }, h.fleetDeps)).toBe(ExitCode.ok);
    expect(listings()).toBe(1);
    expect(await migrateCommand(h.ctx(), { all: true }, h.fleetDeps)).toBe(ExitCode.ok);
    expect(listings()).toBe(1);
    // The same tag pushed again names another image: its migrations are listed again.
    const repository = h.imageUri.slice(h.imageUri.lastIndexOf('/') + 1).split(':')[0] ?? '';
    h.fake.pushImage(repository, h.imageUri.split(':').at(-1));
    expect(await migrateCommand(h.ctx(), { all: true }, h.fleetDeps)).toBe(ExitCode.ok);
    expect(listings()).toBe(2);
  });

  it('migrates only the tenant with something pending', async () => {
    h = await djangoHarness();
    h.tenants.applied.set(DATABASES[0] ?? '', [...DJANGO_IDS]);
    h.tenants.applied.set(DATABASES[1] ?? '', [...DJANGO_IDS]);
    h.tenants.applied.set(DATABASES[2] ?? '', DJANGO_IDS.slice(0, 2));
    expect(await migrateCommand(h.ctx(), { all: true }, h.fleetDeps)).toBe(ExitCode.ok);
    const migrated = h.fake.ecsTasks
      .started()
      .filter((t) => t.tags['berth:kind'] === 'migrate')
      .map((t) => t.overrideEnvironment.DATABASE_NAME);
    expect(migrated).toEqual([DATABASES[2]]);
  });

  it('verify names a tenant whose history has a migration the code does not (exit 6)', async () => {
    h = await djangoHarness();
    for (const db of DATABASES) h.tenants.applied.set(db, [...DJANGO_IDS]);
    h.tenants.applied.set(DATABASES[1] ?? '', [...DJANGO_IDS, 'shop.0002_from_a_branch']);
    expect(await verifyCommand(h.ctx(), { all: true }, h.fleetDeps)).toBe(ExitCode.verifyFailed);
    const result = h.json<VerifyResult>();
    const drifted = result.databases.find((d) => d.name === DATABASES[1]);
    expect(drifted).toMatchObject({ ok: false, unknownMigrations: ['shop.0002_from_a_branch'] });
    expect(drifted?.reason).toContain('unknown to the code: shop.0002_from_a_branch');
    expect(result.databases.filter((d) => d.ok)).toHaveLength(2);
  });
});

describe('probe lines with a dirty version or failed rows', () => {
  it('parses dirty and failed, and the result is never up to date', () => {
    const dirty = parseProbeLine(
      '::berth-probe {"database":"t1","exists":true,"tables":4,"applied":[],"dirty":"3"}',
    );
    expect(dirty).toEqual({ database: 't1', exists: true, tables: 4, applied: [], dirty: '3' });
    expect(dirty && probeResultFrom(dirty, ['1', '2', '3', '4'], 'head')).toMatchObject({
      pending: ['4'],
      pendingKnown: false,
      dirty: '3',
    });
    const failed = parseProbeLine(
      '::berth-probe {"database":"t2","exists":true,"tables":4,"applied":["a"],"failed":["b"]}',
    );
    expect(failed && probeResultFrom(failed, ['a', 'b'])).toMatchObject({
      pendingKnown: false,
      failed: ['b'],
    });
  });

  it('a malformed dirty or failed field is an error for that database', () => {
    expect(
      parseProbeLine(
        '::berth-probe {"database":"t3","exists":true,"tables":1,"applied":[],"dirty":3}',
      ),
    ).toMatchObject({ database: 't3', error: expect.any(String) as unknown });
  });
});
