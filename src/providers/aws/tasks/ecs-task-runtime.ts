/**
 * Runs a task on ECS Fargate: start → wait until stopped → all logs → exit code, the same
 * contract as the local process runtime (src/tasks/task.ts), within AWS's quotas for a run
 * of any size (quotas.ts):
 *
 *  - start: RunTask with the run context's revision, FARGATE, the configured subnets and
 *    backend security group (no public IP unless network.assignPublicIp), the command and
 *    DATABASE_NAME(S) as container overrides, berth's tags and `startedBy` — after a token
 *    from the run's RunTask bucket (20/s) and its Fargate launch bucket (burst 100, 20/s).
 *    Throttling is retried with a jittered back-off, never reported; RunTask `failures[]`
 *    (capacity, ...) are retried a few times, then reported as a task that never started.
 *  - wait: the run's one EcsPoller describes every task of the run together (100 per
 *    DescribeTasks) every `pollMs` until STOPPED, PENDING → STOPPED included. Past the
 *    timeout (task.timeoutSeconds) berth calls StopTask and reports the timeout — a task still
 *    PROVISIONING then too; an interrupt (Ctrl-C) stops the task the same way.
 *  - logs: the run's one LogReader follows the CloudWatch stream `<prefix>/<container>/<task
 *    id>` with every other stream of the run (FilterLogEvents), reads it until quiet after
 *    STOPPED, and backfills it with GetLogEvents where needed (log-reader.ts); every line goes,
 *    redacted, to the task's local log file (.berth/logs/TASK_ID.log), and a task record
 *    (.berth/tasks/TASK_ID.json) lets `berth logs TASK_ID` read it later.
 *  - exit code: the essential container's — the one the task definition marks essential and
 *    the overrides address (ecs-run-context.ts), never a sidecar's. A container that never ran
 *    to an exit (failed to start: CannotPullContainerError, ResourceInitializationError, ...)
 *    has none: the outcome's exitCode is null, with ECS's stop code, stopped reason and
 *    container reason — a failure, never a success.
 *
 * Clock and sleep are injected, so tests drive hours of ECS time in milliseconds.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { BerthError, errorMessage } from '../../../core/errors.js';
import type { Reporter } from '../../../core/events.js';
import { redactor } from '../../../core/redact.js';
import { startRecord, stopRecord, type TaskStore } from '../../../state/task-store.js';
import type {
  StopCause,
  TaskOutcome,
  TaskRecord,
  TaskRuntime,
  TaskSpec,
} from '../../../tasks/task.js';
import { startedBy, taskTags } from './aws-tasks.js';
import type {
  ContainerOverride,
  EcsContainer,
  EcsFailure,
  EcsTask,
  EcsTasksApi,
} from '../api/ecs-api.js';
import { logStreamName, type EcsRunContext } from './ecs-run-context.js';
import type { LogsApi } from '../api/logs-api.js';
import type { Clock } from '../../../core/clock.js';
import { EcsPoller } from './ecs-poller.js';
import { LogReader } from './log-reader.js';
import { AwsQuotas } from './quotas.js';

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** How long an interrupted run waits for a task's log to settle (the full drain is 30 s). */
const INTERRUPTED_DRAIN_MS = 5_000;

/** setTimeout as a promise; resolves early when the signal aborts. */
export const realSleep: Sleep = (ms, signal) =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** What berth keeps about an ECS task besides the common TaskRecord fields. */
export interface EcsTaskFields {
  ecsTaskArn?: string;
  ecsTaskId?: string;
  cluster?: string;
  taskDefinitionArn?: string;
  image?: string;
  logGroup?: string;
  logStream?: string;
}

export type EcsTaskRecord = TaskRecord & EcsTaskFields;

export interface EcsTaskRuntimeOptions {
  ecs: EcsTasksApi;
  logs: Pick<LogsApi, 'getLogEvents' | 'filterLogEvents'>;
  /** The run's quotas, DescribeTasks poller and log reader (open-aws.ts shares them); made here when absent. */
  quotas?: AwsQuotas;
  poller?: EcsPoller;
  reader?: LogReader;
  /** The cluster, revision and network; called before each task (memoise it). */
  context: () => Promise<EcsRunContext>;
  store: TaskStore;
  reporter?: Reporter;
  runId?: string;
  now?: () => number;
  sleep?: Sleep;
  /** The poller's and the log reader's interval while tasks run (default 5 s). */
  pollMs?: number;
  /** After STOPPED, keep reading the stream until it has been quiet this long (default 3 s). */
  settleMs?: number;
  /** After STOPPED, give up waiting for late log events after this long (default 30 s). */
  drainTimeoutMs?: number;
  /** After StopTask, wait this long for STOPPED before giving up (default 2 min). */
  stopWaitMs?: number;
  /** RunTask attempts when it answers with `failures[]` (default 3). */
  runTaskAttempts?: number;
  /** Events per FilterLogEvents / GetLogEvents page (CloudWatch's default when unset). */
  logPageSize?: number;
}

