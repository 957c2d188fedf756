/**
 * Runs a task as a host process in the app's working directory, with exactly the task's
 * environment (plus PATH, which a container image would provide), stdout and stderr
 * redacted line by line into the task's log file, and a timeout that stops it.
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import readline from 'node:readline';
import { redactor } from '../../core/redact.js';
import type {
  StopCause,
  TaskOutcome,
  TaskRecord,
  TaskRuntime,
  TaskSpec,
} from '../../tasks/task.js';
import { startRecord, stopRecord, type TaskStore } from '../../state/task-store.js';

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

  async run(spec: TaskSpec, signal?: AbortSignal): Promise<TaskOutcome> {
    const { store } = this.options;
    const logFile = store.logFile(spec.id);
    await mkdir(store.logsDir, { recursive: true });
    const log = createWriteStream(logFile, { flags: 'a' });
    const started = Date.now();
    const record: TaskRecord = startRecord(spec, this.name, logFile, started, this.options.runId);

    const [program, ...args] = spec.command;
    const env: Record<string, string> = { ...spec.environment };
    if (process.env.PATH) env.PATH = process.env.PATH;

    const outcome = await new Promise<TaskOutcome>((resolve) => {
      let timedOut = false;
      let stoppedReason: string | undefined;
      let stopped: StopCause | undefined;
      let settled = false;
      const child = spawn(program ?? '', args, {
        cwd: this.options.cwd,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      record.pid = child.pid;
      void store.save(record);

      const pipe = (stream: NodeJS.ReadableStream) => {
        const lines = readline.createInterface({ input: stream, crlfDelay: Infinity });
        lines.on('line', (line) => log.write(`${redactor.redact(line)}\n`));
        return new Promise<void>((r) => lines.on('close', r));
      };
      const drained = Promise.all([pipe(child.stdout), pipe(child.stderr)]);

      const stop = (reason: string, cause: StopCause) => {
        if (settled || child.exitCode !== null) return;
        stoppedReason = reason;
        stopped = cause;
        child.kill('SIGTERM');
        setTimeout(
          () => child.exitCode === null && child.kill('SIGKILL'),
          this.options.killGraceMs ?? 5_000,
        ).unref();
      };
      const timer = setTimeout(() => {
        timedOut = true;
        stop(`timed out after ${Math.round(spec.timeoutMs / 1000)}s and was stopped`, 'timeout');
      }, spec.timeoutMs);
      const onAbort = () => stop('stopped by berth (interrupted)', 'interrupted');
      signal?.addEventListener('abort', onAbort, { once: true });

      const finish = (exitCode: number | null, reason?: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        void drained.then(() => {
          const finalReason = stoppedReason ?? reason;
          resolve({
            id: spec.id,
            exitCode,
            timedOut,
            ...(stopped ? { stopped } : {}),
            logFile,
            durationMs: Date.now() - started,
            ...(finalReason ? { stoppedReason: finalReason } : {}),
          });
        });
      };
      child.on('error', (error) => {
        // The program could not be started at all (not found, not executable).
        log.write(`berth: could not start ${program}: ${error.message}\n`);
        finish(null, `failed to start: ${error.message}`);
      });
      child.on('close', (code, sig) => finish(code, sig ? `killed by ${sig}` : undefined));
    });

    await new Promise<void>((r) => log.end(r));
    await store.save(stopRecord(record, outcome, Date.now()));
    return outcome;
  }
}
