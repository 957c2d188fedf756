import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RecordingReporter } from '../../src/core/events.js';
import { migrateFleet } from '../../src/fleet/run-fleet.js';
import type { FleetBackend, Lease, ProbeResult } from '../../src/fleet/types.js';
import type { TaskOutcome, TaskSpec } from '../../src/tasks/task.js';

const MIGRATIONS = ['0001_a', '0002_b'];

/** An in-memory fleet: each database's applied list, and a task that "migrates" by script. */
class FakeBackend implements FleetBackend {
  readonly provider = 'local' as const;
  readonly applied = new Map<string, string[]>();
  readonly locked = new Set<string>();
  readonly specs: TaskSpec[] = [];
  unreadable = new Set<string>();
  constructor(
    private readonly dir: string,
    private readonly behave: (
      spec: TaskSpec,
      backend: FakeBackend,
    ) => { exitCode: number | null; log: string[]; stoppedReason?: string },
  ) {}
  readonly runtime = {
    name: 'fake',
    run: async (spec: TaskSpec): Promise<TaskOutcome> => {
      this.specs.push(spec);
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

async function fleet(behave: ConstructorParameters<typeof FakeBackend>[1]) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-unit-fleet-'));
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
});