/** RunTask's limit on the container overrides, in all (JSON). */
export const OVERRIDES_MAX_BYTES = 8192;
/** Failures worth another RunTask a little later; anything else will not improve. */
const RETRYABLE_FAILURE = /capacity|throttl|rate exceeded|timeout|try again/i;
/** DescribeTasks may not know a task right after RunTask (eventual consistency). */
const MISSING_TOLERANCE = 5;

export class EcsTaskRuntime implements TaskRuntime {
  readonly name = 'ecs';
  /** ARNs of the tasks this runtime started: the lock never waits for its own tasks. */
  readonly started = new Set<string>();
  private readonly now: () => number;
  private readonly sleep: Sleep;
  readonly quotas: AwsQuotas;
  readonly poller: EcsPoller;
  readonly reader: LogReader;

  constructor(private readonly options: EcsTaskRuntimeOptions) {
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? realSleep;
    const clock: Clock = { now: this.now, sleep: this.sleep };
    const pollMs = options.pollMs ?? 5_000;
    this.quotas = options.quotas ?? new AwsQuotas({ clock });
    this.poller =
      options.poller ?? new EcsPoller({ ecs: options.ecs, quotas: this.quotas, clock, pollMs });
    this.reader =
      options.reader ??
      new LogReader({
        logs: options.logs,
        quotas: this.quotas,
        clock,
        pollMs,
        ...(options.logPageSize ? { pageSize: options.logPageSize } : {}),
      });
  }

  async run(spec: TaskSpec, signal?: AbortSignal): Promise<TaskOutcome> {
    const { store } = this.options;
    const context = await this.options.context();
    const logFile = store.logFile(spec.id);
    await mkdir(store.logsDir, { recursive: true, mode: 0o700 });
    const log = createWriteStream(logFile, { flags: 'a', mode: 0o600 });
    const write = (line: string) => log.write(`${redactor.redact(line)}\n`);
    const started = this.now();
    const record: EcsTaskRecord = {
      ...startRecord(spec, this.name, logFile, started, this.options.runId),
      cluster: context.cluster,
      taskDefinitionArn: context.taskDefinitionArn,
      image: context.image,
      logGroup: context.logGroup,
    };
    let outcome: TaskOutcome | undefined;
    let failure: string | undefined;
    try {
      outcome = await this.execute(spec, context, record, write, started, signal);
      return outcome;
    } catch (error) {
      // e.g. RunTask denied: the fleet runner reports it per database; the log says it too.
      failure = errorMessage(error);
      write(`berth: could not run the task: ${failure}`);
      throw error;
    } finally {
      await closeLog(log);
      const reason = outcome ? outcome.stoppedReason : `could not run: ${failure ?? 'unknown'}`;
      stopRecord(
        record,
        { exitCode: outcome?.exitCode ?? null, ...(reason ? { stoppedReason: reason } : {}) },
        this.now(),
      );
      await store.save(record);
    }
  }

