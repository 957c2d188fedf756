/**
 * `berth lint`: the SQL of the migrations that are pending on at least one selected tenant
 * (one probe, as `migrate --plan`), or of every SQL migration. Where a tenant's pending
 * migrations are unknown, every SQL migration is linted: berth does not guess which apply.
 */
import type { Config } from '../config/schema.js';
import type { Exec } from '../core/exec.js';
import { lintMigrations, sqlMigrations, type LintResult } from '../migrations/lint.js';
import { resolvePreset } from '../migrations/presets.js';
import { planFleet } from './plan-fleet.js';
import type { FleetBackend } from './types.js';

export interface LintReport extends LintResult {
  /** Which migrations were linted, in words. */
  scope: string;
  /** What could not be linted, and why. */
  unsupported?: string;
}

export interface LintPendingOptions {
  config: Config;
  configDir: string;
  /** With a backend and databases: only what is pending on them. */
  backend?: FleetBackend | undefined;
  databases?: string[] | undefined;
  signal?: AbortSignal | undefined;
  exec?: Exec;
}

export async function lintPending(options: LintPendingOptions): Promise<LintReport> {
  const { config } = options;
  let ids: Set<string> | undefined;
  let scope = 'every SQL migration';
  if (options.backend && options.databases) {
    const plan = await planFleet(options.backend, {
      databases: options.databases,
      signal: options.signal,
    });
    const blind = plan.counts.unknown + plan.counts.unreadable;
    if (blind > 0) {
      scope = `every SQL migration (what is pending on ${blind} tenant(s) is unknown)`;
    } else {
      ids = new Set(plan.databases.flatMap((d) => d.pending ?? []));
      scope = `the ${ids.size} migration(s) pending on ${plan.counts.pending} of ${plan.counts.total} tenant(s)`;
    }
  }
  const sources = await sqlMigrations(
    config.migrations.tool,
    resolvePreset(config.migrations),
    options.configDir,
    ids,
  );
  const result = await lintMigrations({
    migrations: sources.migrations,
    tool: config.migrations.tool,
    lockTimeoutSet: config.migrations.lockTimeout !== '0',
    statementTimeoutSet: config.migrations.statementTimeout !== undefined,
    ...config.lint,
    ...(options.exec ? { exec: options.exec } : {}),
  });
  return { ...result, scope, ...(sources.unsupported ? { unsupported: sources.unsupported } : {}) };
}
