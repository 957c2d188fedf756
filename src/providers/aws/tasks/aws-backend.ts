/**
 * The aws provider's side of a fleet run. berth cannot reach the tenant databases (they sit
 * in private subnets), so everything that reads or writes them is an ECS task in the VPC:
 *
 *  - probe: ONE task reads a batch of databases (`task.probeCommand` with
 *    DATABASE_NAMES=a,b,c, fleet/probe-protocol.ts) and prints a line per database; berth
 *    computes pending migrations from migrations.directory, like the local SQL probe. Without
 *    a probe command berth is blind: every database gets a migration task (no fast path) and
 *    verify relies on task.checkCommand.
 *  - lock: berth holds no database connection, so its lock is a look at the cluster: a
 *    database is busy while a task of the family that works on it (read from the task's
 *    container overrides) is PROVISIONING/PENDING/RUNNING. berth waits up to
 *    migrations.lockWaitSeconds for such tasks to stop, else reports the database `locked`.
 *    This is best effort — two runs that look at the same moment both see a free database —
 *    so a lock inside the VPC is what serialises two migrations of one database: the task's
 *    own advisory lock with migrations.taskLock: psql (fleet/batch-script.ts; the database is
 *    then reported `locked` from the task's log), else the migration tool's (node-pg-migrate's
 *    advisory lock, Django's transactions).
 *  - re-probe under the lock and after the task: coalesced into one probe task per batch.
 */
import pLimit from 'p-limit';
import type { Config } from '../../../config/schema.js';
import { errorMessage } from '../../../core/errors.js';
import type { Reporter } from '../../../core/events.js';
import {
  PROBE_DATABASES_ENV,
  PROBE_SCHEMA_ENV,
  PROBE_SCHEMA_NAME_ENV,
  ProbeLogParser,
  probeBatches,
  probeResultFrom,
  readKnownMigrations,
} from '../../../fleet/probe-protocol.js';
import { loadKnownMigrations, type RecordedListings } from '../../../fleet/known-migrations.js';
import { resolvePreset } from '../../../migrations/presets.js';
import type { FleetBackend, Lease, ProbeOptions, ProbeResult } from '../../../fleet/types.js';
import { newTaskId } from '../../../tasks/task-id.js';
import { readLogLines } from '../../../state/task-store.js';
import type { TaskOutcome, TaskRuntime } from '../../../tasks/task.js';
import { listFamilyTasks, taskDatabases, taskKind } from './aws-tasks.js';
import type { EcsTasksApi } from '../api/ecs-api.js';
import type { EcsRunContext } from './ecs-run-context.js';
import { realSleep, type Sleep } from './ecs-task-runtime.js';
import { lockEnvironment } from '../../../migrations/lock-options.js';

export const BLIND_REASON = 'no task.probeCommand: berth cannot look into the databases on AWS';

export interface AwsBackendOptions {
  config: Config;
  configDir: string;
  ecs: EcsTasksApi;
  runtime: TaskRuntime;
  /** Memoised: registers the revision (when an image is given) and resolves the network. */
  context: () => Promise<EcsRunContext>;
  /** Listings recorded per image digest: a listing runs once per image, not once per command. */
  listings?: RecordedListings;
  /** Tasks this process started (the runtime's), never counted as holding a lock. */
  ownTasks?: ReadonlySet<string>;
  reporter?: Reporter;
  now?: () => number;
  sleep?: Sleep;
  /** How often a waiting lock looks at the cluster again (default 5 s). */
  lockPollMs?: number;
  /** Probe tasks running at once (default fleet.concurrency). */
  probeConcurrency?: number;
  /** Probe task timeout (default task.timeoutSeconds). */
  probeTimeoutMs?: number;
}

interface PendingProbe {
  database: string;
  resolve: (result: ProbeResult) => void;
}

