/**
 * Runs a pipeline shell-free command (the test stage) with its output going to a log file,
 * so a long test run never floods berth's own output; the tail is shown when it fails.
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';

export async function runLogged(
  command: string[],
  cwd: string,
  logFile: string,
  signal?: AbortSignal,
): Promise<number | null> {
  await mkdir(path.dirname(logFile), { recursive: true, mode: 0o700 });
  const log = createWriteStream(logFile, { mode: 0o600 });
  const [program, ...args] = command;
  return new Promise((resolve) => {
    const child = spawn(program ?? '', args, {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: process.env,
    });
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    const onAbort = () => child.kill('SIGTERM');
    signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (error) => {
      log.end(`berth: could not start ${program}: ${error.message}\n`);
      resolve(null);
    });
    child.on('close', (code) => {
      signal?.removeEventListener('abort', onAbort);
      log.end(() => resolve(code));
    });
  });
}
