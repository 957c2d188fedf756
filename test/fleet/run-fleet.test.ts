import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RecordingReporter } from '../../src/core/events.js';
import { selectRunDatabases } from '../../src/fleet/select-run.js';
import { migrateFleet } from '../../src/fleet/run-fleet.js';
import { listRuns } from '../../src/state/journal.js';
import type { Claim, FleetBackend, Lease, ProbeResult } from '../../src/fleet/types.js';
import type { TaskOutcome, TaskSpec } from '../../src/tasks/task.js';
import { tempDir } from '../support/temp-dir.js';

const MIGRATIONS = ['0001_a', '0002_b'];

/** An in-memory fleet: each database's applied list, and a task that "migrates" by script. */
class FakeBackend implements FleetBackend {
  readonly provider = 'local' as const;
  readonly applied = new Map<string, string[]>();
  readonly locked = new Set<string>();
  readonly specs: TaskSpec[] = [];
  unreadable = new Set<string>();
  /** How long each task "runs": long enough for claims to run ahead of the batches. */
  taskMs = 0;
  constructor(
    private readonly dir: string,
    private readonly behave: (
      spec: TaskSpec,
      backend: FakeBackend,
    ) => { exitCode: number | null; log: string[]; stoppedReason?: string },
  ) {}
  runtime = {
    name: 'fake',
    run: async (spec: TaskSpec): Promise<TaskOutcome> => {
      this.specs.push(spec);
      if (this.taskMs > 0) await new Promise((r) => setTimeout(r, this.taskMs));
      const { exitCode, log, stoppedReason } = this.behave(spec, this);
      const logFile = path.join(this.dir, `${spec.id}.log`);
      await writeFile(logFile, log.map((l) => `${l}\n`).join(''));
      return {
        id: spec.id,
        exitCode,
        timedOut: false,
        logFile,
        durationMs: 1,
        ...(stoppedReason ? { stoppedReason } : {}),
      };
    },
  };
  migrations = () => Promise.resolve(MIGRATIONS);
  prepare = () => Promise.resolve();
  probe = (databases: string[], onResult: (r: ProbeResult) => void) => {
    for (const database of databases) onResult(this.read(database));
    return Promise.resolve();
  };
  lock = (database: string): Promise<Lease | undefined> => {
    if (this.locked.has(database)) return Promise.resolve(undefined);
    return Promise.resolve({ release: () => Promise.resolve() });
  };
  taskEnvironment = () => ({ SECRETLESS: '1' });
  close = () => Promise.resolve();
  read(database: string): ProbeResult {
    const applied = this.applied.get(database) ?? [];
    if (this.unreadable.has(database))
      return {
        database,
        exists: false,
        tables: 0,
        applied: [],
        pending: MIGRATIONS,
        pendingKnown: true,
        error: 'connection refused',
      };
    return {
      database,
      exists: true,
      tables: applied.length,
      applied,
      pending: MIGRATIONS.filter((m) => !applied.includes(m)),
      pendingKnown: true,
    };
  }
  migrate(database: string, upTo = MIGRATIONS.length): void {
    this.applied.set(database, MIGRATIONS.slice(0, upTo));
  }
}

/**
 * A provider that claims (local's shape): one "connection" per claim that takes the lock and
 * probes. Counts the connections open at once and every lock() call.
 */
class ClaimingBackend extends FakeBackend {
  readonly claimConcurrency = 4;
  open = 0;
  peakOpen = 0;
  lockCalls: string[] = [];
  failClaim = new Set<string>();
  private connect(): void {
    this.open++;
    this.peakOpen = Math.max(this.peakOpen, this.open);
  }
  claim = async (database: string): Promise<Claim> => {
    this.connect();
    await new Promise((r) => setTimeout(r, 1));
    if (this.failClaim.has(database)) {
      this.open--;
      throw new Error('the server closed the connection');
    }
    const probe = this.read(database);
    if (this.locked.has(database) || probe.error) {
      this.open--;
      return { probe };
    }
    let released = false;
    return {
      probe,
      lease: {
        probe: () => Promise.resolve(this.read(database)),
        release: () => {
          if (released) throw new Error(`lease on ${database} released twice`);
          released = true;
          this.open--;
          return Promise.resolve();
        },
      },
    };
  };
  override lock = (database: string): Promise<Lease | undefined> => {
    this.lockCalls.push(database);
    return Promise.resolve(undefined);
  };
}

