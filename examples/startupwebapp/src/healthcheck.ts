// Container HEALTHCHECK probe: `node dist/healthcheck.js`.
// Exit 0 when http://127.0.0.1:$PORT/health answers 200 within 3 s, otherwise exit 1.
// Plain node:http with no keep-alive agent, so nothing holds the process open afterwards.
import { get } from 'node:http';
import { ConfigError, parsePort } from './config.js';

const TIMEOUT_MS = 3_000;
const DEFAULT_PORT = 8000;

function probe(): void {
  let port: number;
  try {
    port = parsePort('PORT', process.env.PORT, DEFAULT_PORT);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return finish(1, error.message);
  }

  // One deadline for the whole exchange: connect, headers and body.
  const deadline = setTimeout(() => finish(1, `no answer within ${TIMEOUT_MS} ms`), TIMEOUT_MS);
  const request = get({ host: '127.0.0.1', port, path: '/health', agent: false }, (response) => {
    response.resume();
    const ok = response.statusCode === 200;
    clearTimeout(deadline);
    finish(ok ? 0 : 1, `/health answered HTTP ${response.statusCode}`);
  });
  request.on('error', (error) => {
    clearTimeout(deadline);
    finish(1, error.message);
  });
}

function finish(code: 0 | 1, detail: string): never {
  if (code !== 0) console.error(`unhealthy: ${detail}`);
  // Exit at once: an abandoned request or socket must not keep a timed-out probe alive.
  process.exit(code);
}

probe();
