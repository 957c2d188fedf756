// Integration: the built `dist/probe.js` (berth's probe line protocol) against a real
// PostgreSQL 16 — what a berth probe task prints inside the VPC.
import { readdir } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MIGRATIONS_DIR } from '../src/migrations.js';
import { freePort } from './net.js';
import { createDatabase, databaseEnv, migrate, postgres, runDist, withClient } from './helpers.js';

const MIGRATIONS = (await readdir(DEFAULT_MIGRATIONS_DIR))
  .filter((file) => file.endsWith('.sql'))
  .sort()
  .map((file) => file.replace(/\.sql$/, ''));

const MARKER = '::berth-probe ';

interface Report {
  database: string;
  exists?: boolean;
  tables?: number;
  applied?: string[];
  error?: string;
}

/** The probe's environment: the connection settings and DATABASE_NAMES, no DATABASE_NAME. */
function probeEnv(databases: string[], overrides: Record<string, string> = {}) {
  const { DATABASE_NAME: _name, ...connection } = databaseEnv('unused');
  return { ...connection, DATABASE_NAMES: databases.join(','), ...overrides };
}

function reports(lines: string[]): Report[] {
  return lines
    .filter((line) => line.startsWith(MARKER))
    .map((line) => JSON.parse(line.slice(MARKER.length)) as Report)
    .sort((a, b) => a.database.localeCompare(b.database));
}

describe('probe', () => {
  it('prints one line per database: table count and applied migrations, or that it does not exist', async () => {
    const migrated = await createDatabase('probe_full');
    const empty = await createDatabase('probe_empty');
    const missing = `probe_missing_${Date.now()}`;
    expect((await migrate(databaseEnv(migrated))).code).toBe(0);

    const result = await runDist('probe', [], probeEnv([migrated, empty, missing]));

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    // Nothing but protocol lines, one per database.
    expect(result.lines.every((line) => line.startsWith(MARKER))).toBe(true);
    expect(reports(result.lines)).toEqual(
      [
        { database: migrated, exists: true, tables: 57, applied: MIGRATIONS },
        { database: empty, exists: true, tables: 0, applied: [] },
        { database: missing, exists: false },
      ].sort((a, b) => a.database.localeCompare(b.database)),
    );
  });

  it('sees a half-migrated database exactly: the history table counts as a table', async () => {
    const db = await createDatabase('probe_half');
    expect((await migrate(databaseEnv(db))).code).toBe(0);
    // Roll the history back by hand to two entries: the probe reports what is recorded.
    await withClient(db, (c) =>
      c.query('DELETE FROM pgmigrations WHERE name <> ALL($1::text[])', [MIGRATIONS.slice(0, 2)]),
    );
    const [report] = reports((await runDist('probe', [], probeEnv([db]))).lines);
    expect(report).toEqual({
      database: db,
      exists: true,
      tables: 57,
      applied: MIGRATIONS.slice(0, 2),
    });
  });

  it('with BERTH_PROBE_SCHEMA=1, adds the schema: schemaTables on the probe line, then one line per table', async () => {
    const db = await createDatabase('probe_schema');
    expect((await migrate(databaseEnv(db))).code).toBe(0);
    const result = await runDist('probe', [], probeEnv([db], { BERTH_PROBE_SCHEMA: '1' }));
    expect(result.code).toBe(0);
    // The schema's entries: 57 tables, plpgsql (the extension every database has), the history
    // table's serial sequence (the identity columns' sequences are their columns') and the
    // catalog query's version.
    expect(reports(result.lines)).toEqual([
      { database: db, exists: true, tables: 57, applied: MIGRATIONS, schemaTables: 60 },
    ]);
    const tables = result.lines
      .filter((line) => line.startsWith('::berth-schema '))
      .map(
        (line) =>
          JSON.parse(line.slice('::berth-schema '.length)) as {
            database: string;
            table: { name: string; columns: unknown[]; indexes: unknown[]; constraints: unknown[] };
          },
      );
    expect(tables).toHaveLength(60);
    expect(new Set(tables.map((t) => t.database))).toEqual(new Set([db]));
    const orders = tables.find((t) => t.table.name === 'orders')?.table;
    expect(orders?.indexes).toContainEqual({
      name: 'orders_order_date_idx',
      definition: 'CREATE INDEX orders_order_date_idx ON public.orders USING btree (order_date)',
    });
  });

  it('reports an unreachable server as an error line per database, never the password', async () => {
    const port = await freePort();
    const result = await runDist(
      'probe',
      [],
      probeEnv(['tenant_a', 'tenant_b'], { DATABASE_PORT: String(port) }),
    );
    expect(result.code).toBe(0);
    const found = reports(result.lines);
    expect(found.map((r) => r.database)).toEqual(['tenant_a', 'tenant_b']);
    for (const r of found) expect(r.error).toMatch(/ECONNREFUSED|connect/);
    expect(result.stdout + result.stderr).not.toContain(postgres().password);
  });

  it('exits 2 without DATABASE_NAMES, with an invalid name, or without connection settings', async () => {
    const noNames = await runDist('probe', [], probeEnv([]));
    expect(noNames.code).toBe(2);
    expect(noNames.stderr).toContain('DATABASE_NAMES');
    const invalid = await runDist('probe', [], probeEnv(['Robert"; DROP']));
    expect(invalid.code).toBe(2);
    const noHost = await runDist('probe', [], { DATABASE_NAMES: 'tenant_a' });
    expect(noHost.code).toBe(2);
    expect(noHost.stderr).toContain('DATABASE_HOST');
    expect(noHost.lines).toEqual([]);
  });
});
