/**
 * AWS's API quotas, kept on the client side for a whole run, and throttling retried.
 *
 * One berth run with 1,000 tenants would otherwise ask more of an account than AWS allows:
 *  - RunTask: 20 calls/s (each call may start up to 10 tasks; berth starts one per call);
 *  - Fargate task launches: a burst of 100, refilled at 20 per second;
 *  - DescribeTasks: at most 100 tasks per call (the EcsPoller batches every task of the run);
 *  - CloudWatch Logs: GetLogEvents about 10 requests/s and FilterLogEvents 5/s per account
 *    and region, neither adjustable (the LogReader reads every stream of the run together).
 * The buckets keep this process under those rates; another process in the same account can
 * still exhaust them, so a `ThrottlingException` (`TooManyRequestsException`, "Rate
 * exceeded") is retried with a jittered exponential back-off and never reaches the user as a
 * failure — it only slows the run down, and is counted in `QuotaStats`.
 *
 * Time comes from the injected Clock, so tests and the fleet simulation run on simulated time.
 */
import type { Clock } from '../../../core/clock.js';
import { isBerthError } from '../../../core/errors.js';
import { errorCodeOf } from '../api/errors.js';

/** A token bucket: `capacity` tokens, refilled at `perSecond`; `take` waits for a token. */
export class TokenBucket {
  private tokens: number;
  private updated: number;
  /** Waiters in arrival order: tokens go to the oldest first. */
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly clock: Clock,
    readonly capacity: number,
    readonly perSecond: number,
  ) {
    this.tokens = capacity;
    this.updated = clock.now();
  }

  /** Tokens available now (fractional while refilling). */
  available(): number {
    this.refill();
    return this.tokens;
  }

  /** Resolves once `count` tokens are taken; waits on the clock while the bucket is empty. */
  take(count = 1): Promise<void> {
    const turn = this.tail.then(() => this.takeNow(count));
    this.tail = turn;
    return turn;
  }

  private async takeNow(count: number): Promise<void> {
    for (;;) {
      this.refill();
      if (this.tokens >= count) {
        this.tokens -= count;
        return;
      }
      const wait = Math.ceil(((count - this.tokens) / this.perSecond) * 1000);
      await this.clock.sleep(Math.max(1, wait));
    }
  }

  private refill(): void {
    const now = this.clock.now();
    const elapsed = Math.max(0, now - this.updated);
    this.tokens = Math.min(this.capacity, this.tokens + (elapsed * this.perSecond) / 1000);
    this.updated = now;
  }
}

const THROTTLE_CODES = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'LimitExceededException',
]);

/** Whether an error (SDK or BerthError from an adapter) is AWS saying "slow down". */
export function isThrottle(error: unknown): boolean {
  const code = isBerthError(error)
    ? (error.details?.awsCode as string | undefined)
    : errorCodeOf(error);
  if (code && THROTTLE_CODES.has(code)) return true;
  const message = error instanceof Error ? error.message : String(error);
  return /rate exceeded|throttl/i.test(message);
}

export interface QuotaStats {
  /** Throttling answers received, by API. */
  throttled: Record<string, number>;
  /** Calls retried after a throttling answer, by API (every throttle is retried). */
  retried: Record<string, number>;
  /** Time spent waiting for a bucket's token or a back-off, by API (milliseconds). */
  waitedMs: Record<string, number>;
}

export interface QuotaLimits {
  runTask: { perSecond: number; burst: number };
  launches: { perSecond: number; burst: number };
  describeTasks: { perSecond: number; burst: number };
  getLogEvents: { perSecond: number; burst: number };
  filterLogEvents: { perSecond: number; burst: number };
}

/** AWS's documented defaults (ECS and CloudWatch Logs service quotas, us-east-1). */
export const DEFAULT_QUOTAS: QuotaLimits = {
  runTask: { perSecond: 20, burst: 20 },
  launches: { perSecond: 20, burst: 100 },
  describeTasks: { perSecond: 20, burst: 50 },
  getLogEvents: { perSecond: 10, burst: 10 },
  filterLogEvents: { perSecond: 5, burst: 5 },
};

export type QuotaApi = keyof QuotaLimits;

export interface AwsQuotasOptions {
  clock: Clock;
  limits?: Partial<QuotaLimits>;
  /** 0..1; Math.random by default (the simulation passes a seeded one). */
  random?: () => number;
  /** First back-off after a throttle (default 500 ms), doubled per retry up to `maxBackoffMs`. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
}

/** The run's buckets and its throttling retry, shared by the runtime, the poller and the log reader. */
export class AwsQuotas {
  readonly stats: QuotaStats = { throttled: {}, retried: {}, waitedMs: {} };
  readonly limits: QuotaLimits;
  private readonly buckets = new Map<QuotaApi, TokenBucket>();
  private readonly random: () => number;

  constructor(private readonly options: AwsQuotasOptions) {
    this.limits = { ...DEFAULT_QUOTAS, ...options.limits };
    this.random = options.random ?? Math.random;
    for (const [api, limit] of Object.entries(this.limits) as [QuotaApi, QuotaLimits[QuotaApi]][])
      this.buckets.set(api, new TokenBucket(options.clock, limit.burst, limit.perSecond));
  }

  get clock(): Clock {
    return this.options.clock;
  }

  bucket(api: QuotaApi): TokenBucket {
    const bucket = this.buckets.get(api);
    if (!bucket) throw new Error(`no bucket for ${api}`);
    return bucket;
  }

  /**
   * One call within the quota: a token from `api`'s bucket (and any `also` buckets, e.g. the
   * launches for RunTask), then the call; a throttling answer waits and tries again, as long
   * as it takes. Any other error is the caller's.
   */
  async call<T>(api: QuotaApi, fn: () => Promise<T>, also: QuotaApi[] = []): Promise<T> {
    const { clock } = this.options;
    const base = this.options.baseBackoffMs ?? 500;
    const max = this.options.maxBackoffMs ?? 20_000;
    for (let attempt = 0; ; attempt++) {
      const before = clock.now();
      await this.bucket(api).take();
      for (const other of also) await this.bucket(other).take();
      this.addWait(api, clock.now() - before);
      try {
        return await fn();
      } catch (error) {
        if (!isThrottle(error)) throw error;
        this.stats.throttled[api] = (this.stats.throttled[api] ?? 0) + 1;
        this.stats.retried[api] = (this.stats.retried[api] ?? 0) + 1;
        // "Full jitter": a random wait up to the exponential ceiling, so that many callers
        // throttled together do not all come back at the same instant.
        const ceiling = Math.min(max, base * 2 ** Math.min(attempt, 16));
        const wait = Math.max(base / 2, Math.round(this.random() * ceiling));
        this.addWait(api, wait);
        await clock.sleep(wait);
      }
    }
  }

  private addWait(api: QuotaApi, ms: number): void {
    if (ms > 0) this.stats.waitedMs[api] = (this.stats.waitedMs[api] ?? 0) + ms;
  }
}
