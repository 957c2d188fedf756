// HTTP routes. Kept free of process concerns (ports, signals) so it can be exercised directly.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type pg from 'pg';
import { ping } from './db.js';

export interface AppOptions {
  /** Undefined when no DATABASE_* variable is set: the service still runs, without data. */
  readonly pool: pg.Pool | undefined;
  readonly log: (line: string) => void;
}

export type DatabaseState = 'up' | 'down' | 'unconfigured';

interface Product {
  identifier: string;
  title: string;
  titleUrl: string;
  headline: string;
  description: string;
}

// The storefront shows a short catalog; a cap keeps one request from reading a whole table.
const PRODUCT_LIMIT = 100;

export function createApp(options: AppOptions): RequestListener {
  const routes: Record<string, (res: ServerResponse) => Promise<void>> = {
    '/health': (res) => health(options, res),
    '/api/products': (res) => products(options, res),
  };

  return (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const route = routes[path];
    if (route === undefined) return sendJson(res, 404, { error: 'not found' });
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return sendJson(res, 405, { error: 'method not allowed' });
    }
    route(res).catch((error: unknown) => {
      options.log(`${req.method} ${path} failed: ${String(error)}`);
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  };
}

async function health({ pool }: AppOptions, res: ServerResponse): Promise<void> {
  if (pool === undefined) {
    return sendJson(res, 200, { status: 'ok', database: 'unconfigured' satisfies DatabaseState });
  }
  // Configured but unreachable is unhealthy: a task that cannot reach its database should be
  // replaced, not kept in the load balancer.
  return (await ping(pool))
    ? sendJson(res, 200, { status: 'ok', database: 'up' satisfies DatabaseState })
    : sendJson(res, 503, { status: 'unavailable', database: 'down' satisfies DatabaseState });
}

async function products({ pool, log }: AppOptions, res: ServerResponse): Promise<void> {
  if (pool === undefined) return sendJson(res, 503, { error: 'database not configured' });
  let rows: Product[];
  try {
    ({ rows } = await pool.query<Product>(
      `SELECT identifier, title, title_url AS "titleUrl", headline, description
         FROM products
        WHERE is_active
        ORDER BY id
        LIMIT $1`,
      [PRODUCT_LIMIT],
    ));
  } catch (error) {
    // Unreachable, timed out or not migrated yet: to the caller all mean "try again later".
    // The reason goes to the log, not the response.
    log(
      `GET /api/products: database error: ${error instanceof Error ? error.message : String(error)}`,
    );
    return sendJson(res, 503, { error: 'database unavailable' });
  }
  return sendJson(res, 200, { products: rows });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(payload),
    'Cache-Control': 'no-store',
  });
  res.end(payload);
}