  private async execute(
    spec: TaskSpec,
    context: EcsRunContext,
    record: EcsTaskRecord,
    write: (line: string) => void,
    started: number,
    signal: AbortSignal | undefined,
  ): Promise<TaskOutcome> {
    const { ecs } = this.options;
    // Lines the container printed (CloudWatch), apart from berth's own notes in the log.
    let taskLines = 0;
    const outcome = (
      exitCode: number | null,
      timedOut: boolean,
      stoppedReason?: string,
      stopped?: StopCause,
    ): TaskOutcome => ({
      id: spec.id,
      exitCode,
      timedOut,
      logLines: taskLines,
      logFile: record.logFile,
      durationMs: this.now() - started,
      ...(stoppedReason ? { stoppedReason } : {}),
      ...(stopped ? { stopped } : {}),
    });

    // 1. Start it.
    const overrides: ContainerOverride[] = [
      {
        name: context.containerName,
        command: spec.command,
        ...(Object.keys(spec.environment).length
          ? {
              environment: Object.keys(spec.environment)
                .sort()
                .map((name) => ({ name, value: spec.environment[name] ?? '' })),
            }
          : {}),
      },
    ];
    const size = Buffer.byteLength(JSON.stringify(overrides));
    if (size > OVERRIDES_MAX_BYTES) {
      throw new BerthError(
        'USAGE',
        `the task's command and environment overrides take ${size} bytes; ECS accepts at most ${OVERRIDES_MAX_BYTES}`,
        {
          hint: 'use a smaller --batch-size (fleet.batchSize): every database of a batch is on its command line',
        },
      );
    }
    const attempts = Math.max(1, this.options.runTaskAttempts ?? 3);
    let task: EcsTask | undefined;
    let failures: EcsFailure[] = [];
    for (let attempt = 1; attempt <= attempts && !task; attempt++) {
      if (signal?.aborted) return outcome(null, false, 'interrupted before it started');
      const result = await this.quotas.call(
        'runTask',
        () =>
          ecs.runTask({
            cluster: context.cluster,
            taskDefinition: context.taskDefinitionArn,
            launchType: 'FARGATE',
            subnets: context.subnets,
            securityGroups: context.securityGroups,
            assignPublicIp: context.assignPublicIp,
            containerOverrides: overrides,
            startedBy: startedBy(spec.kind, spec.databases),
            tags: taskTags(context.tags, spec.id, spec.kind, spec.databases),
          }),
        ['launches'],
      );
      task = result.tasks[0];
      failures = result.failures;
      if (task) break;
      const reason = describeFailures(failures);
      write(`berth: RunTask started nothing (attempt ${attempt} of ${attempts}): ${reason}`);
      if (attempt === attempts || !RETRYABLE_FAILURE.test(reason)) break;
      this.warn(`task ${spec.id}: RunTask: ${reason}; trying again`);
      await this.sleep(Math.min(60_000, 5_000 * 2 ** (attempt - 1)), signal);
    }
    if (!task) return outcome(null, false, `RunTask failed: ${describeFailures(failures)}`);

    this.started.add(task.arn);
    const stream = logStreamName(context.streamPrefix, context.containerName, task.id);
    record.ecsTaskArn = task.arn;
    record.ecsTaskId = task.id;
    record.logStream = stream;
    await this.options.store.save(record);

    // 2. Follow it until it stops.
    const follow = this.reader.follow({
      group: context.logGroup,
      stream,
      createdAt: task.createdAt?.getTime() ?? this.now(),
      onLine: (line) => {
        taskLines++;
        write(line);
      },
    });
    let stopReason: string | undefined;
    let stopCause: StopCause | undefined;
    let timedOut = false;
    let stopSentAt: number | undefined;
    let missing = 0;
    const stop = async (reason: string, ecsReason: string, cause: StopCause) => {
      stopReason = reason;
      stopCause = cause;
      stopSentAt = this.now();
      write(`berth: ${reason}`);
      try {
        // StopTask has no bucket of its own (one call per stopped task): the ECS one, for the
        // throttling retry.
        await this.quotas.call('describeTasks', () =>
          ecs.stopTask(context.cluster, task.arn, ecsReason),
        );
      } catch (error) {
        write(`berth: StopTask failed: ${errorMessage(error)}`);
      }
    };
    let current = task;
    try {
      while (current.lastStatus !== 'STOPPED') {
        if (stopSentAt === undefined && signal?.aborted)
          await stop(
            'stopped by berth (interrupted)',
            `berth: interrupted (task ${spec.id})`,
            'interrupted',
          );
        if (stopSentAt === undefined && this.now() - started >= spec.timeoutMs) {
          timedOut = true;
          const seconds = Math.round(spec.timeoutMs / 1000);
          const never = current.startedAt === undefined;
          await stop(
            never
              ? `timed out after ${seconds}s still ${current.lastStatus} (it never started) and was stopped`
              : `timed out after ${seconds}s and was stopped`,
            `berth: timed out after ${seconds}s (task ${spec.id})`,
            'timeout',
          );
          this.warn(`task ${spec.id} (${spec.databases.join(', ')}): timed out after ${seconds}s`);
        }
        if (
          stopSentAt !== undefined &&
          this.now() - stopSentAt > (this.options.stopWaitMs ?? 120_000)
        )
          break;
        // Once stopping, the signal has done its work: wait for the next round as usual.
        const next = await this.poller.next(
          context.cluster,
          task.arn,
          stopSentAt === undefined ? signal : undefined,
        );
        if (next) {
          current = next;
          missing = 0;
        } else if (stopSentAt === undefined && signal?.aborted) {
          continue;
        } else if (++missing >= MISSING_TOLERANCE) {
          write(`berth: ECS no longer reports task ${task.id}`);
          break;
        }
      }

      // 3. Everything it printed, including what reaches CloudWatch after it stopped.
      const container = essentialContainer(current, context.containerName);
      const ran = container?.exitCode !== undefined || current.startedAt !== undefined;
      if (ran) {
        // After Ctrl-C the user is waiting for the prompt: a stream that has not appeared by
        // then gets a short drain, not the full one (the result is `failed` either way).
        const drainMs = this.options.drainTimeoutMs ?? 30_000;
        const settled = await this.reader.settle(
          follow,
          this.options.settleMs ?? 3_000,
          stopCause === 'interrupted' ? Math.min(drainMs, INTERRUPTED_DRAIN_MS) : drainMs,
        );
        // The excerpt of a failure, a stream no round saw, a drain cut short: read it whole.
        if (!settled || !follow.found || container?.exitCode !== 0)
          await this.reader.backfill(follow);
      }
    } finally {
      this.reader.close(follow);
    }
    const container = essentialContainer(current, context.containerName);
    const ran = container?.exitCode !== undefined || current.startedAt !== undefined;
    if (follow.failure) write(`berth: could not read the task's log stream: ${follow.failure}`);
    else if (ran && !follow.found)
      write(`berth: no log stream ${context.logGroup}:${stream} appeared`);

    // 4. The exit code decides.
    if (current.lastStatus !== 'STOPPED') {
      const reason = stopReason
        ? `${stopReason}, but ECS still reports it ${current.lastStatus}`
        : `ECS lost track of the task (last seen ${current.lastStatus})`;
      if (!stopReason) write(`berth: ${reason}`);
      return outcome(null, timedOut, reason, stopCause ?? 'lost');
    }
    const exitCode = container?.exitCode ?? null;
    if (stopReason) return outcome(exitCode, timedOut, stopReason, stopCause);
    if (exitCode === null) {
      const reason = stoppedReason(current, context.containerName, container);
      write(`berth: the task stopped without running to an exit: ${reason}`);
      this.warn(`task ${spec.id} (${spec.databases.join(', ')}): ${reason}`);
      return outcome(null, false, reason);
    }
    if (current.stopCode === 'UserInitiated') {
      const reason = `stopped: ${current.stoppedReason ?? 'StopTask'}`;
      write(`berth: ${reason}`);
      return outcome(exitCode, false, reason, 'user');
    }
    // e.g. "OutOfMemoryError: Container killed due to memory usage".
    if (container?.reason) {
      write(`berth: container ${container.name}: ${container.reason}`);
      return outcome(exitCode, false, container.reason);
    }
    return outcome(exitCode, false);
  }

