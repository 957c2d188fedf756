/**
 * Runs a task as a container from the stack's image — the local twin of the ECS Fargate
 * task: `docker run --rm --network host --name berth-<taskId>` with the image's working
 * directory, the task's command, exactly the task's environment, the configured non-root
 * user and (task.readonlyRootFilesystem) a read-only root with a tmpfs /tmp.
 *
 * Secrets never reach argv: each variable is passed as `-e NAME` (name only) and its value
 * sits in the docker CLI's own environment, which is where the CLI reads it from. The
 * engine's output is redacted line by line into the task's log file, the container's exit
 * code is the task's, and a timeout or an abort runs `docker stop` (SIGTERM, then SIGKILL
 * after the grace period), like ECS StopTask. Host networking is what lets the container
 * reach the embedded PostgreSQL on 127.0.0.1 (DATABASE_HOST in the local secret).
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import readline from 'node:readline';
import { BerthError } from '../../core/errors.js';
import { redactor } from '../../core/redact.js';
import { engineEnv, exec as defaultExec, type Exec } from '../../core/exec.js';
import type {
  StopCause,
  TaskOutcome,
  TaskRecord,
  TaskRuntime,
  TaskSpec,
} from '../../tasks/task.js';
import { startRecord, stopRecord, type TaskStore } from '../../state/task-store.js';

export interface ContainerRuntimeOptions {
  /** The container CLI (local.containerCli); honours DOCKER_HOST. */
  cli: string;
  /** Image reference to run, e.g. 127.0.0.1:5000/startupwebapp-backend@sha256:… */
  image: string;
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
  exec?: Exec;
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
  args.push(options.image, ...spec.command);
  return args;
}

/** The CLI's environment: what it needs to find and reach the engine, plus the task's values. */
export function cliEnvironment(spec: TaskSpec): NodeJS.ProcessEnv {
  const clashes = Object.keys(spec.environment).filter((n) => CLI_OWN.test(n));
  if (clashes.length > 0) {
    throw new BerthError(
      'CONFIG_INVALID',
      `task.environment sets ${clashes.join(', ')}, which the container CLI reads itself`,
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

  async run(spec: TaskSpec, signal?: AbortSignal): Promise<TaskOutcome> {
    const { store, cli } = this.options;
    const exec = this.options.exec ?? defaultExec;
    const logFile = store.logFile(spec.id);
    await mkdir(store.logsDir, { recursive: true });
    const log = createWriteStream(logFile, { flags: 'a' });
    const started = Date.now();
    const record: TaskRecord = startRecord(spec, this.name, logFile, started, this.options.runId);
    const name = containerName(spec.id);
    const env = cliEnvironment(spec);
    const args = runArgs(this.options, spec);
    log.write(`berth: container ${name} from ${this.options.image}\n`);

    const outcome = await new Promise<TaskOutcome>((resolve) => {
      let timedOut = false;
      let stoppedReason: string | undefined;
      let stopped: StopCause | undefined;
      let settled = false;
      let lastEngineLine = '';
      const child = spawn(cli, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
      // The CLI's pid: `berth tasks stop` signals it, and the CLI forwards the signal to the
      // container (docker run proxies signals when attached without a TTY).
      record.pid = child.pid;
      void store.save(record);

      const pipe = (stream: NodeJS.ReadableStream, isErr: boolean) => {
        const lines = readline.createInterface({ input: stream, crlfDelay: Infinity });
        lines.on('line', (line) => {
          if (isErr && line.trim() !== '') lastEngineLine = line;
          log.write(`${redactor.redact(line)}\n`);
        });
        return new Promise<void>((r) => lines.on('close', r));
      };
      const drained = Promise.all([pipe(child.stdout, false), pipe(child.stderr, true)]);

      const stop = (reason: string, cause: StopCause) => {
        if (settled || stoppedReason) return;
        stoppedReason = reason;
        stopped = cause;
        const grace = this.options.stopGraceSeconds ?? 10;
        void exec(cli, ['stop', '--time', String(grace), name], { env: engineEnv() }).then(
          (result) => {
            // Not created yet (or already gone): stop the CLI, which stops what it started.
            if (result.code !== 0 && child.exitCode === null) child.kill('SIGTERM');
          },
        );
      };
      const timer = setTimeout(() => {
        timedOut = true;
        stop(`timed out after ${Math.round(spec.timeoutMs / 1000)}s and was stopped`, 'timeout');
      }, spec.timeoutMs);
      const onAbort = () => stop('stopped by berth (interrupted)', 'interrupted');
      signal?.addEventListener('abort', onAbort, { once: true });
      if (signal?.aborted) onAbort();

      const finish = (exitCode: number | null, reason?: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        void drained.then(() => {
          let code = exitCode;
          let why = stoppedReason ?? reason;
          if (code === ENGINE_FAILED && !stoppedReason) {
            code = null;
            why = `failed to start: ${redactor.redact(lastEngineLine) || `${cli} run exited ${ENGINE_FAILED}`}`;
          }
          resolve({
            id: spec.id,
            exitCode: code,
            timedOut,
            ...(stopped ? { stopped } : {}),
            logFile,
            durationMs: Date.now() - started,
            ...(why ? { stoppedReason: why } : {}),
          });
        });
      };
      child.on('error', (error) => {
        log.write(`berth: could not start ${cli}: ${error.message}\n`);
        finish(null, `failed to start: ${error.message}`);
      });
      child.on('close', (code, sig) => finish(code, sig ? `killed by ${sig}` : undefined));
    });

    await new Promise<void>((r) => log.end(r));
    await store.save(stopRecord(record, outcome, Date.now()));
    return outcome;
  }
}
