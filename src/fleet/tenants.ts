/**
 * Which databases a command acts on: the fleet from config (inline list, file or SQL query),
 * narrowed by --database. Every name passes the same validation as an inline name.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { DATABASE_NAME_PATTERN, type Config } from '../config/schema.js';
import { notATenant } from '../config/rules.js';
import { closeMatches } from '../core/close-matches.js';
import { BerthError, isBerthError } from '../core/errors.js';

/**
 * Runs the discovery query (local: against the embedded server's control database). Give it
 * readTenantQuery (tenant-query.ts) on a client connected to `database`: that runs the query
 * read-only and rejects anything but one column of non-null names.
 */
export type QueryRunner = (database: string, sql: string) => Promise<string[]>;

/**
 * The fleet as far as it can be known without a database: an inline list or a tenants file,
 * read and checked as migrate reads it (throws TENANT_DISCOVERY_FAILED). undefined for a tenant
 * query, whose fleet is known only when it runs. For `config validate` and `doctor`.
 */
export async function knownFleet(
  config: Config,
  configDir: string,
): Promise<{ names: string[]; file?: string } | undefined> {
  const tenants = config.database.tenants;
  if (!Array.isArray(tenants) && !('file' in tenants)) return undefined;
  const names = await discoverTenants(config, configDir);
  return Array.isArray(tenants) ? { names } : { names, file: tenants.file };
}

export async function discoverTenants(
  config: Config,
  configDir: string,
  query?: QueryRunner,
): Promise<string[]> {
  const tenants = config.database.tenants;
  if (Array.isArray(tenants)) return tenants;
  if ('file' in tenants) {
    const file = path.resolve(configDir, tenants.file);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new BerthError(
        'TENANT_DISCOVERY_FAILED',
        `database.tenants.file: cannot read ${file}: ${(error as Error).message}`,
        {
          hint: 'create the file (one database name per line) or fix the path, relative to berth.yaml',
        },
      );
    }
    const names: string[] = [];
    const problems: string[] = [];
    /** Where each name was first listed, and how often so far. */
    const listed = new Map<string, { line: number; count: number }>();
    text.split('\n').forEach((raw, index) => {
      const line = raw.replace(/#.*/, '').trim();
      if (!line) return;
      const at = `  ${tenants.file}:${index + 1}: `;
      const reason = DATABASE_NAME_PATTERN.test(line)
        ? notATenant(line)
        : `"${line}" is not a valid database name`;
      if (reason) {
        problems.push(`${at}${reason}`);
        return;
      }
      const first = listed.get(line);
      if (first) {
        first.count += 1;
        const times = first.count === 2 ? 'twice' : `${first.count} times`;
        problems.push(`${at}"${line}" is listed ${times} (first on line ${first.line})`);
        return;
      }
      listed.set(line, { line: index + 1, count: 1 });
      names.push(line);
    });
    return validated(names, problems, `database.tenants.file (${tenants.file})`);
  }
  if (!query) {
    throw new BerthError(
      'TENANT_DISCOVERY_FAILED',
      'database.tenants.query needs a database connection this provider cannot open from here',
      {
        hint: 'list the tenants inline or in a file for this provider',
      },
    );
  }
  let rows: string[];
  try {
    rows = await query(tenants.database, tenants.query);
  } catch (error) {
    if (isBerthError(error)) throw error;
    throw new BerthError(
      'TENANT_DISCOVERY_FAILED',
      `database.tenants.query failed: ${(error as Error).message}`,
      {
        hint: 'the query must return one text column of database names',
      },
    );
  }
  const problems: string[] = [];
  const names: string[] = [];
  const seen = new Set<string>();
  for (const name of rows) {
    const reason = DATABASE_NAME_PATTERN.test(name)
      ? notATenant(name, tenants.database)
      : `"${name}" is not a valid database name`;
    if (reason) problems.push(`  ${reason}`);
    else if (seen.has(name)) problems.push(`  "${name}" is listed twice`);
    else {
      seen.add(name);
      names.push(name);
    }
  }
  return validated(names, problems, 'database.tenants.query');
}

/** Throws every problem found at once; `names` are the valid ones, each listed once. */
function validated(names: string[], problems: string[], where: string): string[] {
  if (problems.length > 0) {
    throw new BerthError(
      'TENANT_DISCOVERY_FAILED',
      `${where} has invalid entries:\n${problems.join('\n')}`,
      {
        hint: 'database names are lowercase identifiers (a-z, 0-9, _), each listed once, and never postgres, template0, template1 or the control database',
      },
    );
  }
  if (names.length === 0)
    throw new BerthError('TENANT_DISCOVERY_FAILED', `${where} found no tenant databases`);
  return names;
}

/**
 * --database NAME... must name members of the fleet; --all takes the whole fleet. Each
 * --database value may be a comma-separated list (`a,b`, spaces ignored), as the generated
 * workflow's free-text input passes it.
 */
export function selectDatabases(
  fleet: string[],
  selection: { databases?: string[]; all?: boolean },
): string[] {
  const requested = splitDatabaseList(selection.databases ?? []);
  if (selection.all && requested.length > 0) {
    throw new BerthError('USAGE', 'use either --all or --database, not both');
  }
  if (selection.all) return fleet;
  if (requested.length === 0) {
    throw new BerthError('USAGE', 'say which databases: --database NAME (repeatable) or --all', {
      hint: `the fleet is: ${fleet.slice(0, 10).join(', ')}${fleet.length > 10 ? ', …' : ''}`,
    });
  }
  const members = new Set(fleet);
  const unknown = requested.filter((d) => !members.has(d));
  if (unknown.length > 0) {
    const suggestions = Object.fromEntries(unknown.map((d) => [d, closeMatches(d, fleet)]));
    // A system database is never a tenant: "add it to database.tenants" would be refused too.
    const system = new Map(unknown.map((d) => [d, notATenant(d)]));
    const described = unknown.map((d) => {
      const close = suggestions[d] ?? [];
      if (system.get(d)) return `${d} (a PostgreSQL system database, never a tenant)`;
      return close.length ? `${d} (did you mean ${close.join(', ')}?)` : d;
    });
    const reasons = [...system.values()].filter((r): r is string => r !== undefined);
    const pick = `pick one of: ${fleet.slice(0, 10).join(', ')}${fleet.length > 10 ? ', …' : ''}`;
    throw new BerthError('DATABASE_UNKNOWN', `not in the fleet: ${described.join('; ')}`, {
      hint:
        reasons.length === unknown.length
          ? `${reasons[0] ?? ''}; ${pick}`
          : `add it to database.tenants in berth.yaml, or ${pick}`,
      details: { unknown, suggestions },
    });
  }
  return [...new Set(requested)];
}

/** `['a,b', ' c ']` → `['a', 'b', 'c']`; empty entries (`a,,b`, a trailing comma) dropped. */
export function splitDatabaseList(values: string[]): string[] {
  return values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
}
