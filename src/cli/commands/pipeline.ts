/**
 * `berth pipeline`: test → build → push → migrate → verify on the configured provider
 * (src/pipeline/delivery.ts), with a summary of each stage; the exit code names the stage
 * that failed (11 test … 15 verify).
 */
import { defaultRunners, runDelivery, type StageRunners } from '../../pipeline/delivery.js';
import type { CommandDeps, Context } from '../context.js';
import { pipelineExitCode, printDelivery } from '../render/pipeline.js';
import { pipelineReport, publishToGithub } from '../render/summary.js';

export interface PipelineOptions {
  database?: string[];
  all?: boolean;
  skipTests?: boolean;
  concurrency?: number;
  runtime?: string;
  strict?: boolean;
}

export async function pipelineCommand(
  ctx: Context,
  options: PipelineOptions,
  deps: CommandDeps & { runners?: Partial<StageRunners> } = {},
): Promise<number> {
  const provider = await ctx.open(deps);
  try {
    const runners = { ...defaultRunners(provider, ctx.reporter), ...deps.runners };
    const result = await runDelivery(
      provider,
      { ...options, reporter: ctx.reporter, signal: ctx.signal },
      runners,
    );
    printDelivery(ctx.out, result);
    await publishToGithub(pipelineReport(result), ctx.out, deps.env);
    return pipelineExitCode(result, ctx.interrupted());
  } finally {
    await provider.close();
  }
}
