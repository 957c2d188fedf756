/**
 * An embedded PostgreSQL server of its own for a test file, in a temporary state directory:
 * started before the file's tests, stopped and removed after them. For tests of the local
 * provider's parts (claims, wakes, logins) that need a server but no berth project.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import {
  LocalPostgres,
  clientConfig,
  type ServerConnection,
} from '../../src/providers/local/postgres-server.js';
import { statePaths } from '../../src/state/paths.js';

export interface TestServer {
  /** The state directory (the server's data lives under it). */
  readonly dir: string;
  readonly server: LocalPostgres;
  /** How berth reaches it (its private socket). */
  readonly secret: ServerConnection;
  /** A pg client config for `database` over berth's socket. */
  config(database: string): ReturnType<typeof clientConfig>;
}

/**
 * Registers the file's beforeAll/afterAll and returns the server, whose fields are ready once
 * the tests run. `maxConnections` defaults to 30.
 */
export function useLocalServer(prefix: string, maxConnections = 30): TestServer {
  const state: { dir?: string; server?: LocalPostgres; secret?: ServerConnection } = {};
  beforeAll(async () => {
    state.dir = await mkdtemp(path.join(os.tmpdir(), `berth-${prefix}-`));
    state.server = new LocalPostgres({ paths: statePaths(state.dir), maxConnections });
    state.secret = await state.server.ensureRunning();
  });
  afterAll(async () => {
    await state.server?.stop();
    if (state.dir) await rm(state.dir, { recursive: true, force: true });
  });
  const ready = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`the test server's ${what} is used before beforeAll`);
    return value;
  };
  return {
    get dir() {
      return ready(state.dir, 'directory');
    },
    get server() {
      return ready(state.server, 'server');
    },
    get secret() {
      return ready(state.secret, 'connection');
    },
    config(database: string) {
      return clientConfig(ready(state.secret, 'connection'), database);
    },
  };
}
