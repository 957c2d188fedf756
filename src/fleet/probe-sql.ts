/**
 * The probe: table count in the schema and the history table's names, in one round trip
 * per database. Identifiers come from validated config and are quoted anyway.
 */
import type pg from 'pg';
import { escapeIdentifier } from 'pg';
import type { ProbeResult } from './types.js';

export interface HistorySpec {
  schema: string;
  table: string;
  /** Columns naming a migration, joined with '.'. */
  nameColumns: readonly string[];
}

/**
 * `known` undefined: the migrations are not known to berth (no migrations.directory), so
 * pending cannot be computed here and `pendingKnown` is false.
 */
export async function probeDatabase(
  client: pg.ClientBase,
  database: string,
  history: HistorySpec,
  known: readonly string[] | undefined,
): Promise<ProbeResult> {
  const { schema, table: historyTable } = history;
  const head = await client.query<{ tables: number; history: boolean }>(
    `SELECT (SELECT count(*)::int FROM information_schema.tables
              WHERE table_schema = $1 AND table_type = 'BASE TABLE') AS tables,
            to_regclass($2) IS NOT NULL AS history`,
    [schema, `${escapeIdentifier(schema)}.${escapeIdentifier(historyTable)}`],
  );
  const row = head.rows[0] ?? { tables: 0, history: false };
  let applied: string[] = [];
  if (row.history) {
    const names = await client.query<{ name: string }>(
      `SELECT concat_ws('.', ${history.nameColumns.map((c) => escapeIdentifier(c)).join(', ')}) AS name FROM ${escapeIdentifier(schema)}.${escapeIdentifier(historyTable)}`,
    );
    applied = names.rows.map((r) => r.name);
  }
  const done = new Set(applied);
  return {
    database,
    exists: true,
    tables: row.tables,
    applied,
    pending: known ? known.filter((m) => !done.has(m)) : [],
    pendingKnown: known !== undefined,
  };
}
