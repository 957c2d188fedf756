/**
 * The task-running check (task-running-check.ts) on a real server: a database is busy while
 * another session holds its task lock (class TASK_LOCK_CLASS, key its OID) and free otherwise;
 * the checks of one tick go in one query on one control connection, shared with the waker
 * without two queries ever in flight on it; and when the control connection cannot open,
 * each database is checked on its own session instead.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlConnection } from '../../src/providers/local/control-connection.js';
import { TASK_LOCK_CLASS } from '../../src/providers/local/local-backend.js';
import { SessionWaker } from '../../src/providers/local/session-waker.js';
import { TaskRunningCheck } from '../../src/providers/local/task-running-check.js';
import { useLocalServer } from '../support/local-server.js';

const local = useLocalServer('taskcheck');
const BUSY = 'taskcheck_busy';
const FREE = 'taskcheck_free';

async function connect(database: string): Promise<pg.Client> {
  const client = new pg.Client(local.config(database));
  await client.connect();
  return client;
}

/** A control connection whose queries are recorded, with the most that were ever in flight. */
function recordedControl(database = 'postgres') {
  const queries: string[] = [];
  let inFlight = 0;
  let most = 0;
  let opened = 0;
  const control = new ControlConnection(() => {
    opened++;
    const client = new pg.Client(local.config(database));
    const query = client.query.bind(client) as (text: string, values?: unknown[]) => unknown;
    (client as unknown as { query: typeof query }).query = (text, values) => {
      queries.push(text);
      most = Math.max(most, ++inFlight);
      return (query(text, values) as Promise<unknown>).finally(() => inFlight--);
    };
    return client;
  });
  return {
    control,
    queries,
    get most() {
      return most;
    },
    get opened() {
      return opened;
    },
  };
}

let holder: pg.Client;
let sessions: { busy: pg.Client; free: pg.Client };

beforeAll(async () => {
  const admin = await connect('postgres');
  await admin.query(`CREATE DATABASE ${BUSY}`);
  await admin.query(`CREATE DATABASE ${FREE}`);
  await admin.end();
  // What a supervisor holds while its task runs: class "beru", key = the database's OID.
  holder = await connect('postgres');
  await holder.query(
    `SELECT pg_advisory_lock($1, (oid::int8 & 2147483647)::int) FROM pg_database WHERE datname = $2`,
    [TASK_LOCK_CLASS, BUSY],
  );
  sessions = { busy: await connect(BUSY), free: await connect(FREE) };
});

afterAll(async () => {
  await holder?.end();
  await sessions?.busy.end();
  await sessions?.free.end();
});

describe('TaskRunningCheck', () => {
  it('answers the checks of one tick with one query on one connection', async () => {
    const recorded = recordedControl();
    const check = new TaskRunningCheck(recorded.control, TASK_LOCK_CLASS);
    try {
      const answers = await Promise.all([
        check.busy(BUSY, sessions.busy),
        check.busy(FREE, sessions.free),
        check.busy(BUSY, sessions.busy),
      ]);
      expect(answers).toEqual([true, false, true]);
      expect(recorded.opened).toBe(1);
      expect(recorded.queries).toHaveLength(1);
      expect(recorded.queries[0]).toContain('pg_locks');
    } finally {
      await recorded.control.close();
    }
  });

  it('sees a task lock taken or given back since its last answer', async () => {
    const recorded = recordedControl();
    const check = new TaskRunningCheck(recorded.control, TASK_LOCK_CLASS);
    const other = await connect('postgres');
    try {
      expect(await check.busy(FREE, sessions.free)).toBe(false);
      await other.query(
        `SELECT pg_advisory_lock($1, (oid::int8 & 2147483647)::int) FROM pg_database WHERE datname = $2`,
        [TASK_LOCK_CLASS, FREE],
      );
      expect(await check.busy(FREE, sessions.free)).toBe(true);
      await other.query('SELECT pg_advisory_unlock_all()');
      expect(await check.busy(FREE, sessions.free)).toBe(false);
      // The connection is kept between ticks.
      expect(recorded.opened).toBe(1);
      expect(recorded.queries).toHaveLength(3);
    } finally {
      await other.end();
      await recorded.control.close();
    }
  });

  it('shares the control connection with the waker, one query in flight at a time', async () => {
    const recorded = recordedControl();
    const check = new TaskRunningCheck(recorded.control, TASK_LOCK_CLASS);
    const waker = new SessionWaker(recorded.control);
    // A parked session to wake, as a claim's is.
    const sleeper = await connect(FREE);
    const { rows } = await sleeper.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const slept = sleeper.query('SELECT pg_sleep(600)').then(
      () => 'slept',
      (error: { code?: string }) => error.code ?? 'error',
    );
    try {
      await expect
        .poll(async () => {
          const { rows: state } = await holder.query<{ q: string }>(
            'SELECT query AS q FROM pg_stat_activity WHERE pid = $1',
            [rows[0]?.pid],
          );
          return state[0]?.q ?? '';
        })
        .toContain('pg_sleep');
      let fellBack = false;
      waker.wake(rows[0]?.pid ?? 0, () => (fellBack = true));
      const answers = await Promise.all([
        check.busy(BUSY, sessions.busy),
        check.busy(FREE, sessions.free),
      ]);
      expect(answers).toEqual([true, false]);
      expect(await slept).toBe('57014');
      expect(fellBack).toBe(false);
      expect(recorded.opened).toBe(1);
      expect(recorded.queries).toHaveLength(2);
      expect(recorded.most).toBe(1);
    } finally {
      await waker.close();
      await sleeper.end();
    }
  });

  it('checks each database on its own session when the control connection cannot open', async () => {
    // A database that does not exist: the server refuses the control connection.
    const recorded = recordedControl('berth_no_such_database');
    const check = new TaskRunningCheck(recorded.control, TASK_LOCK_CLASS);
    const seen: string[] = [];
    const watch = (client: pg.Client) => {
      const query = client.query.bind(client) as (text: string) => unknown;
      (client as unknown as { query: typeof query }).query = (text) => {
        seen.push(text);
        return query(text);
      };
      return client;
    };
    const busy = watch(await connect(BUSY));
    const free = watch(await connect(FREE));
    try {
      expect(await Promise.all([check.busy(BUSY, busy), check.busy(FREE, free)])).toEqual([
        true,
        false,
      ]);
      expect(seen).toHaveLength(2);
      expect(seen.every((q) => q.includes('pg_locks'))).toBe(true);
    } finally {
      await busy.end();
      await free.end();
      await recorded.control.close();
    }
  });

  it('after close(), checks on the sessions themselves', async () => {
    const recorded = recordedControl();
    const check = new TaskRunningCheck(recorded.control, TASK_LOCK_CLASS);
    await recorded.control.close();
    expect(await check.busy(BUSY, sessions.busy)).toBe(true);
    expect(recorded.opened).toBe(0);
  });
});
