/**
 * migrations.taskLock: psql — the lock that holds without a connection from the runner. Two
 * berth runs started at the same moment both look at the cluster before either has started a
 * task (the race the look cannot close); the tasks take each database's advisory lock inside
 * the VPC, so each migration runs once and the other run reports the database `locked`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { migrateCommand } from '../../../src/cli/commands/migrate.js';
import { ExitCode } from '../../../src/core/exit-codes.js';
import type { DatabaseResult } from '../../../src/fleet/types.js';
import { SimClock } from '../../../src/providers/aws/fake/sim-clock.js';
import {
  awsFleetHarness,
  DATABASES,
  MIGRATIONS,
  type AwsFleetHarness,
} from '../../support/aws-fleet.js';

let h: AwsFleetHarness;
afterEach(async () => {
  await h.cleanup();
});

interface Summary {
  type: 'summary';
  databases: DatabaseResult[];
}

describe('two runs at the same moment, with the task taking the lock', () => {
  it('runs each migration once: one run applies each database, the other reports it locked', async () => {
    h = await awsFleetHarness({ taskLock: true });
    // Both runs look at the cluster before either has a task on it.
    h.fake.clients.ecs.listTaskArns = () => Promise.resolve([]);
    const sim = new SimClock(h.fake.clock);
    const deps = { ...h.fleetDeps, clock: () => sim.now(), sleep: sim.sleep.bind(sim) };
    const codes = await sim.run(
      Promise.all([
        migrateCommand(h.ctx(), { all: true }, deps),
        migrateCommand(h.ctx(), { all: true }, deps),
      ]),
    );
    const summaries = h
      .jsonLines<{ type: string } & Partial<Summary>>()
      .filter((l): l is Summary => l.type === 'summary');
    expect(summaries).toHaveLength(2);

    // The tasks of both runs were started (the look raced), each under the lock wrapper.
    const migrations = h.fake.ecsTasks.started().filter((t) => t.tags['berth:kind'] === 'migrate');
    expect(migrations).toHaveLength(2 * DATABASES.length);
    for (const t of migrations) {
      expect(t.command.slice(0, 2)).toEqual(['sh', '-c']);
      expect(t.command[2]).toContain('pg_try_advisory_lock(1650815604, 1)');
    }
    for (const database of DATABASES) {
      const statuses = summaries
        .map((s) => s.databases.find((d) => d.database === database)?.status)
        .sort();
      expect(statuses).toEqual(['applied', 'locked']);
      for (const m of MIGRATIONS) expect(h.tenants.applyCount.get(`${database}/${m}`)).toBe(1);
    }
    const locked = summaries.flatMap((s) => s.databases).filter((d) => d.status === 'locked');
    expect(locked[0]?.reason).toBe(
      'another migration held its lock inside the VPC (advisory lock); this task did not migrate it',
    );
    expect(codes.sort()).toContain(ExitCode.locked);
  });

  it('without the task lock the same race runs two migration commands on each database (why the lock is needed)', async () => {
    h = await awsFleetHarness();
    h.fake.clients.ecs.listTaskArns = () => Promise.resolve([]);
    const sim = new SimClock(h.fake.clock);
    const deps = { ...h.fleetDeps, clock: () => sim.now(), sleep: sim.sleep.bind(sim) };
    await sim.run(
      Promise.all([
        migrateCommand(h.ctx(), { all: true }, deps),
        migrateCommand(h.ctx(), { all: true }, deps),
      ]),
    );
    // Both runs' commands ran on every database; the fake RDS applies atomically, a real one
    // would have had two migrators at work at once.
    const commands = h.fake.ecsTasks
      .started()
      .filter((t) => t.tags['berth:kind'] === 'migrate')
      .map((t) => t.environment.DATABASE_NAME);
    for (const database of DATABASES)
      expect(commands.filter((d) => d === database)).toHaveLength(2);
  });
});
