/** `berth completion bash|zsh|fish`: the completion script, generated from the parser. */
import type { Command } from 'commander';
import { BerthError } from '../../core/errors.js';
import { ExitCode } from '../../core/exit-codes.js';
import { completionScript, SHELLS, type Shell } from '../completion.js';
import type { Context } from '../context.js';

/** `program` is the parser that dispatched this command (main.ts hands it down). */
export function completionCommand(ctx: Context, shell: string, program: Command): Promise<number> {
  if (!(SHELLS as readonly string[]).includes(shell))
    throw new BerthError('USAGE', `no completion for "${shell}": choose ${SHELLS.join(', ')}`);
  ctx.out.result(completionScript(program, shell as Shell).trimEnd());
  return Promise.resolve(ExitCode.ok);
}
