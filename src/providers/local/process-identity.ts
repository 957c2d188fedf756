/**
 * Stopping a local task without ever signalling a process that is not the recorded one. The
 * identity checks themselves (a PID plus its start time, `taskIsRunning`) live in
 * src/tasks/process-identity.ts, which `berth prune` shares.
 *
 * A local task runs as the leader of its own process group under berth's supervisor
 * (libexec/berth-supervisor.mjs); stopping it means stopping that whole group, which the
 * supervisor does when it gets SIGTERM (and then it releases the task's locks).
 */
import type { TaskRecord } from '../../tasks/task.js';
import {
  isSameProcess,
  leaderIdentity,
  processStartTime,
  type ProcessIdentity,
} from '../../tasks/process-identity.js';

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
  const leader: ProcessIdentity | undefined = leaderIdentity(record);
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
