import path from 'node:path';
import { BerthError } from '../../core/errors.js';
import { ExitCode } from '../../core/exit-codes.js';
import type { StageName } from '../../core/events.js';
import { migrateFleet } from '../../fleet/run-fleet.js';
import { selectDatabases } from '../../fleet/tenants.js';
import type { FleetResult } from '../../fleet/types.js';
import { verifyFleet, type VerifyResult } from '../../fleet/verify.js';
import { detectEngine } from '../../image/engine.js';
import { runLogged } from '../../pipeline/run-command.js';
import { runPipeline, type Stage } from '../../pipeline/run-pipeline.js';
import { openLocal } from '../../providers/local/open-local.js';
import { runtimeFactory } from '../../providers/local/select-runtime.js';
import { newTaskId } from '../../tasks/task-id.js';
import { tailLog } from '../../tasks/task-store.js';
import type { Context } from '../context.js';
import { formatDuration, table } from '../output.js';
import { renderFleet, renderVerify } from '../render-fleet.js';

export interface PipelineOptions {
  database?: string[];
  all?: boolean;
  skipTests?: boolean;
  concurrency?: number;
  runtime?: string;
}

const STAGE_EXIT: Record<StageName, number> = {
  test: ExitCode.pipelineTestFailed,
  build: ExitCode.pipelineBuildFailed,
  push: ExitCode.pipelinePushFailed,
  migrate: ExitCode.pipelineMigrateFailed,
  verify: ExitCode.pipelineVerifyFailed,
};

export async function pipelineCommand(ctx: Context, options: PipelineOptions): Promise<number> {
  const loaded = await ctx.config();
  if (ctx.provider(loaded) === 'aws') {
    throw new BerthError(
      'USAGE',
      'pipeline --provider aws is not available yet in this version of berth',
      { hint: 'use the local provider' },
    );
  }
  const { config, dir } = loaded;
  const local = openLocal(loaded, {
    runtime: await runtimeFactory(loaded, options.runtime, undefined),
  });
  // Selection errors are usage errors before any stage runs.
  const databases = selectDatabases(await local.fleet(), {
    databases: options.database,
    all: options.all ?? (options.database ? false : true),
  });

  let fleet: FleetResult | undefined;
  let verify: VerifyResult | undefined;
  let buildSkipped = false;

  const stages: Partial<Record<StageName, Stage>> = {
    test: async (signal) => {
      if (options.skipTests) return { status: 'skipped', detail: '--skip-tests' };
      if (!config.pipeline.test)
        return { status: 'skipped', detail: 'no pipeline.test command configured' };
      const logFile = path.join(local.paths.logs, `${newTaskId('test')}.log`);
      const code = await runLogged(
        config.pipeline.test,
        path.resolve(dir, config.pipeline.testDirectory),
        logFile,
        signal,
      );
      if (code === 0)
        return { status: 'passed', detail: `log: ${path.relative(process.cwd(), logFile)}` };
      const tail = await tailLog(logFile, 15);
      return {
        status: 'failed',
        detail: `${config.pipeline.test.join(' ')} exited ${code}; log: ${logFile}\n${tail.join('\n')}`,
      };
    },
    build: async () => {
      const engine = await detectEngine(config.local.containerCli);
      if (!engine.available) {
        buildSkipped = true;
        return {
          status: 'skipped',
          detail: `no container engine (${engine.reason}); migrations run as host processes`,
        };
      }
      buildSkipped = true;
      return {
        status: 'skipped',
        detail: `container engine ${engine.version} found, but image builds are not part of this build of berth yet`,
      };
    },
    push: () =>
      Promise.resolve({
        status: 'skipped',
        detail: buildSkipped ? 'nothing was built' : 'nothing to push',
      }),
    migrate: async (signal) => {
      fleet = await migrateFleet(local.backend, {
        databases,
        command: config.task.command,
        concurrency: options.concurrency ?? config.fleet.concurrency,
        onError: config.fleet.onError,
        batchSize: config.fleet.batchSize,
        lockWaitMs: config.migrations.lockWaitSeconds * 1000,
        timeoutMs: config.task.timeoutSeconds * 1000,
        runsDir: local.paths.runs,
        reporter: ctx.reporter,
        ...(signal ? { signal } : {}),
      });
      const n = fleet.counts;
      const detail = `${n.applied} applied, ${n.upToDate} up to date, ${n.failed} failed, ${n.locked} locked, ${n.skipped} skipped`;
      return { status: fleet.ok ? 'passed' : 'failed', detail };
    },
    verify: async (signal) => {
      verify = await verifyFleet(local.backend, {
        databases,
        expectedTables: config.database.expectedTables,
        checkCommand: config.task.checkCommand,
        concurrency: config.fleet.concurrency,
        timeoutMs: config.task.timeoutSeconds * 1000,
        reporter: ctx.reporter,
        ...(signal ? { signal } : {}),
      });
      const complete = verify.databases.filter((d) => d.ok).length;
      return {
        status: verify.ok ? 'passed' : 'failed',
        detail: `${complete}/${verify.databases.length} complete (${config.database.expectedTables} tables, nothing pending)`,
      };
    },
  };

  const result = await runPipeline(stages, ctx.reporter, ctx.signal);
  if (ctx.out.json) {
    ctx.out.data({ type: 'pipeline', ...result, migrate: fleet ?? null, verify: verify ?? null });
  } else {
    if (fleet) {
      ctx.out.result('');
      renderFleet(ctx.out, fleet);
    }
    if (verify) {
      ctx.out.result('');
      renderVerify(ctx.out, verify);
    }
    const c = ctx.out.color;
    ctx.out.result('\nPipeline summary');
    ctx.out.result(
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
    if (failed?.detail?.includes('\n'))
      ctx.out.result(
        `\n${failed.name} output (tail):\n${failed.detail.split('\n').slice(1).join('\n')}`,
      );
    ctx.out.result(
      result.ok
        ? `\n${c.green('✓')} pipeline passed in ${formatDuration(result.durationMs)}`
        : `\n${c.red('✗')} pipeline failed at ${result.failedStage ?? 'interrupt'}`,
    );
  }
  if (ctx.interrupted()) return ExitCode.interrupted;
  return result.failedStage ? STAGE_EXIT[result.failedStage] : ExitCode.ok;
}
