/** `berth lint`: parse → open the provider → lintPending → render. */
import { lintPending } from '../../fleet/lint-pending.js';
import { selectDatabases } from '../../fleet/tenants.js';
import type { CommandDeps, Context } from '../context.js';
import { lintExitCode, printLint } from '../render/lint.js';

export interface LintCommandOptions {
  database?: string[];
  all?: boolean;
  /** Every SQL migration, not only the pending ones (no database is read). */
  every?: boolean;
}

export async function lintCommand(
  ctx: Context,
  options: LintCommandOptions,
  deps: CommandDeps = {},
): Promise<number> {
  const provider = await ctx.open(deps);
  try {
    const { config, dir } = provider.loaded;
    const base = { config, configDir: dir, signal: ctx.signal };
    let report;
    if (options.every) report = await lintPending(base);
    else {
      const request = { purpose: 'verify' as const };
      await provider.checkFleetRequest(request);
      const databases = selectDatabases(await provider.tenants(), {
        databases: options.database,
        all: Boolean(options.all) || !options.database?.length,
      });
      const fleet = await provider.openFleet(request);
      report = await lintPending({ ...base, backend: fleet.backend, databases });
    }
    printLint(ctx.out, report, process.env.GITHUB_ACTIONS === 'true');
    return lintExitCode(report);
  } finally {
    await provider.close();
  }
}
