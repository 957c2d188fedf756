/**
 * The probe: table count in the schema and the history table's migrations, in one or two round
 * trips per database. The history is read through the migration tool's preset
 * (src/migrations), so Django's (app, name), golang-migrate's dirty flag or Prisma's failed
 * rows come back the same way. Identifiers come from validated config and are quoted anyway.
 *
 * Tables are counted in pg_catalog, not information_schema: on a backend that has just
 * started (every probe opens one), information_schema.tables costs about 10 ms of catalog
 * loading per database, which at a thousand tenants was most of berth's own work.
 */
import type pg from 'pg';
import { escapeLiteral } from 'pg';
import {
  catalogJsonSql,
  fingerprintOf,
  parseCatalog,
  type SchemaFingerprint,
} from '../migrations/fingerprint.js';
import { qualifiedTable, readHistory } from '../migrations/history.js';
import type { MigrationPreset } from '../migrations/presets.js';
import { isUpToDate, readProbe } from './probe-result.js';
import type { ProbeResult } from './types.js';

export interface HistorySpec {
  /** The schema the history table lives in (database.schema). */
  schema: string;
  preset: MigrationPreset;
}

/** An advisory lock key in its two-int form. */
export type LockKey = readonly [number, number];

// Ordinary and partitioned tables: what information_schema calls BASE TABLE.
const HEAD = `SELECT (SELECT count(*)::int FROM pg_catalog.pg_class c
                       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')) AS tables,
                     to_regclass($2) IS NOT NULL AS history`;
// verify's probe: the schema's fingerprint too, in the same round trip (fingerprint.ts).
const HEAD_WITH_SCHEMA = `${HEAD}, ${catalogJsonSql('$1')} AS schema`;

/**
 * `known` undefined: the migrations are not known to berth (no migrations.directory), so
 * pending cannot be computed here and `pendingKnown` is false. `countTables: false` reads the
 * history only (migrate's reads under its lock need nothing else), in one round trip.
 * `fingerprint: true` (verify) reads the schema's catalog in the same query as the count.
 */
export async function probeDatabase(
  client: pg.ClientBase,
  database: string,
  history: HistorySpec,
  known: readonly string[] | undefined,
  {
    countTables = true,
    fingerprint = false,
  }: { countTables?: boolean; fingerprint?: boolean } = {},
): Promise<ProbeResult> {
  if (!countTables) return probeFrom(client, database, history, known, true);
  const head = await client.query<{ tables: number; history: boolean; schema?: unknown }>(
    fingerprint ? HEAD_WITH_SCHEMA : HEAD,
    [history.schema, qualifiedTable(history.preset, history.schema)],
  );
  const row = head.rows[0] ?? { tables: 0, history: false };
  const result = await probeFrom(client, database, history, known, row.history, row.tables);
  return fingerprint ? { ...result, fingerprint: catalogFingerprint(row.schema) } : result;
}

function catalogFingerprint(value: unknown): SchemaFingerprint {
  const catalog = parseCatalog(value);
  if (!catalog) throw new Error('the catalog query returned an unexpected shape');
  return fingerprintOf(catalog);
}

/**
 * A predicate, in SQL: a task is still running on the database whose OID is `databaseOid` (an
 * SQL expression). That is the "task running" advisory lock of class `taskClass` whose second
 * key is the database's OID (low 31 bits), held in any database of the cluster (the local
 * supervisor holds it from a connection to the control database, for as long as any process
 * of its task lives). The one definition of that test: the in-session check below and the
 * control connection's check for many databases (task-running-check.ts) both build on it.
 */
export function taskLockHeldSql(taskClass: number, databaseOid: string): string {
  if (!Number.isInteger(taskClass)) throw new Error(`invalid advisory lock class ${taskClass}`);
  return `EXISTS (SELECT 1 FROM pg_catalog.pg_locks l
                   WHERE l.locktype = 'advisory' AND l.objsubid = 2
                     AND l.classid = ${taskClass}::int::oid
                     AND l.objid = ((${databaseOid})::int8 & 2147483647)::oid)`;
}

/** The check for the current database, as a statement: one row, `busy`. */
function taskRunningSql(taskClass: number): string {
  const current = `SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database()`;
  return `SELECT ${taskLockHeldSql(taskClass, current)} AS busy`;
}

