/**
 * Results, not exceptions: a fleet run gives every database exactly one result, whatever
 * happens to the others, and the CLI derives the exit code from the set.
 */
import type { SchemaFingerprint } from '../migrations/fingerprint.js';
import type { TaskRuntime } from '../tasks/task.js';

export type DatabaseStatus = 'applied' | 'up-to-date' | 'failed' | 'skipped' | 'locked';

export interface DatabaseResult {
  database: string;
  status: DatabaseStatus;
  /** Migrations this run applied to the database, in order. */
  applied: string[];
  /** Migrations still pending after the run (non-empty only when it failed or was skipped). */
  pending: string[];
  taskId?: string;
  exitCode?: number | null;
  reason?: string;
  /** The last lines of the database's task log, redacted. */
  logExcerpt?: string[];
  durationMs: number;
  /** The canary wave it belonged to (1 = the first), in a run in waves. */
  wave?: number;
  /** Times its migration was run again after failing on its lock timeout with nothing applied. */
  lockRetries?: number;
}

export interface FleetCounts {
  total: number;
  applied: number;
  upToDate: number;
  failed: number;
  skipped: number;
  locked: number;
}

export interface FleetResult {
  runId: string;
  ok: boolean;
  counts: FleetCounts;
  databases: DatabaseResult[];
  durationMs: number;
  /** Set when the database server itself went away mid-run (exit 7): the error seen. */
  serverGone?: string;
  /** A run in waves: each wave and how it ended, in order. */
  waves?: WaveOutcome[];
}

export interface WaveOutcome {
  wave: number;
  databases: string[];
  /**
   * succeeded: migrated with no failure and every tenant verified; failed: a database did not
   * migrate (failed, locked or skipped); unverified: migrated, but a tenant did not verify;
   * not-started: an earlier wave did not succeed, or the run was interrupted.
   */
  state: 'succeeded' | 'failed' | 'unverified' | 'not-started';
  reason?: string;
}

/** What one cheap read of a database tells: enough for the no-op fast path and verify. */
export interface ProbeResult {
  database: string;
  exists: boolean;
  /** Tables in the schema; absent when not counted (migrate's reads under its lock). */
  tables?: number;
  applied: string[];
  pending: string[];
  /** False when berth does not know the app's migrations: `pending` is then empty, not "none". */
  pendingKnown: boolean;
  /** Applied migrations the code does not have (drift); absent when none or unknown. */
  unknown?: string[];
  /** golang-migrate: the version a migration stopped half-way through. */
  dirty?: string;
  /** Prisma / Flyway: migrations recorded as failed. */
  failed?: string[];
  /** The schema's fingerprint, when asked for (verify) and the probe could read it. */
  fingerprint?: SchemaFingerprint;
  /** Set when the database could not be read at all. */
  error?: string;
  /**
   * Set when the provider has no way to look into the database (aws without
   * task.probeCommand): says why. exists/tables/applied are then placeholders, not readings.
   */
  blind?: string;
}

export interface Lease {
  release: () => Promise<void>;
  /** Probes the locked database over the lock's own connection (no new connection). */
  probe?: () => Promise<ProbeResult>;
}

/** A database read under its migration lock, when the lock was free: see FleetBackend.claim. */
export interface Claim {
  probe: ProbeResult;
  /** Absent when another session holds the lock or the database could not be read. */
  lease?: Lease;
}

/** What the fleet runner needs from a provider; local and aws implement it. */
export interface FleetBackend {
  readonly provider: 'local' | 'aws';
  readonly runtime: TaskRuntime;
  /**
   * True when berth cannot hold the migration lock itself (aws: the databases are in the
   * VPC), so a task may take it inside, around its migrate command (migrations.taskLock).
   */
  readonly tasksTakeLock?: boolean;
  /** Known migrations, in order (pending = these minus the history table); undefined when unknown. */
  migrations(): Promise<string[] | undefined>;
  /** Makes the databases exist (local) or checks they are reachable. */
  prepare(
    databases: string[],
    options: { create: boolean; onCreated?: (done: number, total: number) => void },
  ): Promise<void>;
  /**
   * Probes many databases cheaply; calls back as each answers. `fingerprint`: also read each
   * schema's fingerprint (verify), in the same round trip where the provider can.
   */
  probe(
    databases: string[],
    onResult: (result: ProbeResult) => void,
    signal?: AbortSignal,
    options?: ProbeOptions,
  ): Promise<void>;
  /**
   * Optional, for providers that reach the databases directly (local): one connection tries
   * the migration lock and probes. migrate then holds a database with pending work from the
   * moment it is found until its batch has run, instead of probing it, connecting again to
   * lock it and probing it again under the lock. Called at most `claimConcurrency` at a time.
   */
  claim?(database: string): Promise<Claim>;
  readonly claimConcurrency?: number;
  /** Takes the migration lock on a database, waiting at most `waitMs`; undefined when still held elsewhere. */
  lock(database: string, waitMs: number, signal?: AbortSignal): Promise<Lease | undefined>;
  /**
   * Connections the fleet's tasks may use on the database server (for locks and the tasks'
   * own); undefined when unknown (no limit applied).
   */
  connectionBudget?(): Promise<number | undefined>;
  /**
   * Optional: why the database server cannot be reached right now, or undefined when it
   * answers. Asked after a run with failures, to tell a server that went away (exit 7)
   * from one database that did.
   */
  unreachable?(): Promise<string | undefined>;
  /**
   * Optional, for providers that create databases (local): drops a scratch database berth
   * created itself (verify's reference, `berth_reference_…`). Its presence is the capability:
   * verify can then build its reference from zero.
   */
  dropScratch?(database: string): Promise<void>;
  /**
   * Optional, with dropScratch: marks a scratch database as this process's for as long as it
   * lives (a session lock that dies with berth), until the returned release is called.
   */
  holdScratch?(database: string): Promise<() => Promise<void>>;
  /**
   * Optional, with dropScratch: drops the scratch databases no live berth holds (left behind
   * by a verify that was killed) and returns their names.
   */
  dropStaleScratch?(): Promise<string[]>;
  /** The task environment without DATABASE_NAME (set per database). */
  taskEnvironment(): Record<string, string>;
  close(): Promise<void>;
}

export interface ProbeOptions {
  fingerprint?: boolean;
  /**
   * Read without the code's migrations (no listing task): pending is then unknown. For
   * `status`, which shows what exists even when the listing cannot run.
   */
  withoutKnown?: boolean;
}

export function emptyCounts(): FleetCounts {
  return { total: 0, applied: 0, upToDate: 0, failed: 0, skipped: 0, locked: 0 };
}

export function countResult(counts: FleetCounts, result: DatabaseResult): void {
  counts.total++;
  switch (result.status) {
    case 'applied':
      counts.applied++;
      break;
    case 'up-to-date':
      counts.upToDate++;
      break;
    case 'failed':
      counts.failed++;
      break;
    case 'skipped':
      counts.skipped++;
      break;
    case 'locked':
      counts.locked++;
      break;
  }
}
