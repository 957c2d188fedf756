import { migrateOptions, verifyOptions } from '../../fleet/fleet-options.js';
import path from 'node:path';
import { BerthError, errorMessage, isBerthError } from '../../core/errors.js';
import type { StageName } from '../../core/events.js';
import { migrateFleet } from '../../fleet/run-fleet.js';
import { selectDatabases } from '../../fleet/tenants.js';
import type { FleetResult } from '../../fleet/types.js';
import { verifyFleet, verifyGoal, type VerifyResult } from '../../fleet/verify.js';
import { detectEngine, ENGINE_HINT } from '../../image/engine.js';
import type { BuildResult } from '../../image/build.js';
import { formatSize } from '../../image/inspect.js';
import {
  buildStack,
  dockerfilePath,
  hasDockerfile,
  pushStack,
  type StackPushResult,
} from '../../image/stack.js';
import { runLogged } from '../../pipeline/run-command.js';
import { runPipeline, type Stage } from '../../pipeline/run-pipeline.js';
import { openLocal } from '../../providers/local/open-local.js';
import {
  containerFactory,
  parseRuntime,
  type RuntimeChoice,
} from '../../providers/local/select-runtime.js';
import type { TaskRuntime, TaskSpec } from '../../tasks/task.js';
import { ProcessRuntime } from '../../providers/local/process-runtime.js';
import { newTaskId } from '../../tasks/task-id.js';
import { tailLog } from '../../state/task-store.js';
import type { Context } from '../context.js';
import { pipelineExitCode, renderPipeline, tailOf } from '../render-pipeline.js';

export interface PipelineOptions {
  database?: string[];
  all?: boolean;
  skipTests?: boolean;
  concurrency?: number;
  runtime?: string;
}

