// Integration: the built `dist/server.js` and `dist/healthcheck.js`, on loopback only.
import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from './net.js';
import {
  createDatabase,
  databaseEnv,
  migrate,
  runDist,
  startServer,
  withClient,
  type RunningServer,
} from './helpers.js';

const running: RunningServer[] = [];
async function serve(env: Record<string, string>): Promise<RunningServer> {
  const server = await startServer(env);
  running.push(server);
  return server;
}
afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.stop()));
});

async function getJson(
  url: string,
  init?: RequestInit,
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, init);
  return { status: response.status, body: await response.json() };
}

const healthcheck = (port: number) => runDist('healthcheck', [], { PORT: String(port) });

describe('with a migrated database', () => {
  it('reports the database up, serves products, and passes the healthcheck', async () => {
    const db = await createDatabase();
    expect((await migrate(databaseEnv(db))).code).toBe(0);
    await withClient(db, (client) =>
      client.query(
        `INSERT INTO products (title, title_url, identifier, headline, is_active) VALUES
           ('Paper Clips', 'PaperClips', 'bSusp6dBHm', 'Hold paper together', true),
           ('Retired Widget', 'RetiredWidget', 'x0x0x0x0x0', '', false)`,
      ),
    );
    const server = await serve(databaseEnv(db));

    expect(await getJson(`${server.url}/health`)).toEqual({
      status: 200,
      body: { status: 'ok', database: 'up' },
    });
    expect(await getJson(`${server.url}/api/products`)).toEqual({
      status: 200,
      body: {
        products: [
          {
            identifier: 'bSusp6dBHm',
            title: 'Paper Clips',
            titleUrl: 'PaperClips',
            headline: 'Hold paper together',
            description: '',
          },
        ],
      },
    });
    const probe = await healthcheck(server.port);
    expect(probe.code).toBe(0);
  });

  it('answers 404 for unknown paths and 405 for other methods', async () => {
    const server = await serve({});
    expect(await getJson(`${server.url}/nope`)).toEqual({
      status: 404,
      body: { error: 'not found' },
    });
    const post = await fetch(`${server.url}/health`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });
});

describe('database states', () => {
  it('is healthy without a database when none is configured', async () => {
    const server = await serve({});

    expect(await getJson(`${server.url}/health`)).toEqual({
      status: 200,
      body: { status: 'ok', database: 'unconfigured' },
    });
    expect((await getJson(`${server.url}/api/products`)).status).toBe(503);
    expect((await healthcheck(server.port)).code).toBe(0);
  });

  it('is unhealthy (503) when the configured database is unreachable', async () => {
    const closedPort = String(await freePort());
    const server = await serve(databaseEnv('startupwebapp_prod', { DATABASE_PORT: closedPort }));

    expect(await getJson(`${server.url}/health`)).toEqual({
      status: 503,
      body: { status: 'unavailable', database: 'down' },
    });
    expect(await getJson(`${server.url}/api/products`)).toEqual({
      status: 503,
      body: { error: 'database unavailable' },
    });
    const probe = await healthcheck(server.port);
    expect(probe.code).toBe(1);
    expect(probe.stderr).toMatch(/HTTP 503/);
  });

  it('answers 503 for products when the schema is not migrated yet', async () => {
    const db = await createDatabase();
    const server = await serve(databaseEnv(db));

    expect((await getJson(`${server.url}/health`)).status).toBe(200);
    expect((await getJson(`${server.url}/api/products`)).status).toBe(503);
    expect(server.output()).toMatch(/relation "products" does not exist/);
  });

  it('refuses to start when the database is only partly configured', async () => {
    const result = await runDist('server', [], {
      HOST: '127.0.0.1',
      PORT: String(await freePort()),
      DATABASE_HOST: '127.0.0.1',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Missing required environment variables: DATABASE_NAME/);
  });
});

describe('healthcheck', () => {
  it('exits 1 when nothing listens on PORT', async () => {
    const probe = await healthcheck(await freePort());
    expect(probe.code).toBe(1);
    expect(probe.stderr).toMatch(/ECONNREFUSED/);
  });

  it('exits 1 after 3 s when /health hangs', async () => {
    // Accepts the request and never answers.
    const hanging: Server = createServer(() => {});
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    const address = hanging.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    try {
      const probe = await healthcheck(address.port);
      expect(probe.code).toBe(1);
      expect(probe.stderr).toMatch(/no answer within 3000 ms/);
      expect(probe.durationMs).toBeGreaterThanOrEqual(2_900);
      expect(probe.durationMs).toBeLessThan(6_000);
    } finally {
      hanging.closeAllConnections();
      hanging.close();
    }
  });
});

describe('shutdown', () => {
  it('drains and exits 0 on SIGTERM', async () => {
    const db = await createDatabase();
    const server = await startServer(databaseEnv(db));
    expect((await getJson(`${server.url}/health`)).status).toBe(200);

    const code = await server.stop();

    expect(code).toBe(0);
    expect(server.output()).toMatch(/SIGTERM received/);
    expect(server.output()).toMatch(/stopped/);
  });
});
