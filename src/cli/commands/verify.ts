import { verifyOptions } from '../../fleet/fleet-options.js';
import { ExitCode } from '../../core/exit-codes.js';
import { selectDatabases } from '../../fleet/tenants.js';
import { verifyFleet } from '../../fleet/verify.js';
import { openLocal } from '../../providers/local/open-local.js';
import { runtimeFactory } from '../../providers/local/select-runtime.js';
import type { Context } from '../context.js';
import { renderVerify } from '../render-fleet.js';
import type { AwsFleetDeps } from './aws-fleet.js';

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
  deps: AwsFleetDeps = {},
): Promise<number> {
  const loaded = await ctx.config();
  if (ctx.provider(loaded) === 'aws')
    return (await import('./aws-fleet.js')).awsVerifyCommand(ctx, options, deps);
  const { config } = loaded;
  const local = openLocal(loaded, {
    runtime: await runtimeFactory(loaded, options.runtime, options.image, (m) => ctx.out.note(m)),
  });
  const databases = selectDatabases(await local.fleet(), {
    databases: options.database,
    all: options.all,
  });
  const result = await verifyFleet(
    local.backend,
    verifyOptions(
      config,
      { databases, reporter: ctx.reporter, signal: ctx.signal },
      { skipCheck: Boolean(options.skipCheck) },
    ),
  );
  if (ctx.out.json) ctx.out.data(result);
  else renderVerify(ctx.out, result);
  if (ctx.interrupted()) return ExitCode.interrupted;
  return result.ok ? ExitCode.ok : ExitCode.verifyFailed;
}
