/**
 * Runs a task as a container from the stack's image — the local twin of the ECS Fargate
 * task: `docker run --rm --network host --name berth-<taskId>` with the image's working
 * directory, the task's command, exactly the task's environment, the configured non-root
 * user and (task.readonlyRootFilesystem) a read-only root with a tmpfs /tmp.
 *
 * Secrets never reach argv: each variable is passed as `-e NAME` (name only) and its value
 * sits in the docker CLI's own environment, which is where the CLI reads it from. The
 * engine's output is redacted, in whole lines, into the task's log file, the container's exit
 * code is the task's, and a timeout or an abort runs `docker stop` (SIGTERM, then SIGKILL
 * after the grace period), like ECS StopTask; berth's task supervisor does it if berth dies. Host networking is what lets the container
 * reach the embedded PostgreSQL on 127.0.0.1 (DATABASE_HOST in the local secret).
 */
import { mkdir } from 'node:fs/promises';
import { BerthError } from '../../core/errors.js';
import { redactor } from '../../core/redact.js';
import { engineEnv } from '../../core/exec.js';
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

export interface ContainerRuntimeOptions {
  /** The container CLI (local.containerCli); honours DOCKER_HOST. */
  cli: string;
  /** Image reference to run, e.g. 127.0.0.1:5000/startupwebapp-backend@sha256:… */
  image: string;
  /**
   * The image's ID as the engine resolved `image` when the run opened. Every container of
   * the run starts from it, so a tag rebuilt or re-pushed mid-run changes no task's code, and
   * the listing recorded for this ID is the listing of what the tasks run.
   */
  imageId?: string;
  store: TaskStore;
  runId?: string;
  /** task.user: the container's user (the image's non-root user by default). */
  user?: string;
  /** task.readonlyRootFilesystem */
  readonlyRootFilesystem?: boolean;
  /** Fargate's size, as engine limits (task.cpu units / 1024, task.memory MiB). */
  cpu?: number;
  memoryMiB?: number;
  /** Extra labels on every container (berth adds berth.task). */
  labels?: Record<string, string>;
  /** Seconds `docker stop` waits between SIGTERM and SIGKILL. */
  stopGraceSeconds?: number;
}

/**
 * Variables the docker CLI itself reads: a task variable with one of these names would
 * change how the CLI behaves instead of reaching the container, so it is refused.
 */
const CLI_OWN = /^(PATH|HOME|DOCKER_[A-Z_]*|XDG_RUNTIME_DIR|BUILDKIT_[A-Z_]*)$/;

/** `docker run` exits 125 when the engine could not create or start the container. */
const ENGINE_FAILED = 125;

export function containerName(taskId: string): string {
  return `berth-${taskId}`;
}

/** The argv of `docker run` (names only for the environment: values travel in env). */
export function runArgs(options: ContainerRuntimeOptions, spec: TaskSpec): string[] {
  const args = [
    'run',
    '--rm',
    '--name',
    containerName(spec.id),
    '--network',
    'host',
    '--label',
    `berth.task=${spec.id}`,
  ];
  for (const [k, v] of Object.entries(options.labels ?? {})) args.push('--label', `${k}=${v}`);
  if (options.user) args.push('--user', options.user);
  if (options.readonlyRootFilesystem) {
    args.push('--read-only', '--tmpfs', '/tmp:rw,nosuid,nodev,size=64m');
  }
  args.push('--cap-drop', 'ALL', '--security-opt', 'no-new-privileges');
  if (options.cpu) args.push('--cpus', String(options.cpu));
  if (options.memoryMiB) args.push('--memory', `${options.memoryMiB}m`);
  for (const name of Object.keys(spec.environment).sort()) args.push('--env', name);
  args.push(options.imageId || options.image, ...spec.command);
  return args;
}

/** The CLI's environment: what it needs to find and reach the engine, plus the task's values. */
export function cliEnvironment(spec: TaskSpec): NodeJS.ProcessEnv {
  const clashes = Object.keys(spec.environment).filter((n) => CLI_OWN.test(n));
  if (clashes.length > 0) {
    throw new BerthError(
      'CONFIG_INVALID',
      `task.environment or task.secrets sets ${clashes.join(', ')}, which the container CLI reads itself`,
      { hint: 'rename the variable, or use --runtime process' },
    );
  }
  const base = engineEnv();
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(base)) if (CLI_OWN.test(k) || k === 'LANG') env[k] = v;
  return { ...env, ...spec.environment };
}

export class ContainerRuntime implements TaskRuntime {
  readonly name = 'container';

  constructor(private readonly options: ContainerRuntimeOptions) {}

  async run(spec: TaskSpec, signal?: AbortSignal, locks?: TaskLocks): Promise<TaskOutcome> {
    const { store, cli } = this.options;
    const logFile = store.logFile(spec.id);
    await mkdir(store.logsDir, { recursive: true, mode: 0o700 });
    const log = new TaskLogFile(logFile);
    const started = Date.now();
    const record: TaskRecord = startRecord(spec, this.name, logFile, started, this.options.runId);
    const name = containerName(spec.id);
    const env = cliEnvironment(spec);
    const args = runArgs(this.options, spec);
    const { image, imageId } = this.options;
    log.write(
      `berth: container ${name} from ${image}${imageId && imageId !== image ? ` (${imageId})` : ''}\n`,
    );

    // The supervisor runs `docker run` in its own process group; stopping it (a timeout, an
    // abort, `berth tasks stop`, or berth dying) runs `docker stop` (SIGTERM, then SIGKILL
    // after the grace period, like ECS StopTask), ends the CLI's group and removes a
    // container the CLI may have left behind.
    const task = superviseTask({
      command: cli,
      args,
      env,
      graceMs: (this.options.stopGraceSeconds ?? 10) * 1000,
      container: { cli, name, env: engineEnv() },
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

    let lastEngineLine = '';
    const drained = Promise.all([
      pipeToLog(task.stdout, log, redactor),
      pipeToLog(task.stderr, log, redactor, (line) => {
        if (line.trim() !== '') lastEngineLine = line;
      }),
    ]);

    const { exit, timedOut, stoppedReason, cause } = await awaitTask(task, spec.timeoutMs, signal);
    await drained;
    const stopped = stoppedReason ?? exit.stopped;
    let code = stopped ? null : exit.exitCode;
    let why =
      stopped ??
      (exit.notStarted
        ? `failed to start: ${exit.notStarted}`
        : exit.signal
          ? `killed by ${exit.signal}`
          : undefined);
    if (exit.notStarted) log.write(`berth: could not start ${cli}: ${exit.notStarted}\n`);
    if (code === ENGINE_FAILED) {
      code = null;
      why = `failed to start: ${redactor.redact(lastEngineLine) || `${cli} run exited ${ENGINE_FAILED}`}`;
    }
    // Written and closed before the outcome: a log that could not be written is part of it.
    await log.end();
    why = withLogFailure(why, log);
    const outcome: TaskOutcome = {
      id: spec.id,
      exitCode: code,
      timedOut,
      ...(cause || exit.stopped ? { stopped: cause ?? 'user' } : {}),
      logFile,
      durationMs: Date.now() - started,
      ...(why ? { stoppedReason: why } : {}),
    };

    await task.started;
    await saving;
    await store.save(stopRecord(record, outcome, Date.now()));
    return outcome;
  }
}
