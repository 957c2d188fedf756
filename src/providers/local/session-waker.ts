/**
 * Wakes parked sessions (local-backend.ts, ParkedSession) by cancelling their statement from
 * one control connection: `pg_cancel_backend` for every session woken in the same tick, in one
 * query. Why not the protocol's CancelRequest: each request is a new connection the postmaster
 * forks a process for, which at a thousand fresh tenants cost about 2 s of server CPU
 * (bench/README.md); a signal sent by a backend that is already running costs nothing like it.
 *
 * The control connection (control-connection.ts) is opened on the first wake and kept until
 * close(). When it cannot be opened or its query fails (a server restarting, no connection
 * slot left), the sessions of that tick are woken with the CancelRequest instead, so a wake
 * never depends on it.
 */
import type { ControlConnection } from './control-connection.js';
import { TickBatch } from './tick-batch.js';

/** A session to wake: its server pid, and how to wake it without the control connection. */
interface Pending {
  pid: number;
  fallback: () => void;
}

export class SessionWaker {
  private readonly batch = new TickBatch<Pending>((pending) => this.flush(pending));

  /** `control`: the run's control connection, shared with the task-running check. */
  constructor(private readonly control: ControlConnection) {}

  /**
   * Cancels the statement of session `pid` soon: this tick's wakes go together, in one query,
   * and the wakes that come while one is in flight go together in the next (tick-batch.ts).
   */
  wake(pid: number, fallback: () => void): void {
    if (this.control.isClosed) return fallback();
    this.batch.add({ pid, fallback });
  }

  private async flush(batch: Pending[]): Promise<void> {
    try {
      await this.control.query(
        'SELECT pg_catalog.pg_cancel_backend(p) FROM unnest($1::int[]) AS p',
        [batch.map((b) => b.pid)],
      );
    } catch {
      // Closed, or dropped (the next wake opens a new one): this tick's sessions still wake.
      for (const b of batch) b.fallback();
    }
  }

  /** Ends the control connection; later wakes use the fallback. */
  async close(): Promise<void> {
    await this.control.close();
  }
}
