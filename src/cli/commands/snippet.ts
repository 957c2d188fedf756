import path from 'node:path';
import { ExitCode } from '../../core/exit-codes.js';
import {
  SNIPPETS,
  installDjangoSnippet,
  readSnippet,
  type SnippetName,
} from '../../migrations/snippets.js';
import type { Context } from '../context.js';

/** What to set in berth.yaml once a snippet is installed. */
const NEXT_STEP: Record<SnippetName, string> = {
  django: `set task.batchCommand: [python3, manage.py, ${SNIPPETS.django.command}] and fleet.batchSize (e.g. 25) in berth.yaml`,
  'django-probe': `set task.probeCommand: [python3, manage.py, ${SNIPPETS['django-probe'].command}] in berth.yaml (on AWS: the no-op fast path, and verify's schema comparison)`,
};

/**
 * `berth snippet django|django-probe`: print the batch command or the probe, or install it
 * into an app (--app).
 */
export async function snippetCommand(
  ctx: Context,
  options: { name?: SnippetName; app?: string; force?: boolean },
): Promise<number> {
  const name = options.name ?? 'django';
  if (!options.app) {
    const text = await readSnippet(name);
    if (ctx.out.json) ctx.out.data({ name, text });
    else ctx.out.result(text.trimEnd());
    return ExitCode.ok;
  }
  const result = await installDjangoSnippet(path.resolve(options.app), {
    force: options.force,
    name,
  });
  if (ctx.out.json) ctx.out.data(result);
  else
    ctx.out.result(
      result.unchanged
        ? `${result.file} is already this berth's version; nothing was changed`
        : `wrote ${result.written.join(', ')}; ${NEXT_STEP[name]}`,
    );
  return ExitCode.ok;
}
