/**
 * berth's side of the task supervisor (libexec/berth-supervisor.mjs): starts it in its own
 * session, hands it the job over stdin (secrets stay off argv), keeps stdin open for as long
 * as berth lives — its end of file is how the supervisor learns that berth died and ends the
 * task — and reads its events from fd 3. The task's stdout and stderr come straight through.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { StopCause, TaskLocks } from '../../tasks/task.js';
import {
  processStartTime,
  recordIdentity,
  type ProcessIdentity,
} from '../../tasks/process-identity.js';
import { endProcessGroup, groupAlive } from './process-identity.js';

export interface SupervisedJob {
  command: string;
  args: string[];
  cwd?: string;
  env: NodeJS.ProcessEnv;
  /** Between SIGTERM and SIGKILL of the task's group (and for its sessions to end). */
  graceMs: number;
  /** A container task: stopped with `cli stop` first, and removed if it was left behind. */
  container?: { cli: string; name: string; env: NodeJS.ProcessEnv };
  locks?: TaskLocks;
}

export interface SupervisedExit {
  /** The task's exit code; null when it was killed by a signal or never ran. */
  exitCode: number | null;
  signal?: string;
  /** Why the task never started (a lock refused, the program not found, the supervisor failed). */
  notStarted?: string;
  /** Why it was stopped, when it was. */
  stopped?: string;
}

export interface SupervisedTask {
  supervisor: ProcessIdentity | undefined;
  stdout: Readable;
  stderr: Readable;
  /** Resolves with the task's identity once it runs (undefined if it never did). */
  started: Promise<ProcessIdentity | undefined>;
  /** Asks the supervisor to stop the task's whole process group. */
  stop(reason: string): void;
  /** After the task's group is gone and its task locks are released. */
  done: Promise<SupervisedExit>;
}

interface SupervisorEvent {
  type: 'started' | 'refused' | 'exited' | 'failed';
  pid?: number;
  startTime?: string;
  reason?: string;
  code?: number | null;
  signal?: string | null;
  error?: string;
  stopped?: string;
}

let scriptPath: string | undefined;

/**
 * The supervisor berth starts: from built berth (dist/ or dist/chunks/), the one-file bundle
 * scripts/build.mjs makes of it (pg inside, CommonJS: it starts with less CPU, and it starts
 * once per task); from the sources, libexec/berth-supervisor.mjs as it is.
 */
export function supervisorScript(): string {
  return (scriptPath ??= locateSupervisor(path.dirname(fileURLToPath(import.meta.url))));
}

