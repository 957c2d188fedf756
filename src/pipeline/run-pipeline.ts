/**
 * The pipeline: test → build → push → migrate → verify, each stage timed, the first failure
 * ending the run (later stages reported as skipped). Stages are injected, so the same
 * sequencing serves the local and aws providers and is testable without either.
 */
import type { Reporter, StageName, StageStatus } from '../core/events.js';
import { errorMessage } from '../core/errors.js';

export interface StageOutcome {
  status: StageStatus;
  detail?: string;
}

export type Stage = (signal?: AbortSignal) => Promise<StageOutcome>;

export interface StageReport {
  name: StageName;
  status: StageStatus;
  durationMs: number;
  detail?: string;
}

export interface PipelineResult {
  ok: boolean;
  failedStage?: StageName;
  /** Stages skipped on their own account (not after a failure): a pass is not a full pass. */
  skipped: { name: StageName; detail: string }[];
  stages: StageReport[];
  durationMs: number;
}

/** Lint comes after push: it reads what is pending with the fleet migrate will run on. */
export const STAGE_ORDER: StageName[] = ['test', 'build', 'push', 'lint', 'migrate', 'verify'];

export async function runPipeline(
  stages: Partial<Record<StageName, Stage>>,
  reporter: Reporter,
  signal?: AbortSignal,
  now: () => number = Date.now,
  /** --strict: a stage that skips itself (not configured, no engine) fails the pipeline. */
  strict = false,
): Promise<PipelineResult> {
  const started = now();
  const reports: StageReport[] = [];
  let failedStage: StageName | undefined;
  for (const name of STAGE_ORDER) {
    const stage = stages[name];
    if (!stage) continue;
    if (failedStage || signal?.aborted) {
      reports.push({
        name,
        status: 'skipped',
        durationMs: 0,
        detail: failedStage ? `${failedStage} failed` : 'interrupted',
      });
      continue;
    }
    reporter.emit({ type: 'stage-started', stage: name });
    const stageStart = now();
    let outcome: StageOutcome;
    try {
      outcome = await stage(signal);
    } catch (error) {
      outcome = { status: 'failed', detail: errorMessage(error) };
    }
    if (strict && outcome.status === 'skipped')
      outcome = {
        status: 'failed',
        detail: `skipped, and --strict allows no skip: ${outcome.detail ?? 'no reason given'}`,
      };
    const report: StageReport = {
      name,
      status: outcome.status,
      durationMs: now() - stageStart,
      ...(outcome.detail ? { detail: outcome.detail } : {}),
    };
    reports.push(report);
    reporter.emit({
      type: 'stage-finished',
      stage: name,
      status: report.status,
      durationMs: report.durationMs,
      ...(report.detail ? { detail: report.detail } : {}),
    });
    if (outcome.status === 'failed') failedStage = name;
  }
  const skipped = failedStage
    ? []
    : reports
        .filter((r) => r.status === 'skipped' && r.detail !== 'interrupted')
        .map((r) => ({ name: r.name, detail: r.detail ?? '' }));
  return {
    ok: !failedStage && !signal?.aborted,
    ...(failedStage ? { failedStage } : {}),
    skipped,
    stages: reports,
    durationMs: now() - started,
  };
}
