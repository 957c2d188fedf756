/**
 * The delivery pipeline, written once for every provider: test (pipeline.test) → build (the
 * Dockerfile's targets, policy checked) → push (the git SHA tag and latest to the provider's
 * registry) → migrate (the fleet, on the image just pushed or built) → verify. The stages
 * ask the provider for capabilities, never for its name: a registry that tasks do not
 * require (local) lets build and push be skipped, and tasks then run as host processes.
 *
 * The stage runners that need a container engine or a shell are injected (`StageRunners`),
 * so the sequencing is tested without either.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { errorMessage, isBerthError } from '../core/errors.js';
import type { Reporter, StageName } from '../core/events.js';
import { migrateOptions, verifyOptions } from '../fleet/fleet-options.js';
import { migrateInWaves, planWaves } from '../fleet/waves.js';
import { selectDatabases } from '../fleet/tenants.js';
import type { FleetBackend, FleetResult } from '../fleet/types.js';
import { verifyFleet, verifyGoal, type VerifyResult } from '../fleet/verify.js';
import type { BuildResult } from '../image/build.js';
import { lintPending, type LintReport } from '../fleet/lint-pending.js';
import { detectEngine, type EngineStatus } from '../image/engine.js';
import { formatSize } from '../image/inspect.js';
import { buildStack, dockerfilePath, hasDockerfile } from '../image/stack.js';
import type { OpenedFleet, Provider, RegistryPush } from '../providers/provider.js';
import { tailLog } from '../state/task-store.js';
import { newTaskId } from '../tasks/task-id.js';
import { runLogged } from './run-command.js';
import { runPipeline, type PipelineResult, type Stage, type StageOutcome } from './run-pipeline.js';

export interface DeliveryOptions {
  database?: string[] | undefined;
  all?: boolean | undefined;
  skipTests?: boolean | undefined;
  concurrency?: number | undefined;
  /** local: auto, process or container. */
  runtime?: string | undefined;
  /** A stage that skips itself (not configured, no engine, nothing to lint) fails instead. */
  strict?: boolean | undefined;
  reporter: Reporter;
  signal?: AbortSignal;
}

export interface StageRunners {
  /** The test stage's command, its output to `logFile`; the exit code (null: did not start). */
  runTests(
    command: string[],
    cwd: string,
    logFile: string,
    signal?: AbortSignal,
  ): Promise<number | null>;
  detectEngine(cli: string): Promise<EngineStatus>;
  /** squawk over the SQL of the migrations pending on `databases` (src/fleet/lint-pending.ts). */
  lint(backend: FleetBackend, databases: string[], signal?: AbortSignal): Promise<LintReport>;
  build(signal?: AbortSignal): Promise<BuildResult>;
  push(tag: string, signal?: AbortSignal): Promise<RegistryPush>;
}

export interface DeliveryResult extends PipelineResult {
  provider: Provider['name'];
  image: (BuildResult & { pushed: RegistryPush | null }) | null;
  migrate: FleetResult | null;
  verify: VerifyResult | null;
  /** Where the tasks ran: `{ runtime }` locally, `{ taskDefinition }` on aws. */
  facts: Record<string, unknown>;
}

/** The production runners: the shell, the container engine, the provider's registry. */
export function defaultRunners(provider: Provider, reporter: Reporter): StageRunners {
  return {
    runTests: runLogged,
    detectEngine,
    lint: (backend, databases, signal) =>
      lintPending({
        config: provider.loaded.config,
        configDir: provider.loaded.dir,
        backend,
        databases,
        signal,
      }),
    build: (signal) =>
      buildStack(provider.loaded, { target: 'all', reporter, ...(signal ? { signal } : {}) }),
    push: (tag, signal) => provider.registry.push(tag, signal),
  };
}

/** The message a stage shows for an error: the message, the hint, the tail of a build log. */
function failure(error: unknown): StageOutcome {
  const detail = isBerthError(error)
    ? [
        error.message,
        ...(error.hint ? [`hint: ${error.hint}`] : []),
        ...tailOf(error.details),
      ].join('\n')
    : errorMessage(error);
  return { status: 'failed', detail };
}

