/** `berth migrate --plan --provider aws`: one probe wave in the VPC, no migration task. */
import { afterEach, describe, expect, it } from 'vitest';
import { migrateCommand } from '../../src/cli/commands/migrate.js';
import { ExitCode } from '../../src/core/exit-codes.js';
import type { FleetPlan } from '../../src/fleet/plan-fleet.js';
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

const kinds = () => h.fake.ecsTasks.started().map((t) => t.tags['berth:kind']);

describe('berth migrate --plan --provider aws', () => {
  it('reads the tenants with one probe wave, lists what is pending, starts no migration (exit 9)', async () => {
    h = await awsFleetHarness();
    expect(await migrateCommand(h.ctx(), { all: true, plan: true }, h.fleetDeps)).toBe(
      ExitCode.changesPending,
    );
    const [plan] = h.jsonLines<FleetPlan & { type: string }>();
    expect(plan?.type).toBe('plan');
    expect(plan?.databases.map((d) => [d.database, d.state, d.pending])).toEqual(
      DATABASES.map((d) => [d, 'pending', MIGRATIONS]),
    );
    expect(kinds()).toEqual(['probe']);
  });

  it('after a migrate, the plan is empty and exits 0', async () => {
    h = await awsFleetHarness();
    expect(await migrateCommand(h.ctx(), { all: true }, h.fleetDeps)).toBe(ExitCode.ok);
    h.jsonLines();
    const before = h.fake.ecsTasks.started().length;
    expect(await migrateCommand(h.ctx(), { all: true, plan: true }, h.fleetDeps)).toBe(ExitCode.ok);
    expect(
      h.fake.ecsTasks
        .started()
        .slice(before)
        .map((t) => t.tags['berth:kind']),
    ).toEqual(['probe']);
  });

  it('without task.probeCommand every tenant is unknown, never "nothing pending", and no task runs', async () => {
    h = await awsFleetHarness({ probe: false });
    expect(await migrateCommand(h.ctx(), { all: true, plan: true }, h.fleetDeps)).toBe(
      ExitCode.changesPending,
    );
    const [plan] = h.jsonLines<FleetPlan>();
    expect(plan?.counts).toMatchObject({ total: 3, unknown: 3, upToDate: 0 });
    expect(plan?.databases[0]?.pending).toBeNull();
    expect(plan?.databases[0]?.reason).toMatch(/probeCommand/);
    expect(kinds()).toEqual([]);
  });
});

describe('canary waves --provider aws', () => {
  it('a failing canary stops the rollout: one migration task, the rest skipped, exit 4', async () => {
    h = await awsFleetHarness();
    h.tenants.behaviour.set('startupwebapp_prod', { kind: 'fail', exitCode: 1 });
    expect(await migrateCommand(h.ctx(), { all: true, canary: 1 }, h.fleetDeps)).toBe(
      ExitCode.migrationFailed,
    );
    const lines = h.jsonLines<{
      type: string;
      database?: string;
      status?: string;
      wave?: number;
    }>();
    const summary = lines.at(-1) as unknown as {
      databases: { database: string; status: string; wave: number }[];
      waves: { state: string }[];
    };
    expect(summary.databases.map((d) => [d.database, d.status, d.wave])).toEqual([
      ['startupwebapp_prod', 'failed', 1],
      ['healthtech_experiment', 'skipped', 2],
      ['fintech_experiment', 'skipped', 2],
    ]);
    expect(summary.waves.map((w) => w.state)).toEqual(['failed', 'not-started']);
    expect(kinds().filter((k) => k === 'migrate')).toHaveLength(1);
  });

  it('a canary that migrates and verifies through the probe task lets the next wave start', async () => {
    h = await awsFleetHarness();
    expect(await migrateCommand(h.ctx(), { all: true, canary: 1 }, h.fleetDeps)).toBe(ExitCode.ok);
    expect(kinds().filter((k) => k === 'migrate')).toHaveLength(3);
    // The wave's verification was a probe task, not a check task per tenant.
    expect(kinds().filter((k) => k === 'check')).toHaveLength(0);
  });
});
