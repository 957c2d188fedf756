/**
 * Follows one CloudWatch log stream the way `aws logs tail --follow` would, but exactly:
 * GetLogEvents from the head, then only ever with the last nextForwardToken, so every event
 * is delivered once and in order — no duplicate when a poll overlaps, no line lost between
 * polls. A page is read until the token stops changing (CloudWatch hands back the token it
 * was given at the end of the stream, and may return empty pages before that).
 *
 * The stream only exists once the container printed its first line (the awslogs driver
 * creates it), so "not found" is a normal answer at first.
 */
import { errorMessage } from '../../../core/errors.js';
import type { LogsApi } from '../api/logs-api.js';

/** A guard against an endpoint that never stops handing out new tokens. */
const MAX_PAGES_PER_POLL = 1000;

export interface PollResult {
  /** The stream exists. */
  found: boolean;
  /** Lines delivered by this poll. */
  lines: number;
}

export class LogFollower {
  private token: string | undefined;
  private seen = false;
  /** Set once reading failed for a reason other than "not there yet" (e.g. access denied). */
  failure: string | undefined;

  constructor(
    private readonly logs: Pick<LogsApi, 'getLogEvents'>,
    readonly group: string,
    readonly stream: string,
    private readonly onLine: (line: string) => void,
    private readonly limit?: number,
  ) {}

  /** Whether the stream has been seen at all. */
  get found(): boolean {
    return this.seen;
  }

  /** Reads everything available now. Never throws: a failure is kept in `failure`. */
  async poll(): Promise<PollResult> {
    if (this.failure) return { found: this.seen, lines: 0 };
    let lines = 0;
    try {
      for (let page = 0; page < MAX_PAGES_PER_POLL; page++) {
        const out = await this.logs.getLogEvents({
          group: this.group,
          stream: this.stream,
          startFromHead: true,
          ...(this.token ? { nextToken: this.token } : {}),
          ...(this.limit ? { limit: this.limit } : {}),
        });
        if (!out) return { found: this.seen, lines };
        this.seen = true;
        for (const event of out.events) {
          // awslogs sends one line per event; a message may still carry a newline.
          for (const line of event.message.replace(/\r?\n$/, '').split(/\r?\n/)) {
            this.onLine(line);
            lines++;
          }
        }
        const next = out.nextForwardToken;
        if (next === undefined || next === this.token) break;
        this.token = next;
      }
    } catch (error) {
      this.failure = errorMessage(error);
    }
    return { found: this.seen, lines };
  }
}