function tailOf(details: Record<string, unknown> | undefined): string[] {
  const tail = details?.tail;
  return Array.isArray(tail) ? tail.filter((l): l is string => typeof l === 'string') : [];
}

export async function runDelivery(
  provider: Provider,
  options: DeliveryOptions,
  runners: StageRunners = defaultRunners(provider, options.reporter),
): Promise<DeliveryResult> {
  const { loaded, registry } = provider;
  const { config, dir } = loaded;
  // Usage and config errors before any stage runs.
  await provider.checkConfig('pipeline');
  const tenants = await provider.tenants();
  const databases = selectDatabases(tenants, {
    databases: options.database,
    all: options.all ?? (options.database ? false : true),
  });
  // rollout.waves / rollout.canary hold for the pipeline's migrate stage too.
  const waves = planWaves(databases, config.rollout, tenants);
  await provider.checkFleetRequest({ purpose: 'migrate', runtime: options.runtime });
  const engine =
    registry.required || options.runtime === 'process'
      ? undefined
      : await runners.detectEngine(config.local.containerCli);

  let built: BuildResult | undefined;
  let pushed: RegistryPush | undefined;
  let fleet: OpenedFleet | undefined;
  let migrated: FleetResult | undefined;
  let verified: VerifyResult | undefined;

  /** The fleet migrate runs on: what was pushed, else what was built (opened once). */
  const openMigrateFleet = async (): Promise<OpenedFleet> => {
    // Exactly what was pushed (`<registry>/<repo>@sha256:…`), else what was built.
    const production = built?.images.find((i) => i.target === 'production');
    const image = pushed?.imageRef ?? (registry.required ? undefined : production?.ref);
    const imageReason = pushed
      ? 'the image this pipeline pushed'
      : production
        ? 'the image this pipeline built'
        : engine && !engine.available
          ? `no container engine (${engine.reason ?? 'none answers'})`
          : options.runtime === 'process'
            ? '--runtime process'
            : 'no image was built';
    fleet ??= await provider.openFleet({
      purpose: 'migrate',
      image: image ?? null,
      imageReason,
      ...(options.runtime !== undefined ? { runtime: options.runtime } : {}),
    });
    return fleet;
  };

  const stages: Record<StageName, Stage> = {
    test: async (signal) => {
      if (options.skipTests) return { status: 'skipped', detail: '--skip-tests' };
      if (!config.pipeline.test)
        return { status: 'skipped', detail: 'no pipeline.test command configured' };
      const logFile = path.join(provider.state.paths.logs, `${newTaskId('test')}.log`);
      const cwd = path.resolve(dir, config.pipeline.testDirectory);
      await mkdir(path.dirname(logFile), { recursive: true });
      const code = await runners.runTests(config.pipeline.test, cwd, logFile, signal);
      if (code === 0)
        return { status: 'passed', detail: `log: ${path.relative(process.cwd(), logFile)}` };
      const tail = await tailLog(logFile, 15);
      return {
        status: 'failed',
        detail: `${config.pipeline.test.join(' ')} exited ${code}; log: ${logFile}\n${tail.join('\n')}`,
      };
    },

    lint: async (signal) => {
      let opened: OpenedFleet;
      try {
        opened = await openMigrateFleet();
      } catch (error) {
        return failure(error);
      }
      const report = await runners.lint(opened.backend, databases, signal);
      const errors = report.findings.filter((f) => f.level === 'error').length;
      const warnings = report.findings.length - errors;
      // Nothing linted is a skip only when nothing failed either: a migration whose SQL the
      // tool could not print (sql-unavailable) fails the stage, never passes it unlinted.
      if (report.linted.length === 0 && report.ok)
        return {
          status: 'skipped',
          detail: report.unsupported ?? `nothing to lint (${report.scope})`,
        };
      const counts = `${report.linted.length} migration(s), ${errors} error(s), ${warnings} warning(s)`;
      if (report.ok) return { status: 'passed', detail: `${counts}; ${report.scope}` };
      const first = report.findings
        .filter((f) => f.level === 'error')
        .slice(0, 5)
        .map((f) => `${f.file}:${f.line} ${f.rule}: ${f.message}`);
      return {
        status: 'failed',
        detail: `${counts} (berth lint shows them all)\n${first.join('\n')}`,
      };
    },

    build: async (signal) => {
      if (!registry.required) {
        // Tasks can run as host processes: no engine or no Dockerfile is a skip, not a failure.
        const status = engine ?? (await runners.detectEngine(config.local.containerCli));
        if (!status.available)
          return {
            status: 'skipped',
            detail: `no container engine (${status.reason}); migrations run as host processes`,
          };
        if (!(await hasDockerfile(loaded)))
          return {
            status: 'skipped',
            detail: `no Dockerfile at ${dockerfilePath(loaded)} (image.context); migrations run as host processes`,
          };
      }
      try {
        built = await runners.build(signal);
      } catch (error) {
        return failure(error);
      }
      if (built.policy && !built.policy.ok) {
        const broken = built.policy.checks.filter((c) => !c.ok).map((c) => c.detail);
        return {
          status: 'failed',
          detail: `the production image breaks the policy: ${broken.join('; ')}\n${built.policy.checks
            .map((c) => `${c.ok ? '✓' : '✗'} ${c.name}: ${c.detail}`)
            .join('\n')}`,
        };
      }
      const sizes = built.images.map((i) => `${i.target} ${formatSize(i.sizeBytes)}`).join(', ');
      const reduction =
        built.reduction === null ? '' : ` (${Math.round(built.reduction * 100)}% smaller)`;
      return { status: 'passed', detail: `${built.version}: ${sizes}${reduction}; policy passed` };
    },

    push: async (signal) => {
      if (!built)
        return { status: registry.required ? 'failed' : 'skipped', detail: 'nothing was built' };
      const unavailable = registry.unavailable();
      if (unavailable) return { status: 'skipped', detail: unavailable };
      try {
        pushed = await runners.push(built.version, signal);
      } catch (error) {
        return failure(error);
      }
      return { status: 'passed', detail: `${pushed.uri} ${pushed.digest}` };
    },

    migrate: async (signal) => {
      try {
        fleet = await openMigrateFleet();
      } catch (error) {
        return failure(error);
      }
      migrated = await migrateInWaves(fleet.backend, {
        ...migrateOptions(
          config,
          provider.state.paths.runs,
          { databases, reporter: options.reporter, signal },
          { concurrency: options.concurrency },
        ),
        waves,
      });
      const n = migrated.counts;
      return {
        status: migrated.ok ? 'passed' : 'failed',
        detail: `${n.applied} applied, ${n.upToDate} up to date, ${n.failed} failed, ${n.locked} locked, ${n.skipped} skipped (${await fleet.where()})`,
      };
    },

    verify: async (signal) => {
      if (!fleet) return { status: 'failed', detail: 'migrate did not run' };
      verified = await verifyFleet(
        fleet.backend,
        verifyOptions(config, { databases, reporter: options.reporter, signal }),
      );
      const complete = verified.databases.filter((d) => d.ok).length;
      return {
        status: verified.ok ? 'passed' : 'failed',
        detail: `${complete}/${verified.databases.length} complete (${verifyGoal(config.database.expectedTables, verified.schema)})`,
      };
    },
  };

  const result = await runPipeline(
    stages,
    options.reporter,
    options.signal,
    Date.now,
    options.strict === true,
  );
  return {
    ...result,
    provider: provider.name,
    image: built ? { ...built, pushed: pushed ?? null } : null,
    migrate: migrated ?? null,
    verify: verified ?? null,
    facts: fleet ? await fleet.facts() : {},
  };
}
