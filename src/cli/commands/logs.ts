/** `berth logs TASK_ID`: a task's log, from `.berth/logs` or (aws) its CloudWatch stream. */
import { ExitCode } from '../../core/exit-codes.js';
import type { CommandDeps, Context } from '../context.js';

export async function logsCommand(
  ctx: Context,
  taskId: string,
  deps: CommandDeps = {},
): Promise<number> {
  const provider = await ctx.open(deps);
  const log = await provider.tasks.log(taskId);
  if (ctx.out.json) {
    const lines: string[] = [];
    for await (const line of log.lines) lines.push(line);
    ctx.out.data({ task: log.task, lines });
    return ExitCode.ok;
  }
  // Streamed: a long migration log never sits in memory.
  for await (const line of log.lines) ctx.out.result(line);
  ctx.out.note(log.footer);
  return ExitCode.ok;
}