export async function pipelineCommand(ctx: Context, options: PipelineOptions): Promise<number> {
  const loaded = await ctx.config();
  if (ctx.provider(loaded) === 'aws') {
    return (await import('./pipeline-aws.js')).runAwsPipeline(ctx, options);
  }
  const { config, dir } = loaded;
  const requested = parseRuntime(options.runtime, config.local.runtime);
  // Tasks run on whatever the build and push stages leave behind: containers from the pushed
  // image when an engine answers (and the runtime allows it), host processes otherwise.
  let current: TaskRuntime | undefined;
  let runtime: RuntimeChoice = { runtime: 'process', reason: 'runtime: process' };
  const local = openLocal(loaded, {
    runtime: (store, cwd) => {
      const processes = new ProcessRuntime({ cwd, store });
      return {
        get name() {
          return (current ?? processes).name;
        },
        run: (spec: TaskSpec, signal?: AbortSignal) => (current ?? processes).run(spec, signal),
      };
    },
  });
  // Selection errors are usage errors before any stage runs.
  const databases = selectDatabases(await local.fleet(), {
    databases: options.database,
    all: options.all ?? (options.database ? false : true),
  });
  const engine =
    requested === 'process' ? undefined : await detectEngine(config.local.containerCli);
  if (requested === 'container' && !engine?.available) {
    // Before any stage, like `migrate --runtime container`.
    throw new BerthError(
      'CONTAINER_ENGINE_UNAVAILABLE',
      `--runtime container needs a container engine: ${engine?.reason ?? 'none answers'}`,
      { hint: ENGINE_HINT, source: 'environment' },
    );
  }

  let fleet: FleetResult | undefined;
  let verify: VerifyResult | undefined;
  let built: BuildResult | undefined;
  let pushed: StackPushResult | undefined;
  const failure = (error: unknown) =>
    isBerthError(error)
      ? [
          error.message,
          ...(error.hint ? [`hint: ${error.hint}`] : []),
          ...tailOf(error.details),
        ].join('\n')
      : errorMessage(error);

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
    build: async (signal) => {
      const status = engine ?? (await detectEngine(config.local.containerCli));
      if (!status.available) {
        return {
          status: 'skipped',
          detail: `no container engine (${status.reason}); migrations run as host processes`,
        };
      }
      if (!(await hasDockerfile(loaded))) {
        return {
          status: 'skipped',
          detail: `no Dockerfile at ${dockerfilePath(loaded)} (image.context); migrations run as host processes`,
        };
      }
      try {
        built = await buildStack(loaded, {
          target: 'all',
          reporter: ctx.reporter,
          ...(signal ? { signal } : {}),
        });
      } catch (error) {
        return { status: 'failed', detail: failure(error) };
      }
      const sizes = built.images.map((i) => `${i.target} ${formatSize(i.sizeBytes)}`).join(', ');
      const reduction =
        built.reduction === null ? '' : ` (${Math.round(built.reduction * 100)}% smaller)`;
      if (built.policy && !built.policy.ok) {
        const broken = built.policy.checks.filter((c) => !c.ok).map((c) => c.detail);
        return {
          status: 'failed',
          detail: `the production image breaks the policy: ${broken.join('; ')}\n${built.policy.checks
            .map((c) => `${c.ok ? '✓' : '✗'} ${c.name}: ${c.detail}`)
            .join('\n')}`,
        };
      }
      return { status: 'passed', detail: `${built.version}: ${sizes}${reduction}; policy passed` };
    },
    push: async (signal) => {
      if (!built) return { status: 'skipped', detail: 'nothing was built' };
      if (!config.registry.local)
        return {
          status: 'skipped',
          detail: 'registry.local is not set; tasks run the locally built image',
        };
      try {
        pushed = await pushStack(loaded, {
          provider: 'local',
          tag: built.version,
          reporter: ctx.reporter,
          ...(signal ? { signal } : {}),
        });
      } catch (error) {
        return { status: 'failed', detail: failure(error) };
      }
      return { status: 'passed', detail: `${pushed.uri} ${pushed.digest}` };
    },
    migrate: async (signal) => {
      const production = built?.images.find((i) => i.target === 'production');
      const image = pushed?.imageRef ?? production?.ref;
      if (requested !== 'process' && image) {
        runtime = {
          runtime: 'container',
          image,
          reason: pushed ? 'the image this pipeline pushed' : 'the image this pipeline built',
        };
      } else if (requested === 'container') {
        return {
          status: 'failed',
          detail: '--runtime container, but this pipeline built no image (see the build stage)',
        };
      } else if (requested === 'process') {
        runtime = { runtime: 'process', reason: '--runtime process' };
      } else {
        runtime = {
          runtime: 'process',
          reason: engine?.available
            ? 'no image was built'
            : `no container engine (${engine?.reason ?? 'none answers'})`,
        };
      }
      if (runtime.runtime === 'container' && runtime.image) {
        current = containerFactory(loaded, runtime.image)(local.store, dir);
      }
      ctx.reporter.emit({
        type: 'message',
        level: 'info',
        text:
          runtime.runtime === 'container'
            ? `tasks run as containers from ${runtime.image ?? ''} (${runtime.reason})`
            : `tasks run as host processes: ${runtime.reason}`,
      });
      fleet = await migrateFleet(
        local.backend,
        migrateOptions(
          config,
          local.paths.runs,
          { databases, reporter: ctx.reporter, signal },
          { concurrency: options.concurrency },
        ),
      );
      const n = fleet.counts;
      const on = runtime.runtime === 'container' ? 'as containers' : 'as host processes';
      const detail = `${n.applied} applied, ${n.upToDate} up to date, ${n.failed} failed, ${n.locked} locked, ${n.skipped} skipped (${on})`;
      return { status: fleet.ok ? 'passed' : 'failed', detail };
    },
    verify: async (signal) => {
      verify = await verifyFleet(
        local.backend,
        verifyOptions(config, { databases, reporter: ctx.reporter, signal }),
      );
      const complete = verify.databases.filter((d) => d.ok).length;
      return {
        status: verify.ok ? 'passed' : 'failed',
        detail: `${complete}/${verify.databases.length} complete (${verifyGoal(config.database.expectedTables)})`,
      };
    },
  };

  const result = await runPipeline(stages, ctx.reporter, ctx.signal);
  if (ctx.out.json) {
    ctx.out.data({
      type: 'pipeline',
      ...result,
      image: built ? { ...built, pushed: pushed ?? null } : null,
      runtime,
      migrate: fleet ?? null,
      verify: verify ?? null,
    });
  } else {
    renderPipeline(ctx.out, result, { fleet, verify, title: 'Pipeline summary' });
  }
  return pipelineExitCode(result, ctx.interrupted());
}
