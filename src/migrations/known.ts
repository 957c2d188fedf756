/**
 * The migrations the code has, as the IDs the tool records: read from the tool's directory, or
 * parsed from a listing command's output (run once per run, not once per tenant). The I/O comes
 * in as parameters: the directory reader and the listing runner.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { BerthError, assertNever, errorMessage } from '../core/errors.js';
import {
  compareIds,
  type KnownSource,
  type ListingFormat,
  type MigrationPreset,
} from './presets.js';

export interface KnownMigrations {
  /** The code's migrations in the order the tool applies them. */
  ids: string[];
  /**
   * False when berth cannot derive pending migrations from `ids` (Alembic with branches):
   * `reason` says why, and every tenant gets a task.
   */
  ordered: boolean;
  reason?: string;
}

type DirectorySource = Extract<KnownSource, { kind: 'directory' }>;

export interface DirEntry {
  name: string;
  isDirectory(): boolean;
}

export type ReadDir = (dir: string) => Promise<DirEntry[]>;

const readDirEntries: ReadDir = (dir) => readdir(dir, { withFileTypes: true });

/** IDs of a directory's migrations, in the tool's order. */
export async function knownFromDirectory(
  source: DirectorySource,
  configDir: string,
  read: ReadDir = readDirEntries,
): Promise<string[]> {
  const dir = path.resolve(configDir, source.directory);
  let entries: DirEntry[];
  try {
    entries = await read(dir);
  } catch (error) {
    throw new BerthError(
      'CONFIG_INVALID',
      `migrations.directory: cannot read ${dir}: ${errorMessage(error)}`,
      {
        hint: 'point migrations.directory at the folder holding the migration files (relative to berth.yaml)',
      },
    );
  }
  const ids = new Set<string>();
  for (const entry of entries) {
    if (entry.isDirectory() !== (source.entries === 'directories')) continue;
    const id = source.id(entry.name);
    if (id !== undefined) ids.add(id);
  }
  return sortIds([...ids], source);
}

export function sortIds(ids: string[], source: DirectorySource): string[] {
  const key = source.sortKey ?? ((id: string) => id);
  return ids.sort((a, b) => compareIds(source.ordering, key(a), key(b)) || (a < b ? -1 : 1));
}

/**
 * `python3 manage.py showmigrations --plan`: one `[X]  app.name` or `[ ]  app.name` line per
 * migration, in the order migrate applies them; applied or not, each is one the code has.
 * (With -v 2 a line also carries `... (applied at …)` or `<= deps`: ignored.)
 */
export function parseDjangoPlan(text: string): string[] {
  const ids: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*\[[ X-]\]\s+([A-Za-z_]\w*)\.(\w+)/.exec(line);
    if (m) ids.push(`${m[1]}.${m[2]}`);
  }
  return ids;
}

/**
 * `alembic history`: lines `DOWN -> REV (head), message`, DOWN being `<base>` or one or more
 * revisions (a merge). Ordered from base to head when the history is one straight line; with
 * branches or merges, the revisions come back unordered and `ordered` is false.
 */
export function parseAlembicHistory(text: string): KnownMigrations {
  const parent = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^\s*(<base>|[\w]+(?:,\s*[\w]+)*)\s+->\s+(\w+)/.exec(line);
    if (!m?.[1] || !m[2]) continue;
    parent.set(m[2], m[1] === '<base>' ? [] : m[1].split(/,\s*/));
  }
  const ids = [...parent.keys()];
  const children = new Map<string, string[]>();
  let merge = false;
  for (const [rev, downs] of parent) {
    if (downs.length > 1) merge = true;
    for (const d of downs) children.set(d, [...(children.get(d) ?? []), rev]);
  }
  const roots = ids.filter((r) => parent.get(r)?.length === 0);
  const branch = [...children.values()].some((c) => c.length > 1);
  if (merge || branch || roots.length !== 1 || !roots[0]) {
    return {
      ids,
      ordered: false,
      reason:
        'the Alembic history has branches or merges: berth cannot tell pending revisions from the current heads without running Alembic',
    };
  }
  const line: string[] = [];
  for (let rev: string | undefined = roots[0]; rev; rev = children.get(rev)?.[0]) line.push(rev);
  if (line.length !== ids.length)
    return { ids, ordered: false, reason: 'the Alembic history is not connected' };
  return { ids: line, ordered: true };
}

export function parseListing(format: ListingFormat, text: string): KnownMigrations {
  switch (format) {
    case 'django-plan':
      return { ids: parseDjangoPlan(text), ordered: true };
    case 'alembic-history':
      return parseAlembicHistory(text);
    default:
      return assertNever(format, 'listing format');
  }
}

export interface KnownOptions {
  configDir: string;
  /** Runs the listing command once and returns its stdout; throws (a BerthError) on failure. */
  runListing: (command: string[]) => Promise<string>;
  readDir?: ReadDir;
}

/** The code's migrations for a preset; undefined when the preset has no way to learn them. */
export async function knownMigrations(
  preset: MigrationPreset,
  options: KnownOptions,
): Promise<KnownMigrations | undefined> {
  const known = preset.known;
  switch (known.kind) {
    case 'directory':
      return {
        ids: await knownFromDirectory(known, options.configDir, options.readDir),
        ordered: true,
      };
    case 'listing': {
      const output = await options.runListing(known.command);
      const parsed = parseListing(known.format, output);
      if (parsed.ids.length === 0)
        throw new BerthError(
          'MIGRATIONS_LIST_FAILED',
          `the ${preset.label} listing command \`${known.command.join(' ')}\` printed no migrations`,
          {
            hint: 'run it by hand in the task environment; set migrations.listCommand if the project needs another command',
          },
        );
      return parsed;
    }
    case 'none':
      return undefined;
    default:
      return assertNever(known, 'known source');
  }
}