/** The supervisor for berth's module in `dir`, looking up from there (see supervisorScript). */
export function locateSupervisor(dir: string): string {
  for (;;) {
    if (path.basename(dir) === 'dist') {
      const bundled = path.join(dir, BUNDLED_SUPERVISOR);
      if (existsSync(bundled)) return bundled;
    }
    const candidate = path.join(dir, 'libexec', 'berth-supervisor.mjs');
    if (existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('libexec/berth-supervisor.mjs is missing from berth');
    dir = parent;
  }
}

/** The bundle's file name in dist/ (scripts/build.mjs writes it). */
export const BUNDLED_SUPERVISOR = 'berth-supervisor.cjs';

export function superviseTask(job: SupervisedJob): SupervisedTask {
  const child: ChildProcess = spawn(process.execPath, [supervisorScript()], {
    // Its own session: a signal to berth's process group (Ctrl-C, a kill of the group) does
    // not take the supervisor down with berth; it outlives berth just long enough to end the task.
    detached: true,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
  });
  const supervisor = recordIdentity(child.pid);
  const control = child.stdin;
  control?.on('error', () => undefined);
  control?.write(`${JSON.stringify(job)}\n`);

  let resolveStarted: (identity: ProcessIdentity | undefined) => void = () => undefined;
  const started = new Promise<ProcessIdentity | undefined>((r) => (resolveStarted = r));
  let last: SupervisorEvent | undefined;
  let refused: string | undefined;
  let leader: ProcessIdentity | undefined;
  const eventsStream = child.stdio[3] as Readable | undefined;
  const eventsDone = new Promise<void>((resolve) => {
    if (!eventsStream) return resolve();
    const lines = readline.createInterface({ input: eventsStream, crlfDelay: Infinity });
    lines.on('line', (line) => {
      let event: SupervisorEvent;
      try {
        event = JSON.parse(line) as SupervisorEvent;
      } catch {
        return;
      }
      if (event.type === 'started' && event.pid !== undefined) {
        leader = {
          pid: event.pid,
          ...(event.startTime !== undefined ? { startTime: event.startTime } : {}),
        };
        resolveStarted(leader);
      } else if (event.type === 'refused' || event.type === 'failed') {
        refused = event.reason ?? 'the supervisor failed';
      } else if (event.type === 'exited') {
        last = event;
      }
    });
    lines.on('close', resolve);
  });

  const done = new Promise<SupervisedExit>((resolve) => {
    let spawnError: string | undefined;
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      void settle();
    };
    child.on('error', (error) => {
      spawnError = error.message;
      if (child.pid === undefined) finish();
    });
    // 'exit', not 'close': the task shares the supervisor's stdout and stderr, so they can stay
    // open after the supervisor is gone.
    child.on('exit', finish);
    const settle = () =>
      eventsDone.then(async () => {
        if (!last && leader && ownGroupAlive(leader)) {
          // The supervisor died (killed on its own) with the task running: berth, which still
          // holds the migration locks, ends the task's group itself before it lets them go.
          await endProcessGroup(leader.pid, job.graceMs);
          resolveStarted(undefined);
          control?.end();
          return resolve({
            exitCode: null,
            stopped: 'its supervisor died while it ran; berth stopped the task',
          });
        }
        resolveStarted(undefined);
        control?.end();
        if (spawnError) return resolve({ exitCode: null, notStarted: spawnError });
        if (last?.error) return resolve({ exitCode: null, notStarted: last.error });
        if (last) {
          return resolve({
            exitCode: last.code ?? null,
            ...(last.signal ? { signal: last.signal } : {}),
            ...(last.stopped ? { stopped: last.stopped } : {}),
          });
        }
        resolve({ exitCode: null, notStarted: refused ?? 'the task supervisor exited early' });
      });
  });

  return {
    supervisor,
    stdout: child.stdout as Readable,
    stderr: child.stderr as Readable,
    started,
    stop: (reason) => {
      if (control?.writable) control.write(`${JSON.stringify({ stop: reason })}\n`);
    },
    done,
  };
}

/**
 * Whether the task's process group still has members. Its id is the leader's pid, which the
 * system does not hand out again while any member lives; so the group is ours when the leader
 * is the same process or gone, and foreign only when another process now has that pid.
 */
function ownGroupAlive(leader: ProcessIdentity): boolean {
  const now = processStartTime(leader.pid);
  if (now !== undefined && now !== leader.startTime) return false;
  return groupAlive(leader.pid);
}

/** How a supervised task ended, with berth's own reason when berth stopped it. */
export interface TaskEnd {
  exit: SupervisedExit;
  timedOut: boolean;
  /** berth stopped it: its timeout, or an interrupt (Ctrl-C, SIGTERM to berth). */
  stoppedReason?: string;
  cause?: StopCause;
}

/**
 * Waits for a supervised task under its timeout and berth's abort signal: either stops the
 * whole task (through its supervisor) with the reason. Shared by both local runtimes.
 */
export async function awaitTask(
  task: SupervisedTask,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<TaskEnd> {
  let timedOut = false;
  let stoppedReason: string | undefined;
  let cause: StopCause | undefined;
  const stop = (reason: string, why: StopCause) => {
    if (stoppedReason) return;
    stoppedReason = reason;
    cause = why;
    task.stop(reason);
  };
  const timer = setTimeout(() => {
    timedOut = true;
    stop(`timed out after ${Math.round(timeoutMs / 1000)}s and was stopped`, 'timeout');
  }, timeoutMs);
  const onAbort = () => stop('stopped by berth (interrupted)', 'interrupted');
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) onAbort();
  try {
    const exit = await task.done;
    return {
      exit,
      timedOut,
      ...(stoppedReason ? { stoppedReason } : {}),
      ...(cause ? { cause } : {}),
    };
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}
