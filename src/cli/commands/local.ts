/** `berth local start|stop`: the local provider's embedded PostgreSQL server. */
import { BerthError } from '../../core/errors.js';
import { ExitCode } from '../../core/exit-codes.js';
import type { DatabaseServer, Provider } from '../../providers/provider.js';
import { listRuns, runStatus } from '../../state/journal.js';
import type { Context } from '../context.js';

async function server(ctx: Context): Promise<{ provider: Provider; server: DatabaseServer }> {
  const provider = await ctx.open({}, 'local');
  if (!provider.server)
    throw new BerthError('USAGE', "`berth local` manages the local provider's PostgreSQL server", {
      hint: 'drop --provider',
    });
  return { provider, server: provider.server };
}

export async function localStopCommand(
  ctx: Context,
  options: { force?: boolean } = {},
): Promise<number> {
  const { provider, server: local } = await server(ctx);
  // A run still going would see its server vanish mid-task (every database left failed, exit
  // 7): refused unless asked for. A run whose berth is gone (killed) does not count.
  const going = (await listRuns(provider.state.paths.runs)).filter(
    (run) => runStatus(run) === 'running',
  );
  if (going.length > 0 && !options.force)
    throw new BerthError(
      'USAGE',
      `a migrate run is still going here: ${going.map((r) => `${r.id}${r.berth ? ` (berth pid ${r.berth.pid})` : ''}`).join(', ')}; stopping the server now fails its tasks`,
      {
        hint: 'wait for it to finish, or stop it first (Ctrl-C in its terminal, `berth tasks stop --all`); `berth local stop --force` stops the server anyway (`berth migrate --resume` finishes the run later)',
      },
    );
  const stopped = await local.stop();
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
  const where = await (await server(ctx)).server.start();
  if (ctx.out.json) ctx.out.data({ running: true, ...where });
  else
    ctx.out.result(
      `PostgreSQL ${(await ctx.config()).config.local.postgresVersion} is up on ${where.host}:${where.port} (user ${where.user}; password in ${where.secretFile})`,
    );
  return ExitCode.ok;
}
