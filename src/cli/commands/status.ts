/** `berth status`: what exists. Local status never starts anything; aws reads the stack. */
import type { CommandDeps, Context } from '../context.js';
import { printStatus } from '../render/status.js';

export async function statusCommand(ctx: Context, deps: CommandDeps = {}): Promise<number> {
  const provider = await ctx.open(deps);
  try {
    return printStatus(ctx.out, await provider.status());
  } finally {
    await provider.close();
  }
}
