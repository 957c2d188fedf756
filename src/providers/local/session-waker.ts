/**
 * Wakes parked sessions (local-backend.ts, ParkedSession) by cancelling their statement from
 * one control connection: `pg_cancel_backend` for every session woken in the same tick, in one
 * query. Why not the protocol's CancelRequest: each request is a new connection the postmaster
 * forks a process for, which at a thousand fresh tenants cost about 2 s of server CPU
 * (bench/README.md); a signal sent by a backend that is already running costs nothing like it.
 *
 * The control connection is opened on the first wake and kept until close(). When it cannot
 * be opened or its query fails (a server restarting, no connection slot left), the sessions
 * of that tick are woken with the CancelRequest instead, so a wake never depends on it.
 */
import type pg from 'pg';

/** A session to wake: its server pid, and how to wake it without the control connection. */
interface Pending {
  pid: number;
  fallback: () => void;
}

export class SessionWaker {
  private client: Promise<pg.Client> | undefined;
  private queued: Pending[] = [];
  private closed = false;
  /** The flushes, one after another (never settles with an error). */
  private flushing: Promise<void> = Promise.resolve();
  /** A flush is queued on `flushing` and has not taken `queued` yet. */
  private scheduled = false;

  /** `connect` opens a connection to the control database (not yet connected). */
  constructor(private readonly connect: () => pg.Client) {}

  /**
   * Cancels the statement of session `pid` soon: this tick's wakes go together. One query at
   * a time on the control connection: the wakes that come while one is in flight go together
   * in the next (pg 8 would queue a second query itself, but warns that it is deprecated, on
   * the user's terminal, and pg 9 refuses it).
   */
  wake(pid: number, fallback: () => void): void {
    if (this.closed) return fallback();
    this.queued.push({ pid, fallback });
    if (this.scheduled) return;
    this.scheduled = true;
    this.flushing = this.flushing
      .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
      .then(() => {
        this.scheduled = false;
        return this.flush();
      });
  }

  private async flush(): Promise<void> {
    const batch = this.queued;
    this.queued = [];
    if (batch.length === 0) return;
    if (this.closed) {
      for (const b of batch) b.fallback();
      return;
    }
    try {
      const client = await this.open();
      await client.query('SELECT pg_catalog.pg_cancel_backend(p) FROM unnest($1::int[]) AS p', [
        batch.map((b) => b.pid),
      ]);
    } catch {
      // Dropped, so the next wake opens a new one; this tick's sessions still wake.
      this.drop();
      for (const b of batch) b.fallback();
    }
  }

  private open(): Promise<pg.Client> {
    this.client ??= (async () => {
      const client = this.connect();
      // A backend that dies while idle emits 'error'; the next query reports it instead.
      client.on('error', () => undefined);
      await client.connect();
      return client;
    })();
    return this.client;
  }

  private drop(): void {
    const client = this.client;
    this.client = undefined;
    void client?.then((c) => c.end()).catch(() => undefined);
  }

  /** Ends the control connection; later wakes use the fallback. */
  async close(): Promise<void> {
    this.closed = true;
    const client = this.client;
    this.client = undefined;
    await client?.then((c) => c.end()).catch(() => undefined);
  }
}
