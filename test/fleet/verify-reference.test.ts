/** verifyFleet's schema comparison: the reference, the differences, the derived table count. */
import { describe, expect, it } from 'vitest';
import { RecordingReporter } from '../../src/core/events.js';
import { fingerprintOf, type CatalogTables } from '../../src/migrations/fingerprint.js';
import {
  formatProbeLine,
  parseProbeLine,
  probeResultFrom,
} from '../../src/fleet/probe-protocol.js';
import type { ReferenceRequest } from '../../src/fleet/reference.js';
import { isScratchName, scratchName } from '../../src/fleet/reference.js';
import type { FleetBackend, ProbeOptions, ProbeResult } from '../../src/fleet/types.js';
import { verifyFleet, verifyGoal } from '../../src/fleet/verify.js';

const base = (): CatalogTables => [
  {
    name: 'orders',
    columns: [{ name: 'id', type: 'integer', nullable: false, default: null }],
    indexes: [],
    constraints: [{ name: 'orders_pkey', definition: 'PRIMARY KEY (id)' }],
  },
  { name: 'pgmigrations', columns: [], indexes: [], constraints: [] },
];

function backend(
  schemas: Record<string, CatalogTables | null>,
  seen: ProbeOptions[] = [],
): FleetBackend {
  return {
    provider: 'local',
    runtime: { name: 'none', run: () => Promise.reject(new Error('no task expected')) },
    migrations: () => Promise.resolve(['0001']),
    prepare: () => Promise.resolve(),
    probe: (databases, onResult, _signal, options = {}) => {
      seen.push(options);
      for (const database of databases) {
        const catalog = schemas[database];
        if (catalog === undefined) continue;
        const probe: ProbeResult =
          catalog === null
            ? {
                database,
                exists: false,
                tables: 0,
                applied: [],
                pending: ['0001'],
                pendingKnown: true,
              }
            : {
                database,
                exists: true,
                tables: catalog.length,
                applied: ['0001'],
                pending: [],
                pendingKnown: true,
                ...(options.fingerprint ? { fingerprint: fingerprintOf(catalog) } : {}),
              };
        onResult(probe);
      }
      return Promise.resolve();
    },
    lock: () => Promise.resolve(undefined),
    taskEnvironment: () => ({}),
    close: () => Promise.resolve(),
  };
}

const options = (databases: string[], reference?: ReferenceRequest, expectedTables?: number) => ({
  databases,
  ...(expectedTables === undefined ? {} : { expectedTables }),
  ...(reference ? { reference } : {}),
  concurrency: 1,
  timeoutMs: 1000,
  reporter: new RecordingReporter(),
});

const drifted = (): CatalogTables => {
  const tables = base();
  tables[0]?.columns.push({ name: 'note', type: 'text', nullable: true, default: null });
  return tables;
};

