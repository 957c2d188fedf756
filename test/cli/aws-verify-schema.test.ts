/**
 * verify's schema comparison on the aws provider, against the in-memory AWS fake: berth
 * cannot reach the databases, so the probe task reports each schema (the catalog query's
 * JSON, asked for with BERTH_PROBE_SCHEMA=1) and berth compares it with a reference tenant's.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { migrateCommand } from '../../src/cli/commands/migrate.js';
import { verifyCommand } from '../../src/cli/commands/verify.js';
import { ExitCode } from '../../src/core/exit-codes.js';
import type { VerifyResult } from '../../src/fleet/verify.js';
import type { CatalogTables } from '../../src/migrations/fingerprint.js';
import {
  awsFleetHarness,
  DATABASES,
  MIGRATIONS,
  type AwsFleetHarness,
} from '../support/aws-fleet.js';

let h: AwsFleetHarness;
afterEach(async () => {
  await h.cleanup();
});

function catalog(): CatalogTables {
  return [
    {
      name: 'orders',
      columns: [
        { name: 'id', type: 'integer', nullable: false, default: null, identity: 'a' },
        { name: 'total', type: 'integer', nullable: false, default: null },
      ],
      indexes: [
        {
          name: 'orders_pkey',
          definition: 'CREATE UNIQUE INDEX orders_pkey ON public.orders USING btree (id)',
        },
        {
          name: 'orders_total_idx',
          definition: 'CREATE INDEX orders_total_idx ON public.orders USING btree (total)',
        },
      ],
      constraints: [{ name: 'orders_pkey', definition: 'PRIMARY KEY (id)' }],
      triggers: [],
    },
    // The query's own version (CATALOG_VERSION): this is what the current query prints.
    {
      kind: 'catalog',
      name: 'version',
      definition: '3',
      columns: [],
      indexes: [],
      constraints: [],
    },
  ];
}

const withReference = (yaml: string) => `${yaml}\nverify:\n  reference: startupwebapp_prod\n`;

function migratedFleet(harness: AwsFleetHarness): void {
  for (const database of DATABASES) {
    harness.tenants.applied.set(database, [...MIGRATIONS]);
    harness.tenants.schemas.set(database, catalog());
  }
}

describe('berth verify --provider aws: the schema fingerprint from the probe task', () => {
  it('names the tenant whose schema differs from the reference tenant, and fails (exit 6)', async () => {
    h = await awsFleetHarness({ patch: withReference });
    migratedFleet(h);
    const drifted = catalog();
    drifted[0]?.columns.push({ name: 'note', type: 'text', nullable: true, default: null });
    drifted[0]?.indexes.splice(1, 1);
    h.tenants.schemas.set('fintech_experiment', drifted);

    expect(await verifyCommand(h.ctx(), { all: true }, h.fleetDeps)).toBe(ExitCode.verifyFailed);
    const result = h.json<VerifyResult>();
    expect(result.schema).toMatchObject({
      compared: true,
      reference: { kind: 'tenant', name: 'startupwebapp_prod', tables: 1 },
      expectedTables: { count: 57, from: 'config' },
    });
    expect(result.databases.map((d) => [d.name, d.ok, d.schema])).toEqual([
      ['startupwebapp_prod', true, 'matches'],
      ['healthtech_experiment', true, 'matches'],
      ['fintech_experiment', false, 'differs'],
    ]);
    const fintech = result.databases[2];
    expect(fintech?.schemaDifferences).toEqual([
      'extra column orders.note',
      'missing index orders_total_idx',
    ]);
    expect(fintech?.reason).toBe('extra column orders.note; missing index orders_total_idx');
    expect(fintech?.fingerprint).not.toBe(result.schema?.reference?.fingerprint);
    // One probe task for the fleet, asked for the schemas.
    const probes = h.fake.ecsTasks.started();
    expect(probes).toHaveLength(1);
    expect(probes[0]?.overrideEnvironment.BERTH_PROBE_SCHEMA).toBe('1');
    // … and told which schema to read (database.schema), for a probe berth ships.
    expect(probes[0]?.overrideEnvironment.BERTH_DATABASE_SCHEMA).toBe('public');
  });

  it('compares a probe that runs an older catalog query on its tables only, and names it', async () => {
    h = await awsFleetHarness({ patch: withReference });
    migratedFleet(h);
    const view = {
      kind: 'view' as const,
      name: 'big_orders',
      definition: ' SELECT id FROM orders WHERE (total > 100);',
      columns: [],
      indexes: [],
      constraints: [],
    };
    for (const database of DATABASES) h.tenants.schemas.set(database, [...catalog(), view]);
    // healthtech's probe still runs the query from before triggers, views, functions and
    // types: tables only, without a `triggers` list. fintech's does too, and lost a column.
    const older = () =>
      catalog()
        .filter((entry) => entry.kind === undefined)
        .map(({ triggers: _t, ...table }) => table);
    h.tenants.schemas.set('healthtech_experiment', older());
    const drifted = older();
    drifted[0]?.columns.splice(1, 1);
    h.tenants.schemas.set('fintech_experiment', drifted);

    expect(await verifyCommand(h.ctx(), { all: true }, h.fleetDeps)).toBe(ExitCode.verifyFailed);
    const result = h.json<VerifyResult>();
    expect(
      result.databases.map((d) => [d.name, d.ok, d.schemaDifferences, d.schemaCoverage]),
    ).toEqual([
      ['startupwebapp_prod', true, [], undefined],
      // Not "missing view big_orders": the older query cannot see views.
      ['healthtech_experiment', true, [], 'tables'],
      ['fintech_experiment', false, ['missing column orders.total'], 'tables'],
    ]);
    expect(result.schema?.reason).toMatch(
      /^tables only for 2 database\(s\) \(healthtech_experiment, fintech_experiment\): their probe runs an older copy of berth's catalog query/,
    );
  });

  it('says which databases a probe from before the query read without sequences, domains and composite types', async () => {
    h = await awsFleetHarness({ patch: withReference });
    migratedFleet(h);
    const sequence = {
      kind: 'sequence' as const,
      name: 'invoice_no',
      definition: 'bigint increment 1 minvalue 1 maxvalue 9223372036854775807 start 1 cache 1',
      columns: [],
      indexes: [],
      constraints: [],
    };
    for (const database of DATABASES) h.tenants.schemas.set(database, [...catalog(), sequence]);
    // healthtech's probe runs a copy from before version 3: triggers, but no sequences and no
    // version entry. Its tables are compared; the sequence is not "missing", and verify says so.
    h.tenants.schemas.set(
      'healthtech_experiment',
      catalog().filter((entry) => entry.kind === undefined),
    );
    expect(await verifyCommand(h.ctx(), { all: true }, h.fleetDeps)).toBe(ExitCode.ok);
    const result = h.json<VerifyResult>();
    expect(result.databases.map((d) => [d.name, d.ok, d.schemaCoverage])).toEqual([
      ['startupwebapp_prod', true, undefined],
      ['healthtech_experiment', true, 'before-version-3'],
      ['fintech_experiment', true, undefined],
    ]);
    expect(result.schema?.reason).toMatch(
      /^sequences, domains and composite types not compared for 1 database\(s\) \(healthtech_experiment\): their probe runs a copy of berth's catalog query from before its version 3/,
    );
  });

  it('reads a schema printed inline on the probe line as well', async () => {
    h = await awsFleetHarness({ patch: withReference });
    migratedFleet(h);
    h.tenants.schemaLines = 'inline';
    const drifted = catalog();
    drifted[0]?.columns.splice(1, 1);
    h.tenants.schemas.set('healthtech_experiment', drifted);
    expect(await verifyCommand(h.ctx(), { all: true }, h.fleetDeps)).toBe(ExitCode.verifyFailed);
    const result = h.json<VerifyResult>();
    expect(result.databases.map((d) => d.schemaDifferences)).toEqual([
      [],
      ['missing column orders.total'],
      [],
    ]);
  });

  it('a schema whose table lines do not all arrive is an error for that database, not a partial schema', async () => {
    h = await awsFleetHarness({ patch: withReference });
    migratedFleet(h);
    h.tenants.lostTableLines.set('fintech_experiment', 1);
    expect(await verifyCommand(h.ctx(), { all: true }, h.fleetDeps)).toBe(ExitCode.verifyFailed);
    const fintech = h.json<VerifyResult>().databases[2];
    expect(fintech).toMatchObject({ ok: false, exists: null });
    expect(fintech?.reason).toBe(
      'could not read it: the probe printed 1 of the 2 ::berth-schema lines of its schema (a log line cut short?)',
    );
  });

  it("migrate's probes do not ask for the schema", async () => {
    h = await awsFleetHarness({ patch: withReference });
    migratedFleet(h);
    expect(await migrateCommand(h.ctx(), { all: true }, h.fleetDeps)).toBe(ExitCode.ok);
    const started = h.fake.ecsTasks.started();
    expect(started.length).toBeGreaterThan(0);
    for (const task of started) expect(task.overrideEnvironment.BERTH_PROBE_SCHEMA).toBeUndefined();
  });

  it('says the schemas were not compared when the probe does not report them, without failing', async () => {
    h = await awsFleetHarness({ patch: withReference });
    migratedFleet(h);
    h.tenants.probeWithoutSchema = true;
    expect(await verifyCommand(h.ctx(), { all: true }, h.fleetDeps)).toBe(ExitCode.ok);
    const result = h.json<VerifyResult>();
    expect(result.schema?.compared).toBe(false);
    expect(result.schema?.reason).toMatch(/probe did not report startupwebapp_prod's schema/);
  });

  it('derives the expected table count from the reference tenant when expectedTables is absent', async () => {
    h = await awsFleetHarness({
      patch: (yaml) => withReference(yaml.replace(/\n\s*expectedTables: 57/, '')),
    });
    migratedFleet(h);
    h.tenants.applied.set('healthtech_experiment', MIGRATIONS.slice(0, 2));
    expect(await verifyCommand(h.ctx(), { all: true }, h.fleetDeps)).toBe(ExitCode.verifyFailed);
    const result = h.json<VerifyResult>();
    // The reference's catalog has one table: that is the count every tenant is held to.
    expect(result.schema?.expectedTables).toEqual({ count: 1, from: 'reference' });
    expect(result.databases.map((d) => d.expectedTables)).toEqual([1, 1, 1]);
  });

  it('a reference tenant that does not exist fails verify, and says why', async () => {
    h = await awsFleetHarness({ patch: withReference });
    migratedFleet(h);
    h.tenants.missing.add('startupwebapp_prod');
    expect(await verifyCommand(h.ctx(), { all: true }, h.fleetDeps)).toBe(ExitCode.verifyFailed);
    const result = h.json<VerifyResult>();
    expect(result.schema).toMatchObject({
      compared: false,
      reason: 'the reference tenant startupwebapp_prod does not exist',
    });
  });
});
