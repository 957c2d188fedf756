import { isBerthError } from '../../core/errors.js';
import { ExitCode } from '../../core/exit-codes.js';
import { openLocal } from '../../providers/local/open-local.js';
import { readLogLines } from '../../state/task-store.js';
import type { Context } from '../context.js';
import type { AwsFleetDeps } from './aws-fleet.js';

export async function logsCommand(
  ctx: Context,
  taskId: string,
  deps: AwsFleetDeps = {},
): Promise<number> {
  const loaded = await ctx.config();
  const local = openLocal(loaded);
  // The local record first (tasks this machine ran, on any runtime); on AWS, CloudWatch next.
  const record = await local.store.get(taskId).catch((error: unknown) => {
    if (ctx.provider(loaded) === 'aws' && isBerthError(error) && error.code === 'TASK_NOT_FOUND')
      return undefined;
    throw error;
  });
  if (!record) return (await import('./aws-fleet.js')).awsLogsCommand(ctx, taskId, deps);
  if (ctx.out.json) {
    const lines: string[] = [];
    for await (const line of readLogLines(record.logFile)) lines.push(line);
    ctx.out.data({ task: record, lines });
  } else {
    // Stream: a long migration log never sits in memory.
    for await (const line of readLogLines(record.logFile)) process.stdout.write(`${line}\n`);
    ctx.out.note(
      `— task ${record.id} (${record.databases.join(', ')}): ${record.status}${record.exitCode === null ? '' : `, exit code ${record.exitCode}`}${record.stoppedReason ? `, ${record.stoppedReason}` : ''}`,
    );
  }
  return ExitCode.ok;
}
