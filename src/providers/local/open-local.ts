/**
 * Assembles the local provider from config: where state lives, the Postgres server, the
 * task store and the runtime tasks use.
 */
import path from 'node:path';
import pg from 'pg';
import type { LoadedConfig } from '../../config/load-config.js';
import { TaskStore } from '../../state/task-store.js';
import type { TaskRuntime } from '../../tasks/task.js';
import { discoverTenants } from '../../fleet/tenants.js';
import { LocalBackend } from './local-backend.js';
import { LocalPostgres, clientConfig } from './postgres-server.js';
import { ProcessRuntime } from './process-runtime.js';
import { statePaths, type StatePaths } from '../../state/paths.js';

export interface LocalProvider {
  paths: StatePaths;
  postgres: LocalPostgres;
  store: TaskStore;
  backend: LocalBackend;
  fleet(): Promise<string[]>;
}

export interface OpenLocalOptions {
  /** Replaces the default process runtime (the container runtime, or a test double). */
  runtime?: (store: TaskStore, cwd: string) => TaskRuntime;
}

export function openLocal(loaded: LoadedConfig, options: OpenLocalOptions = {}): LocalProvider {
  const { config, dir } = loaded;
  const paths = statePaths(path.resolve(dir, config.local.dataDir));
  const postgres = new LocalPostgres({
    paths,
    port: config.local.port,
    maxConnections: config.local.maxConnections,
  });
  const store = new TaskStore(paths.tasks, paths.logs);
  const cwd = path.resolve(dir, config.local.workdir);
  const runtime = options.runtime?.(store, cwd) ?? new ProcessRuntime({ cwd, store });
  const backend = new LocalBackend({ config, configDir: dir, postgres, runtime });
  return {
    paths,
    postgres,
    store,
    backend,
    fleet: () =>
      discoverTenants(config, dir, async (database, sql) => {
        const client = new pg.Client(clientConfig(await postgres.ensureRunning(), database));
        await client.connect();
        try {
          const result = await client.query<Record<string, unknown>>(sql);
          return result.rows.map((row) => String(Object.values(row)[0]));
        } finally {
          await client.end();
        }
      }),
  };
}
