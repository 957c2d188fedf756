import { ExitCode } from '../../core/exit-codes.js';
import { listRuns, readRun, runStatus, type RunMeta } from '../../state/journal.js';
import { openStateDir } from '../../state/state-dir.js';
import type { Context } from '../context.js';
import { table } from '../output.js';

/**
 * A run as `runs list` and `runs show` give it: `state` is what its journal records, `status`
 * the state as it stands (runStatus: a `running` run whose berth process is gone is
 * `interrupted`). Both commands show the status.
 */
function withStatus(meta: RunMeta): RunMeta & { status: RunMeta['state'] } {
  return { ...meta, status: runStatus(meta) };
}

export async function runsListCommand(ctx: Context): Promise<number> {
  const state = openStateDir(await ctx.config());
  const runs = (await listRuns(state.paths.runs)).map(withStatus);
  if (ctx.out.json) ctx.out.data({ runs });
  else if (runs.length === 0) ctx.out.result('no runs yet');
  else {
    ctx.out.result(
      table(
        ['RUN', 'STATE', 'DATABASES', 'APPLIED', 'UP-TO-DATE', 'FAILED', 'STARTED'],
        runs.map((r) => [
          r.id,
          r.status,
          String(r.databases.length),
          String(r.counts?.applied ?? '-'),
          String(r.counts?.upToDate ?? '-'),
          String(r.counts?.failed ?? '-'),
          r.startedAt,
        ]),
      ),
    );
  }
  return ExitCode.ok;
}

export async function runsShowCommand(ctx: Context, id: string): Promise<number> {
  const state = openStateDir(await ctx.config());
  const read = await readRun(state.paths.runs, id);
  const meta = withStatus(read.meta);
  const { results } = read;
  const finished = new Set(results.map((r) => r.database));
  const unfinished = meta.databases.filter((d) => !finished.has(d));
  if (ctx.out.json) {
    ctx.out.data({ run: meta, results, unfinished });
    return ExitCode.ok;
  }
  ctx.out.result(
    `${meta.id}: ${meta.status}, ${meta.databases.length} database(s), started ${meta.startedAt}${meta.resumedFrom ? `, resumes ${meta.resumedFrom}` : ''}`,
  );
  ctx.out.result(
    table(
      ['DATABASE', 'RESULT', 'APPLIED', 'TASK', 'DETAIL'],
      [
        ...results.map((r) => [
          r.database,
          r.status,
          String(r.applied.length),
          r.taskId ?? '-',
          r.reason ?? '',
        ]),
        ...unfinished.map((d) => [
          d,
          'unfinished',
          '-',
          '-',
          meta.status === 'running' ? 'no result yet' : 'no result recorded (run interrupted)',
        ]),
      ],
    ),
  );
  return ExitCode.ok;
}
