/**
 * The failure budget (`--max-failures N | P%`, fleet.maxFailures): how many databases may
 * fail before a run stops starting new tasks, as Step Functions' tolerated failure count.
 * `--on-error stop` is a budget of 0; `--on-error continue` is no budget at all. Databases
 * already running when the budget is spent finish and are counted as they land; the rest
 * are skipped with the reason. In a run in waves the budget is the run's: a percentage is of
 * all the run's databases (waves.ts passes the run's total to each wave's FleetRun).
 */
import { BerthError } from '../core/errors.js';

/** A count, a share of the run's databases, or no limit. */
export type FailureLimit = { count: number } | { percent: number } | 'unlimited';

const LIMIT_TEXT = /^\s*(\d+)(%?)\s*$/;

/** `3` or `10%` (of the databases the run takes); a usage error names the flag or field. */
export function parseFailureLimit(value: string | number, where = '--max-failures'): FailureLimit {
  const match = LIMIT_TEXT.exec(String(value));
  const n = match ? Number(match[1]) : Number.NaN;
  if (!match || !Number.isSafeInteger(n) || (match[2] === '%' && n > 100))
    throw new BerthError(
      'USAGE',
      `${where} must be a whole number of failures (e.g. 2) or a percentage of the databases (e.g. 10%), got "${String(value)}"`,
    );
  return match[2] === '%' ? { percent: n } : { count: n };
}

export function describeLimit(limit: FailureLimit): string {
  if (limit === 'unlimited') return 'unlimited';
  return 'count' in limit ? String(limit.count) : `${limit.percent}%`;
}

export class FailureBudget {
  /** Failures tolerated; undefined = unlimited. */
  readonly allowed: number | undefined;
  private failures = 0;

  constructor(
    readonly limit: FailureLimit,
    total: number,
  ) {
    this.allowed =
      limit === 'unlimited'
        ? undefined
        : 'count' in limit
          ? limit.count
          : Math.floor((total * limit.percent) / 100);
  }

  /** A budget of 0 stops at the first failure, inside a batch too (the old --on-error stop). */
  get stopsAtFirstFailure(): boolean {
    return this.allowed === 0;
  }

  recordFailure(): void {
    this.failures++;
  }

  get spent(): boolean {
    return this.allowed !== undefined && this.failures > this.allowed;
  }

  /** Why a database was not started once the budget is spent. */
  skipReason(): string {
    if (this.allowed === 0 && this.limit !== 'unlimited' && 'count' in this.limit)
      return `not started: an earlier database failed (--on-error stop, a failure budget of 0)`;
    return `not started: the failure budget was spent (${this.failures} failed, at most ${this.allowed ?? '∞'} tolerated${this.limit !== 'unlimited' && 'percent' in this.limit ? ` = ${this.limit.percent}% of the run` : ''})`;
  }
}
