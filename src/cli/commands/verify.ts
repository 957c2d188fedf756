/** `berth verify`: every database has all its tables and nothing pending. */
import { verifyOptions } from '../../fleet/fleet-options.js';
import { selectDatabases } from '../../fleet/tenants.js';
import { verifyFleet } from '../../fleet/verify.js';
import type { CommandDeps, Context } from '../context.js';
import { printVerify, verifyExitCode } from '../render/fleet.js';
import { publishToGithub, verifyReport } from '../render/summary.js';

export interface VerifyCommandOptions {
  database?: string[];
  all?: boolean;
  skipCheck?: boolean;
  runtime?: string;
  image?: string;
}

export async function verifyCommand(
  ctx: Context,
  options: VerifyCommandOptions,
  deps: CommandDeps = {},
): Promise<number> {
  const provider = await ctx.open(deps);
  try {
    const request = {
      purpose: 'verify' as const,
      ...(options.runtime !== undefined ? { runtime: options.runtime } : {}),
      ...(options.image !== undefined ? { image: options.image } : {}),
    };
    await provider.checkFleetRequest(request);
    const databases = selectDatabases(await provider.tenants(), {
      databases: options.database,
      all: options.all,
    });
    const fleet = await provider.openFleet(request);
    const result = await verifyFleet(
      fleet.backend,
      verifyOptions(
        provider.loaded.config,
        { databases, reporter: ctx.reporter, signal: ctx.signal },
        { skipCheck: Boolean(options.skipCheck) },
      ),
    );
    printVerify(ctx.out, result, ctx.interrupted());
    await publishToGithub(verifyReport(result), ctx.out, deps.env);
    return verifyExitCode(result, ctx.interrupted());
  } finally {
    await provider.close();
  }
}
