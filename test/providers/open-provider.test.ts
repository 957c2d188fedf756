/**
 * berth as a library: a program opens a provider and does what the CLI does, on the aws
 * provider against the in-memory AWS fake (no CLI, no stdout scraping). The fake stands in
 * for ECS running containers, which neither moto nor anything else here can do.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RecordingReporter } from '../../src/core/events.js';
import { migrateOptions, verifyOptions } from '../../src/fleet/fleet-options.js';
import { migrateFleet } from '../../src/fleet/run-fleet.js';
import { verifyFleet } from '../../src/fleet/verify.js';
import { openProvider } from '../../src/providers/open-provider.js';
import type { Provider } from '../../src/providers/provider.js';
import {
  DATABASES,
  MIGRATIONS,
  awsFleetHarness,
  fakeGit,
  type AwsFleetHarness,
} from '../support/aws-fleet.js';

let h: AwsFleetHarness;
afterEach(async () => {
  await h.cleanup();
});

async function aws(reporter = new RecordingReporter()): Promise<Provider> {
  return openProvider(h.loaded, {
    name: 'aws',
    reporter,
    createClients: () => h.fake.clients,
    env: {},
    exec: fakeGit,
    clock: {
      now: () => h.fake.clock.now(),
      sleep: async (ms) => {
        h.fake.clock.advance(ms);
        await new Promise((resolve) => setImmediate(resolve));
      },
    },
  });
}

describe('openProvider (aws, against the fake)', () => {
  it('migrates and verifies the fleet through the library, then finds it up to date', async () => {
    h = await awsFleetHarness();
    const provider = await aws();
    expect(provider.name).toBe('aws');
    expect(provider.server).toBeUndefined();
    const databases = await provider.tenants();
    expect(databases).toEqual(DATABASES);
    const fleet = await provider.openFleet({ purpose: 'migrate' });
    expect(await fleet.where()).toMatch(/^ECS Fargate, .+:\d+$/);
    const call = { databases, reporter: new RecordingReporter() };
    const first = await migrateFleet(
      fleet.backend,
      migrateOptions(h.loaded.config, provider.state.paths.runs, call),
    );
    expect(first.counts).toMatchObject({ total: 3, applied: 3 });
    expect(first.databases.every((d) => d.applied.join() === MIGRATIONS.join())).toBe(true);
    const verified = await verifyFleet(fleet.backend, verifyOptions(h.loaded.config, call));
    expect(verified.ok).toBe(true);
    const second = await migrateFleet(
      (await provider.openFleet({ purpose: 'migrate' })).backend,
      migrateOptions(h.loaded.config, provider.state.paths.runs, call),
    );
    expect(second.counts.upToDate).toBe(3);
  });

  it('lists and logs its tasks, and has the stack operations', async () => {
    h = await awsFleetHarness();
    const provider = await aws();
    const fleet = await provider.openFleet({ purpose: 'migrate' });
    const result = await migrateFleet(
      fleet.backend,
      migrateOptions(h.loaded.config, provider.state.paths.runs, {
        databases: ['healthtech_experiment'],
        reporter: new RecordingReporter(),
      }),
    );
    const taskId = result.databases[0]?.taskId ?? '';
    const listing = await provider.tasks.list({});
    expect(listing.cluster).toBe(h.loaded.config.cluster.name);
    expect(listing.tasks.map((t) => t.id)).toContain(taskId);
    const log = await provider.tasks.log(taskId);
    const lines: string[] = [];
    for await (const line of log.lines) lines.push(line);
    expect(lines).toContain('Applying 0001_auth');
    expect((await provider.tasks.planStop({ ids: [], all: true })).targets).toEqual([]);
    const plan = await provider.stack?.plan();
    expect(plan?.pending).toBe(false);
    const status = await provider.status();
    expect(status.kind).toBe('stack');
  });

  it('refuses a local-only option before any AWS call', async () => {
    h = await awsFleetHarness();
    const provider = await aws();
    h.fake.resetCalls();
    await expect(
      provider.checkFleetRequest({ purpose: 'migrate', runtime: 'process' }),
    ).rejects.toMatchObject({ code: 'USAGE' });
    expect(h.fake.calls).toEqual([]);
  });
});

describe('openProvider (local)', () => {
  it('opens the local provider without starting anything, with its server capability', async () => {
    h = await awsFleetHarness();
    const provider = await openProvider(h.loaded, {
      name: 'local',
      reporter: new RecordingReporter(),
    });
    expect(provider.name).toBe('local');
    expect(provider.stack).toBeUndefined();
    expect(provider.server).toBeDefined();
    expect(provider.registry.required).toBe(false);
    expect((await provider.tasks.list({})).tasks).toEqual([]);
  });
});
