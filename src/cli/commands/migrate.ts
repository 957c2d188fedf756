/** `berth migrate`: parse → open the provider → select → migrateInWaves (or plan) → render. */
import { BerthError } from '../../core/errors.js';
import type { FailureLimit } from '../../fleet/failure-budget.js';
import { failureLimit, migrateOptions } from '../../fleet/fleet-options.js';
import { planFleet } from '../../fleet/plan-fleet.js';
import { selectRunDatabases } from '../../fleet/select-run.js';
import { migrateInWaves, planWaves } from '../../fleet/waves.js';
import type { CommandDeps, Context } from '../context.js';
import { fleetExitCode, printFleet } from '../render/fleet.js';
import { planExitCode, printPlan } from '../render/plan.js';
import { fleetReport, publishToGithub } from '../render/summary.js';

export interface MigrateOptions {
  database?: string[];
  all?: boolean;
  concurrency?: number;
  onError?: 'stop' | 'continue';
  maxFailures?: FailureLimit;
  batchSize?: number;
  resume?: boolean;
  /** Only say what would be applied, per tenant: a probe, no migration task. */
  plan?: boolean;
  /** A first wave of N tenants, verified before the rest (for this run). */
  canary?: number;
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
      // A plan only reads: it opens the fleet as verify does (no database is created).
      purpose: options.plan ? ('verify' as const) : ('migrate' as const),
      ...(options.runtime !== undefined ? { runtime: options.runtime } : {}),
      ...(options.image !== undefined ? { image: options.image } : {}),
    };
    await provider.checkFleetRequest(request);
    failureLimit(config, options); // --max-failures with --on-error: a usage error, before any task
    if (options.resume && options.canary !== undefined)
      throw new BerthError(
        'USAGE',
        '--resume keeps the waves of the run it resumes; drop --canary',
      );
    // Usage errors (unknown database, nothing to resume) before any task or AWS call.
    // Read once: a tenant query is a round trip to the server.
    let fleetNames: Promise<string[]> | undefined;
    const tenants = () => (fleetNames ??= provider.tenants());
    const selected = await selectRunDatabases(
      { databases: options.database, all: options.all, resume: options.resume },
      provider.state.paths.runs,
      tenants,
    );
    const { databases, resumed } = selected;
    const waves = resumed
      ? selected.waves
      : planWaves(
          databases,
          { ...config.rollout, canaryCount: options.canary },
          config.rollout.canary ? await tenants() : undefined,
        );
    if (resumed) {
      ctx.out.note(
        `resuming ${resumed.runId} (${resumed.killed ? 'interrupted: its berth process is gone' : resumed.state}): ${resumed.left} of ${resumed.of} database(s) left${waves?.[0] ? `, from wave ${waves[0].wave}` : ''}`,
      );
      if (resumed.removed.length > 0)
        ctx.out.warn(
          `not resumed, no longer in the fleet (left alone): ${resumed.removed.join(', ')}`,
        );
    }
    const fleet = await provider.openFleet(request);
    if (options.plan) {
      const plan = await planFleet(fleet.backend, { databases, signal: ctx.signal });
      printPlan(ctx.out, plan);
      return planExitCode(plan, ctx.interrupted());
    }
    const result = await migrateInWaves(fleet.backend, {
      ...migrateOptions(
        config,
        provider.state.paths.runs,
        { databases, reporter: ctx.reporter, signal: ctx.signal },
        { ...options, ...(resumed ? { resumedFrom: resumed.runId } : {}) },
      ),
      waves,
    });
    printFleet(ctx.out, result);
    await publishToGithub(fleetReport(result), ctx.out, deps.env);
    return fleetExitCode(result, ctx.interrupted());
  } finally {
    await provider.close();
  }
}
