/**
 * The probe: table count in the schema and the history table's names, in one or two round
 * trips per database. Identifiers come from validated config and are quoted anyway.
 *
 * Tables are counted in pg_catalog, not information_schema: on a backend that has just
 * started (every probe opens one), information_schema.tables costs about 10 ms of catalog
 * loading per database, which at a thousand tenants was most of berth's own work.
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

/** An advisory lock key in its two-int form. */
export type LockKey = readonly [number, number];

// Ordinary and partitioned tables: what information_schema calls BASE TABLE.
const HEAD = `SELECT (SELECT count(*)::int FROM pg_catalog.pg_class c
                       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')) AS tables,
                     to_regclass($2) IS NOT NULL AS history`;

/**
 * `known` undefined: the migrations are not known to berth (no migrations.directory), so
 * pending cannot be computed here and `pendingKnown` is false. `countTables: false` reads the
 * history only (migrate's reads under its lock need nothing else).
 */
export async function probeDatabase(
  client: pg.ClientBase,
  database: string,
  history: HistorySpec,
  known: readonly string[] | undefined,
  { countTables = true }: { countTables?: boolean } = {},
): Promise<ProbeResult> {
  const { schema, table: historyTable } = history;
  const qualified = `${escapeIdentifier(schema)}.${escapeIdentifier(historyTable)}`;
  const head = countTables
    ? await client.query<{ tables?: number; history: boolean }>(HEAD, [schema, qualified])
    : await client.query<{ tables?: number; history: boolean }>(
        'SELECT to_regclass($1) IS NOT NULL AS history',
        [qualified],
      );
  const row = head.rows[0] ?? { history: false };
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
    ...(row.tables === undefined ? {} : { tables: row.tables }),
    applied,
    pending: known ? known.filter((m) => !done.has(m)) : [],
    pendingKnown: known !== undefined,
  };
}

/**
 * Tries the migration lock once, then reads the history over the same connection: what migrate
 * needs to decide whether a database has work and to hold it while it waits for its batch. The lock
 * comes first, in its own statement, so the probe's snapshot is taken under it and sees
 * everything a run that held the lock before committed. `locked` false: another session holds
 * the lock (the probe is then a reading without it).
 */
export async function claimDatabase(
  client: pg.ClientBase,
  database: string,
  history: HistorySpec,
  known: readonly string[] | undefined,
  lock: LockKey,
): Promise<{ locked: boolean; probe: ProbeResult }> {
  const { rows } = await client.query<{ locked: boolean }>(
    'SELECT pg_try_advisory_lock($1, $2) AS locked',
    [lock[0], lock[1]],
  );
  return {
    locked: rows[0]?.locked === true,
    probe: await probeDatabase(client, database, history, known, { countTables: false }),
  };
}
