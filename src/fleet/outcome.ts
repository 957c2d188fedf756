/**
 * The result of one database after its task: a pure function of what berth observed — the
 * probe under the lock before the task, the task's outcome (its exit code for this database,
 * and whether berth or someone stopped it), and the probe after it. No result claims what
 * berth did not observe:
 *  - a task that timed out, was stopped or lost is never `applied` on its exit code alone
 *    (a container that exits 0 on SIGTERM looks like a success); in a batch, a database
 *    whose own section finished with 0 before the stop, and which the probe after confirms
 *    complete, was applied;
 *  - exit 0 with pending migrations left is a failure;
 *  - exit 0 where no probe can look (aws without a probe command) is `applied` with that
 *    said, unless the task wrote no log line at all: then nothing confirms it ran (the AWS
 *    emulator's tasks, a container that never started its command), and it is `failed`;
 *  - a probe after the task that failed makes the result `failed` with the reason;
 *  - in a stopped batch, a database whose section never began and where the probe after sees
 *    no change is `skipped` (the task never reached it), not `failed`;
 *  - a section that reports the migration lock held elsewhere (the task's own advisory lock,
 *    migrations.taskLock) is `locked`: that task did not run the command for it.
 */
import type { TaskOutcome } from '../tasks/task.js';
import type { DatabaseResult, ProbeResult } from './types.js';

export interface OutcomeInput {
  database: string;
  taskId: string;
  /** The task ran this database alone (its exit code is the task's). */
  single: boolean;
  /** This database's exit code: the task's (single), or its section's marker (batch). */
  exitCode: number | null;
  /** Whether its section began (batch); always true for a single task. */
  started: boolean;
  /** Its section printed the locked marker: another session held its migration lock. */
  locked?: boolean;
  /** The last lines of its section (or of the task's log). */
  tail: string[];
  task: Pick<TaskOutcome, 'exitCode' | 'stoppedReason' | 'stopped' | 'logLines'>;
  onError: 'stop' | 'continue';
  /** Probed under the lock before the task. */
  before: ProbeResult | undefined;
  /** Probed after the task; undefined when the probe gave nothing for it. */
  after: ProbeResult | undefined;
  durationMs: number;
}

/** What the task changed: known pending that is no longer pending, or new history rows. */
export function appliedBy(
  before: ProbeResult | undefined,
  after: ProbeResult | undefined,
): string[] {
  const pendingBefore = before?.pending ?? [];
  const pendingAfter = after?.pending ?? pendingBefore;
  if (before?.pendingKnown) return pendingBefore.filter((m) => !pendingAfter.includes(m));
  const had = new Set(before?.applied ?? []);
  return (after?.applied ?? []).filter((m) => !had.has(m));
}

export function databaseOutcome(i: OutcomeInput): DatabaseResult {
  const pendingBefore = i.before?.pending ?? [];
  const readable = i.after && !i.after.error ? i.after : undefined;
  const pendingAfter = readable?.pending ?? pendingBefore;
  const base = {
    database: i.database,
    taskId: i.taskId,
    exitCode: i.exitCode,
    applied: appliedBy(i.before, readable),
    pending: pendingAfter,
    durationMs: i.durationMs,
  };
  const failed = (reason: string, logExcerpt = i.tail): DatabaseResult => ({
    ...base,
    status: 'failed',
    reason,
    ...(logExcerpt.length ? { logExcerpt } : {}),
  });
  const confirmed = readable !== undefined && !readable.blind && pendingAfter.length === 0;

  if (i.locked)
    return {
      ...base,
      status: 'locked',
      reason:
        'another migration held its lock inside the VPC (advisory lock); this task did not migrate it',
    };

  if (i.task.stopped && i.exitCode === 0 && (i.single || !confirmed)) return failed(stopReason(i));
  if (i.exitCode === 0 && i.after?.error)
    return failed(`the migrate command exited 0, but the probe after it failed: ${i.after.error}`);
  if (i.exitCode === 0 && readable?.blind) {
    if (i.task.logLines === 0)
      return failed(
        `the task exited 0 but wrote no log line, and no probe can confirm what it did (${readable.blind})`,
      );
    return {
      ...base,
      status: 'applied',
      reason: `the migrate command exited 0; which migrations it applied is unknown (${readable.blind})`,
    };
  }
  if (i.exitCode === 0 && pendingAfter.length === 0)
    return { ...base, status: base.applied.length > 0 ? 'applied' : 'up-to-date' };
  if (i.exitCode === 0)
    return failed(
      `the migrate command exited 0 but ${pendingAfter.length} migration(s) are still pending`,
    );
  // A batch stopped (interrupted, timed out, `berth tasks stop`) before its section began, and
  // the probe after sees nothing changed: the task never reached it.
  if (!i.started && !i.single && i.task.stopped && readable && base.applied.length === 0)
    return {
      ...base,
      status: 'skipped',
      reason: `not started: its batch was stopped before it reached this database (${i.task.stoppedReason ?? i.task.stopped})`,
    };
  if (!i.started && i.onError === 'stop' && i.task.exitCode !== null && i.task.exitCode !== 0)
    return {
      ...base,
      status: 'skipped',
      reason: 'not started: an earlier database in its batch failed (--on-error stop)',
    };
  return failed(
    i.exitCode === null
      ? (i.task.stoppedReason ?? 'the task stopped before this database finished')
      : `the migrate command exited ${i.exitCode}${i.task.stoppedReason ? ` (${i.task.stoppedReason})` : ''}`,
  );
}

function stopReason(i: OutcomeInput): string {
  const why = i.task.stoppedReason ?? `the task was stopped (${i.task.stopped ?? 'unknown'})`;
  return `${why}; it exited 0 after the stop, which is not counted as applied`;
}
