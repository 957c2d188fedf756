/**
 * A parked claim session (local-backend.ts, ParkedSession) on a real server: woken, it runs
 * the work it was woken for; and a stray cancel, one that lands on that work rather than on
 * the sleep, makes the work run again instead of failing it. The stray is made
 * deterministic here: the waker cancels twice, the second time 200 ms later, while the work
 * (a 600 ms statement) is running.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { ParkedSession } from '../../src/providers/local/local-backend.js';
import { ControlConnection } from '../../src/providers/local/control-connection.js';
import { SessionWaker } from '../../src/providers/local/session-waker.js';
import { useLocalServer } from '../support/local-server.js';

const local = useLocalServer('parked');

const connect = async () => {
  const client = new pg.Client(local.config('postgres'));
  await client.connect();
  return client;
};

/** Waits until session `pid` is inside its parked pg_sleep. */
async function parked(pid: number): Promise<void> {
  const watcher = await connect();
  try {
    for (;;) {
      const { rows } = await watcher.query<{ q: string; s: string }>(
        'SELECT query AS q, state AS s FROM pg_stat_activity WHERE pid = $1',
        [pid],
      );
      if (rows[0]?.s === 'active' && rows[0].q.includes('pg_sleep')) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    await watcher.end();
  }
}

/** A waker that cancels each woken session twice: now, and again `laterMs` after. */
class DoubleWaker extends SessionWaker {
  constructor(private readonly laterMs: number) {
    super(new ControlConnection(() => new pg.Client(local.config('postgres'))));
  }
  override wake(pid: number, fallback: () => void): void {
    super.wake(pid, fallback);
    setTimeout(() => super.wake(pid, fallback), this.laterMs);
  }
}

describe('ParkedSession', () => {
  it('runs the work once it is woken, on the same session', async () => {
    const client = await connect();
    const waker = new SessionWaker(
      new ControlConnection(() => new pg.Client(local.config('postgres'))),
    );
    try {
      const pid = (client as unknown as { processID: number }).processID;
      const session = new ParkedSession(client, waker);
      await parked(pid);
      const { rows } = await session.afterWake(() =>
        client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'),
      );
      expect(rows[0]?.pid).toBe(pid);
    } finally {
      await waker.close();
      await client.end();
    }
  });

  it('leaves no timer behind once awake (a pending wake retry kept berth alive ~1 s after its summary)', async () => {
    const client = await connect();
    const waker = new SessionWaker(
      new ControlConnection(() => new pg.Client(local.config('postgres'))),
    );
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    try {
      const pid = (client as unknown as { processID: number }).processID;
      const session = new ParkedSession(client, waker);
      await parked(pid);
      const before = timers();
      await session.afterWake(() => client.query('SELECT 1'));
      expect(timers()).toBeLessThanOrEqual(before);
    } finally {
      await waker.close();
      await client.end();
    }
  });

  it('runs the work again when a stray cancel lands on it, and returns its result', async () => {
    const client = await connect();
    const waker = new DoubleWaker(200);
    try {
      const pid = (client as unknown as { processID: number }).processID;
      const session = new ParkedSession(client, waker);
      await parked(pid);
      const codes: string[] = [];
      let runs = 0;
      const result = await session.afterWake(async () => {
        runs++;
        try {
          return (await client.query<{ done: string }>("SELECT pg_sleep(0.6), 'done' AS done"))
            .rows[0]?.done;
        } catch (error) {
          codes.push((error as { code?: string }).code ?? '');
          throw error;
        }
      });
      expect(result).toBe('done');
      expect(codes).toEqual(['57014']);
      expect(runs).toBe(2);
    } finally {
      await waker.close();
      await client.end();
    }
  });
});
