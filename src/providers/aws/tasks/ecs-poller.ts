/**
 * One DescribeTasks loop for a whole run instead of one per task: every task the runtime
 * waits on asks `next(arn)`, and each round (every `pollMs`) describes all of them together,
 * 100 ARNs per call (DescribeTasks' limit). 1,000 tasks running at once cost 10 calls per
 * round, not 1,000.
 */
import type { Clock } from '../../../core/clock.js';
import type { EcsTask, EcsTasksApi } from '../api/ecs-api.js';
import type { AwsQuotas } from './quotas.js';

/** DescribeTasks takes at most 100 tasks per call. */
export const DESCRIBE_TASKS_MAX = 100;

interface Waiter {
  arn: string;
  resolve: (task: EcsTask | undefined) => void;
  reject: (error: unknown) => void;
}

export interface EcsPollerOptions {
  ecs: Pick<EcsTasksApi, 'describeTasks'>;
  quotas: AwsQuotas;
  clock: Clock;
  /** Time between rounds (default 5 s). */
  pollMs?: number;
}

export class EcsPoller {
  /** Waiters by cluster: each round describes each cluster's tasks. */
  private waiting = new Map<string, Waiter[]>();
  private running = false;
  /** DescribeTasks calls made (for tests and the bench). */
  calls = 0;

  constructor(private readonly options: EcsPollerOptions) {}

  /**
   * The task as the next round sees it (after up to `pollMs`); undefined when ECS does not
   * know it (MISSING), or at once when `signal` aborts. Rejects when DescribeTasks fails
   * for a reason other than throttling (e.g. access denied).
   */
  next(cluster: string, arn: string, signal?: AbortSignal): Promise<EcsTask | undefined> {
    return new Promise((resolve, reject) => {
      // A round that answers removes the abort listener: every task is polled many times
      // over a run on the run's one signal, and a listener left behind by each poll piled up
      // (thousands in a large run, and Node's MaxListenersExceededWarning on berth's stderr).
      const settled = () => signal?.removeEventListener('abort', abort);
      const waiter: Waiter = {
        arn,
        resolve: (task) => {
          settled();
          resolve(task);
        },
        reject: (error) => {
          settled();
          // DescribeTasks' own error, passed on as it came (as before).
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
          reject(error);
        },
      };
      const abort = () => {
        const current = this.waiting.get(cluster);
        if (current)
          this.waiting.set(
            cluster,
            current.filter((w) => w !== waiter),
          );
        resolve(undefined);
      };
      if (signal?.aborted) return abort();
      const list = this.waiting.get(cluster) ?? [];
      list.push(waiter);
      this.waiting.set(cluster, list);
      signal?.addEventListener('abort', abort, { once: true });
      this.start();
    });
  }

  private start(): void {
    if (this.running) return;
    this.running = true;
    void this.loop();
  }

  private async loop(): Promise<void> {
    const { clock } = this.options;
    const pollMs = this.options.pollMs ?? 5_000;
    try {
      while (this.waiting.size > 0) {
        await clock.sleep(pollMs);
        const round = this.waiting;
        this.waiting = new Map();
        for (const [cluster, waiters] of round) await this.describe(cluster, waiters);
      }
    } finally {
      this.running = false;
      if (this.waiting.size > 0) this.start();
    }
  }

  private async describe(cluster: string, waiters: Waiter[]): Promise<void> {
    const arns = [...new Set(waiters.map((w) => w.arn))];
    const found = new Map<string, EcsTask>();
    for (let i = 0; i < arns.length; i += DESCRIBE_TASKS_MAX) {
      const chunk = arns.slice(i, i + DESCRIBE_TASKS_MAX);
      try {
        const out = await this.options.quotas.call('describeTasks', () => {
          this.calls++;
          return this.options.ecs.describeTasks(cluster, chunk);
        });
        for (const task of out.tasks) found.set(task.arn, task);
      } catch (error) {
        // Throttling was retried inside quotas.call: this is an error the caller reports.
        for (const w of waiters) if (chunk.includes(w.arn)) w.reject(error);
        continue;
      }
      for (const w of waiters) if (chunk.includes(w.arn)) w.resolve(found.get(w.arn));
    }
  }
}
