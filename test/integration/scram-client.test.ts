/**
 * The cached SCRAM derivation against the real server: every login still proves the password
 * (a wrong one is refused), and the salted password is derived once for all of them. Over
 * TCP, where the server asks for SCRAM; over its socket berth's own logins are by the OS user
 * (socket-auth.ts), and this client answers SCRAM there only on a server that asks for it.
 */
import { expect, it } from 'vitest';
import { ScramCachingClient, scramCacheSize } from '../../src/providers/local/scram-client.js';
import { useLocalServer } from '../support/local-server.js';

const local = useLocalServer('scram', 20);

async function login(password: string, database = 'postgres'): Promise<string> {
  const client = new ScramCachingClient({
    ...local.config(database),
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
    expect(await login(local.secret.password, database)).toBe(database);
  expect(scramCacheSize()).toBe(before + 1);
  await expect(login(`${local.secret.password}x`)).rejects.toThrow(
    /password authentication failed/,
  );
  // The right password still works after a refused one.
  expect(await login(local.secret.password)).toBe('postgres');
});