export class AwsBackend implements FleetBackend {
  readonly provider = 'aws' as const;
  readonly tasksTakeLock = true;
  readonly runtime: TaskRuntime;
  private known: Promise<string[] | undefined> | undefined;
  /** The last probe of each database, for the first look under its lock. */
  private readonly probed = new Map<string, ProbeResult>();
  private queued: PendingProbe[] = [];
  private flushScheduled = false;
  private busySnapshot: { at: number; busy: Promise<Map<string, string[]>> } | undefined;
  private readonly now: () => number;
  private readonly sleep: Sleep;

  constructor(private readonly options: AwsBackendOptions) {
    this.runtime = options.runtime;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? realSleep;
  }

  /**
   * The code's migrations: the preset's directory from the checkout, or (Django, Alembic) its
   * listing command run once as a task — only with a probe command, without which berth could
   * not use them anyway.
   */
  migrations(): Promise<string[] | undefined> {
    const { config, configDir } = this.options;
    this.known ??= config.task.probeCommand
      ? loadKnownMigrations({
          config,
          configDir,
          runtime: this.runtime,
          environment: () => this.taskEnvironment(),
          ...(this.options.listings ? { listings: this.options.listings } : {}),
          ...(this.options.reporter ? { reporter: this.options.reporter } : {}),
        })
      : readKnownMigrations(config, configDir);
    return this.known;
  }

  /** Databases on RDS are not berth's to create: this readies the stack side (the revision, the network). */
  async prepare(): Promise<void> {
    await this.options.context();
  }

  async probe(
    databases: string[],
    onResult: (result: ProbeResult) => void,
    signal?: AbortSignal,
    options: ProbeOptions = {},
  ): Promise<void> {
    const known = await this.migrations();
    const command = this.options.config.task.probeCommand;
    if (!command) {
      for (const database of databases) onResult(this.blind(database));
      return;
    }
    const limit = pLimit(this.options.probeConcurrency ?? this.options.config.fleet.concurrency);
    await Promise.all(
      probeBatches(databases).map((batch) =>
        limit(async () => {
          if (signal?.aborted) return;
          const results = await this.runProbe(command, batch, known, signal, options);
          for (const result of results) {
            this.probed.set(result.database, result);
            onResult(result);
          }
        }),
      ),
    );
  }

  async lock(database: string, waitMs: number, signal?: AbortSignal): Promise<Lease | undefined> {
    const deadline = this.now() + waitMs;
    let waited = false;
    for (;;) {
      const holders = (await this.busy()).get(database) ?? [];
      if (holders.length === 0) break;
      if (!waited) {
        waited = true;
        // Another run is at work: what the first probe saw may be stale by the time it ends.
        this.probed.delete(database);
        this.options.reporter?.emit({
          type: 'message',
          level: 'info',
          text: `${database}: waiting for ECS task ${holders.join(', ')} (another migration) to stop`,
        });
      }
      if (this.now() >= deadline || signal?.aborted) return undefined;
      await this.sleep(
        Math.max(1, Math.min(this.options.lockPollMs ?? 5_000, deadline - this.now())),
        signal,
      );
      this.busySnapshot = undefined;
    }
    let first = true;
    return {
      release: () => Promise.resolve(),
      probe: () => {
        const cached = first ? this.probed.get(database) : undefined;
        first = false;
        return cached ? Promise.resolve(cached) : this.probeSoon(database);
      },
    };
  }

