/**
 * A task is one run of a command against one or more tenant databases, on any runtime:
 * start → wait until stopped → all logs → exit code. The local process runtime, the local
 * container runtime and ECS Fargate all implement TaskRuntime.
 */
export type TaskKind = 'migrate' | 'verify' | 'check' | 'probe';

export interface TaskSpec {
  id: string;
  kind: TaskKind;
  /** Tenant databases this task touches, in order (more than one when batched). */
  databases: string[];
  /** argv; for a batch, a `sh -c` loop built by fleet/batch-script.ts. */
  command: string[];
  /** Exactly the environment the ECS task gets: config environment, secret fields, DATABASE_NAME. */
  environment: Record<string, string>;
  timeoutMs: number;
}

export type StopCause = 'timeout' | 'interrupted' | 'user' | 'lost';

export interface TaskOutcome {
  id: string;
  /** The essential container's / process's exit code; null when it never ran to an exit. */
  exitCode: number | null;
  /** Why the task stopped when that was not a normal exit (timeout, failed to start, signal). */
  stoppedReason?: string;
  timedOut: boolean;
  /**
   * Set when the task did not end on its own: berth's timeout, an interrupt (Ctrl-C), a
   * user's `berth tasks stop` / StopTask, or a task the runtime lost track of. Such a task
   * is never reported applied on its exit code alone.
   */
  stopped?: StopCause;
  /** Lines the task itself printed, where the runtime counts them (aws: CloudWatch lines). */
  logLines?: number;
  logFile: string;
  durationMs: number;
}

/**
 * What a local task must hold while it runs (the local provider's supervisor takes these):
 * the "task running" lock of each database, fenced by the migration locks berth holds.
 */
export interface TaskLocks {
  /** Where berth's own connections go (a Unix socket directory on the local provider). */
  connection: { host: string; port: number; user: string; password: string };
  /** The database the lock connection opens (the task locks live there, one per tenant). */
  controlDatabase: string;
  /** Advisory lock class of the task lock; its second key is the tenant database's OID. */
  taskClass: number;
  /** berth's migration lock key (two-int form). */
  migrationKey: readonly [number, number];
  /** Each database and the server pid of the berth session holding its migration lock. */
  databases: { name: string; holderPid: number }[];
}

export interface TaskRuntime {
  readonly name: string;
  run(spec: TaskSpec, signal?: AbortSignal, locks?: TaskLocks): Promise<TaskOutcome>;
}

/** Persistent record of a task, so `berth logs` and `berth tasks` work from a new process. */
export interface TaskRecord {
  id: string;
  kind: TaskKind;
  runtime: string;
  databases: string[];
  command: string[];
  status: 'RUNNING' | 'STOPPED';
  exitCode: number | null;
  stoppedReason?: string;
  startedAt: string;
  stoppedAt?: string;
  logFile: string;
  /** The task's process (the leader of its own process group) while it runs. */
  pid?: number;
  /** The leader's start time (/proc/PID/stat field 22), to tell it from a reused PID. */
  startTime?: string;
  /** The local supervisor that owns the task's process group, while it runs. */
  supervisor?: { pid: number; startTime?: string };
  runId?: string;
}
