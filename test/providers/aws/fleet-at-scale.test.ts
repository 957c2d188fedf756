/**
 * A run of many tenants on the in-memory fake with AWS's rates enforced (ThrottlingException
 * over them), task starts of 30–60 s and logs that reach CloudWatch seconds late, on a
 * simulated clock: every line of every task reaches its log once, DescribeTasks is batched
 * across the run, logs are read without a GetLogEvents loop per task, and no throttle
 * reaches a result.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { migrateCommand } from '../../../src/cli/commands/migrate.js';
import { ExitCode } from '../../../src/core/exit-codes.js';
import type { DatabaseResult } from '../../../src/fleet/types.js';
import { AWS_RATE_LIMITS } from '../../../src/providers/aws/fake/fake-tasks.js';
import { SimClock } from '../../../src/providers/aws/fake/sim-clock.js';
import { awsFleetHarness, MIGRATIONS, type AwsFleetHarness } from '../../support/aws-fleet.js';

let h: AwsFleetHarness;
afterEach(async () => {
  await h.cleanup();
});

/** A seeded 0..1 generator (mulberry32), for repeatable start times. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function fleet(count: number) {
  const names = Array.from({ length: count }, (_v, i) => `tenant_${String(i).padStart(4, '0')}`);
  h = await awsFleetHarness({
    patch: (y) =>
      y.replace(
        'tenants: [startupwebapp_prod, healthtech_experiment, fintech_experiment]',
        `tenants: [${names.join(', ')}]`,
      ),
  });
  h.tenants.extraLines = 4;
  const tasks = h.fake.ecsTasks;
  // Rates lower than AWS's, so that even this run meets them.
  tasks.model = {
    startMs: [30_000, 60_000],
    logLagMs: [500, 8_000],
    runMs: [5_000, 20_000],
    limits: {
      ...AWS_RATE_LIMITS,
      filterLogEvents: { perSecond: 1, burst: 2 },
      describeTasks: { perSecond: 1, burst: 1 },
      runTask: { perSecond: 5, burst: 5 },
    },
    random: seeded(7),
  };
  const sim = new SimClock(h.fake.clock);
  const describeSizes: number[] = [];
  const ecs = h.fake.clients.ecs;
  const describe = ecs.describeTasks.bind(ecs);
  ecs.describeTasks = (cluster, arns) => {
    describeSizes.push(arns.length);
    return describe(cluster, arns);
  };
  const deps = { ...h.fleetDeps, clock: () => sim.now(), sleep: sim.sleep.bind(sim) };
  return { names, sim, deps, describeSizes };
}

describe('a fleet on the fake with quotas, latency and late logs', () => {
  it('migrates 240 tenants, one task each: every line once, DescribeTasks batched, no GetLogEvents loop, throttles retried', async () => {
    const { names, sim, deps, describeSizes } = await fleet(240);
    const code = await sim.run(
      migrateCommand(h.ctx(), { all: true, concurrency: 240, batchSize: 1 }, deps),
    );
    const lines = h.jsonLines<{ type: string; databases?: DatabaseResult[] }>();
    const summary = lines.at(-1);
    expect(code).toBe(ExitCode.ok);
    expect(summary?.databases?.map((d) => d.status)).toEqual(names.map(() => 'applied'));

    // Every line each task printed, once and in order, though the rates were exceeded.
    for (const result of summary?.databases ?? []) {
      const log = await readFile(
        path.join(h.dir, '.berth', 'logs', `${result.taskId ?? ''}.log`),
        'utf8',
      );
      const expected = MIGRATIONS.flatMap((m) => [
        `Applying ${m}`,
        ...[1, 2, 3, 4].map((i) => `  ${m}: statement ${i}`),
      ]);
      expect(log.split('\n').filter(Boolean)).toEqual([
        ...expected,
        `Applied 3 migration(s) to ${result.database}`,
      ]);
    }
    const throttles = h.fake.ecsTasks.throttles;
    expect(Object.values(throttles).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);

    const count = (method: string) => h.fake.calls.filter((c) => c.method === method).length;
    const tasks = h.fake.ecsTasks.started().length;
    // 240 tasks polled together: at most 100 per call, far fewer calls than one loop per task.
    expect(Math.max(...describeSizes)).toBeLessThanOrEqual(100);
    expect(Math.max(...describeSizes)).toBeGreaterThan(20);
    expect(count('describeTasks')).toBeLessThan(tasks);
    // Logs: FilterLogEvents across streams; GetLogEvents only to backfill (none here: all exit 0).
    expect(count('getLogEvents')).toBe(0);
    expect(count('filterLogEvents')).toBeLessThan(tasks);
  }, 60_000);
});
