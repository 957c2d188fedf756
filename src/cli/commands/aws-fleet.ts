/**
 * migrate, verify, logs and tasks with the aws provider. The fleet logic is the same as the
 * local provider's (fleet/run-fleet.ts, fleet/verify.ts) over an AwsBackend whose tasks run
 * on ECS Fargate (src/providers/aws); this file resolves the image, renders results and
 * picks exit codes — the same tables and --json shapes as the local provider.
 *
 * Injection point, like infra.ts: every command takes `deps` — `createClients` replaces the
 * AWS SDK (tests pass the in-memory fake), `clock` and `sleep` replace time (tests drive
 * ECS time with the fake's clock), `exec` replaces git, `confirm` the terminal prompt.
 */
import { migrateOptions, verifyOptions } from '../../fleet/fleet-options.js';
import path from 'node:path';
import { assertAwsReady, type LoadedConfig } from '../../config/load-config.js';
import { BerthError } from '../../core/errors.js';
import { ExitCode } from '../../core/exit-codes.js';
import { migrateFleet } from '../../fleet/run-fleet.js';
import { discoverTenants, selectDatabases } from '../../fleet/tenants.js';
import { verifyFleet } from '../../fleet/verify.js';
import { exec as defaultExec, type Exec } from '../../core/exec.js';
import { readImageState } from '../../state/image-state.js';
import { gitInfo } from '../../image/tags.js';
import {
  listFamilyTasks,
  summariseTask,
  TASK_ID_TAG,
  type AwsTaskSummary,
} from '../../providers/aws/tasks/aws-tasks.js';
import {
  createAwsClients,
  resolveAwsSettings,
  type AwsClients,
} from '../../providers/aws/api/clients.js';
import type { EcsTask } from '../../providers/aws/api/ecs-api.js';
import { logStreamName } from '../../providers/aws/tasks/ecs-run-context.js';
import type { EcsTaskRecord, Sleep } from '../../providers/aws/tasks/ecs-task-runtime.js';
import { LogFollower } from '../../providers/aws/tasks/log-follower.js';
import { openAws, type AwsProvider } from '../../providers/aws/open-aws.js';
import { statePaths } from '../../state/paths.js';
import { redactor } from '../../core/redact.js';
import { TaskStore } from '../../state/task-store.js';
import { confirmByTyping } from '../confirm.js';
import type { Context } from '../context.js';
import { table } from '../output.js';
import { renderVerify } from '../render-fleet.js';
import type { InfraDeps } from './infra.js';
import {
  fleetExitCode,
  printFleet,
  selectMigrateDatabases,
  type MigrateOptions,
} from './migrate.js';
import type { VerifyCommandOptions } from './verify.js';

export interface AwsFleetDeps extends InfraDeps {
  /** Milliseconds now: task timeouts, lock waits, log draining (default Date.now). */
  clock?: () => number;
  /** Waits between ECS polls (default setTimeout). */
  sleep?: Sleep;
  /** DescribeTasks / GetLogEvents interval (default 5 s). */
  pollMs?: number;
  /** Runs git for the default image tag. */
  exec?: Exec;
}

export interface OpenedAwsFleet {
  loaded: LoadedConfig;
  clients: AwsClients;
  region: string;
}

/** The clients for this command, honouring --region/--profile/--endpoint-url. */
export async function awsClientsFor(ctx: Context, deps: AwsFleetDeps): Promise<OpenedAwsFleet> {
  const loaded = await ctx.config();
  const settings = resolveAwsSettings(loaded.config, ctx.globals, deps.env ?? process.env);
  return {
    loaded,
    clients: (deps.createClients ?? createAwsClients)(settings),
    region: settings.region,
  };
}

export function openAwsFleet(
  ctx: Context,
  opened: OpenedAwsFleet,
  deps: AwsFleetDeps,
  image: string | undefined,
): AwsProvider {
  return openAws({
    loaded: opened.loaded,
    clients: opened.clients,
    region: opened.region,
    ...(image !== undefined ? { image } : {}),
    reporter: ctx.reporter,
    ...(deps.clock ? { now: deps.clock } : {}),
    ...(deps.sleep ? { sleep: deps.sleep } : {}),
    ...(deps.pollMs !== undefined ? { pollMs: deps.pollMs } : {}),
  });
}

