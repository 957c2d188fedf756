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

export async function localStartCommand(ctx: Context): Promise<number> {
  const local = openLocal(await ctx.config());
  const secret = await local.postgres.ensureRunning();
  const where = {
    host: secret.host,
    port: secret.port,
    user: secret.username,
    dataDir: local.paths.pgdata,
    secretFile: local.paths.secret,
  };
  if (ctx.out.json) ctx.out.data({ running: true, ...where });
  else
    ctx.out.result(
      `PostgreSQL 16 is up on ${where.host}:${where.port} (user ${where.user}; password in ${where.secretFile})`,
    );
  return ExitCode.ok;
}
