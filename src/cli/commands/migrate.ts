/** `berth migrate`: parse → open the provider → select → migrateFleet → render. */
import { migrateOptions } from '../../fleet/fleet-options.js';
import { migrateFleet } from '../../fleet/run-fleet.js';
import { selectRunDatabases } from '../../fleet/select-run.js';
import type { CommandDeps, Context } from '../context.js';
import { fleetExitCode, printFleet } from '../render/fleet.js';
import { fleetReport, publishToGithub } from '../render/summary.js';

export interface MigrateOptions {
  database?: string[];
  all?: boolean;
  concurrency?: number;
  onError?: 'stop' | 'continue';
  batchSize?: number;
  resume?: boolean;
  runtime?: string;
  image?: string;
}

export async function migrateCommand(
  ctx: Context,
  options: MigrateOptions,
  deps: CommandDeps = {},
): Promise<number> {
  const provider = await ctx.open(deps);
  try {
    const { config } = provider.loaded;
    const request = {
      purpose: 'migrate' as const,
      ...(options.runtime !== undefined ? { runtime: options.runtime } : {}),
      ...(options.image !== undefined ? { image: options.image } : {}),
    };
    await provider.checkFleetRequest(request);
    // Usage errors (unknown database, nothing to resume) before any task or AWS call.
    const { databases, resumed } = await selectRunDatabases(
      { databases: options.database, all: options.all, resume: options.resume },
      provider.state.paths.runs,
      () => provider.tenants(),
    );
    if (resumed)
      ctx.out.note(`resuming ${resumed.runId}: ${resumed.left} of ${resumed.of} database(s) left`);
    const fleet = await provider.openFleet(request);
    const result = await migrateFleet(
      fleet.backend,
      migrateOptions(
        config,
        provider.state.paths.runs,
        { databases, reporter: ctx.reporter, signal: ctx.signal },
        { ...options, ...(resumed ? { resumedFrom: resumed.runId } : {}) },
      ),
    );
    printFleet(ctx.out, result);
    await publishToGithub(fleetReport(result), ctx.out, deps.env);
    return fleetExitCode(result, ctx.interrupted());
  } finally {
    await provider.close();
  }
}