function rejectLocalOptions(options: { runtime?: string | undefined }): void {
  if (options.runtime !== undefined)
    throw new BerthError(
      'USAGE',
      '--runtime chooses how the local provider runs tasks; on AWS every task runs on ECS Fargate',
      { hint: 'drop --runtime, or use --provider local' },
    );
}

/**
 * The image migration tasks run: --image, else this commit's tag in the stack's ECR
 * repository (`<ECR uri>:<short sha>`, what `berth push` and the pipeline push), else the
 * image `berth push --provider aws` last pushed from this machine.
 */
export async function resolveImage(
  opened: OpenedAwsFleet,
  image: string | undefined,
  exec: Exec,
): Promise<string> {
  if (image !== undefined) {
    if (!/^\S+$/.test(image))
      throw new BerthError('USAGE', `--image must be an image reference, got "${image}"`);
    return image;
  }
  const { config, dir } = opened.loaded;
  const repository = await opened.clients.ecr.describeRepository(config.registry.name);
  if (!repository) {
    throw new BerthError(
      'AWS_REFERENCE_INVALID',
      `the ECR repository ${config.registry.name} does not exist in ${opened.region}`,
      { hint: 'run `berth up` first, then push an image (`berth push --provider aws`)' },
    );
  }
  const git = await gitInfo(exec, path.resolve(dir, config.image.context));
  if (git.sha) {
    const found = await opened.clients.ecr.describeImageTag(repository.name, git.tag);
    if (found) return `${repository.uri}:${git.tag}`;
    throw new BerthError(
      'AWS_REFERENCE_INVALID',
      `there is no image ${repository.uri}:${git.tag} (this commit${git.dirty ? ', with uncommitted changes' : ''}) in ECR`,
      {
        hint: 'push it first (`berth build && berth push --provider aws`, or `berth pipeline --provider aws`), or pass --image URI:TAG',
      },
    );
  }
  const pushed = (await readImageState(path.resolve(dir, config.local.dataDir))).pushed.aws;
  if (pushed) return pushed.uri;
  throw new BerthError('USAGE', 'which image should the migration tasks run?', {
    hint: 'pass --image URI:TAG (there is no git commit to derive the tag from, and nothing was pushed from here)',
  });
}

/** `berth migrate --provider aws`: one ECS task per database (or batch), the same results as local. */
export async function awsMigrateCommand(
  ctx: Context,
  options: MigrateOptions,
  deps: AwsFleetDeps = {},
): Promise<number> {
  rejectLocalOptions(options);
  const opened = await awsClientsFor(ctx, deps);
  const { loaded } = opened;
  const { config, dir } = loaded;
  assertAwsReady(loaded);
  const runsDir = statePaths(path.resolve(dir, config.local.dataDir)).runs;
  // Usage errors (unknown database, nothing to resume) before any AWS call.
  const { databases, resumedFrom } = await selectMigrateDatabases(ctx, options, runsDir, () =>
    discoverTenants(config, dir),
  );
  const image = await resolveImage(opened, options.image, deps.exec ?? defaultExec);
  const aws = openAwsFleet(ctx, opened, deps, image);
  // The revision and the network first: a stack that is not there is an error, not a run.
  await aws.context();
  const result = await migrateFleet(
    aws.backend,
    migrateOptions(
      config,
      aws.paths.runs,
      { databases, reporter: ctx.reporter, signal: ctx.signal },
      { ...options, resumedFrom },
    ),
  );
  printFleet(ctx, result);
  return fleetExitCode(result, ctx.interrupted());
}

/**
 * `berth verify --provider aws`: the probe (batched) and the check command run as tasks in
 * the VPC; the latest task-definition revision runs as it is unless --image is given.
 */
export async function awsVerifyCommand(
  ctx: Context,
  options: VerifyCommandOptions,
  deps: AwsFleetDeps = {},
): Promise<number> {
  rejectLocalOptions(options);
  const opened = await awsClientsFor(ctx, deps);
  const { config, dir } = opened.loaded;
  assertAwsReady(opened.loaded);
  const databases = selectDatabases(await discoverTenants(config, dir), {
    databases: options.database,
    all: options.all,
  });
  const aws = openAwsFleet(ctx, opened, deps, options.image);
  const result = await verifyFleet(
    aws.backend,
    verifyOptions(
      config,
      { databases, reporter: ctx.reporter, signal: ctx.signal },
      { skipCheck: Boolean(options.skipCheck) },
    ),
  );
  if (ctx.out.json) ctx.out.data(result);
  else renderVerify(ctx.out, result);
  if (ctx.interrupted()) return ExitCode.interrupted;
  return result.ok ? ExitCode.ok : ExitCode.verifyFailed;
}

