import { migrateOptions } from '../../fleet/fleet-options.js';
import { BerthError } from '../../core/errors.js';
import { ExitCode } from '../../core/exit-codes.js';
import { listRuns, readRun } from '../../state/journal.js';
import { migrateFleet } from '../../fleet/run-fleet.js';
import { selectDatabases } from '../../fleet/tenants.js';
import type { FleetResult } from '../../fleet/types.js';
import { openLocal } from '../../providers/local/open-local.js';
import { runtimeFactory } from '../../providers/local/select-runtime.js';
import type { Context } from '../context.js';
import { renderFleet } from '../render-fleet.js';
import type { AwsFleetDeps } from './aws-fleet.js';

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
  deps: AwsFleetDeps = {},
): Promise<number> {
  const loaded = await ctx.config();
  if (ctx.provider(loaded) === 'aws')
    return (await import('./aws-fleet.js')).awsMigrateCommand(ctx, options, deps);
  const { config } = loaded;
  const local = openLocal(loaded, {
    runtime: await runtimeFactory(loaded, options.runtime, options.image, (m) => ctx.out.note(m)),
  });

  const { databases, resumedFrom } = await selectMigrateDatabases(
    ctx,
    options,
    local.paths.runs,
    () => local.fleet(),
  );

  const result = await migrateFleet(
    local.backend,
    migrateOptions(
      config,
      local.paths.runs,
      { databases, reporter: ctx.reporter, signal: ctx.signal },
      { ...options, resumedFrom },
    ),
  );
  printFleet(ctx, result);
  return fleetExitCode(result, ctx.interrupted());
}

/** --all / --database, or --resume: the unfinished databases of the last interrupted run. */
export async function selectMigrateDatabases(
  ctx: Context,
  options: MigrateOptions,
  runsDir: string,
  fleet: () => Promise<string[]>,
): Promise<{ databases: string[]; resumedFrom?: string }> {
  let databases: string[];
  let resumedFrom: string | undefined;
  if (options.resume) {
    if (options.all || options.database?.length)
      throw new BerthError(
        'USAGE',
        '--resume continues the last run; do not combine it with --all or --database',
      );
    const last = (await listRuns(runsDir))
      .filter((r) => r.state === 'running' || r.state === 'interrupted')
      .pop();
    if (!last)
      throw new BerthError('NOTHING_TO_RESUME', 'no interrupted migrate run to resume', {
        hint: 'see `berth runs list`; start a new run with --all',
      });
    const { results } = await readRun(runsDir, last.id);
    const done = new Set(
      results
        .filter((r) => r.status === 'applied' || r.status === 'up-to-date')
        .map((r) => r.database),
    );
    databases = last.databases.filter((d) => !done.has(d));
    resumedFrom = last.id;
    ctx.out.note(
      `resuming ${last.id}: ${databases.length} of ${last.databases.length} database(s) left`,
    );
  } else {
    databases = selectDatabases(await fleet(), {
      databases: options.database,
      all: options.all,
    });
  }
  return { databases, ...(resumedFrom ? { resumedFrom } : {}) };
}

/** The result table (or, with --json, the summary line after the per-database NDJSON). */
export function printFleet(ctx: Context, result: FleetResult): void {
  if (ctx.out.json)
    ctx.out.data({
      type: 'summary',
      runId: result.runId,
      ok: result.ok,
      counts: result.counts,
      durationMs: result.durationMs,
      databases: result.databases,
    });
  else renderFleet(ctx.out, result);
}

export function fleetExitCode(result: FleetResult, interrupted: boolean): number {
  if (interrupted) return ExitCode.interrupted;
  if (result.counts.failed > 0) return ExitCode.migrationFailed;
  if (result.counts.locked > 0) return ExitCode.locked;
  if (result.counts.skipped > 0) return ExitCode.migrationFailed;
  return ExitCode.ok;
}
