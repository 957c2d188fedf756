/**
 * Reads a tenant's migration history through a preset: the applied migrations as ordered IDs,
 * plus what needs attention (golang-migrate's dirty version, Prisma's and Flyway's failed rows).
 * A missing history table means nothing was ever applied.
 */
import type pg from 'pg';
import { escapeIdentifier } from 'pg';
import type { MigrationPreset } from './presets.js';

export interface History {
  /** Applied migrations, in the order the history gives them. */
  applied: string[];
  /** golang-migrate: the version a migration failed half-way through (never "up to date"). */
  dirty?: string;
  /** Prisma / Flyway: migrations recorded as started or failed but not applied. */
  failed?: string[];
}

export interface HistoryRow {
  id: string;
  state: string;
}

/** The history table's quoted, schema-qualified name (for to_regclass and the SELECT). */
export function qualifiedTable(preset: MigrationPreset, schema: string): string {
  return `${escapeIdentifier(schema)}.${escapeIdentifier(preset.history.table)}`;
}

/** The preset's SELECT for a schema: rows (id, state). */
export function historySql(preset: MigrationPreset, schema: string): string {
  return preset.history.select.replace('{table}', qualifiedTable(preset, schema));
}

/** Rows → History; a state berth does not know counts as failed (never silently applied). */
export function historyFromRows(rows: readonly HistoryRow[]): History {
  const history: History = { applied: [] };
  for (const row of rows) {
    switch (row.state) {
      case 'applied':
        history.applied.push(row.id);
        break;
      case 'dirty':
        history.dirty = row.id;
        break;
      default:
        (history.failed ??= []).push(row.id);
    }
  }
  return history;
}

const MISSING = new Set(['42P01', '3F000']); // undefined_table, invalid_schema_name

/** Reads the history in one round trip; a missing table (or schema) reads as nothing applied. */
export async function readHistory(
  client: pg.ClientBase,
  preset: MigrationPreset,
  schema: string,
): Promise<History> {
  try {
    const result = await client.query<HistoryRow>(historySql(preset, schema));
    return historyFromRows(result.rows);
  } catch (error) {
    if (MISSING.has((error as { code?: string }).code ?? '')) return { applied: [] };
    throw error;
  }
}