/** A batch task that migrates every database it was given, with berth's markers. */
const migrateBatch = (spec: TaskSpec, b: FakeBackend) => {
  const log: string[] = [];
  for (const database of spec.databases) {
    b.migrate(database);
    log.push(`::berth-begin ${database}`, 'Applying 0001_a', `::berth-end ${database} 0`);
  }
  return { exitCode: 0, log };
};

async function claimingFleet(behave: ConstructorParameters<typeof FakeBackend>[1]) {
  const dir = await tempDir('berth-unit-fleet-');
  return { backend: new ClaimingBackend(dir, behave), runsDir: path.join(dir, 'runs') };
}

async function fleet(behave: ConstructorParameters<typeof FakeBackend>[1]) {
  const dir = await tempDir('berth-unit-fleet-');
  return { backend: new FakeBackend(dir, behave), runsDir: path.join(dir, 'runs') };
}

const options = (
  runsDir: string,
  databases: string[],
  extra: Partial<Parameters<typeof migrateFleet>[1]> = {},
) => ({
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

describe('migrateFleet', () => {
  it('sets DATABASE_NAME per task and reports exactly what each task applied', async () => {
    const { backend, runsDir } = await fleet((spec, b) => {
      b.migrate(spec.environment.DATABASE_NAME ?? '');
      return { exitCode: 0, log: ['ok'] };
    });
    backend.migrate('b', 1);
    const result = await migrateFleet(backend, options(runsDir, ['a', 'b']));
    expect(result.ok).toBe(true);
    expect(result.databases.map((d) => [d.database, d.status, d.applied])).toEqual([
      ['a', 'applied', MIGRATIONS],
      ['b', 'applied', ['0002_b']],
    ]);
    expect(backend.specs.map((s) => s.environment.DATABASE_NAME).sort()).toEqual(['a', 'b']);
  });

  it("gives the app's batch command DATABASE_NAMES, DATABASE_NAME (the first), BERTH_ON_ERROR, and BERTH_LOCK_HELD only where the runner holds the locks", async () => {
    const { backend, runsDir } = await fleet(migrateBatch);
    const batch = { batchSize: 3, batchCommand: ['python', 'manage.py', 'berth_migrate'] };
    await migrateFleet(backend, options(runsDir, ['a', 'b', 'c'], batch));
    expect(backend.specs.map((s) => [s.command, s.environment])).toEqual([
      [
        batch.batchCommand,
        {
          SECRETLESS: '1',
          DATABASE_NAMES: 'a,b,c',
          DATABASE_NAME: 'a',
          BERTH_ON_ERROR: 'continue',
          BERTH_LOCK_HELD: '1',
        },
      ],
    ]);
    // A backend whose tasks take the lock themselves (aws): the command must take it.
    const aws = await fleet(migrateBatch);
    Object.assign(aws.backend, { tasksTakeLock: true });
    await migrateFleet(
      aws.backend,
      options(aws.runsDir, ['a', 'b'], { ...batch, onError: 'stop' }),
    );
    expect(aws.backend.specs[0]?.environment).toEqual({
      SECRETLESS: '1',
      DATABASE_NAMES: 'a,b',
      DATABASE_NAME: 'a',
      BERTH_ON_ERROR: 'stop',
    });
  });

  it('starts no task for up-to-date databases (the fast path)', async () => {
    const { backend, runsDir } = await fleet(() => ({ exitCode: 0, log: [] }));
    backend.migrate('a');
    backend.migrate('b');
    const result = await migrateFleet(backend, options(runsDir, ['a', 'b']));
    expect(result.counts.upToDate).toBe(2);
    expect(backend.specs).toHaveLength(0);
  });

  it('a task that never ran to an exit is a failure with its stopped reason, never a success', async () => {
    const { backend, runsDir } = await fleet(() => ({
      exitCode: null,
      log: [],
      stoppedReason: 'CannotPullContainerError: image not found',
    }));
    const result = await migrateFleet(backend, options(runsDir, ['a']));
    expect(result.databases[0]).toMatchObject({
      status: 'failed',
      exitCode: null,
      reason: 'CannotPullContainerError: image not found',
    });
  });

  it('exit 0 with migrations still pending is reported failed, not applied', async () => {
    const { backend, runsDir } = await fleet(() => ({ exitCode: 0, log: ['did nothing'] }));
    const result = await migrateFleet(backend, options(runsDir, ['a']));
    expect(result.databases[0]?.status).toBe('failed');
    expect(result.databases[0]?.reason).toMatch(/exited 0 but 2 migration\(s\) are still pending/);
  });

  it('an unreadable database fails with the reason and does not stop the others', async () => {
    const { backend, runsDir } = await fleet((spec, b) => {
      b.migrate(spec.environment.DATABASE_NAME ?? '');
      return { exitCode: 0, log: [] };
    });
    backend.unreadable.add('a');
    const result = await migrateFleet(backend, options(runsDir, ['a', 'b']));
    expect(result.databases.map((d) => [d.database, d.status])).toEqual([
      ['a', 'failed'],
      ['b', 'applied'],
    ]);
    expect(result.databases[0]?.reason).toContain('connection refused');
  });

  it('a database locked elsewhere is reported locked and gets no task', async () => {
    const { backend, runsDir } = await fleet(() => ({ exitCode: 0, log: [] }));
    backend.locked.add('a');
    const result = await migrateFleet(backend, options(runsDir, ['a']));
    expect(result.databases[0]?.status).toBe('locked');
    expect(backend.specs).toHaveLength(0);
  });

  it('an abort before a batch starts reports its databases skipped', async () => {
    const controller = new AbortController();
    const { backend, runsDir } = await fleet((spec, b) => {
      b.migrate(spec.environment.DATABASE_NAME ?? '');
      controller.abort();
      return { exitCode: 0, log: [] };
    });
    const result = await migrateFleet(
      backend,
      options(runsDir, ['a', 'b', 'c'], { concurrency: 1, signal: controller.signal }),
    );
    expect(result.databases.map((d) => d.status)).toEqual(['applied', 'skipped', 'skipped']);
    expect(result.ok).toBe(false);
  });

  it('emits one database-finished event per database with running counts', async () => {
    const reporter = new RecordingReporter();
    const { backend, runsDir } = await fleet((spec, b) => {
      b.migrate(spec.environment.DATABASE_NAME ?? '');
      return { exitCode: 0, log: [] };
    });
    await migrateFleet(backend, options(runsDir, ['a', 'b', 'c'], { reporter }));
    const finished = reporter.events.filter((e) => e.type === 'database-finished');
    expect(finished).toHaveLength(3);
    expect(
      finished.map((e) => (e.type === 'database-finished' ? e.counts.total : 0)).sort(),
    ).toEqual([1, 2, 3]);
  });

  it('counts the databases no probe could see into as not known, not as pending', async () => {
    const reporter = new RecordingReporter();
    const { backend, runsDir } = await fleet((spec, b) => {
      b.migrate(spec.environment.DATABASE_NAME ?? '');
      return { exitCode: 0, log: [] };
    });
    backend.migrate('a');
    const read = backend.read.bind(backend);
    // c is read as aws reads a database without task.probeCommand: blind.
    backend.read = (database) =>
      database === 'c'
        ? { ...read(database), blind: 'no probe command', pendingKnown: false, pending: [] }
        : read(database);
    await migrateFleet(backend, options(runsDir, ['a', 'b', 'c'], { reporter }));
    const probed = reporter.events.filter((e) => e.type === 'fleet-probed');
    expect(
      probed.map(({ pending, upToDate, missing, unknown }) => ({
        pending,
        upToDate,
        missing,
        unknown,
      })),
    ).toEqual([{ pending: 1, upToDate: 1, missing: 0, unknown: 1 }]);
  });

  it('says what a batch waits for when its locks take a while, and nothing when they do not', async () => {
    const waited = async (lockMs: number) => {
      const reporter = new RecordingReporter();
      const { backend, runsDir } = await fleet((spec, b) => {
        b.migrate(spec.environment.DATABASE_NAME ?? '');
        return { exitCode: 0, log: [] };
      });
      backend.lock = async () => {
        await new Promise((r) => setTimeout(r, lockMs));
        return { release: () => Promise.resolve() };
      };
      const result = await migrateFleet(
        backend,
        options(runsDir, ['a'], { reporter, lockWaitMs: 30_000, lockNoticeMs: 50 }),
      );
      expect(result.ok).toBe(true);
      return reporter.events.flatMap((e) => (e.type === 'message' ? [e.text] : []));
    };
    expect(await waited(200)).toEqual([
      'waiting up to 30s for the migration lock of a: another run, or a task of a berth that was stopped, still holds it',
    ]);
    expect(await waited(0)).toEqual([]);
  });

  describe('with a provider that claims databases', () => {
    const names = (n: number) =>
      Array.from({ length: n }, (_, i) => `t${String(i).padStart(3, '0')}`);

    it('holds each database with work from its claim until its batch ran, within the gate, and releases every one', async () => {
      const { backend, runsDir } = await claimingFleet(migrateBatch);
      backend.taskMs = 20;
      const databases = names(60);
      for (const d of databases.slice(0, 10)) backend.migrate(d);
      const result = await migrateFleet(
        backend,
        options(runsDir, databases, { concurrency: 2, batchSize: 5 }),
      );
      expect(result.ok).toBe(true);
      expect(result.counts).toMatchObject({ upToDate: 10, applied: 50 });
      // Up-to-date databases got no task; every other one exactly one, in batches of 5.
      expect(backend.specs.flatMap((s) => s.databases).sort()).toEqual(databases.slice(10));
      expect(backend.specs.every((s) => s.databases.length === 5)).toBe(true);
      // Claimed databases were already locked: no second connection to lock them.
      expect(backend.lockCalls).toEqual([]);
      // The running batches and the next one, claims in flight included: (2 + 1) × 5. Each
      // held connection is an idle backend that reads every catalog invalidation the tasks'
      // DDL sends, so not one more is held.
      expect(backend.peakOpen).toBeGreaterThan(5);
      expect(backend.peakOpen).toBeLessThanOrEqual(15);
      expect(backend.open).toBe(0);
    });

    it('still probes claimConcurrency databases at a time when batches are small', async () => {
      const { backend, runsDir } = await claimingFleet(migrateBatch);
      const databases = names(40);
      for (const d of databases) backend.migrate(d);
      const result = await migrateFleet(
        backend,
        options(runsDir, databases, { concurrency: 1, batchSize: 1 }),
      );
      expect(result.counts.upToDate).toBe(40);
      // (1 + 1) × 1 would probe two at a time: the gate is at least the claim concurrency (4).
      expect(backend.peakOpen).toBe(4);
    });

    it('keeps within the connections the server has left, never deadlocking on a partial batch', async () => {
      const { backend, runsDir } = await claimingFleet(migrateBatch);
      backend.taskMs = 20;
      const withBudget = Object.assign(backend, { connectionBudget: () => Promise.resolve(8) });
      const result = await migrateFleet(
        withBudget,
        options(runsDir, names(23), { concurrency: 2, batchSize: 5 }),
      );
      expect(result.counts.applied).toBe(23);
      // 8 connections: one task at a time (5 locks + its own), 7 held at most.
      expect(backend.peakOpen).toBeLessThanOrEqual(7);
      expect(backend.open).toBe(0);
    });

    it('a database locked elsewhere at claim time waits for the lock the usual way (then locked)', async () => {
      const { backend, runsDir } = await claimingFleet(migrateBatch);
      backend.locked.add('t001');
      const result = await migrateFleet(backend, options(runsDir, names(3), { batchSize: 3 }));
      expect(result.databases.map((d) => [d.database, d.status])).toEqual([
        ['t000', 'applied'],
        ['t001', 'locked'],
        ['t002', 'applied'],
      ]);
      expect(backend.lockCalls).toEqual(['t001']);
      expect(backend.open).toBe(0);
    });

    it('a claim that throws fails that database only', async () => {
      const { backend, runsDir } = await claimingFleet(migrateBatch);
      backend.failClaim.add('t000');
      const result = await migrateFleet(backend, options(runsDir, names(2), { batchSize: 2 }));
      expect(result.databases.map((d) => [d.database, d.status])).toEqual([
        ['t000', 'failed'],
        ['t001', 'applied'],
      ]);
      expect(result.databases[0]?.reason).toContain('the server closed the connection');
      expect(backend.open).toBe(0);
    });

    it('an abort while databases are held skips the rest and releases every lease', async () => {
      const controller = new AbortController();
      const { backend, runsDir } = await claimingFleet((spec, b) => {
        controller.abort();
        return migrateBatch(spec, b);
      });
      const result = await migrateFleet(
        backend,
        options(runsDir, names(40), { concurrency: 1, batchSize: 5, signal: controller.signal }),
      );
      expect(result.counts.applied).toBe(5);
      expect(result.counts.skipped).toBe(35);
      expect(backend.open).toBe(0);
    });
  });
});

describe('migrateFleet: the run journal', () => {
  it('records the berth process that runs it, so a SIGKILLed run can be told from a running one', async () => {
    const { backend, runsDir } = await fleet((spec, b) => {
      b.migrate(spec.environment.DATABASE_NAME ?? '');
      return { exitCode: 0, log: ['ok'] };
    });
    await migrateFleet(backend, options(runsDir, ['a']));
    const [run] = await listRuns(runsDir);
    expect(run?.berth).toMatchObject({ pid: process.pid, host: os.hostname() });
    expect(run?.berth?.startTime).toEqual(expect.any(String));
  });

  it('records a run that failed before any task started as failed, never as interrupted', async () => {
    const { backend, runsDir } = await fleet(() => ({ exitCode: 0, log: [] }));
    backend.prepare = () => Promise.reject(new Error('the server did not start'));
    await expect(migrateFleet(backend, options(runsDir, ['a']))).rejects.toThrow(
      'the server did not start',
    );
    const [run] = await listRuns(runsDir);
    expect(run).toMatchObject({ state: 'failed', error: 'the server did not start' });
    expect(run?.finishedAt).toBeDefined();
  });

  it('records an interrupt before any task started as failed: --resume has nothing to take over', async () => {
    const { backend, runsDir } = await fleet(() => ({ exitCode: 0, log: [] }));
    const controller = new AbortController();
    controller.abort();
    const result = await migrateFleet(
      backend,
      options(runsDir, ['a', 'b'], { signal: controller.signal }),
    );
    expect(result.counts.skipped).toBe(2);
    expect((await listRuns(runsDir))[0]?.state).toBe('failed');
  });

  it('records an interrupt after a task started as interrupted (resumable)', async () => {
    const controller = new AbortController();
    const { backend, runsDir } = await fleet((spec, b) => {
      b.migrate(spec.environment.DATABASE_NAME ?? '');
      controller.abort();
      return { exitCode: 0, log: ['ok'] };
    });
    await migrateFleet(
      backend,
      options(runsDir, ['a', 'b', 'c'], { signal: controller.signal, concurrency: 1 }),
    );
    expect((await listRuns(runsDir))[0]?.state).toBe('interrupted');
  });

  it('a task stopped on timeout whose process exits 0 is failed, not applied', async () => {
    const { backend, runsDir } = await fleet((spec, b) => {
      b.migrate(spec.environment.DATABASE_NAME ?? '');
      return { exitCode: 0, log: ['Terminated, exiting cleanly'] };
    });
    const run = backend.runtime.run;
    backend.runtime.run = async (spec) => ({
      ...(await run(spec)),
      stopped: 'timeout',
      timedOut: true,
      stoppedReason: 'timed out after 1s and was stopped',
    });
    const result = await migrateFleet(backend, options(runsDir, ['a']));
    expect(result.databases[0]).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(/timed out.*not counted as applied/) as string,
    });
  });
});

