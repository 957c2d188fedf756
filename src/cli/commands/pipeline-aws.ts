/**
 * `berth pipeline --provider aws`: the seed's GitHub Actions workflow as one command —
 * test (pipeline.test) → build (the Dockerfile's targets, policy checked) → push (the git SHA
 * tag and latest to ECR, logged in with GetAuthorizationToken) → migrate (one Fargate task
 * per database or batch, the pushed image's digest registered as a new revision) →
 * verify (probe and check tasks in the VPC) → a summary with each stage's duration. The exit
 * code names the stage that failed (11 test … 15 verify).
 *
 * Build and push are injected (`deps.build`, `deps.push`), so the sequencing is tested
 * without a container engine; by default they are src/image's buildStack and pushStack.
 */
import { migrateOptions, verifyOptions } from '../../fleet/fleet-options.js';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { LoadedConfig } from '../../config/load-config.js';
import { assertAwsReady } from '../../config/load-config.js';
import { BerthError, errorMessage, isBerthError } from '../../core/errors.js';
import type { StageName } from '../../core/events.js';
import { migrateFleet } from '../../fleet/run-fleet.js';
import { discoverTenants, selectDatabases } from '../../fleet/tenants.js';
import type { FleetResult } from '../../fleet/types.js';
import { verifyFleet, verifyGoal, type VerifyResult } from '../../fleet/verify.js';
import type { BuildResult } from '../../image/build.js';
import { buildStack, pushStack, type StackPushResult } from '../../image/stack.js';
import { runLogged } from '../../pipeline/run-command.js';
import { runPipeline, type Stage } from '../../pipeline/run-pipeline.js';
import { statePaths } from '../../state/paths.js';
import type { AwsProvider } from '../../providers/aws/open-aws.js';
import { newTaskId } from '../../tasks/task-id.js';
import { tailLog } from '../../state/task-store.js';
import type { Context } from '../context.js';
import { pipelineExitCode, renderPipeline, tailOf } from '../render-pipeline.js';
import { awsClientsFor, openAwsFleet, type AwsFleetDeps } from './aws-fleet.js';
import type { PipelineOptions } from './pipeline.js';

export interface AwsPipelineDeps extends AwsFleetDeps {
  /** The build stage (default: buildStack, every target, policy checked). */
  build?: (loaded: LoadedConfig, signal?: AbortSignal) => Promise<BuildResult>;
  /** The push stage: `tag` and latest to ECR (default: pushStack with provider aws). */
  push?: (loaded: LoadedConfig, tag: string, signal?: AbortSignal) => Promise<StackPushResult>;
  /** The test stage's command runner (default: runLogged). */
  runTests?: (
    command: string[],
    cwd: string,
    logFile: string,
    signal?: AbortSignal,
  ) => Promise<number | null>;
}

