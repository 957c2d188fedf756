// Integration: the built `dist/migrate.js` against a real PostgreSQL 16.
import { readdir } from 'node:fs/promises';
import { runner } from 'node-pg-migrate';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MIGRATIONS_DIR } from '../src/migrations.js';
import { freePort } from './net.js';
import {
  clientFor,
  createDatabase,
  databaseEnv,
  fixture,
  migrate,
  postgres,
  publicTables,
  recordedMigrations,
  withClient,
} from './helpers.js';

const MIGRATIONS = (await readdir(DEFAULT_MIGRATIONS_DIR))
  .filter((file) => file.endsWith('.sql'))
  .sort()
  .map((file) => file.replace(/\.sql$/, ''));

/**
 * Foreign keys whose columns are not the leading columns of any index: deleting a parent row
 * (ON DELETE checks) or joining from the parent side would scan the whole child table.
 */
async function unindexedForeignKeys(client: pg.Client): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT c.conname AS name
       FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
      WHERE n.nspname = 'public' AND c.contype = 'f'
        AND NOT EXISTS (
          SELECT 1 FROM pg_index i
           WHERE i.indrelid = c.conrelid
             AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] = c.conkey)
      ORDER BY 1`,
  );
  return rows.map((row) => row.name);
}

// node-pg-migrate's well-known advisory lock key (PG_MIGRATE_LOCK_ID).
const MIGRATION_LOCK_ID = '7241865325823964';

describe('migrate', () => {
  it('creates the 57 StartupWebApp tables on a fresh tenant database', async () => {
    const db = await createDatabase();

    const result = await migrate(databaseEnv(db));

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.lines).toEqual([
      ...MIGRATIONS.map((name) => `Applying ${name}`),
      `Applied ${MIGRATIONS.length} migration(s) to ${db}`,
    ]);
    const tables = await publicTables(db);
    expect(tables).toHaveLength(57);
    expect(tables).toContain('pgmigrations');
    expect(tables).toEqual(expect.arrayContaining(['users', 'products', 'orders', 'audit_log']));
    expect(await recordedMigrations(db)).toEqual(MIGRATIONS);
  });

  it('creates real foreign keys, each backed by an index', async () => {
    const db = await createDatabase();
    expect((await migrate(databaseEnv(db))).code).toBe(0);

    await withClient(db, async (client) => {
      const fks = await client.query<{ count: string }>(
        `SELECT count(*) FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
          WHERE n.nspname = 'public' AND c.contype = 'f'`,
      );
      expect(Number(fks.rows[0]?.count)).toBeGreaterThan(60);
      expect(await unindexedForeignKeys(client)).toEqual([]);

      // Control: the query does flag an unindexed foreign key (so the empty result means something).
      await client.query('BEGIN');
      await client.query('CREATE TABLE fk_probe (user_id bigint REFERENCES users (id))');
      expect(await unindexedForeignKeys(client)).toEqual(['fk_probe_user_id_fkey']);
      await client.query('ROLLBACK');
    });
  });

  it('is a no-op when the database is up to date', async () => {
    const db = await createDatabase();
    expect((await migrate(databaseEnv(db))).code).toBe(0);
    const runOnBefore = await withClient(db, (c) =>
      c.query('SELECT id, name, run_on FROM pgmigrations ORDER BY id'),
    );

    const again = await migrate(databaseEnv(db));

    expect(again.code).toBe(0);
    expect(again.stderr).toBe('');
    expect(again.lines).toEqual([`No migrations to apply: ${db} is up to date`]);
    const runOnAfter = await withClient(db, (c) =>
      c.query('SELECT id, name, run_on FROM pgmigrations ORDER BY id'),
    );
    expect(runOnAfter.rows).toEqual(runOnBefore.rows);
  });

  it("writes node-pg-migrate's own history: its runner finds nothing left to apply", async () => {
    const db = await createDatabase();
    expect((await migrate(databaseEnv(db))).code).toBe(0);

    const client = clientFor(db);
    await client.connect();
    try {
      const applied = await runner({
        dbClient: client,
        dir: DEFAULT_MIGRATIONS_DIR,
        migrationsTable: 'pgmigrations',
        direction: 'up',
        checkOrder: true,
        log: () => {},
      });
      expect(applied).toEqual([]);
    } finally {
      await client.end();
    }
  });

  it('has Down sections that undo everything (checked with node-pg-migrate itself)', async () => {
    const db = await createDatabase();
    expect((await migrate(databaseEnv(db))).code).toBe(0);

    const client = clientFor(db);
    await client.connect();
    try {
      // node-pg-migrate's own default loader, so the files are valid in its format as-is.
      await runner({
        dbClient: client,
        dir: DEFAULT_MIGRATIONS_DIR,
        migrationsTable: 'pgmigrations',
        direction: 'down',
        count: Number.POSITIVE_INFINITY,
        singleTransaction: false,
        log: () => {},
      });
    } finally {
      await client.end();
    }

    expect(await publicTables(db)).toEqual(['pgmigrations']);
    expect(await recordedMigrations(db)).toEqual([]);
  });
});

describe('migrate --check', () => {
  it('exits 1 listing every migration on a fresh database, without touching it', async () => {
    const db = await createDatabase();

    const result = await migrate(databaseEnv(db), '--check');

    expect(result.code).toBe(1);
    expect(result.lines).toEqual(MIGRATIONS.map((name) => `Pending: ${name}`));
    // In particular the history table must not have been created.
    expect(await publicTables(db)).toEqual([]);
  });

  it('exits 0 once migrated', async () => {
    const db = await createDatabase();
    expect((await migrate(databaseEnv(db))).code).toBe(0);

    const result = await migrate(databaseEnv(db), '--check');

    expect(result.code).toBe(0);
    expect(result.lines).toEqual([`No pending migrations: ${db} is up to date`]);
  });

  it('exits 2, not 1, when it cannot tell (database unreachable)', async () => {
    const closedPort = String(await freePort());
    const result = await migrate(
      databaseEnv('startupwebapp_prod', { DATABASE_PORT: closedPort }),
      '--check',
    );

    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^Error: .*ECONNREFUSED/m);
  });
});

describe('a failing migration', () => {
  const env = (db: string) => databaseEnv(db, { MIGRATIONS_DIR: fixture('failing-migrations') });

  it('rolls back only itself: earlier migrations stay applied and recorded', async () => {
    const db = await createDatabase();

    const result = await migrate(env(db));

    expect(result.code).toBe(1);
    expect(result.lines).toEqual(['Applying 0001_create_widgets', 'Applying 0002_broken']);
    expect(result.stderr).toMatch(
      /^Error: 0002_broken failed: relation "table_that_does_not_exist" does not exist$/m,
    );
    // The failing statement is shown with a caret under the name Postgres complained about.
    expect(result.stderr).toMatch(
      /at line \d+ of the Up section:\n.*table_that_does_not_exist.*\n *\^/,
    );
    expect(result.stderr).not.toMatch(/current transaction is aborted/);

    expect(await publicTables(db)).toEqual(['pgmigrations', 'widgets']);
    expect(await recordedMigrations(db)).toEqual(['0001_create_widgets']);
    // 0002 inserted a row into widgets before failing; that insert is gone too.
    const widgets = await withClient(db, (c) => c.query<{ id: number }>('SELECT id FROM widgets'));
    expect(widgets.rows).toEqual([{ id: 1 }]);

    const check = await migrate(env(db), '--check');
    expect(check.code).toBe(1);
    expect(check.lines).toEqual(['Pending: 0002_broken', 'Pending: 0003_never_runs']);
  });

  it('releases the advisory lock so the next run can proceed', async () => {
    const db = await createDatabase();
    expect((await migrate(env(db))).code).toBe(1);

    const locked = await withClient(db, (c) =>
      c.query(
        `SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = $1)`,
        [db],
      ),
    );
    expect(locked.rowCount).toBe(0);
    // A second attempt reaches the same failure rather than "Another migration is already running".
    expect((await migrate(env(db))).stderr).toMatch(/0002_broken failed/);
  });
});

describe('migrate safety', () => {
  it('with MIGRATION_LOCK_MODE=fail, refuses to run while another migration holds the lock', async () => {
    const db = await createDatabase();
    const holder = clientFor(db);
    await holder.connect();
    try {
      await holder.query(`SELECT pg_advisory_lock(${MIGRATION_LOCK_ID})`);

      const result = await migrate({ ...databaseEnv(db), MIGRATION_LOCK_MODE: 'fail' });

      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/^Error: Another migration is already running/m);
      // The lock is taken before anything else, so not even the history table was created.
      expect(await publicTables(db)).toEqual([]);
    } finally {
      await holder.end();
    }
  });

  it('by default waits for a held lock and migrates once it is released', async () => {
    const db = await createDatabase();
    const holder = clientFor(db);
    await holder.connect();
    await holder.query(`SELECT pg_advisory_lock(${MIGRATION_LOCK_ID})`);
    const started = Date.now();
    const running = migrate(databaseEnv(db));
    await new Promise((resolve) => setTimeout(resolve, 700));
    // Still waiting: nothing created while the other session holds the lock.
    expect(await publicTables(db)).toEqual([]);
    await holder.end();

    const result = await running;

    expect(result.code).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(700);
    expect((await publicTables(db)).length).toBe(57);
  });

  it('names a missing variable and exits 1', async () => {
    const { DATABASE_NAME: _omitted, ...env } = databaseEnv('unused');

    const result = await migrate(env);

    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe('Error: Missing required environment variable: DATABASE_NAME\n');
  });

  it('never prints the password, even when authentication fails', async () => {
    const db = await createDatabase();
    const wrong = `wrong-${postgres().password}`;

    const result = await migrate(databaseEnv(db, { DATABASE_PASSWORD: wrong }));

    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/password authentication failed/);
    for (const secret of [wrong, postgres().password]) {
      expect(result.stdout + result.stderr).not.toContain(secret);
    }
  });

  it('reports an unreachable database without leaking the connection details', async () => {
    const closedPort = String(await freePort());
    const { password } = postgres();

    const result = await migrate(databaseEnv('fintech_experiment', { DATABASE_PORT: closedPort }));

    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/ECONNREFUSED/);
    expect(result.stdout + result.stderr).not.toContain(password);
    expect(result.stdout + result.stderr).not.toMatch(/postgres(ql)?:\/\//);
  });

  it('rejects unknown arguments with a usage error', async () => {
    const result = await migrate(databaseEnv('unused'), '--fake');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/unknown argument --fake/);
  });
});
