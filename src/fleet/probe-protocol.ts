/**
 * The probe line protocol: how a task inside the VPC tells berth what it saw in a batch of
 * databases berth itself cannot reach (AWS: the databases sit in private subnets).
 *
 * berth starts `task.probeCommand` once for many databases, with
 *
 *   DATABASE_NAMES=a,b,c        (plus the usual DATABASE_HOST/PORT/USER/PASSWORD)
 *
 * and the command prints, for each of them, one line on stdout:
 *
 *   ::berth-probe {"database":"a","exists":true,"tables":57,"applied":["0001_auth","0002_sessions_admin"]}
 *   ::berth-probe {"database":"b","exists":false}
 *   ::berth-probe {"database":"c","error":"connection refused"}
 *
 * `tables` counts the base tables in the configured schema (the history table included);
 * `applied` lists the history table's migration IDs as the migration tool's preset reads them
 * (src/migrations/presets.ts; empty when it does not exist). Optional `dirty` (a version) and
 * `failed` (IDs) report a golang-migrate dirty flag and Prisma/Flyway failed rows. When berth
 * sets BERTH_PROBE_SCHEMA=1 (verify), a probe reports the schema too: the JSON value of the
 * catalog query (CATALOG_SQL in src/migrations/fingerprint.ts, `$1` = database.schema), from
 * which berth computes the fingerprint and compares it with the reference. Either inline, as
 * `schema` (small schemas), or — since a log driver may split a long line (Docker's at 16 KiB;
 * the example's 57 tables are about 80 KB) — as `"schemaTables":N` on the probe line plus one
 * line per table of the array:
 *
 *   ::berth-schema {"database":"a","table":{"name":"orders","columns":[…],"indexes":[…],"constraints":[…]}}
 *
 * A database whose table lines do not add up to N is an error, never a partial schema. Any
 * other output is ignored, so a probe may log freely. berth computes pending migrations from
 * the names it knows (migrations.directory, read from the local checkout — CI has the
 * source) exactly as the local provider's SQL probe does.
 */
import { DATABASE_NAME_PATTERN, type Config } from '../config/schema.js';
import { fingerprintOf, parseCatalog, type CatalogTables } from '../migrations/fingerprint.js';
import { knownFromDirectory } from '../migrations/known.js';
import { resolvePreset } from '../migrations/presets.js';
import { absentProbe, readProbe } from './probe-result.js';
import type { ProbeResult } from './types.js';

export const PROBE_MARKER = '::berth-probe';
export const SCHEMA_MARKER = '::berth-schema';
/** The environment variable carrying the comma-separated databases a probe task reads. */
export const PROBE_DATABASES_ENV = 'DATABASE_NAMES';
/** Set to `1` when berth wants each database's schema too (verify): the probe adds `schema`. */
export const PROBE_SCHEMA_ENV = 'BERTH_PROBE_SCHEMA';
/** The schema a probe reads (database.schema), for a probe that is not the app's own. */
export const PROBE_SCHEMA_NAME_ENV = 'BERTH_DATABASE_SCHEMA';

/** What one probe line says about one database. */
export type ProbeReport =
  | {
      database: string;
      exists: true;
      tables: number;
      applied: string[];
      /** golang-migrate's dirty version, when the history says so. */
      dirty?: string;
      /** Migrations the history records as failed (Prisma, Flyway). */
      failed?: string[];
      /** The catalog query's result (CATALOG_SQL), when asked for with BERTH_PROBE_SCHEMA=1. */
      schema?: CatalogTables;
      /** The schema as that many `::berth-schema` table lines instead (ProbeLogParser joins them). */
      schemaTables?: number;
    }
  | { database: string; exists: false }
  | { database: string; error: string };

export function formatProbeLine(report: ProbeReport): string {
  return `${PROBE_MARKER} ${JSON.stringify(report)}`;
}

/**
 * A probe line → its report; undefined for any other line. A line that carries the marker
 * but not a valid report is returned as an error for its database when the database can be
 * read from it (so a broken probe is a visible failure, not a silent "no answer").
 */
export function parseProbeLine(line: string): ProbeReport | undefined {
  const text = line.trimEnd();
  if (!text.startsWith(`${PROBE_MARKER} `)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text.slice(PROBE_MARKER.length + 1));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const v = value as Record<string, unknown>;
  const database = v.database;
  if (typeof database !== 'string' || !DATABASE_NAME_PATTERN.test(database)) return undefined;
  if (typeof v.error === 'string') return { database, error: v.error };
  if (v.exists === false) return { database, exists: false };
  const applied = v.applied ?? [];
  if (
    v.exists !== true ||
    typeof v.tables !== 'number' ||
    !Number.isInteger(v.tables) ||
    v.tables < 0 ||
    !Array.isArray(applied) ||
    !applied.every((a): a is string => typeof a === 'string')
  ) {
    return { database, error: `the probe printed an invalid line: ${text.slice(0, 200)}` };
  }
  const { dirty, failed, schemaTables } = v;
  const schema = v.schema === undefined ? undefined : parseCatalog(v.schema);
  if (
    (v.schema !== undefined && schema === undefined) ||
    (schemaTables !== undefined &&
      (typeof schemaTables !== 'number' || !Number.isInteger(schemaTables) || schemaTables < 0)) ||
    (dirty !== undefined && typeof dirty !== 'string') ||
    (failed !== undefined &&
      (!Array.isArray(failed) || !failed.every((f): f is string => typeof f === 'string')))
  ) {
    return { database, error: `the probe printed an invalid line: ${text.slice(0, 200)}` };
  }
  return {
    database,
    exists: true,
    tables: v.tables,
    applied,
    ...(dirty === undefined ? {} : { dirty }),
    ...(failed === undefined ? {} : { failed: failed }),
    ...(schema === undefined ? {} : { schema }),
    ...(typeof schemaTables === 'number' ? { schemaTables } : {}),
  };
}

