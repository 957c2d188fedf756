/**
 * Runs the container CLI (and git) as child processes: argv only, never a shell. Injected
 * everywhere as `Exec` so unit tests can script the engine's answers.
 */
import { spawn } from 'node:child_process';
import readline from 'node:readline';

export interface ExecOptions {
  cwd?: string;
  /** The child's whole environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Written to stdin, then closed (e.g. a password for `--password-stdin`). */
  input?: string;
  signal?: AbortSignal;
  /** Every output line as it arrives (build logs); stdout/stderr are still collected. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Do not keep stdout (e.g. `docker cp … -` of a directory). */
  discardStdout?: boolean;
  timeoutMs?: number;
}

export interface ExecResult {
  /** Exit code; null when killed, or when the program could not start (see `error`). */
  code: number | null;
  stdout: string;
  stderr: string;
  /** Set when the program could not be started (ENOENT, EACCES). */
  error?: NodeJS.ErrnoException;
}

export type Exec = (program: string, args: string[], options?: ExecOptions) => Promise<ExecResult>;

export const exec: Exec = (program, args, options = {}) =>
  new Promise((resolve) => {
    const child = spawn(program, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let failed: NodeJS.ErrnoException | undefined;
    const pipe = (stream: NodeJS.ReadableStream | null, name: 'stdout' | 'stderr') => {
      if (!stream) return Promise.resolve();
      const lines = readline.createInterface({ input: stream, crlfDelay: Infinity });
      lines.on('line', (line) => {
        if (name === 'stderr') stderr += `${line}\n`;
        else if (!options.discardStdout) stdout += `${line}\n`;
        options.onLine?.(line, name);
      });
      return new Promise<void>((r) => lines.on('close', r));
    };
    const drained = Promise.all([pipe(child.stdout, 'stdout'), pipe(child.stderr, 'stderr')]);
    if (options.input !== undefined && child.stdin) {
      child.stdin.on('error', () => undefined);
      child.stdin.end(options.input);
    }
    const kill = () => child.kill('SIGTERM');
    options.signal?.addEventListener('abort', kill, { once: true });
    const timer =
      options.timeoutMs === undefined ? undefined : setTimeout(kill, options.timeoutMs).unref();
    let settled = false;
    const finish = (code: number | null) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      options.signal?.removeEventListener('abort', kill);
      void drained.then(() =>
        resolve({
          code: failed ? null : code,
          stdout,
          stderr,
          ...(failed ? { error: failed } : {}),
        }),
      );
    };
    child.on('error', (error: NodeJS.ErrnoException) => {
      // The program could not be started (ENOENT, EACCES): there will be no exit code.
      failed = error;
      finish(null);
    });
    child.on('close', (code) => finish(code));
  });

/** The environment the container CLI runs with: BuildKit on, everything else inherited. */
export function engineEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, DOCKER_BUILDKIT: '1', ...extra };
}

/** The last `count` non-empty lines of a command's output, for error messages. */
export function lastLines(text: string, count: number): string[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(-count);
}
