import { ExitCode } from '../../core/exit-codes.js';
import { listRuns, readRun } from '../../state/journal.js';
import { openStateDir } from '../../state/state-dir.js';
import type { Context } from '../context.js';
import { table } from '../output.js';

export async function runsListCommand(ctx: Context): Promise<number> {
  const state = openStateDir(await ctx.config());
  const runs = await listRuns(state.paths.runs);
  if (ctx.out.json) ctx.out.data({ runs });
  else if (runs.length === 0) ctx.out.result('no runs yet');
  else {
    ctx.out.result(
      table(
        ['RUN', 'STATE', 'DATABASES', 'APPLIED', 'UP-TO-DATE', 'FAILED', 'STARTED'],
        runs.map((r) => [
          r.id,
          r.state === 'running' ? 'interrupted?' : r.state,
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
  const { meta, results } = await readRun(state.paths.runs, id);
  const finished = new Set(results.map((r) => r.database));
  const unfinished = meta.databases.filter((d) => !finished.has(d));
  if (ctx.out.json) {
    ctx.out.data({ run: meta, results, unfinished });
    return ExitCode.ok;
  }
  ctx.out.result(
    `${meta.id}: ${meta.state}, ${meta.databases.length} database(s), started ${meta.startedAt}${meta.resumedFrom ? `, resumes ${meta.resumedFrom}` : ''}`,
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
          'no result recorded (run interrupted)',
        ]),
      ],
    ),
  );
  return ExitCode.ok;
}
