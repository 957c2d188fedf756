/**
 * Runs a task as a host process in the app's working directory, with exactly the task's
 * environment (plus PATH, which a container image would provide), stdout and stderr
 * redacted, in whole lines, into the task's log file, and a timeout that stops it.
 *
 * The task runs under berth's supervisor (see supervise.ts): in its own process group, which a
 * timeout, an interrupt or `berth tasks stop` ends as a whole (SIGTERM, then SIGKILL after
 * the grace period), and which the supervisor ends if berth itself dies.
 */
import { mkdir } from 'node:fs/promises';
import { redactor } from '../../core/redact.js';
import type {
  TaskLocks,
  TaskOutcome,
  TaskRecord,
  TaskRuntime,
  TaskSpec,
} from '../../tasks/task.js';
import { startRecord, stopRecord, type TaskStore } from '../../state/task-store.js';
import { awaitTask, superviseTask } from './supervise.js';
import { pipeToLog, TaskLogFile, withLogFailure } from './task-log-pipe.js';

export interface ProcessRuntimeOptions {
  cwd: string;
  store: TaskStore;
  runId?: string;
  /** Grace period between SIGTERM and SIGKILL when a task is stopped. */
  killGraceMs?: number;
}

export class ProcessRuntime implements TaskRuntime {
  readonly name = 'process';

  constructor(private readonly options: ProcessRuntimeOptions) {}

  async run(spec: TaskSpec, signal?: AbortSignal, locks?: TaskLocks): Promise<TaskOutcome> {
    const { store } = this.options;
    const logFile = store.logFile(spec.id);
    await mkdir(store.logsDir, { recursive: true, mode: 0o700 });
    const log = new TaskLogFile(logFile);
    const started = Date.now();
    const record: TaskRecord = startRecord(spec, this.name, logFile, started, this.options.runId);

    const [program, ...args] = spec.command;
    const env: Record<string, string> = { ...spec.environment };
    if (process.env.PATH) env.PATH = process.env.PATH;

    const task = superviseTask({
      command: program ?? '',
      args,
      cwd: this.options.cwd,
      env,
      graceMs: this.options.killGraceMs ?? 5_000,
      ...(locks ? { locks } : {}),
    });
    if (task.supervisor) record.supervisor = task.supervisor;
    // Saves in order, so the record's last write is the STOPPED one.
    let saving = store.save(record).catch(() => undefined);
    void task.started.then((identity) => {
      if (!identity) return;
      record.pid = identity.pid;
      if (identity.startTime) record.startTime = identity.startTime;
      saving = saving.then(() => store.save(record)).catch(() => undefined);
    });

    const drained = Promise.all([
      pipeToLog(task.stdout, log, redactor),
      pipeToLog(task.stderr, log, redactor),
    ]);

    const { exit, timedOut, stoppedReason, cause } = await awaitTask(task, spec.timeoutMs, signal);
    await drained;
    if (exit.notStarted) log.write(`berth: could not start ${program}: ${exit.notStarted}\n`);
    // Written and closed before the outcome: a log that could not be written is part of it.
    await log.end();
    const reason = withLogFailure(
      stoppedReason ??
        exit.stopped ??
        (exit.notStarted
          ? `failed to start: ${exit.notStarted}`
          : exit.signal
            ? `killed by ${exit.signal}`
            : undefined),
      log,
    );
    const outcome: TaskOutcome = {
      id: spec.id,
      // A stopped task never counts as its own success, whatever it exited with.
      exitCode: stoppedReason || exit.stopped ? null : exit.exitCode,
      timedOut,
      ...(cause || exit.stopped ? { stopped: cause ?? 'user' } : {}),
      logFile,
      durationMs: Date.now() - started,
      ...(reason ? { stoppedReason: reason } : {}),
    };

    await task.started;
    await saving;
    await store.save(stopRecord(record, outcome, Date.now()));
    return outcome;
  }
}
