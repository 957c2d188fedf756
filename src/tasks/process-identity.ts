/**
 * Which process a task record names, and whether it is still that process. A PID alone is
 * not an identity: after the task (or a berth that was killed) is gone, the system can hand
 * the same number to an unrelated process. A process is the recorded one only when its start
 * time (field 22 of /proc/PID/stat, clock ticks since boot; `ps -o lstart=` where there is no
 * /proc) still matches the one recorded when it started.
 *
 * Read-only checks, shared by everything that asks whether a local task is still running: the
 * local provider (`berth tasks list|stop`, src/providers/local/process-identity.ts, which adds
 * the signalling) and `berth prune` (src/state/prune.ts).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { TaskRecord } from './task.js';

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

/** The recorded identity of a task's process-group leader (undefined before it started). */
export function leaderIdentity(record: TaskRecord): ProcessIdentity | undefined {
  if (record.pid === undefined) return undefined;
  return record.startTime === undefined
    ? { pid: record.pid }
    : { pid: record.pid, startTime: record.startTime };
}

/**
 * Whether a RUNNING task record's processes are still the ones it recorded: its supervisor,
 * or (a supervisor killed on its own) the task's group leader. A record from before identities
 * were recorded, or whose PID now belongs to another process, is not running.
 */
export function taskIsRunning(record: TaskRecord): boolean {
  if (record.status !== 'RUNNING') return false;
  return isSameProcess(record.supervisor) || isSameProcess(leaderIdentity(record));
}