describe('migrateFleet: faults mid-run', () => {
  it('probes that throw (server gone) fail those databases and mark the server gone, without throwing', async () => {
    const { backend, runsDir } = await fleet((spec, b) => {
      b.migrate(spec.environment.DATABASE_NAME ?? '');
      return { exitCode: 0, log: ['ok'] };
    });
    const probe = backend.probe;
    let calls = 0;
    backend.probe = (databases, onResult) => {
      calls++;
      if (calls === 1) return probe(databases, onResult);
      return Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432'));
    };
    const result = await migrateFleet(backend, options(runsDir, ['a', 'b']));
    expect(result.databases.map((d) => d.status)).toEqual(['failed', 'failed']);
    for (const d of result.databases) expect(d.reason).toMatch(/connect ECONNREFUSED/);
    expect(result.serverGone).toMatch(/ECONNREFUSED/);
    // The summary says `migrate --resume` finishes the rest once the server is back: it does.
    expect((await listRuns(runsDir))[0]?.state).toBe('interrupted');
    const resumed = await selectRunDatabases({ resume: true }, runsDir, () =>
      Promise.resolve(['a', 'b']),
    );
    expect(resumed.databases).toEqual(['a', 'b']);
  });

  it('a lease whose connection died (tenant dropped) fails that tenant only', async () => {
    const { backend, runsDir } = await claimingFleet((spec, b) => {
      b.migrate(spec.environment.DATABASE_NAME ?? '');
      return { exitCode: 0, log: ['ok'] };
    });
    const claim = backend.claim;
    backend.claim = async (database: string) => {
      const claimed = await claim(database);
      if (database !== 'b' || !claimed.lease) return claimed;
      return {
        ...claimed,
        lease: {
          ...claimed.lease,
          probe: () => Promise.reject(new Error('terminating connection due to dropped database')),
        },
      };
    };
    const result = await migrateFleet(backend, options(runsDir, ['a', 'b', 'c']));
    expect(result.databases.map((d) => [d.database, d.status])).toEqual([
      ['a', 'applied'],
      ['b', 'failed'],
      ['c', 'applied'],
    ]);
    expect(result.serverGone).toBeUndefined();
  });
});

