/**
 * database.tenants.query on a real PostgreSQL server: read-only, one statement, one text
 * column of non-null names. Every rejected query must leave the server exactly as it was.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTenantQuery, tenantQueryRunner } from '../../src/fleet/tenant-query.js';
import { discoverTenants } from '../../src/fleet/tenants.js';
import { parseConfig } from '../../src/config/load-config.js';
import { LocalPostgres, clientConfig } from '../../src/providers/local/postgres-server.js';
import { statePaths } from '../../src/state/paths.js';
import type { ServerConnection } from '../../src/providers/local/postgres-server.js';
import { isBerthError } from '../../src/core/errors.js';

let dir: string;
let server: LocalPostgres;
let secret: ServerConnection;

async function withClient<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(clientConfig(secret, 'postgres'));
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function tables(): Promise<string[]> {
  return withClient(async (c) =>
    (
      await c.query<{ t: string }>(
        "SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
      )
    ).rows.map((r) => r.t),
  );
}

async function rejection(sql: string): Promise<{ code: string; message: string }> {
  try {
    await withClient((c) => readTenantQuery(c, sql));
  } catch (error) {
    if (isBerthError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error(`query was accepted: ${sql}`);
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'berth-tenant-query-'));
  server = new LocalPostgres({ paths: statePaths(dir), maxConnections: 20 });
  secret = await server.ensureRunning();
  await withClient(async (c) => {
    await c.query('CREATE TABLE tenants (name text, plan text, id int)');
    await c.query(
      "INSERT INTO tenants VALUES ('tenant_a', 'pro', 1), ('tenant_b', 'free', 2), (NULL, 'free', 3)",
    );
  });
});

afterAll(async () => {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('readTenantQuery', () => {
  it('returns the names of a one-column text query, in order', async () => {
    const names = await withClient((c) =>
      readTenantQuery(c, 'SELECT name FROM tenants WHERE name IS NOT NULL ORDER BY id'),
    );
    expect(names).toEqual(['tenant_a', 'tenant_b']);
    // name (pg_database.datname) and varchar count as text too
    const datnames = await withClient((c) =>
      readTenantQuery(c, "SELECT datname FROM pg_database WHERE datname = 'postgres'"),
    );
    expect(datnames).toEqual(['postgres']);
    const varchars = await withClient((c) => readTenantQuery(c, "SELECT 'x'::varchar(10)"));
    expect(varchars).toEqual(['x']);
  });

  it('refuses a query that writes, and nothing is created', async () => {
    const error = await rejection('CREATE TABLE evil (name text)');
    expect(error.code).toBe('TENANT_DISCOVERY_FAILED');
    expect(error.message).toMatch(/read-only/);
    expect(await tables()).toEqual(['tenants']);
  });

  it('refuses an INSERT ... RETURNING that would return a valid column', async () => {
    const error = await rejection("INSERT INTO tenants VALUES ('sneaky', 'x', 9) RETURNING name");
    expect(error.message).toMatch(/read-only/);
    const rows = await withClient(
      async (c) => (await c.query("SELECT 1 FROM tenants WHERE name = 'sneaky'")).rowCount,
    );
    expect(rows).toBe(0);
  });

  it('refuses a second statement that would step out of the transaction', async () => {
    const error = await rejection(
      'COMMIT; CREATE TABLE evil (name text); SELECT name FROM tenants',
    );
    expect(error.message).toMatch(/more than one statement|cannot insert multiple commands/);
    expect(await tables()).toEqual(['tenants']);
  });

  it('refuses a query that turns read-only off', async () => {
    const error = await rejection(
      "SELECT set_config('transaction_read_only', 'off', true) AS name",
    );
    expect(error.code).toBe('TENANT_DISCOVERY_FAILED');
  });

  it('refuses more than one column, naming them', async () => {
    const error = await rejection('SELECT name, plan FROM tenants WHERE name IS NOT NULL');
    expect(error.message).toContain('2 columns (name, plan)');
  });

  it('refuses a NULL name with its row number (no database called "null")', async () => {
    const error = await rejection('SELECT name FROM tenants ORDER BY id');
    expect(error.message).toContain('row 3 is NULL');
  });

  it('refuses a column that is not text', async () => {
    const error = await rejection('SELECT id FROM tenants');
    expect(error.message).toContain('is not text');
  });

  it('reports a SQL error with the reason', async () => {
    const error = await rejection('SELECT nope FROM tenants');
    expect(error.message).toContain('column "nope" does not exist');
  });

  it('leaves the connection usable (the transaction is rolled back)', async () => {
    const status = await withClient(async (c) => {
      await readTenantQuery(c, 'SELECT name FROM tenants WHERE false').catch(() => undefined);
      await readTenantQuery(c, 'SELECT id FROM tenants').catch(() => undefined);
      return (await c.query<{ transaction_read_only: string }>('SHOW transaction_read_only'))
        .rows[0]?.transaction_read_only;
    });
    expect(status).toBe('off');
  });
});

describe('discoverTenants with a query', () => {
  const config = (query: string, database = 'postgres') =>
    parseConfig(`app: x
registry: { name: r }
cluster: { name: c }
logs: { group: /ecs/x }
roles: { execution: e, task: t }
task: { family: f, command: [migrate] }
database:
  secret: { name: s }
  tenants: { query: "${query}", database: ${database} }
  expectedTables: 1
migrations: { directory: m }
`);
  const opened: string[] = [];
  let open = 0;
  // What the local provider does: a pg client per discovery, on the control database.
  const runner = tenantQueryRunner(async (database) => {
    opened.push(database);
    const client = new pg.Client(clientConfig(secret, 'postgres'));
    await client.connect();
    open++;
    return {
      client,
      end: async () => {
        await client.end();
        open--;
      },
    };
  });
  const discoveryError = async (promise: Promise<string[]>) => {
    try {
      await promise;
    } catch (error) {
      if (isBerthError(error)) return { code: error.code, message: error.message };
      throw error;
    }
    throw new Error('discovery succeeded');
  };

  it('refuses the system databases (exit 3)', async () => {
    const error = await discoveryError(
      discoverTenants(config('SELECT datname FROM pg_database ORDER BY 1'), dir, runner),
    );
    expect(error.code).toBe('TENANT_DISCOVERY_FAILED');
    expect(error.message).toMatch(
      /"postgres" is a PostgreSQL system database[\s\S]*"template0"[\s\S]*"template1"/,
    );
  });

  it('refuses the control database the query runs in', async () => {
    // The query returns the name of the control database configured for it.
    const error = await discoveryError(
      discoverTenants(
        config("SELECT 'tenant_a' UNION ALL SELECT 'fleet_control'", 'fleet_control'),
        dir,
        runner,
      ),
    );
    expect(error.message).toContain('"fleet_control" is the control database');
  });

  it('passes the query reader error through unchanged', async () => {
    const error = await discoveryError(
      discoverTenants(config('SELECT name FROM tenants'), dir, runner),
    );
    expect(error).toMatchObject({ code: 'TENANT_DISCOVERY_FAILED' });
    expect(error.message).toContain('row 3 is NULL');
    // The runner connected to the configured control database and closed every connection.
    expect(opened).toContain('fleet_control');
    expect(opened).toContain('postgres');
    expect(open).toBe(0);
  });
});
