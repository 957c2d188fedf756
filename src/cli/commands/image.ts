/**
 * `berth build` and `berth push`. The work is in src/image; this renders it: a table of
 * images with sizes, the production image's reduction and policy checks, or one JSON
 * document with --json (README "JSON output").
 */
import { BerthError } from '../../core/errors.js';
import { ExitCode } from '../../core/exit-codes.js';
import type { BuildResult } from '../../image/build.js';
import { formatSize } from '../../image/inspect.js';
import { buildStack } from '../../image/stack.js';
import type { CommandDeps, Context } from '../context.js';
import { formatDuration, table, type Output } from '../output.js';

export function renderBuild(out: Output, result: BuildResult): void {
  const c = out.color;
  out.result(
    table(
      ['TARGET', 'IMAGE', 'SIZE', 'TIME'],
      result.images.map((i) => [
        i.target,
        i.tags.join(', '),
        formatSize(i.sizeBytes),
        formatDuration(i.durationMs),
      ]),
    ),
  );
  if (result.reduction !== null) {
    out.result(`\nproduction is ${Math.round(result.reduction * 100)}% smaller than development`);
  }
  if (result.policy) {
    out.result('\nproduction image policy');
    for (const check of result.policy.checks) {
      out.result(`  ${check.ok ? c.green('✓') : c.red('✗')} ${check.name}: ${check.detail}`);
    }
  }
}

export const buildCommand = async (
  ctx: Context,
  o: { target: 'development' | 'production' | 'all' },
): Promise<number> => {
  const loaded = await ctx.config();
  const result = await buildStack(loaded, {
    target: o.target,
    reporter: ctx.reporter,
    signal: ctx.signal,
  });
  const failed = result.policy?.checks.filter((check) => !check.ok) ?? [];
  const error =
    failed.length > 0
      ? new BerthError(
          'IMAGE_POLICY_FAILED',
          `the production image breaks the policy: ${failed.map((f) => f.detail).join('; ')}`,
          {
            hint: 'fix the Dockerfile (USER, HEALTHCHECK, what the production stage copies) or image.* in berth.yaml',
          },
        )
      : undefined;
  if (ctx.out.json) {
    ctx.out.data({
      type: 'build',
      ...result,
      ...(error ? { error: { code: error.code, message: error.message, hint: error.hint } } : {}),
    });
  } else {
    renderBuild(ctx.out, result);
    if (error) {
      ctx.out.note(`${ctx.out.color.red('error:')} ${error.message}`);
      if (error.hint) ctx.out.note(`  hint: ${error.hint}`);
    } else
      ctx.out.result(
        `\n${ctx.out.color.green('✓')} built ${result.version} with engine ${result.engine}`,
      );
  }
  if (ctx.interrupted()) return ExitCode.interrupted;
  return error ? ExitCode.provider : ExitCode.ok;
};

export const pushCommand = async (
  ctx: Context,
  o: { tag?: string },
  deps: CommandDeps = {},
): Promise<number> => {
  const provider = await ctx.open(deps);
  const result = await provider.registry.push(o.tag, ctx.signal);
  if (ctx.out.json) ctx.out.data({ type: 'push', ...result });
  else {
    ctx.out.result(
      `pushed ${result.source} → ${result.tags.map((t) => `${result.repository}:${t}`).join(', ')}`,
    );
    ctx.out.result(`image:  ${result.uri}`);
    ctx.out.result(`digest: ${result.digest}`);
    ctx.out.result(`run:    ${result.imageRef}`);
  }
  return ExitCode.ok;
};
