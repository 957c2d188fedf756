/**
 * berth's one connection to the local server's control database for a run: opened on first
 * use and kept until close(). Its users batch their work per tick (tick-batch.ts), so a fleet
 * run costs the server one backend here instead of one query on each tenant's session. A
 * failed query drops the connection, so the next one opens a new one (a server restarting, a
 * backend that was terminated), and the caller falls back to its own way.
 */
import type pg from 'pg';

export class ControlConnection {
  private client: Promise<pg.Client> | undefined;
  private closed = false;
  /** The queries, one after another: its users' batches (one per tick each) may overlap. */
  private tail: Promise<unknown> = Promise.resolve();

  /** `connect` makes a client for the control database (not yet connected). */
  constructor(private readonly connect: () => pg.Client) {}

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Runs `text` after the queries before it: never two in flight on the one client
   * (node-postgres 8 would queue the second, but warns on the user's terminal that this is
   * deprecated, and 9 refuses it).
   */
  query<R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    const run = this.tail.then(() => this.run<R>(text, values));
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async run<R extends pg.QueryResultRow>(
    text: string,
    values: unknown[],
  ): Promise<pg.QueryResult<R>> {
    if (this.closed) throw new Error('the control connection is closed');
    try {
      const client = await this.open();
      return await client.query<R>(text, values);
    } catch (error) {
      this.drop();
      throw error;
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

  /** Ends the connection; later queries fail at once. */
  async close(): Promise<void> {
    this.closed = true;
    const client = this.client;
    this.client = undefined;
    await client?.then((c) => c.end()).catch(() => undefined);
  }
}