  /**
   * ECS injects the secret's fields and berth.yaml's environment itself; berth adds only
   * PGOPTIONS (lock_timeout, statement_timeout: lock-options.ts), as a container override.
   */
  taskEnvironment(): Record<string, string> {
    return { ...lockEnvironment(this.options.config) };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  // ---- Probing -------------------------------------------------------------------------

  private blind(database: string): ProbeResult {
    return {
      database,
      // Assumed: only a task could tell, and the migrate or check task will.
      exists: true,
      tables: 0,
      applied: [],
      pending: [],
      pendingKnown: false,
      blind: BLIND_REASON,
    };
  }

  /** One probe task for a batch; every database of the batch gets a result. */
  private async runProbe(
    command: string[],
    batch: string[],
    known: string[] | undefined,
    signal?: AbortSignal,
    options: ProbeOptions = {},
  ): Promise<ProbeResult[]> {
    const id = newTaskId('probe');
    let outcome: TaskOutcome;
    try {
      outcome = await this.runtime.run(
        {
          id,
          kind: 'probe',
          databases: batch,
          command,
          environment: {
            [PROBE_DATABASES_ENV]: batch.join(','),
            [PROBE_SCHEMA_NAME_ENV]: this.options.config.database.schema,
            // verify: the probe adds each database's schema (the catalog query's JSON).
            ...(options.fingerprint ? { [PROBE_SCHEMA_ENV]: '1' } : {}),
          },
          timeoutMs: this.options.probeTimeoutMs ?? this.options.config.task.timeoutSeconds * 1000,
        },
        signal,
      );
    } catch (error) {
      return batch.map((database) =>
        probeResultFrom(
          { database, error: `the probe task could not run: ${errorMessage(error)}` },
          known,
        ),
      );
    }
    const parser = new ProbeLogParser();
    for await (const line of readLogLines(outcome.logFile)) parser.line(line);
    const why =
      outcome.exitCode === null
        ? (outcome.stoppedReason ?? 'it stopped without an exit code')
        : `it exited ${outcome.exitCode}${outcome.stoppedReason ? ` (${outcome.stoppedReason})` : ''}`;
    return batch.map((database) => {
      const report = parser.report(database);
      return probeResultFrom(
        report ?? {
          database,
          error: `the probe task ${id} reported nothing for it: ${why} (berth logs ${id})`,
        },
        known,
        resolvePreset(this.options.config.migrations).history.records,
      );
    });
  }

  /** Coalesces the probes asked for in one turn of the event loop into one probe task. */
  private probeSoon(database: string): Promise<ProbeResult> {
    return new Promise((resolve) => {
      this.queued.push({ database, resolve });
      if (this.flushScheduled) return;
      this.flushScheduled = true;
      setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    this.flushScheduled = false;
    const queued = this.queued;
    this.queued = [];
    const byDatabase = new Map<string, ProbeResult>();
    const databases = [...new Set(queued.map((q) => q.database))];
    let failure: string | undefined;
    try {
      await this.probe(databases, (r) => byDatabase.set(r.database, r));
    } catch (error) {
      failure = errorMessage(error);
    }
    const known = await this.migrations().catch(() => undefined);
    for (const q of queued)
      q.resolve(
        byDatabase.get(q.database) ??
          probeResultFrom(
            { database: q.database, error: failure ?? 'the probe gave no answer' },
            known,
          ),
      );
  }

  // ---- The lock ------------------------------------------------------------------------

  /**
   * Databases with a migration running on the cluster → the ECS task IDs at work on them.
   * One look (ListTasks + DescribeTasks) serves every lock asked for within a second.
   */
  private busy(): Promise<Map<string, string[]>> {
    const now = this.now();
    if (this.busySnapshot && now - this.busySnapshot.at < 1_000) return this.busySnapshot.busy;
    const busy = (async () => {
      const context = await this.options.context();
      const tasks = await listFamilyTasks(this.options.ecs, this.options.config, {
        stopped: false,
        owned: false,
      });
      const map = new Map<string, string[]>();
      for (const task of tasks) {
        if (this.options.ownTasks?.has(task.arn)) continue;
        if (task.lastStatus === 'STOPPED') continue;
        const kind = taskKind(task);
        // Probes and checks only read; tasks other tools started are assumed to migrate.
        if (kind === 'probe' || kind === 'check' || kind === 'verify') continue;
        for (const database of taskDatabases(task, context.containerName))
          map.set(database, [...(map.get(database) ?? []), task.id]);
      }
      return map;
    })();
    this.busySnapshot = { at: now, busy };
    // A failed look is not cached.
    busy.catch(() => {
      if (this.busySnapshot?.busy === busy) this.busySnapshot = undefined;
    });
    return busy;
  }
}
