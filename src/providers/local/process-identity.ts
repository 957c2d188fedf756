/**
 * Which process a task record names, checked before berth signals anything. A PID alone is
 * not an identity: after the task (or a berth that was killed) is gone, the system can hand
 * the same number to an unrelated process. A process is the recorded one only when its start
 * time (field 22 of /proc/PID/stat, clock ticks since boot; `ps -o lstart=` where there is no
 * /proc) still matches the one recorded when it started.
 *
 * A local task runs as the leader of its own process group under berth's supervisor
 * (libexec/berth-supervisor.mjs); stopping it means stopping that whole group, which the
 * supervisor does when it gets SIGTERM (and then it releases the task's locks).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { TaskRecord } from '../../tasks/task.js';

export interface ProcessIdentity {
  pid: number;
  /** Undefined when the start time could not be read: such an identity never matches. */
  startTime?: string;
}

/** The start time of a live process, or undefined when there is no such process. */
export function processStartTime(pid: number): string | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  if (process.platform === 'linux') {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Field 2 (the command) may hold spaces and parentheses: fields 3… follow the last ')'.
      return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    } catch {
      return undefined;
    }
  }
  const ps = spawnSync('ps', ['-o', 'lstart=', '-p', String(pid)], { encoding: 'utf8' });
  const out = ps.status === 0 ? ps.stdout.trim() : '';
  return out === '' ? undefined : out;
}

/** The identity to record for a process berth just started (undefined if it is already gone). */
export function recordIdentity(pid: number | undefined): ProcessIdentity | undefined {
  if (pid === undefined) return undefined;
  const startTime = processStartTime(pid);
  return startTime === undefined ? undefined : { pid, startTime };
}

/** True only when the recorded process is still alive: same PID and same start time. */
export function isSameProcess(identity: ProcessIdentity | undefined): boolean {
  if (!identity?.startTime) return false;
  return processStartTime(identity.pid) === identity.startTime;
}

/** Whether any process is left in process group `pgid`. */
export function groupAlive(pgid: number): boolean {
  if (!Number.isInteger(pgid) || pgid <= 1) return false;
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether a RUNNING task record's processes are still the ones it recorded: its supervisor,
 * or (a supervisor killed on its own) the task's group leader. A record from before identities
 * were recorded, or whose PID now belongs to another process, is not running.
 */
export function taskIsRunning(record: TaskRecord): boolean {
  if (record.status !== 'RUNNING') return false;
  if (isSameProcess(record.supervisor)) return true;
  return record.pid !== undefined && isSameProcess({ pid: record.pid, ...startOf(record) });
}

export type StopOutcome =
  /** The task's processes were signalled and are gone. */
  | 'stopped'
  /** Nothing of the task is running (any more). */
  | 'not-running'
  /** The recorded PID is alive but is another process now: it was left alone. */
  | 'not-ours';

export interface StopTaskOptions {
  /** Between SIGTERM and SIGKILL. */
  graceMs: number;
  /** How long the supervisor may take beyond the grace period (its lock release). */
  settleMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Stops a local task's whole process tree, within about `graceMs + settleMs`: SIGTERM to its
 * supervisor, which ends the task's process group (SIGTERM, then SIGKILL after its own grace)
 * and waits for the task's database sessions before it releases the task locks; without a
 * live supervisor, SIGTERM then SIGKILL to the group directly. Nothing is signalled unless
 * the recorded identity matches.
 */
export async function stopTaskTree(
  record: TaskRecord,
  options: StopTaskOptions,
): Promise<StopOutcome> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const leader: ProcessIdentity | undefined =
    record.pid !== undefined ? { pid: record.pid, ...startOf(record) } : undefined;
  const leaderOurs = () => isSameProcess(leader);
  const settleMs = options.settleMs ?? 10_000;

  if (isSameProcess(record.supervisor) && record.supervisor) {
    const supervisor = record.supervisor;
    signal(supervisor.pid, 'SIGTERM');
    const deadline = Date.now() + options.graceMs + settleMs;
    while (isSameProcess(supervisor) && Date.now() < deadline) await sleep(50);
    if (!isSameProcess(supervisor)) return 'stopped';
    // The supervisor did not finish in time: end the group and the supervisor ourselves.
    if (leader && leaderOurs()) await endGroup(leader.pid, 0, sleep);
    if (isSameProcess(supervisor)) signal(supervisor.pid, 'SIGKILL');
    return 'stopped';
  }
  if (!leader) return 'not-running';
  if (!leaderOurs()) {
    return processStartTime(leader.pid) === undefined ? 'not-running' : 'not-ours';
  }
  await endGroup(leader.pid, options.graceMs, sleep);
  return 'stopped';
}

/** SIGTERM to process group `pgid`, SIGKILL after `graceMs`, until it is empty (bounded). */
export async function endProcessGroup(pgid: number, graceMs: number): Promise<void> {
  await endGroup(pgid, graceMs, (ms) => new Promise<void>((r) => setTimeout(r, ms)));
}

async function endGroup(
  pgid: number,
  graceMs: number,
  sleep: (ms: number) => Promise<void>,
): Promise<void> {
  signal(-pgid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (groupAlive(pgid) && Date.now() < deadline) await sleep(50);
  for (let i = 0; groupAlive(pgid) && i < 100; i++) {
    signal(-pgid, 'SIGKILL');
    await sleep(50);
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Gone already.
  }
}

function startOf(record: TaskRecord): { startTime?: string } {
  return record.startTime === undefined ? {} : { startTime: record.startTime };
}