describe('migrateFleet: the failure budget', () => {
  const names = (n: number) =>
    Array.from({ length: n }, (_, i) => `t${String(i).padStart(2, '0')}`);
  /** Migrates its database unless it is one of `failing` (exit 1, nothing applied). */
  const failOn = (failing: string[]) => (spec: TaskSpec, b: FakeBackend) => {
    const database = spec.environment.DATABASE_NAME ?? '';
    if (failing.includes(database)) return { exitCode: 1, log: ['ERROR: boom'] };
    b.migrate(database);
    return { exitCode: 0, log: ['ok'] };
  };

  it('a budget of 2 over 20 databases, 3 of which fail: goes on past two, stops after the third, exact counts', async () => {
    const { backend, runsDir } = await fleet(failOn(['t03', 't07', 't11', 't15']));
    const result = await migrateFleet(
      backend,
      options(runsDir, names(20), { concurrency: 1, maxFailures: { count: 2 } }),
    );
    expect(result.counts).toEqual({
      total: 20,
      applied: 9,
      upToDate: 0,
      failed: 3,
      skipped: 8,
      locked: 0,
    });
    expect(result.databases.slice(12).every((d) => d.status === 'skipped')).toBe(true);
    expect(result.databases[12]?.reason).toBe(
      'not started: the failure budget was spent (3 failed, at most 2 tolerated)',
    );
    // No task for the skipped databases.
    expect(backend.specs).toHaveLength(12);
    const [run] = await listRuns(runsDir);
    expect(run?.options.maxFailures).toBe('2');
  });

  it('a percentage is of the run’s databases: 10% of 20 tolerates 2', async () => {
    const { backend, runsDir } = await fleet(failOn(['t00', 't01', 't02']));
    const result = await migrateFleet(
      backend,
      options(runsDir, names(20), { concurrency: 1, maxFailures: { percent: 10 } }),
    );
    expect(result.counts).toMatchObject({ failed: 3, applied: 0, skipped: 17 });
    expect(result.databases[3]?.reason).toMatch(/at most 2 tolerated = 10% of the run/);
  });

  it('within the budget the run finishes every database', async () => {
    const { backend, runsDir } = await fleet(failOn(['t01', 't02']));
    const result = await migrateFleet(
      backend,
      options(runsDir, names(6), { concurrency: 2, maxFailures: { count: 2 } }),
    );
    expect(result.counts).toMatchObject({ failed: 2, applied: 4, skipped: 0 });
  });

  it('--on-error stop is a budget of 0; --on-error continue is no budget', async () => {
    const stop = await fleet(failOn(['t01']));
    const stopped = await migrateFleet(
      stop.backend,
      options(stop.runsDir, names(5), { concurrency: 1, onError: 'stop' }),
    );
    expect(stopped.counts).toMatchObject({ applied: 1, failed: 1, skipped: 3 });
    expect(stopped.databases[2]?.reason).toMatch(/--on-error stop/);
    const cont = await fleet(failOn(['t01', 't02', 't03']));
    const continued = await migrateFleet(
      cont.backend,
      options(cont.runsDir, names(5), { concurrency: 1, onError: 'continue' }),
    );
    expect(continued.counts).toMatchObject({ applied: 2, failed: 3, skipped: 0 });
  });

  it('a budget above 0 lets a batch go on past a failure inside it', async () => {
    const { backend, runsDir } = await fleet((spec, b) => {
      const log: string[] = [];
      for (const database of spec.databases) {
        if (database !== 't00') b.migrate(database);
        log.push(
          `::berth-begin ${database}`,
          `::berth-end ${database} ${database === 't00' ? 1 : 0}`,
        );
      }
      return { exitCode: 1, log };
    });
    const result = await migrateFleet(
      backend,
      options(runsDir, names(3), { batchSize: 3, maxFailures: { count: 1 } }),
    );
    expect(backend.specs[0]?.command.join(' ')).not.toMatch(/exit/);
    expect(result.counts).toMatchObject({ failed: 1, applied: 2 });
  });
});

