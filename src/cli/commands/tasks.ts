import { BerthError } from '../../core/errors.js';
import { ExitCode } from '../../core/exit-codes.js';
import { openLocal } from '../../providers/local/open-local.js';
import type { TaskRecord } from '../../tasks/task.js';
import { confirmByTyping } from '../confirm.js';
import type { Context } from '../context.js';
import type { AwsFleetDeps } from './aws-fleet.js';
import { table } from '../output.js';

function alive(record: TaskRecord): boolean {
  if (record.status !== 'RUNNING' || !record.pid) return false;
  try {
    process.kill(record.pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function tasksListCommand(
  ctx: Context,
  options: { running?: boolean; limit?: number },
  deps: AwsFleetDeps = {},
): Promise<number> {
  const loaded = await ctx.config();
  if (ctx.provider(loaded) === 'aws')
    return (await import('./aws-fleet.js')).awsTasksListCommand(ctx, options, deps);
  const local = openLocal(loaded);
  // A RUNNING record whose process is gone belonged to a berth that was killed.
  const records = (await local.store.list()).map((r) =>
    r.status === 'RUNNING' && !alive(r) ? { ...r, status: 'LOST' as const } : r,
  );
  const matching = options.running ? records.filter((r) => r.status === 'RUNNING') : records;
  const shown = options.limit ? matching.slice(-options.limit) : matching; // oldest first
  if (ctx.out.json) {
    ctx.out.data({ tasks: shown });
    return ExitCode.ok;
  }
  if (shown.length === 0) {
    ctx.out.result(options.running ? 'no running tasks' : 'no tasks yet');
    return ExitCode.ok;
  }
  ctx.out.result(
    table(
      ['TASK', 'KIND', 'STATUS', 'EXIT', 'DATABASES', 'STARTED'],
      shown.map((r) => [
        r.id,
        r.kind,
        r.status,
        r.exitCode === null ? '-' : String(r.exitCode),
        r.databases.join(','),
        r.startedAt,
      ]),
    ),
  );
  return ExitCode.ok;
}

export async function tasksStopCommand(
  ctx: Context,
  ids: string[],
  options: { all?: boolean; yes?: boolean },
  deps: AwsFleetDeps = {},
): Promise<number> {
  const loaded = await ctx.config();
  if (ctx.provider(loaded) === 'aws')
    return (await import('./aws-fleet.js')).awsTasksStopCommand(ctx, ids, options, deps);
  const local = openLocal(loaded);
  if (ids.length === 0 && !options.all)
    throw new BerthError('USAGE', 'name the tasks to stop, or pass --all');
  if (ids.length > 0 && options.all)
    throw new BerthError('USAGE', 'use either task IDs or --all, not both');
  const targets = options.all
    ? (await local.store.list()).filter(alive)
    : await Promise.all(ids.map((id) => local.store.get(id)));
  const running = targets.filter(alive);
  if (running.length === 0) {
    if (ctx.out.json) ctx.out.data({ stopped: [] });
    else ctx.out.result('no running tasks to stop');
    return ExitCode.ok;
  }
  await confirmByTyping(
    `Stop ${running.length} running task(s): ${running.map((r) => r.id).join(', ')}?`,
    loaded.config.app,
    Boolean(options.yes),
  );
  for (const record of running) if (record.pid) process.kill(record.pid, 'SIGTERM');
  if (ctx.out.json) ctx.out.data({ stopped: running.map((r) => r.id) });
  else
    ctx.out.result(
      `stopped ${running.length} task(s); each database stays at its last completed migration`,
    );
  return ExitCode.ok;
}
