/** `berth local start|stop`: the local provider's embedded PostgreSQL server. */
import { BerthError } from '../../core/errors.js';
import { ExitCode } from '../../core/exit-codes.js';
import type { DatabaseServer } from '../../providers/provider.js';
import type { Context } from '../context.js';

async function server(ctx: Context): Promise<DatabaseServer> {
  const provider = await ctx.open({}, 'local');
  if (!provider.server)
    throw new BerthError('USAGE', "`berth local` manages the local provider's PostgreSQL server", {
      hint: 'drop --provider',
    });
  return provider.server;
}

export async function localStopCommand(ctx: Context): Promise<number> {
  const stopped = await (await server(ctx)).stop();
  if (ctx.out.json) ctx.out.data({ stopped });
  else
    ctx.out.result(
      stopped
        ? 'stopped the local PostgreSQL server (data kept)'
        : 'the local PostgreSQL server was not running',
    );
  return ExitCode.ok;
}

export async function localStartCommand(ctx: Context): Promise<number> {
  const where = await (await server(ctx)).start();
  if (ctx.out.json) ctx.out.data({ running: true, ...where });
  else
    ctx.out.result(
      `PostgreSQL ${(await ctx.config()).config.local.postgresVersion} is up on ${where.host}:${where.port} (user ${where.user}; password in ${where.secretFile})`,
    );
  return ExitCode.ok;
}