describe('migrateFleet: lock-timeout retries', () => {
  const LOCK_ERROR = 'error: canceling statement due to lock timeout';
  /** A database whose first `blocked` tasks fail on the lock (applying `partial` first). */
  const lockedFor = (blocked: number, partial = 0) => {
    let tries = 0;
    return (spec: TaskSpec, b: FakeBackend) => {
      const database = spec.environment.DATABASE_NAME ?? '';
      if (tries++ < blocked) {
        if (partial) b.migrate(database, partial);
        return { exitCode: 1, log: ['Migrating 0002_b', LOCK_ERROR] };
      }
      b.migrate(database);
      return { exitCode: 0, log: ['ok'] };
    };
  };
  const sleeps: number[] = [];
  const clock = {
    sleep: (ms: number) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
  };

  it('retries a migration that failed on its lock timeout with nothing applied, with backoff, and says so', async () => {
    sleeps.length = 0;
    const { backend, runsDir } = await fleet(lockedFor(2));
    backend.migrate('a', 1);
    const result = await migrateFleet(
      backend,
      options(runsDir, ['a'], { lockRetries: 3, lockTimeout: '5s', clock }),
    );
    expect(result.databases[0]).toMatchObject({
      status: 'applied',
      applied: ['0002_b'],
      lockRetries: 2,
      reason: 'applied after 2 lock-timeout retries',
    });
    expect(backend.specs).toHaveLength(3);
    expect(sleeps).toEqual([1000, 2000]);
  });

  it('with its retries spent it fails, saying the lock was not granted', async () => {
    sleeps.length = 0;
    const { backend, runsDir } = await fleet(lockedFor(10));
    const result = await migrateFleet(
      backend,
      options(runsDir, ['a'], { lockRetries: 2, lockTimeout: '5s', clock }),
    );
    expect(result.databases[0]).toMatchObject({
      status: 'failed',
      lockRetries: 2,
      applied: [],
      reason:
        'the migrate command exited 1: a lock was not granted (lock_timeout 5s) after 2 lock-timeout retries; nothing was applied',
    });
    expect(result.databases[0]?.logExcerpt).toContain(LOCK_ERROR);
    expect(backend.specs).toHaveLength(3);
  });

  it('retries outside the concurrency slot too (a claiming provider, no failure budget), holding the lock throughout', async () => {
    const { backend, runsDir } = await claimingFleet(lockedFor(1));
    const result = await migrateFleet(
      backend,
      options(runsDir, ['a', 'b'], {
        concurrency: 1,
        onError: 'continue',
        lockRetries: 2,
        lockTimeout: '5s',
        clock,
      }),
    );
    expect(result.databases.map((d) => [d.status, d.lockRetries])).toEqual([
      ['applied', 1],
      ['applied', undefined],
    ]);
    // Each database stayed claimed from its probe through its retry: never locked again.
    expect(backend.lockCalls).toEqual([]);
    expect(backend.open).toBe(0);
  });

  it('does not retry when part of the migration was applied, nor another failure', async () => {
    const partial = await fleet(lockedFor(1, 1));
    const r1 = await migrateFleet(
      partial.backend,
      options(partial.runsDir, ['a'], { lockRetries: 3, clock }),
    );
    expect(r1.databases[0]).toMatchObject({ status: 'failed', applied: ['0001_a'] });
    expect(r1.databases[0]?.lockRetries).toBeUndefined();
    expect(partial.backend.specs).toHaveLength(1);
    const other = await fleet(() => ({ exitCode: 1, log: ['syntax error at or near "ALTR"'] }));
    await migrateFleet(other.backend, options(other.runsDir, ['a'], { lockRetries: 3, clock }));
    expect(other.backend.specs).toHaveLength(1);
  });
});
