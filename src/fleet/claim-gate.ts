/**
 * Bounds how many databases migrate holds at once (each hold is a lock connection): a claim
 * enters before it connects and leaves when its lease is released, which can be much later,
 * in another part of the run. p-limit's slots end with the function they wrap, so they do
 * not fit a hold that outlives it.
 */
export class ClaimGate {
  private held = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly max: number) {}

  /** Waits for room; returns false (holding nothing) when the signal aborted meanwhile. */
  async enter(signal?: AbortSignal): Promise<boolean> {
    while (this.held >= this.max && !signal?.aborted) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    if (signal?.aborted) return false;
    this.held++;
    return true;
  }

  leave(): void {
    this.held--;
    this.waiting.shift()?.();
  }

  /** Wakes every waiter (on abort), so each can see the signal and give up. */
  wakeAll(): void {
    for (const wake of this.waiting.splice(0)) wake();
  }
}
