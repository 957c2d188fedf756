// The web process's connection pool and the database probe behind /health.
import pg from 'pg';
import { describeTarget, redact, toClientConfig, type DatabaseConfig } from './config.js';

/** Budget for the /health database probe; the container healthcheck gives up after 3 s. */
export const PING_TIMEOUT_MS = 1_500;

export function createPool(config: DatabaseConfig, log: (line: string) => void): pg.Pool {
  const pool = new pg.Pool({
    ...toClientConfig(config),
    max: 5,
    // A request should fail fast and report 503 rather than queue behind a dead database.
    connectionTimeoutMillis: 2_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client can lose its connection (failover, restart). Without a listener that
  // 'error' event would crash the process; the next query simply opens a new connection.
  pool.on('error', (error) => {
    log(`database connection to ${describeTarget(config)} lost: ${redact(error.message, config)}`);
  });
  return pool;
}

/** True when the database answers `SELECT 1` within `timeoutMs`. Never throws. */
export async function ping(pool: pg.Pool, timeoutMs = PING_TIMEOUT_MS): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  const answered = pool.query('SELECT 1').then(
    () => true,
    () => false,
  );
  try {
    return await Promise.race([answered, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