export async function runAwsPipeline(
  ctx: Context,
  options: PipelineOptions,
  deps: AwsPipelineDeps = {},
): Promise<number> {
  if (options.runtime !== undefined)
    throw new BerthError(
      'USAGE',
      '--runtime chooses how the local provider runs tasks; on AWS every task runs on ECS Fargate',
    );
  const opened = await awsClientsFor(ctx, deps);
  const { loaded } = opened;
  const { config, dir } = loaded;
  // Usage and config errors before any stage runs.
  assertAwsReady(loaded);
  const databases = selectDatabases(await discoverTenants(config, dir), {
    databases: options.database,
    all: options.all ?? (options.database ? false : true),
  });
  const paths = statePaths(path.resolve(dir, config.local.dataDir));
  const build =
    deps.build ??
    ((l: LoadedConfig, signal?: AbortSignal) =>
      buildStack(l, { target: 'all', reporter: ctx.reporter, ...(signal ? { signal } : {}) }));
  const push =
    deps.push ??
    ((l: LoadedConfig, tag: string, signal?: AbortSignal) =>
      pushStack(l, {
        provider: 'aws',
        tag,
        reporter: ctx.reporter,
        aws: ctx.globals,
        ...(deps.createClients ? { awsClients: deps.createClients } : {}),
        ...(signal ? { signal } : {}),
      }));
  const runTests = deps.runTests ?? runLogged;

  let built: BuildResult | undefined;
  let pushed: StackPushResult | undefined;
  let aws: AwsProvider | undefined;
  let fleet: FleetResult | undefined;
  let verify: VerifyResult | undefined;
  const failure = (error: unknown) =>
    isBerthError(error)
      ? [
          error.message,
          ...(error.hint ? [`hint: ${error.hint}`] : []),
          ...tailOf(error.details),
        ].join('\n')
      : errorMessage(error);

  const stages: Record<StageName, Stage> = {
    test: async (signal) => {
      if (options.skipTests) return { status: 'skipped', detail: '--skip-tests' };
      if (!config.pipeline.test)
        return { status: 'skipped', detail: 'no pipeline.test command configured' };
      const logFile = path.join(paths.logs, `${newTaskId('test')}.log`);
      await mkdir(paths.logs, { recursive: true });
      const code = await runTests(
        config.pipeline.test,
        path.resolve(dir, config.pipeline.testDirectory),
        logFile,
        signal,
      );
      if (code === 0) return { status: 'passed', detail: `log: ${logFile}` };
      const tail = await tailLog(logFile, 15);
      return {
        status: 'failed',
        detail: `${config.pipeline.test.join(' ')} exited ${code}; log: ${logFile}\n${tail.join('\n')}`,
      };
    },
    build: async (signal) => {
      try {
        built = await build(loaded, signal);
      } catch (error) {
        return { status: 'failed', detail: failure(error) };
      }
      if (built.policy && !built.policy.ok) {
        const broken = built.policy.checks.filter((c) => !c.ok).map((c) => c.detail);
        return {
          status: 'failed',
          detail: `the production image breaks the policy: ${broken.join('; ')}`,
        };
      }
      return {
        status: 'passed',
        detail: `${built.version}: ${built.images.map((i) => i.target).join(', ')}`,
      };
    },
    push: async (signal) => {
      if (!built) return { status: 'failed', detail: 'nothing was built' };
      try {
        pushed = await push(loaded, built.version, signal);
      } catch (error) {
        return { status: 'failed', detail: failure(error) };
      }
      return { status: 'passed', detail: `${pushed.uri} ${pushed.digest}` };
    },
    migrate: async (signal) => {
      if (!pushed) return { status: 'failed', detail: 'nothing was pushed' };
      // Exactly what was pushed (`<ECR uri>@sha256:…` of the git SHA tag), as the workflow
      // `berth ci init` writes passes it to `migrate --image`.
      aws = openAwsFleet(ctx, opened, deps, pushed.imageRef);
      fleet = await migrateFleet(
        aws.backend,
        migrateOptions(
          config,
          paths.runs,
          { databases, reporter: ctx.reporter, signal },
          { concurrency: options.concurrency },
        ),
      );
      const n = fleet.counts;
      const context = await aws.context();
      return {
        status: fleet.ok ? 'passed' : 'failed',
        detail: `${n.applied} applied, ${n.upToDate} up to date, ${n.failed} failed, ${n.locked} locked, ${n.skipped} skipped (ECS Fargate, ${context.family}:${context.revision})`,
      };
    },
    verify: async (signal) => {
      if (!aws) return { status: 'failed', detail: 'migrate did not run' };
      verify = await verifyFleet(
        aws.backend,
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
  const context = aws ? await aws.context().catch(() => undefined) : undefined;
  if (ctx.out.json) {
    ctx.out.data({
      type: 'pipeline',
      provider: 'aws',
      ...result,
      image: built ? { ...built, pushed: pushed ?? null } : null,
      taskDefinition: context
        ? {
            family: context.family,
            revision: context.revision,
            arn: context.taskDefinitionArn,
            image: context.image,
          }
        : null,
      migrate: fleet ?? null,
      verify: verify ?? null,
    });
  } else {
    renderPipeline(ctx.out, result, { fleet, verify, title: 'Pipeline summary (aws)' });
  }
  return pipelineExitCode(result, ctx.interrupted());
}
