/** `berth doctor`: checks this machine is ready to run berth (src/doctor/doctor.ts). */
import { runDoctor } from '../../doctor/doctor.js';
import { ExitCode } from '../../core/exit-codes.js';
import type { CommandDeps, Context } from '../context.js';
import { printDoctor } from '../render/doctor.js';

export async function doctorCommand(ctx: Context, deps: CommandDeps = {}): Promise<number> {
  const env = deps.env ?? process.env;
  // AWS is called only when a provider is named (--provider, BERTH_PROVIDER) and it has the
  // AWS stack: never because berth.yaml says provider: aws.
  const named = ctx.globals.provider ?? env.BERTH_PROVIDER;
  const aws =
    named !== undefined &&
    (await ctx.open(deps).then(
      (provider) => provider.stack !== undefined,
      () => false,
    ));
  const report = await runDoctor({
    config: () => ctx.config(),
    open: () => ctx.open(deps),
    aws,
    env,
    ...(deps.exec ? { exec: deps.exec } : {}),
  });
  printDoctor(ctx.out, report);
  return report.ok ? ExitCode.ok : ExitCode.environment;
}
