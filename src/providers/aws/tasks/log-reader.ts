/**
 * Reads the CloudWatch streams of every task of a run together, instead of one GetLogEvents
 * loop per task (GetLogEvents allows about 10 requests/s per account and region, not
 * adjustable: 1,000 tasks polled every 5 s would need 200/s).
 *
 * Each round (every `pollMs`) makes, per log group:
 *  - FilterLogEvents over the streams already seen, 100 names per call (the API's limit),
 *    from each chunk's oldest cursor minus an overlap window. CloudWatch may ingest an event
 *    after a later one is already visible, so the window reads the recent past again and
 *    events are deduped by eventId: none is delivered twice, and one that arrives up to
 *    `overlapMs` late is not lost.
 *  - one FilterLogEvents by stream-name prefix for the streams not seen yet (a stream exists
 *    only once its container printed; naming a missing stream is an error), from the oldest
 *    such task's creation.
 * After STOPPED a task's stream is read until it has been quiet for `settleMs` (`settle`),
 * and where it matters — a task that failed (its excerpt), a stream never seen, a drain that
 * did not settle — `backfill` reads the whole stream once with GetLogEvents and delivers what
 * the rounds missed (matched by timestamp and message, as GetLogEvents has no eventId).
 * Lines keep their order within a round; one that arrives later than the window comes last.
 */
import type { Clock } from '../../../core/clock.js';
import { errorMessage } from '../../../core/errors.js';
import type { FilteredLogEvent, LogsApi } from '../api/logs-api.js';
import type { AwsQuotas } from './quotas.js';

/** FilterLogEvents takes at most 100 stream names per call. */
export const FILTER_STREAMS_MAX = 100;
const MAX_PAGES_PER_QUERY = 1000;

export interface LogReaderOptions {
  logs: Pick<LogsApi, 'filterLogEvents' | 'getLogEvents'>;
  quotas: AwsQuotas;
  clock: Clock;
  /** Time between rounds (default 5 s). */
  pollMs?: number;
  /** How far back each round reads again for late events (default 60 s). */
  overlapMs?: number;
  /** Events per page (CloudWatch's default when unset). */
  pageSize?: number;
}

export interface FollowSpec {
  group: string;
  stream: string;
  /** When the task was created: no event of its stream is older. */
  createdAt: number;
  onLine: (line: string) => void;
}

/** One stream being followed. */
export class StreamFollow {
  readonly seenIds = new Set<string>();
  /** `timestamp\0message` → how many such events were delivered (for the backfill). */
  readonly delivered = new Map<string, number>();
  found = false;
  /** Latest event timestamp seen. */
  cursor: number | undefined;
  /** Clock time of the last new event. */
  lastNewAt: number;
  lines = 0;
  failure: string | undefined;

  constructor(
    readonly spec: FollowSpec,
    now: number,
  ) {
    this.lastNewAt = now;
  }

  deliver(timestamp: number, message: string): void {
    const key = `${timestamp}\0${message}`;
    this.delivered.set(key, (this.delivered.get(key) ?? 0) + 1);
    // awslogs sends one line per event; a message may still carry a newline.
    for (const line of message.replace(/\r?\n$/, '').split(/\r?\n/)) {
      this.spec.onLine(line);
      this.lines++;
    }
  }
}

const keyOf = (group: string, stream: string) => `${group}\0${stream}`;
const prefixOf = (stream: string) => stream.slice(0, stream.lastIndexOf('/') + 1);

export class LogReader {
  private readonly follows = new Map<string, StreamFollow>();
  private running = false;
  private roundWaiters: (() => void)[] = [];
  /** When the last completed round began (its answers are at least that recent). */
  private doneRoundStart = -Infinity;
  /** Calls made, by API (for tests and the bench). */
  readonly calls = { filterLogEvents: 0, getLogEvents: 0 };

  constructor(private readonly options: LogReaderOptions) {}

  follow(spec: FollowSpec): StreamFollow {
    const follow = new StreamFollow(spec, this.options.clock.now());
    this.follows.set(keyOf(spec.group, spec.stream), follow);
    this.start();
    return follow;
  }

  close(follow: StreamFollow): void {
    const key = keyOf(follow.spec.group, follow.spec.stream);
    if (this.follows.get(key) === follow) this.follows.delete(key);
  }

  /**
   * Waits, after the task stopped, until a round has found the stream and nothing new for
   * `settleMs`; true when it settled, false at `timeoutMs` or on a read failure.
   */
  async settle(follow: StreamFollow, settleMs: number, timeoutMs: number): Promise<boolean> {
    const { clock } = this.options;
    const stoppedAt = clock.now();
    const deadline = stoppedAt + timeoutMs;
    for (;;) {
      await this.nextRound();
      if (follow.failure) return false;
      // Quiet: a round that began `settleMs` after the stop and after the last new event
      // brought nothing new.
      const quietSince = Math.max(stoppedAt, follow.lastNewAt);
      if (follow.found && this.doneRoundStart - quietSince >= settleMs) return true;
      if (clock.now() >= deadline) return false;
    }
  }

