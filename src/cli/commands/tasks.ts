/** `berth tasks list|stop`: the quick rollback, for berth's own tasks only. */
import { BerthError } from '../../core/errors.js';
import { ExitCode } from '../../core/exit-codes.js';
import { confirmByTyping } from '../confirm.js';
import type { CommandDeps, Context } from '../context.js';
import { renderTaskList, stopPreview } from '../render/tasks.js';

export async function tasksListCommand(
  ctx: Context,
  options: { running?: boolean; limit?: number },
  deps: CommandDeps = {},
): Promise<number> {
  const provider = await ctx.open(deps);
  const listing = await provider.tasks.list({
    running: Boolean(options.running),
    ...(options.limit !== undefined ? { limit: options.limit } : {}),
  });
  if (ctx.out.json) ctx.out.data(listing);
  else renderTaskList(ctx.out, listing, Boolean(options.running));
  return ExitCode.ok;
}

/**
 * Asks for the stack name unless --yes (without a terminal it refuses). Each database stays
 * at its last completed migration; `berth migrate` finishes the rest.
 */
export async function tasksStopCommand(
  ctx: Context,
  ids: string[],
  options: { all?: boolean; yes?: boolean },
  deps: CommandDeps = {},
): Promise<number> {
  if (ids.length === 0 && !options.all)
    throw new BerthError('USAGE', 'name the tasks to stop, or pass --all');
  if (ids.length > 0 && options.all)
    throw new BerthError('USAGE', 'use either task IDs or --all, not both');
  const provider = await ctx.open(deps);
  const { app } = provider.loaded.config;
  const plan = await provider.tasks.planStop({ ids, all: Boolean(options.all) });
  if (plan.targets.length === 0) {
    if (ctx.out.json) ctx.out.data({ stopped: [] });
    else ctx.out.result('no running tasks to stop');
    return ExitCode.ok;
  }
  if (!options.yes) {
    ctx.out.note(stopPreview(plan.targets));
    await (deps.confirm ?? confirmByTyping)(
      `Stop ${plan.targets.length} running task(s)?`,
      app,
      false,
    );
  }
  const stopped = await plan.stop();
  if (ctx.out.json) ctx.out.data({ stopped: stopped.map((s) => s.id), tasks: stopped });
  else
    ctx.out.result(
      `stopped ${stopped.length} task(s); each database stays at its last completed migration (re-run \`berth migrate\` to finish)`,
    );
  return ExitCode.ok;
}