// ---- logs ----------------------------------------------------------------------------

const ECS_TASK_ID = /^[0-9a-f]{32}$/;

/** A task by berth ID, ECS task ID or ARN, among the tasks ECS still remembers. */
async function findTask(
  clients: AwsClients,
  loaded: LoadedConfig,
  ref: string,
): Promise<EcsTask | undefined> {
  const tasks = await listFamilyTasks(clients.ecs, loaded.config, { stopped: true, owned: false });
  return tasks.find((t) => t.tags[TASK_ID_TAG] === ref || t.id === ref || t.arn === ref);
}

/**
 * `berth logs TASK_ID` for a task this machine has no record of (it ran on a CI runner):
 * the task's CloudWatch stream, found by berth's task ID (while ECS remembers the task,
 * about an hour after it stopped) or read directly with the ECS task ID.
 */
export async function awsLogsCommand(
  ctx: Context,
  ref: string,
  deps: AwsFleetDeps = {},
): Promise<number> {
  const opened = await awsClientsFor(ctx, deps);
  const { config } = opened.loaded;
  const arnId = /^arn:[^:]+:ecs:[^:]*:\d*:task\/[^/]+\/([0-9a-f]{32})$/.exec(ref)?.[1];
  const task = await findTask(opened.clients, opened.loaded, arnId ?? ref);
  const ecsTaskId = task?.id ?? arnId ?? (ECS_TASK_ID.test(ref) ? ref : undefined);
  if (!ecsTaskId) {
    throw new BerthError(
      'TASK_NOT_FOUND',
      `no task ${ref} here or on cluster ${config.cluster.name}`,
      {
        hint: 'ECS forgets stopped tasks after about an hour: pass the ECS task ID (32 hex characters, in the CI log) to read its CloudWatch stream',
      },
    );
  }
  const stream = logStreamName(config.logs.streamPrefix, config.task.containerName, ecsTaskId);
  const lines: string[] = [];
  const follower = new LogFollower(opened.clients.logs, config.logs.group, stream, (line) =>
    lines.push(redactor.redact(line)),
  );
  await follower.poll();
  if (follower.failure)
    throw new BerthError(
      'AWS_ERROR',
      `could not read ${config.logs.group}:${stream}: ${follower.failure}`,
    );
  if (!follower.found && !task) {
    throw new BerthError(
      'TASK_NOT_FOUND',
      `no task ${ref}: no local record, and no log stream ${config.logs.group}:${stream}`,
      { hint: 'see `berth tasks list --provider aws`' },
    );
  }
  const summary: AwsTaskSummary | { id: string; ecsTaskId: string } = task
    ? summariseTask(task, config.task.containerName)
    : { id: ref, ecsTaskId };
  if (ctx.out.json) {
    ctx.out.data({ task: { ...summary, logGroup: config.logs.group, logStream: stream }, lines });
    return ExitCode.ok;
  }
  for (const line of lines) ctx.out.result(line);
  if (!follower.found) ctx.out.note(`(no log stream ${config.logs.group}:${stream} yet)`);
  if ('status' in summary)
    ctx.out.note(
      `— task ${summary.id} (${summary.databases.join(', ')}): ${summary.status}${summary.exitCode === null ? '' : `, exit code ${summary.exitCode}`}${summary.stoppedReason && summary.exitCode === null ? `, ${summary.stoppedReason}` : ''}`,
    );
  else ctx.out.note(`— ECS task ${ecsTaskId} (${config.logs.group}:${stream})`);
  return ExitCode.ok;
}

// ---- tasks list / stop ---------------------------------------------------------------

