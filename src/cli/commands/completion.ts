/** `berth completion bash|zsh|fish`: the completion script, generated from the parser. */
import { BerthError } from '../../core/errors.js';
import { ExitCode } from '../../core/exit-codes.js';
import { completionScript, SHELLS, type Shell } from '../completion.js';
import type { Context } from '../context.js';

export async function completionCommand(_ctx: Context, shell: string): Promise<number> {
  if (!(SHELLS as readonly string[]).includes(shell))
    throw new BerthError('USAGE', `no completion for "${shell}": choose ${SHELLS.join(', ')}`);
  // The parser is main.ts's (already loaded: it is the CLI's entry).
  const { buildProgram } = await import('../main.js');
  process.stdout.write(completionScript(buildProgram(), shell as Shell));
  return ExitCode.ok;
}
