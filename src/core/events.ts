/**
 * The library never prints: it emits typed events to a Reporter and returns results. The
 * CLI renders events as progress for humans, NDJSON for --json, or nothing. Tests assert on
 * events instead of scraping stdout.
 */
import type { DatabaseResult, FleetCounts } from '../fleet/types.js';

export type StageName = 'test' | 'build' | 'push' | 'lint' | 'migrate' | 'verify';
export type StageStatus = 'passed' | 'failed' | 'skipped';
export type ProgressPhase = 'create' | 'probe' | 'check';

export type BerthEvent =
  | { type: 'message'; level: 'info' | 'warn'; text: string }
  | { type: 'fleet-started'; runId: string; operation: 'migrate' | 'verify'; total: number }
  | {
      type: 'fleet-probed';
      runId: string;
      pending: number;
      upToDate: number;
      missing: number;
      /** Given a task without a reading that says so (no probe, or unknown migrations). */
      unknown: number;
    }
  | { type: 'database-started'; runId: string; databases: string[]; taskId: string }
  | {
      type: 'database-finished';
      runId: string;
      result: DatabaseResult;
      counts: FleetCounts;
      total: number;
    }
  /**
   * A phase before or beside the tasks, counted per database: `create` (local databases
   * created for a migrate run), `probe` and `check` (verify). Emitted as each one is done.
   */
  | { type: 'progress'; phase: ProgressPhase; done: number; total: number }
  | { type: 'stage-started'; stage: StageName }
  | {
      type: 'stage-finished';
      stage: StageName;
      status: StageStatus;
      durationMs: number;
      detail?: string;
    };

export interface Reporter {
  emit(event: BerthEvent): void;
}

export const silentReporter: Reporter = { emit: () => undefined };

/** Collects events in memory (tests). */
export class RecordingReporter implements Reporter {
  readonly events: BerthEvent[] = [];
  emit(event: BerthEvent): void {
    this.events.push(event);
  }
}