export function formatSchemaLine(database: string, table: CatalogTables[number]): string {
  return `${SCHEMA_MARKER} ${JSON.stringify({ database, table })}`;
}

/** A `::berth-schema` line → its database and table; undefined for any other or a broken line. */
export function parseSchemaLine(
  line: string,
): { database: string; table: CatalogTables[number] } | undefined {
  const text = line.trimEnd();
  if (!text.startsWith(`${SCHEMA_MARKER} `)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text.slice(SCHEMA_MARKER.length + 1));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { database, table } = value as { database?: unknown; table?: unknown };
  if (typeof database !== 'string' || !DATABASE_NAME_PATTERN.test(database)) return undefined;
  const parsed = parseCatalog([table]);
  return parsed?.[0] ? { database, table: parsed[0] } : undefined;
}

/** A report → the ProbeResult the fleet runner uses; `known` as in probeDatabase (probe-sql.ts). */
export function probeResultFrom(
  report: ProbeReport,
  known: readonly string[] | undefined,
  records: 'each' | 'head' = 'each',
): ProbeResult {
  if ('error' in report) return absentProbe(report.database, known, report.error);
  if (!report.exists) return absentProbe(report.database, known);
  const result = readProbe(report.database, known, [...report.applied], report.tables, {
    records,
    ...(report.dirty === undefined ? {} : { dirty: report.dirty }),
    ...(report.failed === undefined ? {} : { failed: report.failed }),
  });
  return report.schema ? { ...result, fingerprint: fingerprintOf(report.schema) } : result;
}

/**
 * Collects the reports of a probe task's log; the last line about a database wins. A report
 * with `schemaTables` gets its `::berth-schema` table lines joined into `schema`.
 */
export class ProbeLogParser {
  private readonly reports = new Map<string, ProbeReport>();
  private readonly tables = new Map<string, Map<string, CatalogTables[number]>>();

  line(text: string): void {
    const table = parseSchemaLine(text);
    if (table) {
      const tables = this.tables.get(table.database) ?? new Map<string, CatalogTables[number]>();
      tables.set(table.table.name, table.table);
      this.tables.set(table.database, tables);
      return;
    }
    const report = parseProbeLine(text);
    if (report) this.reports.set(report.database, report);
  }

  report(database: string): ProbeReport | undefined {
    const report = this.reports.get(database);
    if (!report || !('exists' in report) || !report.exists || report.schemaTables === undefined)
      return report;
    const { schemaTables, ...rest } = report;
    const tables = [...(this.tables.get(database)?.values() ?? [])];
    if (tables.length !== schemaTables)
      return {
        database,
        error: `the probe printed ${tables.length} of the ${schemaTables} ${SCHEMA_MARKER} lines of its schema (a log line cut short?)`,
      };
    return { ...rest, schema: tables };
  }

  get size(): number {
    return this.reports.size;
  }
}

/**
 * Splits databases into probe batches whose DATABASE_NAMES value stays under `maxChars`
 * (RunTask's container overrides are limited to 8 KiB in all) and `maxDatabases`.
 */
export function probeBatches(
  databases: readonly string[],
  maxDatabases = 200,
  maxChars = 4000,
): string[][] {
  const batches: string[][] = [];
  let current: string[] = [];
  let chars = 0;
  for (const database of databases) {
    const extra = database.length + (current.length > 0 ? 1 : 0);
    if (current.length > 0 && (current.length >= maxDatabases || chars + extra > maxChars)) {
      batches.push(current);
      current = [];
      chars = 0;
    }
    chars += database.length + (current.length > 0 ? 1 : 0);
    current.push(database);
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/**
 * The migrations berth knows from a directory (the preset's, or migrations.directory, relative
 * to berth.yaml), in the tool's order, as the IDs it records. undefined when the tool's
 * migrations are not kept in a directory berth reads (tool: custom without a directory; django
 * and alembic, which need their listing command: see known-migrations.ts).
 */
export async function readKnownMigrations(
  config: Config,
  configDir: string,
): Promise<string[] | undefined> {
  const preset = resolvePreset(config.migrations);
  if (preset.known.kind !== 'directory') return undefined;
  return knownFromDirectory(preset.known, configDir);
}
