/**
 * The code's migrations for a fleet run, on any provider: read from the preset's directory, or
 * learned by running the preset's listing command (Django's `showmigrations --plan`) once, as a
 * task on the provider's runtime — the same image and environment the migrate tasks get — and
 * never once per tenant.
 */
import { readFile } from 'node:fs/promises';
import type { Config } from '../config/schema.js';
import { BerthError, errorMessage } from '../core/errors.js';
import { knownMigrations, type KnownMigrations } from '../migrations/known.js';
import { resolvePreset } from '../migrations/presets.js';
import { tailLog } from '../state/task-store.js';
import { newTaskId } from '../tasks/task-id.js';
import type { TaskRuntime } from '../tasks/task.js';

/** The database a listing task connects to: the control database, never a tenant. */
export const LISTING_DATABASE = 'postgres';

export interface KnownMigrationsOptions {
  config: Config;
  configDir: string;
  runtime: TaskRuntime;
  /** The task environment without DATABASE_NAME (FleetBackend.taskEnvironment). */
  environment: () => Record<string, string> | Promise<Record<string, string>>;
  signal?: AbortSignal;
}

/**
 * undefined when berth cannot know the code's migrations (tool: custom without a directory,
 * or an Alembic history with branches): every tenant then gets a task.
 */
export async function loadKnownMigrations(
  options: KnownMigrationsOptions,
): Promise<string[] | undefined> {
  const known = await loadKnown(options);
  return known?.ordered ? known.ids : undefined;
}

export function loadKnown(options: KnownMigrationsOptions): Promise<KnownMigrations | undefined> {
  const preset = resolvePreset(options.config.migrations);
  return knownMigrations(preset, {
    configDir: options.configDir,
    runListing: (command) => runListing(command, options),
  });
}

/** What a Python without the project's packages prints (Django's own message, or Python's). */
const NO_DJANGO = /Couldn't import Django|No module named '?django'?/;

async function runListing(command: string[], options: KnownMigrationsOptions): Promise<string> {
  const id = newTaskId('probe');
  const fail = (why: string) =>
    new BerthError(
      'MIGRATIONS_LIST_FAILED',
      `could not list the code's migrations: \`${command.join(' ')}\` (task ${id}) ${why}`,
      {
        hint: NO_DJANGO.test(why)
          ? `\`${command[0] ?? 'python3'}\` here has no Django: run berth with the project's virtualenv active, or name its interpreter in task.command, task.batchCommand and migrations.listCommand (e.g. [.venv/bin/python, manage.py, showmigrations, --plan]); see \`berth logs ${id}\``
          : `see \`berth logs ${id}\`; the command runs in local.workdir (or the image) with the task environment and DATABASE_NAME=${LISTING_DATABASE}; set migrations.listCommand if the project needs another command`,
      },
    );
  let outcome;
  try {
    outcome = await options.runtime.run(
      {
        id,
        kind: 'probe',
        databases: [],
        command,
        environment: { ...(await options.environment()), DATABASE_NAME: LISTING_DATABASE },
        timeoutMs: options.config.task.timeoutSeconds * 1000,
      },
      options.signal,
    );
  } catch (error) {
    throw fail(`could not start: ${errorMessage(error)}`);
  }
  if (outcome.exitCode !== 0) {
    const tail = await tailLog(outcome.logFile, 3);
    throw fail(
      `${outcome.stoppedReason ?? `exited ${outcome.exitCode}`}${tail.length ? `: ${tail.join(' | ')}` : ''}`,
    );
  }
  return readFile(outcome.logFile, 'utf8');
}
