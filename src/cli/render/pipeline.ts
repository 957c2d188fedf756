/**
 * The pipeline's human summary and exit code, shared by the local and aws pipelines: the
 * fleet and verify tables, one row per stage, the failing stage's output tail.
 */
import { ExitCode } from '../../core/exit-codes.js';
import type { StageName } from '../../core/events.js';
import type { FleetResult } from '../../fleet/types.js';
import type { VerifyResult } from '../../fleet/verify.js';
import type { DeliveryResult } from '../../pipeline/delivery.js';
import type { PipelineResult } from '../../pipeline/run-pipeline.js';
import { formatDuration, table, type Output } from '../output.js';
import { renderFleet, renderVerify } from './fleet.js';

const STAGE_EXIT: Record<StageName, number> = {
  test: ExitCode.pipelineTestFailed,
  lint: ExitCode.lintFailed,
  build: ExitCode.pipelineBuildFailed,
  push: ExitCode.pipelinePushFailed,
  migrate: ExitCode.pipelineMigrateFailed,
  verify: ExitCode.pipelineVerifyFailed,
};

export function pipelineExitCode(result: PipelineResult, interrupted: boolean): number {
  if (interrupted) return ExitCode.interrupted;
  return result.failedStage ? STAGE_EXIT[result.failedStage] : ExitCode.ok;
}

export function renderPipeline(
  out: Output,
  result: PipelineResult,
  parts: { fleet?: FleetResult | undefined; verify?: VerifyResult | undefined; title: string },
): void {
  if (parts.fleet) {
    out.result('');
    renderFleet(out, parts.fleet);
  }
  if (parts.verify) {
    out.result('');
    renderVerify(out, parts.verify);
  }
  const c = out.color;
  out.result(`\n${parts.title}`);
  out.result(
    table(
      ['STAGE', 'RESULT', 'TIME', 'DETAIL'],
      result.stages.map((s) => [
        s.name,
        s.status === 'passed'
          ? c.green(s.status)
          : s.status === 'failed'
            ? c.red(s.status)
            : c.yellow(s.status),
        formatDuration(s.durationMs),
        (s.detail ?? '').split('\n')[0] ?? '',
      ]),
    ),
  );
  const failed = result.stages.find((s) => s.status === 'failed');
  if (failed?.detail?.includes('\n')) {
    out.result(`\n${failed.name} output (tail):\n${failed.detail.split('\n').slice(1).join('\n')}`);
  }
  out.result(
    result.ok
      ? `\n${c.green('✓')} pipeline passed${skippedNote(result)} in ${formatDuration(result.durationMs)}`
      : `\n${c.red('✗')} pipeline failed at ${result.failedStage ?? 'interrupt'}`,
  );
}

/** ` with 2 stages skipped (test: not configured; build: no container engine)`, or nothing. */
function skippedNote(result: PipelineResult): string {
  if (result.skipped.length === 0) return '';
  const why = result.skipped.map((s) => `${s.name}: ${s.detail.split('\n')[0] ?? ''}`).join('; ');
  return ` with ${result.skipped.length} stage(s) skipped (${why})`;
}

/** --json: one document; otherwise the tables and the stage summary. */
export function printDelivery(out: Output, result: DeliveryResult): void {
  const { facts, ...rest } = result;
  if (out.json) out.data({ type: 'pipeline', ...rest, ...facts });
  else
    renderPipeline(out, result, {
      fleet: result.migrate ?? undefined,
      verify: result.verify ?? undefined,
      title: `Pipeline summary (${result.provider})`,
    });
}