/** Whether a task is still running on the current database, asked on its own session. */
export async function taskRunningInSession(
  client: pg.ClientBase,
  taskClass: number,
): Promise<boolean> {
  const { rows } = await client.query<{ busy: boolean }>(taskRunningSql(taskClass));
  return rows[0]?.busy === true;
}

/**
 * Tries the migration lock once, then reads the history over the same connection: what migrate
 * needs to decide whether a database has work and to hold it while it waits for its batch.
 * The lock and the history table's existence go in one message as two statements: each
 * statement takes its own snapshot, so the second (and the read of the names after it) sees
 * everything a run that held the lock before committed. `locked` false: another session holds
 * the lock (the reading is then one without it). With `taskRunning`, a database with work is
 * held only if no task is still running on it (one whose berth died, under the local
 * supervisor): otherwise the lock is given back at once and `locked` is false. That check is
 * made while the lock is held and only where migrate would keep it: a database read as up to
 * date under the lock is up to date whatever task may still be running, and is released at
 * once anyway. The local provider answers it for many claims at once from its control
 * connection (task-running-check.ts): on the tenant's new session, its scan of pg_locks was
 * about a quarter of the claim's server CPU (bench/README.md).
 */
export async function claimDatabase(
  client: pg.ClientBase,
  database: string,
  history: HistorySpec,
  known: readonly string[] | undefined,
  lock: LockKey,
  taskRunning?: (client: pg.ClientBase) => Promise<boolean>,
): Promise<{ locked: boolean; probe: ProbeResult }> {
  if (!lock.every(Number.isInteger)) throw new Error(`invalid advisory lock key ${lock.join(',')}`);
  // A multi-statement simple query resolves to one result per statement.
  const [lockRow, historyRow] = (await client.query(
    `SELECT pg_try_advisory_lock(${lock[0]}, ${lock[1]}) AS locked;
     SELECT to_regclass(${escapeLiteral(qualifiedTable(history.preset, history.schema))}) IS NOT NULL AS history`,
  )) as unknown as [pg.QueryResult<{ locked: boolean }>, pg.QueryResult<{ history: boolean }>];
  let locked = lockRow.rows[0]?.locked === true;
  const probe = await probeFrom(
    client,
    database,
    history,
    known,
    historyRow.rows[0]?.history === true,
  );
  if (locked && taskRunning !== undefined && !isUpToDate(probe)) {
    if (await taskRunning(client)) {
      await client.query(`SELECT pg_advisory_unlock(${lock[0]}, ${lock[1]})`);
      locked = false;
    }
  }
  return { locked, probe };
}

/**
 * Tries the migration lock once; with `taskClass`, a task still running on the database makes
 * it a failure too (the lock is given back at once).
 */
export async function tryMigrationLock(
  client: pg.ClientBase,
  lock: LockKey,
  taskClass?: number,
): Promise<boolean> {
  if (!lock.every(Number.isInteger)) throw new Error(`invalid advisory lock key ${lock.join(',')}`);
  const [lockRow, busyRow] = (await client.query(
    `SELECT pg_try_advisory_lock(${lock[0]}, ${lock[1]}) AS locked;
     ${taskClass === undefined ? 'SELECT false AS busy' : taskRunningSql(taskClass)}`,
  )) as unknown as [pg.QueryResult<{ locked: boolean }>, pg.QueryResult<{ busy: boolean }>];
  if (lockRow.rows[0]?.locked !== true) return false;
  if (busyRow.rows[0]?.busy !== true) return true;
  await client.query(`SELECT pg_advisory_unlock(${lock[0]}, ${lock[1]})`);
  return false;
}

async function probeFrom(
  client: pg.ClientBase,
  database: string,
  spec: HistorySpec,
  known: readonly string[] | undefined,
  hasHistory: boolean,
  tables?: number,
): Promise<ProbeResult> {
  const history = hasHistory
    ? await readHistory(client, spec.preset, spec.schema)
    : { applied: [] };
  return readProbe(database, known, history.applied, tables, {
    records: spec.preset.history.records,
    ...(history.dirty === undefined ? {} : { dirty: history.dirty }),
    ...(history.failed === undefined ? {} : { failed: history.failed }),
  });
}