/** `berth tasks list --provider aws`: berth's tasks on the cluster (running, and recently stopped). */
export async function awsTasksListCommand(
  ctx: Context,
  options: { running?: boolean; limit?: number },
  deps: AwsFleetDeps = {},
): Promise<number> {
  const opened = await awsClientsFor(ctx, deps);
  const { config } = opened.loaded;
  const all = (
    await listFamilyTasks(opened.clients.ecs, config, {
      stopped: !options.running,
      owned: true,
    })
  ).map((t) => summariseTask(t, config.task.containerName));
  const tasks = options.limit ? all.slice(-options.limit) : all; // oldest first
  if (ctx.out.json) {
    ctx.out.data({ cluster: config.cluster.name, tasks });
    return ExitCode.ok;
  }
  if (tasks.length === 0) {
    ctx.out.result(
      options.running
        ? `no running berth tasks on ${config.cluster.name}`
        : `no berth tasks on ${config.cluster.name} (ECS keeps stopped tasks for about an hour)`,
    );
    return ExitCode.ok;
  }
  ctx.out.result(
    table(
      ['TASK', 'ECS TASK', 'KIND', 'STATUS', 'EXIT', 'DATABASES', 'CREATED'],
      tasks.map((t) => [
        t.id,
        t.ecsTaskId,
        t.kind ?? '-',
        t.status,
        t.exitCode === null ? '-' : String(t.exitCode),
        shortList(t.databases),
        t.createdAt ?? '-',
      ]),
    ),
  );
  return ExitCode.ok;
}

function shortList(names: readonly string[]): string {
  return names.length <= 3 ? names.join(',') : `${names.slice(0, 3).join(',')},… (${names.length})`;
}

/**
 * `berth tasks stop --provider aws [TASK_ID...] | --all`: the seed's quick rollback, for
 * berth's tasks only (the seed stopped every task on the cluster). Asks for the stack name
 * unless --yes; without a terminal it refuses.
 */
export async function awsTasksStopCommand(
  ctx: Context,
  ids: string[],
  options: { all?: boolean; yes?: boolean },
  deps: AwsFleetDeps = {},
): Promise<number> {
  if (ids.length === 0 && !options.all)
    throw new BerthError('USAGE', 'name the tasks to stop, or pass --all');
  if (ids.length > 0 && options.all)
    throw new BerthError('USAGE', 'use either task IDs or --all, not both');
  const opened = await awsClientsFor(ctx, deps);
  const { loaded, clients } = opened;
  const { config } = loaded;
  const known = await listFamilyTasks(clients.ecs, config, { stopped: !options.all, owned: true });
  let targets: EcsTask[];
  if (options.all) targets = known;
  else {
    const paths = statePaths(path.resolve(loaded.dir, config.local.dataDir));
    const store = new TaskStore(paths.tasks, paths.logs);
    targets = [];
    for (const id of ids) {
      const local: EcsTaskRecord | undefined = await store.get(id).catch(() => undefined);
      const found = known.find(
        (t) =>
          t.tags[TASK_ID_TAG] === id ||
          t.id === id ||
          t.arn === id ||
          (local?.ecsTaskArn !== undefined && t.arn === local.ecsTaskArn),
      );
      if (!found)
        throw new BerthError(
          'TASK_NOT_FOUND',
          `no berth task ${id} on cluster ${config.cluster.name}`,
          {
            hint: 'see `berth tasks list --provider aws`',
          },
        );
      targets.push(found);
    }
  }
  const running = targets.filter(
    (t) => t.lastStatus !== 'STOPPED' && t.desiredStatus !== 'STOPPED',
  );
  const label = (t: EcsTask) => t.tags[TASK_ID_TAG] ?? t.id;
  if (running.length === 0) {
    if (ctx.out.json) ctx.out.data({ stopped: [] });
    else ctx.out.result(`no running berth tasks to stop on ${config.cluster.name}`);
    return ExitCode.ok;
  }
  const confirm = deps.confirm ?? confirmByTyping;
  if (!options.yes)
    ctx.out.note(
      running
        .map((t) => {
          const s = summariseTask(t, config.task.containerName);
          return `  ${label(t)}  ${t.id}  ${s.kind ?? '-'}  ${s.status}  ${shortList(s.databases)}`;
        })
        .join('\n'),
    );
  if (!options.yes)
    await confirm(
      `Stop ${running.length} running task(s) on ${config.cluster.name}?`,
      config.app,
      false,
    );
  const stopped: { id: string; ecsTaskId: string }[] = [];
  for (const task of running) {
    await clients.ecs.stopTask(config.cluster.name, task.arn, 'berth tasks stop (rollback)');
    stopped.push({ id: label(task), ecsTaskId: task.id });
  }
  if (ctx.out.json) ctx.out.data({ stopped: stopped.map((s) => s.id), tasks: stopped });
  else
    ctx.out.result(
      `stopped ${stopped.length} task(s); each database stays at its last completed migration (re-run \`berth migrate\` to finish)`,
    );
  return ExitCode.ok;
}