  private warn(text: string): void {
    this.options.reporter?.emit({ type: 'message', level: 'warn', text });
  }
}

function describeFailures(failures: readonly EcsFailure[]): string {
  if (failures.length === 0) return 'no task and no failure reported';
  return failures.map((f) => (f.detail ? `${f.reason} (${f.detail})` : f.reason)).join('; ');
}

/**
 * The container whose exit decides: the essential one the overrides address (the run context
 * picks it by name, else the task definition's essential flag). A sidecar never decides, so
 * with several containers and none of that name there is none; a task of one container is
 * decided by it.
 */
export function essentialContainer(task: EcsTask, name: string): EcsContainer | undefined {
  return (
    task.containers.find((c) => c.name === name) ??
    (task.containers.length === 1 ? task.containers[0] : undefined)
  );
}

/**
 * "TaskFailedToStart: CannotPullContainerError: …; container migration: …" — always words,
 * even when ECS gives no stop code, no stopped reason and a null container reason.
 */
export function stoppedReason(
  task: EcsTask,
  containerName: string,
  container: EcsContainer | undefined,
): string {
  const parts = [task.stopCode, task.stoppedReason].filter((p): p is string => Boolean(p));
  const main =
    parts.join(': ') ||
    `the task stopped without an exit code and ECS gave no reason (no stop code, stopped reason or container reason)`;
  if (!container) return `${main}; the task has no container named ${containerName}`;
  return container.reason && container.reason !== task.stoppedReason
    ? `${main}; container ${container.name}: ${container.reason}`
    : main;
}

function closeLog(log: WriteStream): Promise<void> {
  return new Promise((resolve) => log.end(resolve));
}
