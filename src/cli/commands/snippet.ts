import path from 'node:path';
import { ExitCode } from '../../core/exit-codes.js';
import { installDjangoSnippet, readSnippet } from '../../migrations/snippets.js';
import type { Context } from '../context.js';

/** `berth snippet django`: print the batch command, or install it into an app (--app). */
export async function snippetCommand(
  ctx: Context,
  options: { app?: string; force?: boolean },
): Promise<number> {
  if (!options.app) {
    const text = await readSnippet('django');
    if (ctx.out.json) ctx.out.data({ name: 'django', text });
    else ctx.out.result(text.trimEnd());
    return ExitCode.ok;
  }
  const result = await installDjangoSnippet(path.resolve(options.app), { force: options.force });
  if (ctx.out.json) ctx.out.data(result);
  else
    ctx.out.result(
      result.unchanged
        ? `${result.file} is already this berth's version; nothing was changed`
        : `wrote ${result.written.join(', ')}; set task.batchCommand: [python3, manage.py, berth_migrate] and fleet.batchSize (e.g. 25) in berth.yaml`,
    );
  return ExitCode.ok;
}
