/**
 * The code's migrations for a fleet run, on any provider: read from the preset's directory, or
 * learned by running the preset's listing command (Django's `showmigrations --plan`) once, as a
 * task on the provider's runtime — the same image and environment the migrate tasks get — and
 * never once per tenant.
 */
import { readFile } from 'node:fs/promises';
import type { Config } from '../config/schema.js';
import { BerthError, errorMessage } from '../core/errors.js';
import type { Reporter } from '../core/events.js';
import { knownMigrations, type KnownMigrations } from '../migrations/known.js';
import { presetFor, type MigrationPreset } from '../migrations/presets.js';
import { isPinnedImage, type ListingCache, type ListingKey } from '../state/listing-cache.js';
import { tailLog } from '../state/task-store.js';
import { newTaskId } from '../tasks/task-id.js';
import type { TaskRuntime } from '../tasks/task.js';

/** The database a listing task connects to: the control database, never a tenant. */
export const LISTING_DATABASE = 'postgres';

/** Where listings are recorded, and which image a listing task would run. */
export interface RecordedListings {
  cache: ListingCache;
  /**
   * The image the listing task would run, by digest or image ID (a tag resolved now);
   * undefined when that cannot be known (host processes, an image outside the stack's).
   */
  image: () => Promise<string | undefined>;
}

export interface KnownMigrationsOptions {
  config: Config;
  configDir: string;
  runtime: TaskRuntime;
  /** The task environment without DATABASE_NAME (FleetBackend.taskEnvironment). */
  environment: () => Record<string, string> | Promise<Record<string, string>>;
  signal?: AbortSignal;
  /**
   * Listings recorded per image: a listing recorded for the image the task would run is used
   * and no task starts (state/listing-cache.ts).
   */
  listings?: RecordedListings;
  reporter?: Reporter;
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

export async function loadKnown(
  options: KnownMigrationsOptions,
): Promise<KnownMigrations | undefined> {
  const preset = presetFor(options.config);
  const key = await listingKey(preset, options);
  if (key && options.listings) {
    const recorded = await options.listings.cache.read(key);
    if (recorded) {
      options.reporter?.emit({
        type: 'message',
        level: 'info',
        text: `the code's migrations: ${recorded.ids.length}, as listed before for image ${key.image} (no listing task)`,
      });
      return recorded;
    }
  }
  const known = await knownMigrations(preset, {
    configDir: options.configDir,
    runListing: (command) => runListing(command, options),
  });
  if (key && known) await record(key, known, options);
  return known;
}

/**
 * Records a listing under the image it ran — if that image is still the one the name gave
 * before the listing: a tag moved in between (a push, a rebuild) leaves no record, since the
 * listing may have run either image. Best effort: a record that cannot be written costs one
 * listing task next time, nothing worse.
 */
async function record(
  key: ListingKey,
  known: KnownMigrations,
  options: KnownMigrationsOptions,
): Promise<void> {
  const listings = options.listings;
  if (!listings) return;
  try {
    if ((await listings.image()) !== key.image) return;
    await listings.cache.write(key, known);
  } catch {
    // Not recorded: listed again next time.
  }
}

/** The record's key when the listing runs in an image named by digest; else undefined. */
async function listingKey(
  preset: MigrationPreset,
  options: KnownMigrationsOptions,
): Promise<ListingKey | undefined> {
  if (preset.known.kind !== 'listing' || !options.listings) return undefined;
  const image = await options.listings.image().catch(() => undefined);
  if (image === undefined || !isPinnedImage(image)) return undefined;
  return {
    image,
    command: preset.known.command,
    format: preset.known.format,
    environment: options.config.task.environment,
  };
}

/** What a Python without the project's packages prints (Django's own message, or Python's). */
export const NO_DJANGO = /Couldn't import Django|No module named '?django'?/;

async function runListing(command: string[], options: KnownMigrationsOptions): Promise<string> {
  const id = newTaskId('probe');
  const fail = (why: string) =>
    new BerthError(
      'MIGRATIONS_LIST_FAILED',
      `could not list the code's migrations: \`${command.join(' ')}\` (task ${id}) ${why}`,
      {
        hint: NO_DJANGO.test(why)
          ? `\`${command[0] ?? 'python3'}\` here has no Django: run berth with the project's virtualenv active, or name its interpreter in task.command (the listing runs with it too) and task.batchCommand (e.g. [.venv/bin/python, manage.py, migrate, --noinput]); see \`berth logs ${id}\``
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
