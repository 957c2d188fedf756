import { describe, expect, it } from 'vitest';
import { planFleet } from '../../src/fleet/plan-fleet.js';
import type { FleetBackend, ProbeResult } from '../../src/fleet/types.js';

const KNOWN = ['0001_a', '0002_b'];

function backend(probes: Record<string, Partial<ProbeResult>>): FleetBackend & { tasks: number } {
  const fake = {
    provider: 'local' as const,
    tasks: 0,
    runtime: {
      name: 'fake',
      run: () => {
        fake.tasks++;
        return Promise.reject(new Error('a plan must start no task'));
      },
    },
    migrations: () => Promise.resolve(KNOWN),
    prepare: (_d: string[], o: { create: boolean }) => {
      expect(o.create).toBe(false);
      return Promise.resolve();
    },
    probe: (databases: string[], onResult: (r: ProbeResult) => void) => {
      for (const database of databases) {
        const p = probes[database];
        if (p)
          onResult({
            database,
            exists: true,
            applied: [],
            pending: [],
            pendingKnown: true,
            ...p,
          });
      }
      return Promise.resolve();
    },
    lock: () => Promise.reject(new Error('a plan takes no lock')),
    taskEnvironment: () => ({}),
    close: () => Promise.resolve(),
  };
  return fake;
}

describe('planFleet', () => {
  it('lists each tenant’s pending migrations by name: up to date, one pending, fresh', async () => {
    const b = backend({
      done: { applied: KNOWN },
      one: { applied: ['0001_a'], pending: ['0002_b'] },
      fresh: { exists: false, pending: KNOWN },
    });
    const plan = await planFleet(b, { databases: ['done', 'one', 'fresh'] });
    expect(plan.databases.map((d) => [d.database, d.state, d.exists, d.pending])).toEqual([
      ['done', 'up-to-date', true, []],
      ['one', 'pending', true, ['0002_b']],
      ['fresh', 'pending', false, KNOWN],
    ]);
    expect(plan.counts).toEqual({ total: 3, upToDate: 1, pending: 2, unknown: 0, unreadable: 0 });
    expect(plan.upToDate).toBe(false);
    expect(b.tasks).toBe(0);
  });

  it('shows a tenant whose migrations berth cannot list as unknown, never as nothing pending', async () => {
    const plan = await planFleet(
      backend({
        blind: { pendingKnown: false, blind: 'no task.probeCommand' },
        nolist: { pendingKnown: false },
      }),
      { databases: ['blind', 'nolist'] },
    );
    expect(plan.databases.map((d) => [d.state, d.pending])).toEqual([
      ['unknown', null],
      ['unknown', null],
    ]);
    expect(plan.databases[0]?.reason).toBe('no task.probeCommand');
    expect(plan.databases[1]?.reason).toMatch(/cannot list the migrations/);
    expect(plan.upToDate).toBe(false);
  });

  it('an unreadable database, or one the probe never answered, is unreadable with the reason', async () => {
    const plan = await planFleet(backend({ bad: { error: 'connection refused' } }), {
      databases: ['bad', 'silent'],
    });
    expect(plan.databases.map((d) => [d.state, d.pending])).toEqual([
      ['unreadable', null],
      ['unreadable', null],
    ]);
    expect(plan.databases[0]?.reason).toContain('connection refused');
  });

  it('is up to date only when every tenant is known to be', async () => {
    const plan = await planFleet(backend({ a: { applied: KNOWN }, b: { applied: KNOWN } }), {
      databases: ['a', 'b'],
    });
    expect(plan.upToDate).toBe(true);
  });

  it('reports drift beside the plan', async () => {
    const plan = await planFleet(
      backend({ a: { applied: [...KNOWN, '0003_x'], unknown: ['0003_x'] } }),
      {
        databases: ['a'],
      },
    );
    expect(plan.databases[0]).toMatchObject({ state: 'up-to-date' });
    expect(plan.databases[0]?.reason).toMatch(/unknown to the code: 0003_x/);
  });
});