describe('verifyFleet with a reference', () => {
  it('compares every tenant with the reference tenant, read in the same probe pass', async () => {
    const seen: ProbeOptions[] = [];
    const result = await verifyFleet(
      backend({ good: base(), a: base(), b: drifted() }, seen),
      options(['a', 'b'], { kind: 'tenant', tenant: 'good' }),
    );
    expect(seen).toEqual([{ fingerprint: true }]);
    expect(result.ok).toBe(false);
    expect(result.databases.map((d) => [d.name, d.schema, d.reason])).toEqual([
      ['a', 'matches', undefined],
      ['b', 'differs', 'extra column orders.note'],
    ]);
    // The reference tenant is read, not reported on (it was not selected).
    expect(result.databases).toHaveLength(2);
    expect(result.schema).toMatchObject({
      compared: true,
      reference: { kind: 'tenant', name: 'good', tables: 2 },
      expectedTables: { count: 2, from: 'reference' },
    });
  });

  it('derives the expected table count from the reference, and says where it came from', async () => {
    const oneShort = base().slice(0, 1);
    const result = await verifyFleet(
      backend({ good: base(), a: oneShort }),
      options(['a'], { kind: 'tenant', tenant: 'good' }),
    );
    expect(result.databases[0]).toMatchObject({
      tables: 1,
      expectedTables: 2,
      ok: false,
      // The differences already name the table: no second reason for the count.
      reason: 'missing table pgmigrations',
    });
  });

  it('keeps database.expectedTables when it is set, and judges the count by it', async () => {
    const result = await verifyFleet(
      backend({ good: base(), a: base() }),
      options(['a'], { kind: 'tenant', tenant: 'good' }, 57),
    );
    expect(result.schema?.expectedTables).toEqual({ count: 57, from: 'config' });
    expect(result.databases[0]?.reason).toBe('2 tables, expected 57');
  });

  it('a reference tenant that does not exist fails verify', async () => {
    const result = await verifyFleet(
      backend({ good: null, a: base() }),
      options(['a'], { kind: 'tenant', tenant: 'good' }),
    );
    expect(result.databases[0]?.ok).toBe(true);
    expect(result.ok).toBe(false);
    expect(result.schema).toEqual({
      compared: false,
      reason: 'the reference tenant good does not exist',
      expectedTables: null,
    });
  });

  it('a backend that cannot make a scratch database says so, does not fail, and reads no schema', async () => {
    const seen: ProbeOptions[] = [];
    const result = await verifyFleet(
      backend({ a: base() }, seen),
      options(['a'], {
        kind: 'scratch',
        migration: { command: ['true'], timeoutMs: 1000, lockWaitMs: 0 },
      }),
    );
    expect(result.ok).toBe(true);
    expect(result.schema?.compared).toBe(false);
    expect(result.schema?.reason).toMatch(/cannot create a scratch database.*verify\.reference/);
    expect(seen).toEqual([{ fingerprint: false }]);
  });

  it('turned off: not compared, and the result says so; the probe is not asked for schemas', async () => {
    const seen: ProbeOptions[] = [];
    const result = await verifyFleet(
      backend({ a: drifted() }, seen),
      options(['a'], { kind: 'off', reason: 'verify.compareSchema is false' }),
    );
    expect(seen).toEqual([{ fingerprint: false }]);
    expect(result.ok).toBe(true);
    expect(result.schema).toEqual({
      compared: false,
      reason: 'verify.compareSchema is false',
      expectedTables: null,
    });
  });

  it('without a reference request, nothing about schemas is said (the checks between waves)', async () => {
    const result = await verifyFleet(backend({ a: drifted() }), options(['a']));
    expect(result.schema).toBeUndefined();
    expect(result.databases[0]?.schema).toBeUndefined();
  });
});

describe('scratch database names', () => {
  it('are berth_reference_ and 12 hex digits, never a tenant, and only they may be dropped', () => {
    const name = scratchName(['a']);
    expect(name).toMatch(/^berth_reference_[0-9a-f]{12}$/);
    expect(isScratchName(name)).toBe(true);
    expect(isScratchName('fintech_experiment')).toBe(false);
    expect(isScratchName('berth_reference_x')).toBe(false);
  });
});

describe('the probe line protocol carries the schema', () => {
  it('parses `schema` into the probe result as a fingerprint', () => {
    const line = formatProbeLine({
      database: 'a',
      exists: true,
      tables: 2,
      applied: ['0001'],
      schema: base(),
    });
    const report = parseProbeLine(line);
    expect(report).toMatchObject({ database: 'a', schema: base() });
    const probe = probeResultFrom(report!, ['0001']);
    expect(probe.fingerprint?.hash).toBe(fingerprintOf(base()).hash);
    expect(probe.fingerprint?.tables).toBe(2);
  });

  it('a line without `schema` stays valid (an older probe): no fingerprint', () => {
    const report = parseProbeLine(
      '::berth-probe {"database":"a","exists":true,"tables":2,"applied":[]}',
    );
    expect(probeResultFrom(report!, []).fingerprint).toBeUndefined();
  });

  it("a `schema` that is not the catalog query's shape makes the line an error for its database", () => {
    expect(
      parseProbeLine(
        '::berth-probe {"database":"a","exists":true,"tables":2,"applied":[],"schema":{"tables":3}}',
      ),
    ).toMatchObject({ database: 'a', error: expect.stringMatching(/invalid line/) as unknown });
  });
});

describe('verifyGoal', () => {
  it('says whether the schema was compared, and the count it held the tenants to', () => {
    expect(verifyGoal(57)).toBe('57 tables, nothing pending');
    expect(verifyGoal(undefined)).toBe('nothing pending, no drift');
    expect(
      verifyGoal(undefined, {
        compared: true,
        expectedTables: { count: 57, from: 'reference' },
      }),
    ).toBe("57 tables, nothing pending, schema as the reference's");
    expect(verifyGoal(undefined, { compared: false, reason: 'x', expectedTables: null })).toBe(
      'nothing pending, no drift, schema not compared',
    );
  });
});
