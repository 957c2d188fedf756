/** verifyFleet reports only what it observed. */
import { describe, expect, it } from 'vitest';
import { RecordingReporter } from '../../src/core/events.js';
import type { FleetBackend, ProbeResult } from '../../src/fleet/types.js';
import { verifyFleet } from '../../src/fleet/verify.js';

function backend(answer: (database: string) => ProbeResult | undefined): FleetBackend {
  return {
    provider: 'local',
    runtime: { name: 'none', run: () => Promise.reject(new Error('no task expected')) },
    migrations: () => Promise.resolve(['0001', '0002']),
    prepare: () => Promise.resolve(),
    probe: (databases, onResult) => {
      for (const d of databases) {
        const p = answer(d);
        if (p) onResult(p);
      }
      return Promise.resolve();
    },
    lock: () => Promise.resolve(undefined),
    taskEnvironment: () => ({}),
    close: () => Promise.resolve(),
  };
}

const options = (databases: string[]) => ({
  databases,
  expectedTables: 3,
  concurrency: 1,
  timeoutMs: 1000,
  reporter: new RecordingReporter(),
});

describe('verifyFleet', () => {
  it('a probe that failed is unknown with its reason, not "missing, 0 tables, 2 pending"', async () => {
    const result = await verifyFleet(
      backend((database) => ({
        database,
        exists: false,
        tables: 0,
        applied: [],
        pending: ['0001', '0002'],
        pendingKnown: true,
        error: 'connection refused',
      })),
      options(['a']),
    );
    expect(result.ok).toBe(false);
    expect(result.databases[0]).toMatchObject({
      exists: null,
      tables: null,
      pending: null,
      pendingMigrations: [],
      reason: 'could not read it: connection refused',
    });
  });

  it('a database the probe never answered for is unknown too', async () => {
    const result = await verifyFleet(
      backend(() => undefined),
      options(['a']),
    );
    expect(result.databases[0]).toMatchObject({ exists: null, pending: null, ok: false });
    expect(result.databases[0]?.reason).toMatch(/no answer/);
  });

  it('a database read complete is ok', async () => {
    const result = await verifyFleet(
      backend((database) => ({
        database,
        exists: true,
        tables: 3,
        applied: ['0001', '0002'],
        pending: [],
        pendingKnown: true,
      })),
      options(['a']),
    );
    expect(result.ok).toBe(true);
  });
});
