/** `berth prune`: old task records, logs and run journals out of .berth/ (src/state/prune.ts). */
import path from 'node:path';
import { ExitCode } from '../../core/exit-codes.js';
import { statePaths } from '../../state/paths.js';
import { parseAge, pruneState } from '../../state/prune.js';
import type { Context } from '../context.js';
import { table } from '../output.js';

export interface PruneCommandOptions {
  olderThan?: string;
  keep?: number;
  dryRun?: boolean;
}

export async function pruneCommand(ctx: Context, o: PruneCommandOptions): Promise<number> {
  const olderThanMs = o.olderThan === undefined ? undefined : parseAge(o.olderThan);
  const { config, dir } = await ctx.config();
  const paths = statePaths(path.resolve(dir, config.local.dataDir));
  const result = await pruneState(paths, {
    ...(olderThanMs === undefined ? {} : { olderThanMs }),
    ...(o.keep === undefined ? {} : { keep: o.keep }),
    dryRun: o.dryRun ?? false,
  });
  if (ctx.out.json) {
    ctx.out.data(result);
    return ExitCode.ok;
  }
  const verb = result.dryRun ? 'would remove' : 'removed';
  if (result.removed.length > 0) {
    ctx.out.result(
      table(
        ['KIND', 'ID', 'STARTED', 'SIZE'],
        result.removed.map((i) => [i.kind, i.id, i.startedAt, kib(i.bytes)]),
      ),
    );
    ctx.out.result('');
  }
  const count = (kind: string) => result.removed.filter((i) => i.kind === kind).length;
  ctx.out.result(
    `${verb} ${count('task')} task(s), ${count('run')} run(s), ${count('log')} stray log(s), ${kib(result.bytes)} in ${paths.root}; kept ${result.kept.tasks} task(s) (${result.kept.running} running) and ${result.kept.runs} run(s)`,
  );
  if (result.dryRun && result.removed.length > 0)
    ctx.out.result('(dry run: nothing was deleted; run again without --dry-run)');
  return ExitCode.ok;
}

function kib(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KiB`;
}
