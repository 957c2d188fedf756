/**
 * The local backend's claim on a real server: a database read as up to date under the lock is
 * held by nothing (its session ends, and the lock is free the moment the claim returns); a
 * database with work is held, unless a task is still running on it (its task lock held), in
 * which case the lock is given back at once.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import {
  LocalBackend,
  MIGRATION_LOCK,
  TASK_LOCK_CLASS,
} from '../../src/providers/local/local-backend.js';
import {
  LocalPostgres,
  clientConfig,
  type ServerConnection,
} from '../../src/providers/local/postgres-server.js';
import { statePaths } from '../../src/state/paths.js';
import { EXAMPLE, baseConfig } from '../support/project.js';

let dir: string;
let server: LocalPostgres;
let secret: ServerConnection;
let backend: LocalBackend;
const UP_TO_DATE = 'claim_up_to_date';
const PENDING = 'claim_pending';

async function connect(database: string): Promise<pg.Client> {
  const client = new pg.Client(clientConfig(secret, database));
  await client.connect();
  return client;
}

/** Whether another session can take the migration lock of `database` right now. */
async function lockFree(database: string): Promise<boolean> {
  const client = await connect(database);
  try {
    const { rows } = await client.query<{ ok: boolean }>(
      'SELECT pg_try_advisory_lock($1, $2) AS ok',
      [...MIGRATION_LOCK],
    );
    return rows[0]?.ok === true;
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'berth-claim-'));
  server = new LocalPostgres({ paths: statePaths(dir), maxConnections: 30 });
  secret = await server.ensureRunning();
  const config = parseConfig(stringify(baseConfig()));
  backend = new LocalBackend({
    config,
    configDir: dir,
    postgres: server,
    runtime: {
      name: 'process',
      run: () => Promise.reject(new Error('no task in this test')),
    },
  });
  const known = (await readdir(path.join(EXAMPLE, 'migrations')))
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => f.replace(/\.sql$/, ''));
  const admin = await connect('postgres');
  try {
    for (const database of [UP_TO_DATE, PENDING])
      await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`);
  } finally {
    await admin.end();
  }
  const tenant = await connect(UP_TO_DATE);
  try {
    await tenant.query(
      'CREATE TABLE pgmigrations (id serial PRIMARY KEY, name varchar(255) NOT NULL, run_on timestamp NOT NULL)',
    );
    for (const name of known)
      await tenant.query('INSERT INTO pgmigrations (name, run_on) VALUES ($1, now())', [name]);
  } finally {
    await tenant.end();
  }
});

afterAll(async () => {
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('LocalBackend.claim', () => {
  it('holds nothing for an up-to-date database: its lock is free when the claim returns', async () => {
    for (let i = 0; i < 5; i++) {
      const claim = await backend.claim(UP_TO_DATE);
      expect(claim.probe).toMatchObject({ exists: true, pendingKnown: true, pending: [] });
      expect(claim.lease).toBeUndefined();
      expect(await lockFree(UP_TO_DATE)).toBe(true);
    }
  });

  it('holds a database with work until the lease is released: the lock is free when release returns', async () => {
    // A release ends the session (no unlock query): parked, it is woken first, and the lock
    // is gone by the time end() resolves. Repeated, since a late release would show only now
    // and then.
    for (let i = 0; i < 5; i++) {
      const claim = await backend.claim(PENDING);
      expect(claim.probe.pending.length).toBeGreaterThan(0);
      expect(claim.lease).toBeDefined();
      expect(await lockFree(PENDING)).toBe(false);
      await claim.lease?.release();
      expect(await lockFree(PENDING)).toBe(true);
    }
    // The same for a lock taken by a batch (not parked), after its probe.
    for (let i = 0; i < 3; i++) {
      const lease = await backend.lock(PENDING, 1_000);
      expect(lease).toBeDefined();
      expect(await lockFree(PENDING)).toBe(false);
      await lease?.probe?.();
      await lease?.release();
      expect(await lockFree(PENDING)).toBe(true);
    }
  });

  it('keeps a held session inside a statement while it waits (not idle), and wakes it for the probe and the release', async () => {
    const claim = await backend.claim(PENDING);
    const lease = claim.lease;
    expect(lease).toBeDefined();
    const admin = await connect('postgres');
    try {
      // Idle, the session would have to read every catalog invalidation other databases'
      // DDL sends; parked in pg_sleep it falls behind and resets once, when woken.
      const parked = async () =>
        (
          await admin.query<{ state: string; query: string }>(
            `SELECT state, query FROM pg_stat_activity WHERE datname = $1 AND application_name = 'berth'`,
            [PENDING],
          )
        ).rows;
      await expect.poll(parked).toEqual([{ state: 'active', query: 'SELECT pg_sleep(3600)' }]);
      // Catalog changes while it sleeps: the probe after waking still reads the database right.
      for (let i = 0; i < 200; i++) await admin.query(`CREATE TEMP TABLE churn_${i} (id int)`);
      const woken = await lease?.probe?.();
      expect(woken?.pending).toEqual(claim.probe.pending);
      expect(woken?.error).toBeUndefined();
      expect(await lockFree(PENDING)).toBe(false);
      // Woken once: a second probe and the release need no further cancel.
      expect((await lease?.probe?.())?.pending).toEqual(claim.probe.pending);
      // Not parked again: the session goes idle (polled: on a loaded machine the server may
      // report a session's state a moment after its client has the result).
      await expect
        .poll(async () =>
          // What it runs instead, when it is not idle, is what a failure shows.
          (await parked()).map((r) => (r.state === 'idle' ? 'idle' : `${r.state}: ${r.query}`)),
        )
        .toEqual(['idle']);
      await lease?.release();
      expect(await lockFree(PENDING)).toBe(true);
      expect(await parked()).toEqual([]);
    } finally {
      await admin.end();
    }
  });

  it('with a task still running: the database with work is not held, the up-to-date one reads up to date', async () => {
    const holder = await connect('postgres');
    try {
      // What a supervisor holds while its task runs: class "beru", key = the database's OID.
      await holder.query(
        `SELECT pg_advisory_lock($1, (oid::int8 & 2147483647)::int) FROM pg_database WHERE datname = ANY($2)`,
        [TASK_LOCK_CLASS, [UP_TO_DATE, PENDING]],
      );
      const pending = await backend.claim(PENDING);
      expect(pending.probe.pending.length).toBeGreaterThan(0);
      expect(pending.lease).toBeUndefined();
      expect(await lockFree(PENDING)).toBe(true);
      const upToDate = await backend.claim(UP_TO_DATE);
      expect(upToDate.probe).toMatchObject({ exists: true, pending: [] });
      expect(upToDate.lease).toBeUndefined();
      expect(await lockFree(UP_TO_DATE)).toBe(true);
    } finally {
      await holder.end();
    }
  });
});
