/**
 * Gathers what is asked in one tick of the event loop and hands it to `flush` together, one
 * flush at a time: what is asked while a flush runs goes in the next one. The control
 * connection's users (session-waker.ts, task-running-check.ts) send one query per tick instead
 * of one per tenant, and what comes while their query is in flight waits for the next.
 */
export class TickBatch<T> {
  private queued: T[] = [];
  /** A flush is queued on `flushing` and has not taken `queued` yet. */
  private scheduled = false;
  /** The flushes, one after another (never settles with an error: `flush` handles its own). */
  private flushing: Promise<void> = Promise.resolve();

  constructor(private readonly flush: (items: T[]) => Promise<void>) {}

  add(item: T): void {
    this.queued.push(item);
    if (this.scheduled) return;
    this.scheduled = true;
    this.flushing = this.flushing
      .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
      .then(() => {
        this.scheduled = false;
        const items = this.queued;
        this.queued = [];
        return items.length === 0 ? undefined : this.flush(items);
      })
      .catch(() => undefined);
  }
}
