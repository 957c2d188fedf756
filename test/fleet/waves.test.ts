import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RecordingReporter } from '../../src/core/events.js';
import { selectRunDatabases } from '../../src/fleet/select-run.js';
import type { FleetBackend, ProbeResult } from '../../src/fleet/types.js';
import { migrateInWaves, planWaves, remainingWaves } from '../../src/fleet/waves.js';
import { listRuns, readRun } from '../../src/state/journal.js';
import type { TaskOutcome, TaskSpec } from '../../src/tasks/task.js';
import { tempDir } from '../support/temp-dir.js';

const KNOWN = ['0001_a'];
const names = (n: number) => Array.from({ length: n }, (_, i) => `t${String(i).padStart(2, '0')}`);

/** In-memory tenants; a task migrates its database unless it is in `failing`. */
function fakeFleet(dir: string) {
  const applied = new Set<string>();
  const failing = new Set<string>();
  const specs: TaskSpec[] = [];
  /** Databases whose probe after a migration still says pending (a lying migrate). */
  const stale = new Set<string>();
  let pendingKnown = true;
  const read = (database: string): ProbeResult => ({
    database,
    exists: true,
    tables: applied.has(database) ? 1 : 0,
    applied: applied.has(database) ? KNOWN : [],
    pending: applied.has(database) && !stale.has(database) ? [] : KNOWN,
    pendingKnown,
  });
  const backend: FleetBackend = {
    provider: 'local',
    runtime: {
      name: 'fake',
      run: async (spec: TaskSpec): Promise<TaskOutcome> => {
        specs.push(spec);
        const database = spec.environment.DATABASE_NAME ?? '';
        const fails = failing.has(database);
        if (!fails) applied.add(database);
        const logFile = path.join(dir, `${spec.id}.log`);
        await writeFile(logFile, fails ? 'ERROR: boom\n' : 'ok\n');
        return { id: spec.id, exitCode: fails ? 1 : 0, timedOut: false, logFile, durationMs: 1 };
      },
    },
    migrations: () => Promise.resolve(KNOWN),
    prepare: () => Promise.resolve(),
    probe: (databases, onResult) => {
      for (const d of databases) onResult(read(d));
      return Promise.resolve();
    },
    lock: () => Promise.resolve({ release: () => Promise.resolve() }),
    taskEnvironment: () => ({}),
    close: () => Promise.resolve(),
  };
  return {
    backend,
    applied,
    failing,
    specs,
    stale,
    setPendingKnown: (v: boolean) => (pendingKnown = v),
  };
}

async function setup() {
  const dir = await tempDir('berth-unit-waves-');
  return { ...fakeFleet(dir), runsDir: path.join(dir, 'runs') };
}

const options = (runsDir: string, databases: string[], extra: Record<string, unknown> = {}) => ({
  databases,
  command: ['migrate'],
  concurrency: 2,
  onError: 'continue' as const,
  batchSize: 1,
  lockWaitMs: 0,
  timeoutMs: 1000,
  runsDir,
  reporter: new RecordingReporter(),
  ...extra,
});

describe('planWaves', () => {
  it('reads waves as cumulative sizes, counts or percentages rounded up, every tenant in one wave', () => {
    expect(planWaves(names(20), { waves: [1, '10%', '100%'] })).toEqual([
      { wave: 1, databases: ['t00'] },
      { wave: 2, databases: ['t01'] },
      { wave: 3, databases: names(20).slice(2) },
    ]);
    // Sizes that leave tenants over: they form a last wave; empty waves drop out.
    expect(planWaves(names(3), { waves: [1, 1, '50%'] })).toEqual([
      { wave: 1, databases: ['t00'] },
      { wave: 2, databases: ['t01'] },
      { wave: 3, databases: ['t02'] },
    ]);
  });

  it('rollout.canary is a first wave by name, in fleet order; --canary N the first N', () => {
    expect(planWaves(names(4), { canary: ['t02'] })).toEqual([
      { wave: 1, databases: ['t02'] },
      { wave: 2, databases: ['t00', 't01', 't03'] },
    ]);
    expect(planWaves(names(4), { canary: ['t02'], canaryCount: 2 })).toEqual([
      { wave: 1, databases: ['t00', 't01'] },
      { wave: 2, databases: ['t02', 't03'] },
    ]);
    expect(planWaves(names(4), {})).toBeUndefined();
  });

  it('a canary name that is not a tenant is a config error, not a silent run without canary', () => {
    expect(() => planWaves(names(2), { canary: ['t9'] }, names(2))).toThrow(
      /rollout.canary names t9, which is not a tenant/,
    );
  });

  it('a resume keeps the remaining databases in their waves; done waves drop out', () => {
    const waves = [
      { wave: 1, databases: ['a'] },
      { wave: 2, databases: ['b', 'c'] },
      { wave: 3, databases: ['d'] },
    ];
    expect(remainingWaves(waves, ['c', 'd'])).toEqual([
      { wave: 2, databases: ['c'] },
      { wave: 3, databases: ['d'] },
    ]);
  });
});

