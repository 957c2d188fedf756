/**
 * The cached SCRAM derivation against the real server: every login still proves the password
 * (a wrong one is refused), and the salted password is derived once for all of them. Over
 * TCP, where the server asks for SCRAM; over its socket berth's own logins are by the OS user
 * (socket-auth.ts), and this client answers SCRAM there only on a server that asks for it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  LocalPostgres,
  clientConfig,
  type ServerConnection,
} from '../../src/providers/local/postgres-server.js';
import { ScramCachingClient, scramCacheSize } from '../../src/providers/local/scram-client.js';
import { statePaths } from '../../src/state/paths.js';

let dir: string;
let server: LocalPostgres;
let secret: ServerConnection;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'berth-scram-'));
  server = new LocalPostgres({ paths: statePaths(dir), maxConnections: 20 });
  secret = await server.ensureRunning();
});

afterAll(async () => {
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function login(password: string, database = 'postgres'): Promise<string> {
  const client = new ScramCachingClient({
    ...clientConfig(secret, database),
    host: '127.0.0.1',
    password,
  });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const { rows } = await client.query<{ db: string }>('SELECT current_database() AS db');
    return rows[0]?.db ?? '';
  } finally {
    await client.end();
  }
}

it('logs in over and over with one derivation, and refuses a wrong password', async () => {
  const before = scramCacheSize();
  for (const database of ['postgres', 'template1', 'postgres', 'template1'])
    expect(await login(secret.password, database)).toBe(database);
  expect(scramCacheSize()).toBe(before + 1);
  await expect(login(`${secret.password}x`)).rejects.toThrow(/password authentication failed/);
  // The right password still works after a refused one.
  expect(await login(secret.password)).toBe('postgres');
});
