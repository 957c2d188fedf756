/**
 * Runs a task on ECS Fargate: start → wait until stopped → all logs → exit code, the same
 * contract as the local process runtime (src/tasks/task.ts).
 *
 *  - start: RunTask with the run context's revision, FARGATE, the configured subnets and
 *    backend security group (no public IP unless network.assignPublicIp), the command and
 *    DATABASE_NAME(S) as container overrides, berth's tags and `startedBy`. Throttling is
 *    retried by the SDK (adaptive retry mode); RunTask `failures[]` (capacity, ...) are
 *    retried a few times with a back-off, then reported as a task that never started.
 *  - wait: DescribeTasks every `pollMs` until STOPPED, PENDING → STOPPED included. Past the
 *    timeout (task.timeoutSeconds) berth calls StopTask and reports the timeout; an interrupt
 *    (Ctrl-C) stops the task the same way.
 *  - logs: the CloudWatch stream `<prefix>/<container>/<task id>` is followed while the task
 *    runs (see log-follower.ts), then drained after STOPPED until nothing more arrives; every
 *    line goes, redacted, to the task's local log file (.berth/logs/TASK_ID.log), and a task
 *    record (.berth/tasks/TASK_ID.json) lets `berth logs TASK_ID` read it later.
 *  - exit code: the essential container's. A container that never ran to an exit (failed to
 *    start: CannotPullContainerError, ResourceInitializationError, ...) has none: the outcome's
 *    exitCode is null, with ECS's stop code, stopped reason and container reason — a failure,
 *    never a success.
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
import type { ContainerOverride, EcsFailure, EcsTask, EcsTasksApi } from '../api/ecs-api.js';
import { logStreamName, type EcsRunContext } from './ecs-run-context.js';
import { LogFollower } from './log-follower.js';
import type { LogsApi } from '../api/logs-api.js';

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

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
  logs: Pick<LogsApi, 'getLogEvents'>;
  /** The cluster, revision and network; called before each task (memoise it). */
  context: () => Promise<EcsRunContext>;
  store: TaskStore;
  reporter?: Reporter;
  runId?: string;
  now?: () => number;
  sleep?: Sleep;
  /** DescribeTasks / GetLogEvents interval while a task runs (default 5 s). */
  pollMs?: number;
  /** After STOPPED, keep reading the stream until it has been quiet this long (default 3 s). */
  settleMs?: number;
  /** After STOPPED, give up waiting for late log events after this long (default 30 s). */
  drainTimeoutMs?: number;
  /** After StopTask, wait this long for STOPPED before giving up (default 2 min). */
  stopWaitMs?: number;
  /** RunTask attempts when it answers with `failures[]` (default 3). */
  runTaskAttempts?: number;
  /** GetLogEvents page size (CloudWatch's default when unset). */
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

  constructor(private readonly options: EcsTaskRuntimeOptions) {
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? realSleep;
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
      const result = await ecs.runTask({
        cluster: context.cluster,
        taskDefinition: context.taskDefinitionArn,
        launchType: 'FARGATE',
        subnets: context.subnets,
        securityGroups: context.securityGroups,
        assignPublicIp: context.assignPublicIp,
        containerOverrides: overrides,
        startedBy: startedBy(spec.kind, spec.databases),
        tags: taskTags(context.tags, spec.id, spec.kind, spec.databases),
      });
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
    const follower = new LogFollower(
      this.options.logs,
      context.logGroup,
      stream,
      (line) => {
        taskLines++;
        write(line);
      },
      this.options.logPageSize,
    );
    const pollMs = this.options.pollMs ?? 5_000;
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
        await ecs.stopTask(context.cluster, task.arn, ecsReason);
      } catch (error) {
        write(`berth: StopTask failed: ${errorMessage(error)}`);
      }
    };
    let current = task;
    while (current.lastStatus !== 'STOPPED') {
      await follower.poll();
      if (stopSentAt === undefined && signal?.aborted)
        await stop(
          'stopped by berth (interrupted)',
          `berth: interrupted (task ${spec.id})`,
          'interrupted',
        );
      if (stopSentAt === undefined && this.now() - started >= spec.timeoutMs) {
        timedOut = true;
        const seconds = Math.round(spec.timeoutMs / 1000);
        await stop(
          `timed out after ${seconds}s and was stopped`,
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
      // Once stopping, the signal has done its work: poll at the normal pace.
      await this.sleep(pollMs, stopSentAt === undefined ? signal : undefined);
      const described = await ecs.describeTasks(context.cluster, [task.arn]);
      const next = described.tasks[0];
      if (next) {
        current = next;
        missing = 0;
      } else if (++missing >= MISSING_TOLERANCE) {
        write(`berth: ECS no longer reports task ${task.id}`);
        break;
      }
    }

    // 3. Everything it printed, including what reaches CloudWatch after it stopped.
    const container =
      current.containers.find((c) => c.name === context.containerName) ?? current.containers[0];
    const ran = container?.exitCode !== undefined || current.startedAt !== undefined;
    await this.drain(follower, ran);
    if (follower.failure) write(`berth: could not read the task's log stream: ${follower.failure}`);
    else if (ran && !follower.found)
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
      const reason = stoppedReason(current, container?.name, container?.reason);
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

  /** Reads the stream until it has been quiet for `settleMs` (events arrive late). */
  private async drain(follower: LogFollower, ran: boolean): Promise<void> {
    const settleMs = this.options.settleMs ?? 3_000;
    const deadline = this.now() + (this.options.drainTimeoutMs ?? 30_000);
    const step = Math.max(1, Math.min(1_000, settleMs));
    let quietSince = this.now();
    for (;;) {
      const { found, lines } = await follower.poll();
      if (follower.failure) return;
      // A task that never ran printed nothing: one look is enough.
      if (!ran) return;
      if (lines > 0) quietSince = this.now();
      if (found && this.now() - quietSince >= settleMs) return;
      if (this.now() >= deadline) return;
      await this.sleep(step);
    }
  }

  private warn(text: string): void {
    this.options.reporter?.emit({ type: 'message', level: 'warn', text });
  }
}

function describeFailures(failures: readonly EcsFailure[]): string {
  if (failures.length === 0) return 'no task and no failure reported';
  return failures.map((f) => (f.detail ? `${f.reason} (${f.detail})` : f.reason)).join('; ');
}

/** "TaskFailedToStart: CannotPullContainerError: …; container migration: …". */
function stoppedReason(
  task: EcsTask,
  containerName: string | undefined,
  containerReason: string | undefined,
): string {
  const main = [task.stopCode, task.stoppedReason].filter(Boolean).join(': ') || 'stopped';
  return containerReason && containerReason !== task.stoppedReason
    ? `${main}; container ${containerName ?? '?'}: ${containerReason}`
    : main;
}

function closeLog(log: WriteStream): Promise<void> {
  return new Promise((resolve) => log.end(resolve));
}
