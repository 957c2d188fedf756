// Entry point of the web service: `node dist/server.js`.
//   PORT (default 8000), HOST (default 0.0.0.0), DATABASE_* as described in config.ts.
import { createServer } from 'node:http';
import { ConfigError, describeTarget, loadOptionalDatabaseConfig, parsePort } from './config.js';
import { createApp } from './app.js';
import { createPool } from './db.js';

const DEFAULT_PORT = 8000;
// ECS waits `stopTimeout` (30 s by default) before SIGKILL; finish well inside it.
const SHUTDOWN_DEADLINE_MS = 10_000;

const log = (line: string): void => console.log(line);

function start(): void {
  let port: number;
  let config: ReturnType<typeof loadOptionalDatabaseConfig>;
  try {
    port = parsePort('PORT', process.env.PORT, DEFAULT_PORT);
    config = loadOptionalDatabaseConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // A half-configured database is a deployment mistake: refuse to start rather than
    // run in a mode nobody asked for.
    console.error(`Error: ${error.message}`);
    process.exitCode = 1;
    return;
  }
  const host = process.env.HOST?.trim() || '0.0.0.0';
  const pool = config === undefined ? undefined : createPool(config, log);
  const server = createServer(createApp({ pool, log }));

  server.on('error', (error) => {
    console.error(`Error: cannot listen on ${host}:${port}: ${error.message}`);
    process.exit(1);
  });
  server.listen(port, host, () => {
    const database = config === undefined ? 'unconfigured' : describeTarget(config);
    log(`startupwebapp listening on http://${host}:${port} (database: ${database})`);
  });

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    log(`${signal} received: draining connections`);
    setTimeout(() => {
      console.error('Error: shutdown deadline exceeded, exiting');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    // Stop accepting, let in-flight requests finish, then release database connections.
    server.close(() => {
      void (pool?.end() ?? Promise.resolve()).finally(() => log('stopped'));
    });
    server.closeIdleConnections();
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

start();
