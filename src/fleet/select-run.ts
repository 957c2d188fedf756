/**
 * Which databases a migrate run takes: --all / --database, or --resume (the unfinished
 * databases of the last run, when that run did not complete). Usage errors come before any
 * task or AWS call.
 */
import { BerthError } from '../core/errors.js';
import { listRuns, readRun, runStatus, type RunMeta } from '../state/journal.js';
import { selectDatabases } from './tenants.js';
import { remainingWaves, type Wave } from './waves.js';

export interface RunSelection {
  databases?: string[] | undefined;
  all?: boolean | undefined;
  resume?: boolean | undefined;
}

export interface SelectedRun {
  databases: string[];
  /**
   * The run this one resumes, and how much of it was left. `removed`: unfinished databases
   * no longer in the fleet, left alone (never recreated). `state`: `interrupted` (`killed`
   * when its journal still said running but its berth process is gone), or `stopped` (a run
   * in waves that stopped at a wave), or `failed` (an error stopped it).
   */
  resumed?: {
    runId: string;
    left: number;
    of: number;
    removed: string[];
    state: 'interrupted' | 'stopped' | 'failed';
    killed: boolean;
  };
  /** A resumed run in waves: its waves, from the one where it stopped. */
  waves?: Wave[];
}

export async function selectRunDatabases(
  selection: RunSelection,
  runsDir: string,
  tenants: () => Promise<string[]>,
): Promise<SelectedRun> {
  if (!selection.resume)
    return {
      databases: selectDatabases(await tenants(), {
        databases: selection.databases,
        all: selection.all,
      }),
    };
  if (selection.all || selection.databases?.length)
    throw new BerthError(
      'USAGE',
      '--resume continues the last run; do not combine it with --all or --database',
    );
  // Only the last run (by start time) is resumed, and only when it did not complete: an
  // interrupted run that a later run followed is history, never picked up again.
  const last = (await listRuns(runsDir)).at(-1);
  const state = last && runStatus(last);
  if (!last || !state || !resumable(last, state))
    throw new BerthError(
      'NOTHING_TO_RESUME',
      `no interrupted migrate run to resume: ${last && state ? lastRun(last, state) : 'no run yet'}`,
      {
        hint:
          last && state === 'running'
            ? `wait for it, or stop it (see \`berth runs show ${last.id}\`)`
            : 'see `berth runs list`; start a new run with --all (databases already up to date are only probed)',
      },
    );
  const { results } = await readRun(runsDir, last.id);
  const done = new Set(
    results
      .filter((r) => r.status === 'applied' || r.status === 'up-to-date')
      .map((r) => r.database),
  );
  const unfinished = last.databases.filter((d) => !done.has(d));
  const fleet = new Set(await tenants());
  const databases = unfinished.filter((d) => fleet.has(d));
  const removed = unfinished.filter((d) => !fleet.has(d));
  return {
    databases,
    resumed: {
      runId: last.id,
      left: databases.length,
      of: last.databases.length,
      removed,
      state: state === 'interrupted' ? 'interrupted' : state === 'failed' ? 'failed' : 'stopped',
      // Killed: still `running` on disk with its process gone, or settled so by a later run.
      killed: state === 'interrupted' && (last.state === 'running' || last.settledAt !== undefined),
    },
    ...(last.waves ? { waves: remainingWaves(last.waves, databases) } : {}),
  };
}

/**
 * Did not complete: interrupted (Ctrl-C, or killed), a run in waves that stopped at a wave, or
 * a run that failed (an error stopped it, or the server never started): its unfinished
 * databases are left. A `--resume` that failed so leaves the run it resumed behind it, whose
 * rest is exactly its own databases.
 */
function resumable(run: RunMeta, state: RunMeta['state']): boolean {
  return (
    state === 'interrupted' ||
    state === 'failed' ||
    (state === 'finished' && run.stoppedAtWave !== undefined)
  );
}

/** Why the last run is not one to resume. */
function lastRun(run: RunMeta, state: RunMeta['state']): string {
  const named = `the last run, ${run.id} (started ${run.startedAt}),`;
  switch (state) {
    case 'running':
      return `${named} is still running (berth PID ${run.berth?.pid ?? '?'})`;
    case 'resumed':
      return `${named} was resumed${run.resumedBy ? ` by ${run.resumedBy}` : ''}`;
    default:
      return `${named} completed`;
  }
}
