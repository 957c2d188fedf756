/**
 * The waker of parked sessions (session-waker.ts) on a real server: the sessions woken in one
 * tick are cancelled by one query on one control connection (no CancelRequest, so no new
 * process on the server), and when the control connection cannot be opened each session is
 * woken by its fallback instead.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { ControlConnection } from '../../src/providers/local/control-connection.js';
import { SessionWaker } from '../../src/providers/local/session-waker.js';
import { useLocalServer } from '../support/local-server.js';

const local = useLocalServer('waker');

/** A session sleeping in a statement, as a parked claim does; `ended` settles with its code. */
async function sleeper(): Promise<{ client: pg.Client; pid: number; ended: Promise<string> }> {
  const client = new pg.Client(local.config('postgres'));
  await client.connect();
  const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  const ended = client.query('SELECT pg_sleep(600)').then(
    () => 'slept',
    (error: { code?: string }) => error.code ?? 'error',
  );
  // Wait until the statement runs, so the cancel is not ignored as one sent to an idle session.
  const watcher = new pg.Client(local.config('postgres'));
  await watcher.connect();
  try {
    for (;;) {
      const { rows: state } = await watcher.query<{ q: string }>(
        'SELECT query AS q FROM pg_stat_activity WHERE pid = $1',
        [rows[0]?.pid],
      );
      if (state[0]?.q.includes('pg_sleep')) break;
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    await watcher.end();
  }
  return { client, pid: rows[0]?.pid ?? 0, ended };
}

describe('SessionWaker', () => {
  it('cancels every session woken in one tick with one query on one connection', async () => {
    const sessions = await Promise.all([sleeper(), sleeper(), sleeper()]);
    let opened = 0;
    const queries: string[] = [];
    const waker = new SessionWaker(
      new ControlConnection(() => {
        opened++;
        const client = new pg.Client(local.config('postgres'));
        const query = client.query.bind(client) as (text: string, values?: unknown[]) => unknown;
        (client as unknown as { query: typeof query }).query = (text, values) => {
          queries.push(text);
          return query(text, values);
        };
        return client;
      }),
    );
    const fallbacks: number[] = [];
    try {
      for (const s of sessions) waker.wake(s.pid, () => fallbacks.push(s.pid));
      expect(await Promise.all(sessions.map((s) => s.ended))).toEqual(['57014', '57014', '57014']);
      expect(opened).toBe(1);
      expect(queries).toHaveLength(1);
      expect(fallbacks).toEqual([]);
      // The sessions themselves live on: only their statement was cancelled.
      for (const s of sessions)
        expect((await s.client.query('SELECT 1 AS one')).rows).toHaveLength(1);
    } finally {
      await waker.close();
      await Promise.all(sessions.map((s) => s.client.end()));
    }
  });

  it('never sends a query while another is in flight: wakes meanwhile go in the next one', async () => {
    const sessions = await Promise.all([sleeper(), sleeper(), sleeper()]);
    const [first, second, third] = sessions;
    let inFlight = 0;
    let most = 0;
    const batches: number[][] = [];
    const waker: SessionWaker = new SessionWaker(
      new ControlConnection(() => {
        const client = new pg.Client(local.config('postgres'));
        const query = client.query.bind(client) as (text: string, values: number[][]) => unknown;
        (client as unknown as { query: typeof query }).query = (text, values) => {
          batches.push(values[0] ?? []);
          most = Math.max(most, ++inFlight);
          // Two more sessions are woken while this query is in flight (a batch's tenants are
          // woken one after another, as their tasks end).
          if (batches.length === 1) {
            waker.wake(second?.pid ?? 0, () => undefined);
            setImmediate(() => waker.wake(third?.pid ?? 0, () => undefined));
          }
          return (query(text, values) as Promise<unknown>).finally(() => inFlight--);
        };
        return client;
      }),
    );
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on('warning', onWarning);
    try {
      waker.wake(first?.pid ?? 0, () => undefined);
      expect(await Promise.all(sessions.map((s) => s.ended))).toEqual(['57014', '57014', '57014']);
      expect(most).toBe(1);
      expect(batches).toEqual([[first?.pid], [second?.pid, third?.pid]]);
      expect(warnings).toEqual([]);
    } finally {
      process.off('warning', onWarning);
      await waker.close();
      await Promise.all(sessions.map((s) => s.client.end()));
    }
  });

  it('wakes each session by its fallback when the control connection cannot open', async () => {
    const session = await sleeper();
    const waker = new SessionWaker(
      // A database that does not exist: the connection is refused by the server.
      new ControlConnection(() => new pg.Client(local.config('berth_no_such_database'))),
    );
    try {
      const fallback = new Promise<void>((resolve) => waker.wake(session.pid, resolve));
      await fallback;
      // Nothing was cancelled by the waker itself: the session still sleeps.
      const outcome = await Promise.race([
        session.ended,
        new Promise((r) => setTimeout(() => r('asleep'), 300)),
      ]);
      expect(outcome).toBe('asleep');
      const other = new pg.Client(local.config('postgres'));
      await other.connect();
      await other.query('SELECT pg_cancel_backend($1)', [session.pid]);
      await other.end();
      expect(await session.ended).toBe('57014');
    } finally {
      await waker.close();
      await session.client.end();
    }
  });

  it('after close(), a wake goes straight to its fallback', async () => {
    const waker = new SessionWaker(
      new ControlConnection(() => new pg.Client(local.config('postgres'))),
    );
    await waker.close();
    let fell = false;
    waker.wake(1, () => (fell = true));
    expect(fell).toBe(true);
  });
});
