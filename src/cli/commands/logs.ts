/**
 * `berth logs TASK_ID [--follow]`: a task's log, from `.berth/logs` or (aws) its CloudWatch
 * stream; with --follow, new lines as they come until the task stops.
 */
import { ExitCode } from '../../core/exit-codes.js';
import type { CommandDeps, Context } from '../context.js';

export async function logsCommand(
  ctx: Context,
  taskId: string,
  options: { follow?: boolean } = {},
  deps: CommandDeps = {},
): Promise<number> {
  const provider = await ctx.open(deps);
  try {
    const log = options.follow
      ? await provider.tasks.follow(taskId, {
          signal: ctx.signal,
          ...(deps.pollMs !== undefined ? { pollMs: deps.pollMs } : {}),
          ...(deps.sleep ? { sleep: deps.sleep } : {}),
        })
      : await provider.tasks.log(taskId);
    if (ctx.out.json && !options.follow) {
      const lines: string[] = [];
      for await (const line of log.lines) lines.push(line);
      ctx.out.data({ task: log.task, lines });
      return ExitCode.ok;
    }
    // Streamed: a long migration log never sits in memory. --follow --json: one line each.
    for await (const line of log.lines) {
      if (ctx.out.json) ctx.out.data({ line });
      else ctx.out.result(line);
    }
    if (ctx.out.json) ctx.out.data({ task: log.task, footer: log.footer });
    else ctx.out.note(log.footer);
    return ctx.interrupted() ? ExitCode.interrupted : ExitCode.ok;
  } finally {
    await provider.close();
  }
}
