/**
 * Runs database.tenants.query the only way berth trusts it: in a read-only transaction, as
 * one statement, and accepting only one text column of non-null names. The query comes
 * from config, so it is treated as input: a `CREATE TABLE`, a `COMMIT; DROP ...`, a second
 * column or a NULL is a config error (exit 3) and nothing is created from it.
 */
import type pg from 'pg';
import { BerthError, errorMessage } from '../core/errors.js';

/** The connected client readTenantQuery needs; a pg.Client is one. */
export type TenantQueryClient = Pick<pg.Client, 'query'>;

/** Type OIDs of PostgreSQL's text types (pg_type): name, text, varchar. */
const TEXT_TYPES: Record<number, string> = { 19: 'name', 25: 'text', 1043: 'varchar' };

export interface TenantQueryOptions {
  /** statement_timeout for the query, so a runaway query cannot hang every command. */
  timeoutMs?: number;
}

/**
 * Runs `sql` on a connected client and returns the names it lists, in order. Throws
 * TENANT_DISCOVERY_FAILED (exit 3) with the reason otherwise. The transaction is always
 * rolled back: the query never changes anything, even when it tries.
 */
export async function readTenantQuery(
  client: TenantQueryClient,
  sql: string,
  options: TenantQueryOptions = {},
): Promise<string[]> {
  const timeoutMs = Math.max(1, Math.floor(options.timeoutMs ?? 30_000));
  await client.query('BEGIN READ ONLY');
  try {
    await client.query(`SET LOCAL statement_timeout = ${timeoutMs}`);
    let result: pg.QueryResult<unknown[]>;
    try {
      // The extended protocol takes exactly one statement, so "COMMIT; CREATE TABLE ..."
      // cannot step out of the read-only transaction. (pg has the option; its types lag.)
      const query = { text: sql, rowMode: 'array', queryMode: 'extended' } as pg.QueryArrayConfig;
      result = await client.query<unknown[]>(query);
    } catch (error) {
      throw failed(queryFailure(error));
    }
    return namesFrom(result);
  } finally {
    // The connection may be broken (that error is the one to report), so this may fail too.
    await client.query('ROLLBACK').catch(() => undefined);
  }
}

function queryFailure(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const message = errorMessage(error);
  if (code === '25006')
    return `it tried to write (${message}); it runs in a read-only transaction and may only read`;
  if (code === '42601' && /multiple commands/i.test(message))
    return 'it has more than one statement; give one SELECT';
  if (code === '57014') return `it took too long (${message})`;
  return message;
}

function namesFrom(result: pg.QueryResult<unknown[]>): string[] {
  const fields = result.fields;
  if (fields.length !== 1) {
    throw failed(
      fields.length === 0
        ? 'it returned no columns; it must return one text column of database names'
        : `it returned ${fields.length} columns (${fields.map((f) => f.name).join(', ')}); it must return exactly one, the database names`,
    );
  }
  const [field] = fields;
  if (!field || !(field.dataTypeID in TEXT_TYPES)) {
    throw failed(
      `its column "${field?.name ?? '?'}" is not text (type OID ${field?.dataTypeID ?? '?'}); return database names, e.g. SELECT datname FROM pg_database`,
    );
  }
  const names: string[] = [];
  result.rows.forEach((row, index) => {
    const value = row[0];
    if (value === null || value === undefined)
      throw failed(`row ${index + 1} is NULL; filter NULLs out (WHERE ... IS NOT NULL)`);
    // The column is a text type, so pg hands back strings.
    names.push(value as string);
  });
  return names;
}

function failed(reason: string): BerthError {
  return new BerthError('TENANT_DISCOVERY_FAILED', `database.tenants.query: ${reason}`, {
    hint: 'the query must be one read-only SELECT returning one text column of database names; nothing was created',
  });
}

/** A client readTenantQuery can use, and how to close it. */
export interface TenantQueryConnection {
  client: TenantQueryClient;
  end(): Promise<void>;
}

/**
 * The QueryRunner discoverTenants takes, built from a way to connect to a database: it
 * connects to the control database, runs readTenantQuery and always closes the connection.
 * The local provider passes `(db) => connect(new pg.Client(clientConfig(secret, db)))`.
 */
export function tenantQueryRunner(
  connect: (database: string) => Promise<TenantQueryConnection>,
  options: TenantQueryOptions = {},
): (database: string, sql: string) => Promise<string[]> {
  return async (database, sql) => {
    const connection = await connect(database);
    try {
      return await readTenantQuery(connection.client, sql, options);
    } finally {
      await connection.end().catch(() => undefined);
    }
  };
}
