import { ExitCode } from '../../core/exit-codes.js';
import { openLocal } from '../../providers/local/open-local.js';
import type { Context } from '../context.js';

export async function localStopCommand(ctx: Context): Promise<number> {
  const local = openLocal(await ctx.config());
  const stopped = await local.postgres.stop();
  if (ctx.out.json) ctx.out.data({ stopped });
  else
    ctx.out.result(
      stopped
        ? 'stopped the local PostgreSQL server (data kept)'
        : 'the local PostgreSQL server was not running',
    );
  return ExitCode.ok;
}