  /** Reads the whole stream with GetLogEvents and delivers what the rounds missed. */
  async backfill(follow: StreamFollow): Promise<number> {
    const { group, stream } = follow.spec;
    const left = new Map(follow.delivered);
    let token: string | undefined;
    let added = 0;
    try {
      for (let page = 0; page < MAX_PAGES_PER_QUERY; page++) {
        const out = await this.options.quotas.call('getLogEvents', () => {
          this.calls.getLogEvents++;
          return this.options.logs.getLogEvents({
            group,
            stream,
            startFromHead: true,
            ...(token ? { nextToken: token } : {}),
            ...(this.options.pageSize ? { limit: this.options.pageSize } : {}),
          });
        });
        if (!out) break;
        follow.found = true;
        for (const event of out.events) {
          const key = `${event.timestamp}\0${event.message}`;
          const count = left.get(key) ?? 0;
          if (count > 0) {
            left.set(key, count - 1);
            continue;
          }
          follow.deliver(event.timestamp, event.message);
          added++;
        }
        const next = out.nextForwardToken;
        if (next === undefined || next === token) break;
        token = next;
      }
    } catch (error) {
      follow.failure = errorMessage(error);
    }
    return added;
  }

  private nextRound(): Promise<void> {
    return new Promise((resolve) => {
      this.roundWaiters.push(resolve);
      this.start();
    });
  }

  private start(): void {
    if (this.running) return;
    this.running = true;
    void this.loop();
  }

  private async loop(): Promise<void> {
    const pollMs = this.options.pollMs ?? 5_000;
    try {
      while (this.follows.size > 0 || this.roundWaiters.length > 0) {
        await this.options.clock.sleep(pollMs);
        const began = this.options.clock.now();
        await this.round();
        this.doneRoundStart = began;
        const waiters = this.roundWaiters;
        this.roundWaiters = [];
        for (const resolve of waiters) resolve();
      }
    } finally {
      this.running = false;
      if (this.follows.size > 0 || this.roundWaiters.length > 0) this.start();
    }
  }

  private async round(): Promise<void> {
    const overlap = this.options.overlapMs ?? 60_000;
    const active = [...this.follows.values()].filter((f) => !f.failure);
    const groups = new Map<string, StreamFollow[]>();
    for (const f of active) groups.set(f.spec.group, [...(groups.get(f.spec.group) ?? []), f]);
    for (const [group, follows] of groups) {
      const seen = follows.filter((f) => f.found);
      for (let i = 0; i < seen.length; i += FILTER_STREAMS_MAX) {
        const chunk = seen.slice(i, i + FILTER_STREAMS_MAX);
        const start = Math.min(...chunk.map((f) => (f.cursor ?? f.spec.createdAt) - overlap));
        await this.query(group, chunk, {
          streams: chunk.map((f) => f.spec.stream),
          startTime: Math.max(0, start),
        });
      }
      const unseen = follows.filter((f) => !f.found);
      const prefixes = new Map<string, StreamFollow[]>();
      for (const f of unseen) {
        const p = prefixOf(f.spec.stream);
        prefixes.set(p, [...(prefixes.get(p) ?? []), f]);
      }
      for (const [prefix, list] of prefixes) {
        const start = Math.min(...list.map((f) => f.spec.createdAt)) - 1_000;
        await this.query(group, list, {
          ...(prefix ? { streamPrefix: prefix } : {}),
          startTime: Math.max(0, start),
        });
      }
    }
  }

  private async query(
    group: string,
    follows: StreamFollow[],
    filter: { streams?: string[]; streamPrefix?: string; startTime: number },
  ): Promise<void> {
    let token: string | undefined;
    const asked = new Set(follows);
    try {
      for (let page = 0; page < MAX_PAGES_PER_QUERY; page++) {
        const out = await this.options.quotas.call('filterLogEvents', () => {
          this.calls.filterLogEvents++;
          return this.options.logs.filterLogEvents({
            group,
            ...filter,
            ...(token ? { nextToken: token } : {}),
            ...(this.options.pageSize ? { limit: this.options.pageSize } : {}),
          });
        });
        // A named stream went missing, or the group: nothing to read this round.
        if (!out) return;
        for (const event of out.events) this.dispatch(group, event, asked);
        if (!out.nextToken || out.nextToken === token) return;
        token = out.nextToken;
      }
    } catch (error) {
      const failure = errorMessage(error);
      for (const f of follows) f.failure = failure;
    }
  }

  /**
   * Only to the streams the query was made for: a stream followed while a query pages would
   * get its events from the middle, and the next round reads it from its start, in order.
   */
  private dispatch(group: string, event: FilteredLogEvent, asked: Set<StreamFollow>): void {
    const follow = this.follows.get(keyOf(group, event.stream));
    if (!follow || !asked.has(follow) || follow.seenIds.has(event.eventId)) return;
    follow.seenIds.add(event.eventId);
    follow.found = true;
    follow.cursor = Math.max(follow.cursor ?? 0, event.timestamp);
    follow.lastNewAt = this.options.clock.now();
    follow.deliver(event.timestamp, event.message);
  }
}
