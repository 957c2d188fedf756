/** `berth doctor`: checks this machine is ready to run berth (src/doctor/doctor.ts). */
import { runDoctor } from '../../doctor/doctor.js';
import { ExitCode } from '../../core/exit-codes.js';
import type { CommandDeps, Context } from '../context.js';
import { printDoctor } from '../render/doctor.js';

export async function doctorCommand(ctx: Context, deps: CommandDeps = {}): Promise<number> {
  const env = deps.env ?? process.env;
  const report = await runDoctor({
    config: () => ctx.config(),
    open: () => ctx.open(deps),
    // AWS is called only when asked for by name, never because berth.yaml says provider: aws.
    aws: (ctx.globals.provider ?? env.BERTH_PROVIDER) === 'aws',
    env,
    ...(deps.exec ? { exec: deps.exec } : {}),
  });
  printDoctor(ctx.out, report);
  return report.ok ? ExitCode.ok : ExitCode.environment;
}
