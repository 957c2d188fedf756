/**
 * Which databases a migrate run takes: --all / --database, or --resume (the unfinished
 * databases of the last interrupted run). Usage errors come before any task or AWS call.
 */
import { BerthError } from '../core/errors.js';
import { listRuns, readRun } from '../state/journal.js';
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
   * no longer in the fleet, left alone (never recreated).
   */
  resumed?: { runId: string; left: number; of: number; removed: string[] };
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
  const last = (await listRuns(runsDir))
    .filter(
      (r) =>
        r.state === 'running' ||
        r.state === 'interrupted' ||
        (r.state === 'finished' && r.stoppedAtWave !== undefined),
    )
    .pop();
  if (!last)
    throw new BerthError('NOTHING_TO_RESUME', 'no interrupted migrate run to resume', {
      hint: 'see `berth runs list`; start a new run with --all',
    });
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
    resumed: { runId: last.id, left: databases.length, of: last.databases.length, removed },
    ...(last.waves ? { waves: remainingWaves(last.waves, databases) } : {}),
  };
}
