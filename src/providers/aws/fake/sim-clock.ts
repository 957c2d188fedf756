/**
 * A simulated clock for the fake: `sleep` registers a timer instead of waiting, and `run`
 * drives a piece of work to its end, moving the fake's clock to the next timer whenever
 * everything else has gone quiet. Hours of ECS time pass in a second or two, with every
 * concurrent sleeper (the DescribeTasks poller, the log reader, the token buckets, back-offs)
 * woken in time order — unlike a sleep that advances the clock by itself, which makes
 * concurrent sleepers add up.
 *
 * "Quiet" is a few turns of the event loop with nothing new: work waiting on real I/O (task
 * records and logs written under .berth/) may see the clock move during that I/O, so
 * simulated times are accurate to about one timer step — good enough for the fleet
 * simulation's minutes, not for exact timings.
 */
import type { Clock } from '../../../core/clock.js';
import type { FakeClock } from './fake-tasks.js';

interface Timer {
  at: number;
  seq: number;
  resolve: () => void;
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

export class SimClock implements Clock {
  private timers: Timer[] = [];
  private seq = 0;
  /** Timers fired so far (a measure of the simulation's work). */
  steps = 0;

  constructor(private readonly clock: FakeClock) {}

  now(): number {
    return this.clock.now();
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const timer: Timer = { at: this.now() + Math.max(0, ms), seq: ++this.seq, resolve };
      this.timers.push(timer);
      signal?.addEventListener(
        'abort',
        () => {
          this.timers = this.timers.filter((t) => t !== timer);
          resolve();
        },
        { once: true },
      );
    });
  }

  /** Runs `work` to its end on simulated time; rejects as it does. */
  async run<T>(work: Promise<T>): Promise<T> {
    let done = false;
    const settled = work.then(
      (value) => {
        done = true;
        return value;
      },
      (error: unknown) => {
        done = true;
        throw error;
      },
    );
    settled.catch(() => undefined);
    while (!done) {
      // Let everything that can run without time passing run first: turns of the event loop
      // until no new timer appears, then a real millisecond for pending I/O (task records and
      // logs on disk), and again until both stay quiet.
      for (let round = 0; round < 20; round++) {
        const start = this.seq;
        let before = -1;
        for (let i = 0; i < 50 && before !== this.seq; i++) {
          before = this.seq;
          for (let j = 0; j < 4; j++) await turn();
        }
        if (done) break;
        await new Promise((resolve) => setTimeout(resolve, 1));
        for (let j = 0; j < 4; j++) await turn();
        if (this.seq === start) break;
      }
      if (done) break;
      if (this.timers.length === 0) {
        // Waiting on real I/O only.
        await new Promise((resolve) => setTimeout(resolve, 1));
        continue;
      }
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers[0];
      if (!next) continue;
      this.clock.advance(next.at - this.now());
      const due = this.timers.filter((t) => t.at <= this.now());
      this.timers = this.timers.filter((t) => t.at > this.now());
      this.steps += due.length;
      for (const t of due) t.resolve();
    }
    return settled;
  }
}
