/**
 * `berth lint`: the SQL of the migrations that are pending on at least one selected tenant
 * (one probe, as `migrate --plan`), or of every SQL migration. Where a tenant's pending
 * migrations are unknown, every SQL migration is linted: berth does not guess which apply.
 * Django and Alembic migrations are Python: their SQL comes from the tool itself, printed by
 * one task on the provider's runtime (the migrate tasks' image and environment) against one
 * pending tenant (src/migrations/tool-sql.ts).
 */
import type { Config } from '../config/schema.js';
import type { Exec } from '../core/exec.js';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { BerthError, errorMessage } from '../core/errors.js';
import {
  lintMigrations,
  sqlMigrations,
  type LintFinding,
  type LintResult,
  type SqlSources,
} from '../migrations/lint.js';
import { presetFor, resolvePreset } from '../migrations/presets.js';
import {
  isSqlTool,
  migrationFiles,
  parseSqlLog,
  sqlTask,
  toSqlMigrations,
  type SqlTool,
} from '../migrations/tool-sql.js';
import { tailLog } from '../state/task-store.js';
import { newTaskId } from '../tasks/task-id.js';
import { LISTING_DATABASE, NO_DJANGO } from './known-migrations.js';
import { planFleet, type FleetPlan } from './plan-fleet.js';
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
  let plan: FleetPlan | undefined;
  let scope = 'every SQL migration';
  if (options.backend && options.databases) {
    plan = await planFleet(options.backend, {
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
  const tool = config.migrations.tool;
  let sources: SqlSources;
  let unavailable: LintFinding[] = [];
  if (isSqlTool(tool) && options.backend && plan && ids) {
    ({ sources, unavailable } = await toolSources(tool, options, options.backend, plan, ids));
  } else {
    sources = await sqlMigrations(tool, resolvePreset(config.migrations), options.configDir, ids);
    if (isSqlTool(tool) && plan && !ids)
      sources.unsupported = `what is pending on some tenants is unknown, so berth cannot tell which ${tool} migrations to ask for their SQL`;
  }
  const result = await lintMigrations({
    migrations: sources.migrations,
    tool,
    lockTimeoutSet: config.migrations.lockTimeout !== '0',
    statementTimeoutSet: config.migrations.statementTimeout !== undefined,
    // Each tenant's pending list as one script: what an earlier pending migration creates is
    // new to the later ones on that tenant.
    ...(plan && ids
      ? { sequences: plan.databases.flatMap((d) => (d.pending?.length ? [d.pending] : [])) }
      : {}),
    ...config.lint,
    ...(options.exec ? { exec: options.exec } : {}),
  });
  const findings = [...unavailable, ...result.findings];
  return {
    ...result,
    ok: result.ok && unavailable.length === 0,
    findings,
    scope,
    ...(sources.unsupported ? { unsupported: sources.unsupported } : {}),
  };
}

/**
 * Django / Alembic: one task prints the SQL of the pending migrations, against a tenant they
 * are pending on (sqlmigrate reads the migration graph and its history table over a real
 * connection; the control database when no such tenant exists yet). A migration whose SQL the
 * tool did not print is an error finding (`sql-unavailable`), never a silent pass.
 */
async function toolSources(
  tool: SqlTool,
  options: LintPendingOptions,
  backend: FleetBackend,
  plan: FleetPlan,
  ids: Set<string>,
): Promise<{ sources: SqlSources; unavailable: LintFinding[] }> {
  const { config } = options;
  // The listing's command as migrate runs it: with task.command's interpreter (presetFor).
  const preset = presetFor(config);
  if (ids.size === 0 || preset.known.kind !== 'listing')
    return { sources: { migrations: [] }, unavailable: [] };
  const known = (await backend.migrations()) ?? [];
  const all = [
    ...known.filter((id) => ids.has(id)),
    ...[...ids].filter((id) => !known.includes(id)),
  ];
  const roots = [
    path.resolve(options.configDir, config.local.workdir),
    options.configDir,
    path.resolve(options.configDir, config.image.context),
  ];
  const files = await migrationFiles(tool, all, roots);
  // Django: the migrations of apps installed from packages (django.contrib.auth, …) are not
  // the project's to change, and would fail a fresh fleet's lint (auth alters column types).
  const pending = tool === 'django' ? all.filter((id) => files.has(id)) : all;
  const foreign = all.filter((id) => !pending.includes(id));
  const skipped =
    foreign.length > 0
      ? `${foreign.length} pending migration(s) of apps outside the project (${[...new Set(foreign.map((id) => id.split('.')[0]))].join(', ')}: no APP/migrations/NAME.py under local.workdir, berth.yaml's directory or image.context) are not linted`
      : undefined;
  if (pending.length === 0)
    return {
      sources: { migrations: [], ...(skipped ? { unsupported: skipped } : {}) },
      unavailable: [],
    };
  const tenant =
    plan.databases.find((d) => d.exists && (d.pending?.length ?? 0) > 0)?.database ??
    LISTING_DATABASE;
  const listing = preset.known.command;
  const task = sqlTask(tool, listing, pending, known);
  const id = newTaskId('probe');
  let log: string;
  try {
    const outcome = await backend.runtime.run(
      {
        id,
        kind: 'probe',
        databases: tenant === LISTING_DATABASE ? [] : [tenant],
        command: task.command,
        environment: { ...backend.taskEnvironment(), DATABASE_NAME: tenant },
        timeoutMs: config.task.timeoutSeconds * 1000,
      },
      options.signal,
    );
    if (outcome.exitCode !== 0) {
      const tail = await tailLog(outcome.logFile, 3);
      throw new Error(
        `${outcome.stoppedReason ?? `exited ${outcome.exitCode}`}${tail.length ? `: ${tail.join(' | ')}` : ''}`,
      );
    }
    log = await readFile(outcome.logFile, 'utf8');
  } catch (error) {
    throw new BerthError(
      'LINTER_UNAVAILABLE',
      `could not get the SQL of the pending ${tool} migrations: \`${task.describe}\` (task ${id}) ${errorMessage(error)}`,
      {
        hint: `see \`berth logs ${id}\`; the task runs with the migrate tasks' image and environment`,
      },
    );
  }
  const parsed = parseSqlLog(tool, log, pending);
  const unavailable: LintFinding[] = [...parsed.failed].map(([migration, why]) => ({
    migration,
    file: files.get(migration) ?? migration,
    line: 1,
    column: 1,
    rule: 'sql-unavailable',
    level: 'error',
    message: `${task.describe} printed no SQL for it (task ${id}): ${why}${
      NO_DJANGO.test(why)
        ? ` — \`${listing[0] ?? 'python3'}\` has no Django: name the project's interpreter in task.command (e.g. .venv/bin/python), which the listing and lint use too`
        : ''
    }`,
  }));
  return {
    sources: {
      migrations: toSqlMigrations(parsed, files, pending, task.describe),
      ...(skipped ? { unsupported: skipped } : {}),
    },
    unavailable,
  };
}