describe('migrateInWaves', () => {
  it('runs wave after wave, each result showing its wave, one run and journal', async () => {
    const f = await setup();
    const waves = planWaves(names(5), { waves: [1, '40%'] });
    const result = await migrateInWaves(f.backend, { ...options(f.runsDir, names(5)), waves });
    expect(result.ok).toBe(true);
    expect(result.databases.map((d) => [d.database, d.status, d.wave])).toEqual([
      ['t00', 'applied', 1],
      ['t01', 'applied', 2],
      ['t02', 'applied', 3],
      ['t03', 'applied', 3],
      ['t04', 'applied', 3],
    ]);
    expect(result.waves?.map((w) => w.state)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    const runs = await listRuns(f.runsDir);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ state: 'finished', waves });
    const { results } = await readRun(f.runsDir, result.runId);
    expect(results.map((r) => r.wave)).toEqual([1, 2, 3, 3, 3]);
  });

  it('a canary that fails: no later wave starts, the rest are skipped with the reason', async () => {
    const f = await setup();
    f.failing.add('t00');
    const waves = planWaves(names(4), { canaryCount: 1 });
    const result = await migrateInWaves(f.backend, {
      ...options(f.runsDir, names(4), { maxFailures: 'unlimited' }),
      waves,
    });
    expect(result.counts).toMatchObject({ failed: 1, skipped: 3, applied: 0 });
    expect(f.specs).toHaveLength(1);
    expect(result.databases[1]).toMatchObject({
      status: 'skipped',
      wave: 2,
      reason: 'not started: wave 1 did not succeed (1 failed, 0 locked, 0 skipped)',
    });
    expect(result.waves?.map((w) => w.state)).toEqual(['failed', 'not-started']);
    expect((await listRuns(f.runsDir))[0]).toMatchObject({ state: 'finished', stoppedAtWave: 1 });
  });

  it('a wave whose tenant does not verify stops the run before the next wave', async () => {
    const f = await setup();
    f.stale.add('t00');
    // exit 0 with the probe still seeing it pending is already a failure; a wave can also
    // fail verification on tables: expect 2 tables where the fake has 1.
    const waves = planWaves(names(3), { canaryCount: 1 });
    const result = await migrateInWaves(f.backend, {
      ...options(f.runsDir, names(3)),
      waves,
      waveCheck: { expectedTables: 2 },
    });
    expect(result.waves?.[0]?.state).toBe('failed');
    const g = await setup();
    const second = await migrateInWaves(g.backend, {
      ...options(g.runsDir, names(3)),
      waves,
      waveCheck: { expectedTables: 2 },
    });
    expect(second.waves?.map((w) => w.state)).toEqual(['unverified', 'not-started']);
    expect(second.waves?.[0]?.reason).toBe('t00: 1 tables, expected 2');
    expect(second.databases[1]?.reason).toBe(
      'not started: wave 1 did not verify (t00: 1 tables, expected 2)',
    );
    expect(g.specs).toHaveLength(1);
  });

  it('a wave berth cannot verify (pending unknown, no check command) is unverified, never assumed fine', async () => {
    const f = await setup();
    f.setPendingKnown(false);
    const result = await migrateInWaves(f.backend, {
      ...options(f.runsDir, names(2)),
      waves: planWaves(names(2), { canaryCount: 1 }),
    });
    expect(result.waves?.[0]).toMatchObject({ state: 'unverified' });
    expect(result.waves?.[0]?.reason).toMatch(/cannot tell whether migrations are pending/);
    expect(result.counts).toMatchObject({ applied: 1, skipped: 1 });
  });

  it('where the probe cannot tell, the check command verifies those tenants', async () => {
    const f = await setup();
    f.setPendingKnown(false);
    const result = await migrateInWaves(f.backend, {
      ...options(f.runsDir, names(2)),
      waves: planWaves(names(2), { canaryCount: 1 }),
      waveCheck: { checkCommand: ['migrate', '--check'] },
    });
    expect(result.waves?.map((w) => w.state)).toEqual(['succeeded', 'succeeded']);
    expect(f.specs.filter((s) => s.kind === 'check').map((s) => s.databases)).toEqual([['t00']]);
  });

  it('--resume continues a stopped run from the wave where it stopped, once the migration is fixed', async () => {
    const f = await setup();
    f.failing.add('t01');
    const all = names(5);
    const waves = planWaves(all, { waves: [1, 2] });
    const first = await migrateInWaves(f.backend, { ...options(f.runsDir, all), waves });
    expect(first.waves?.map((w) => w.state)).toEqual(['succeeded', 'failed', 'not-started']);
    f.failing.clear();
    const selected = await selectRunDatabases({ resume: true }, f.runsDir, () =>
      Promise.resolve(all),
    );
    expect(selected.databases).toEqual(['t01', 't02', 't03', 't04']);
    expect(selected.waves).toEqual([
      { wave: 2, databases: ['t01'] },
      { wave: 3, databases: ['t02', 't03', 't04'] },
    ]);
    const second = await migrateInWaves(f.backend, {
      ...options(f.runsDir, selected.databases, { resumedFrom: selected.resumed?.runId }),
      waves: selected.waves,
    });
    expect(second.ok).toBe(true);
    expect(second.databases.map((d) => [d.database, d.wave])).toEqual([
      ['t01', 2],
      ['t02', 3],
      ['t03', 3],
      ['t04', 3],
    ]);
    const runs = await listRuns(f.runsDir);
    expect(runs.map((r) => r.state)).toEqual(['resumed', 'finished']);
    // Each wave run records its berth process (runStatus tells a killed run from a live one).
    expect(runs.map((r) => r.berth?.pid)).toEqual([process.pid, process.pid]);
  });
});
