/**
 * Assembles one fleet run on ECS: the run context (task-definition revision, network), the
 * ECS task runtime and the backend, with task records and logs in the shared state
 * directory, so `berth logs`, `berth runs` and `--resume` work the same on both providers.
 */
import type { LoadedConfig } from '../../config/load-config.js';
import type { Reporter } from '../../core/events.js';
import { ListingCache } from '../../state/listing-cache.js';
import { openStateDir } from '../../state/state-dir.js';
import { AwsBackend } from './tasks/aws-backend.js';
import type { AwsClients } from './api/clients.js';
import { prepareEcsRun, type EcsRunContext } from './tasks/ecs-run-context.js';
import { pinnedImage } from './tasks/image-ref.js';
import { EcsTaskRuntime, realSleep, type Sleep } from './tasks/ecs-task-runtime.js';
import { DESCRIBE_TASKS_MAX, EcsPoller } from './tasks/ecs-poller.js';
import { LogReader } from './tasks/log-reader.js';
import { AwsQuotas } from './tasks/quotas.js';
import type { EcrRepository } from './api/ecr-api.js';
import type { EcsTasksApi } from './api/ecs-api.js';

export interface OpenAwsOptions {
  loaded: LoadedConfig;
  clients: AwsClients;
  region: string;
  /** The image to run (a new revision is registered for it); undefined: the latest revision. */
  image?: string;
  reporter: Reporter;
  now?: () => number;
  sleep?: Sleep;
  /** The DescribeTasks poller's and the log reader's interval (default 5 s). */
  pollMs?: number;
  lockPollMs?: number;
}

/** One fleet run on ECS: what aws-provider.ts's openFleet hands to the fleet runner. */
export interface EcsFleetRun {
  runtime: EcsTaskRuntime;
  backend: AwsBackend;
  /** The run's token buckets and throttling counts, its DescribeTasks poller and its log reader. */
  quotas: AwsQuotas;
  poller: EcsPoller;
  reader: LogReader;
  /** Resolved once, on first use. */
  context(): Promise<EcsRunContext>;
}

export function openAws(options: OpenAwsOptions): EcsFleetRun {
  const { loaded, clients } = options;
  const { config, dir } = loaded;
  const { tasks: store, paths } = openStateDir(loaded);
  let prepared: Promise<EcsRunContext> | undefined;
  const context = () => {
    prepared ??= prepareEcsRun({
      clients,
      config,
      region: options.region,
      configFile: loaded.file,
      ...(options.image !== undefined ? { image: options.image } : {}),
      reporter: options.reporter,
    });
    // A failure is not remembered: the next command (or call) tries again.
    prepared.catch(() => {
      prepared = undefined;
    });
    return prepared;
  };
  const timing = {
    ...(options.now ? { now: options.now } : {}),
    ...(options.sleep ? { sleep: options.sleep } : {}),
  };
  // One of each per run, shared by all its tasks: AWS's quotas are per account, not per task.
  const clock = { now: options.now ?? Date.now, sleep: options.sleep ?? realSleep };
  const pollMs = options.pollMs ?? 5_000;
  const quotas = new AwsQuotas({ clock });
  const poller = new EcsPoller({ ecs: clients.ecs, quotas, clock, pollMs });
  const reader = new LogReader({ logs: clients.logs, quotas, clock, pollMs });
  const runtime = new EcsTaskRuntime({
    ecs: clients.ecs,
    logs: clients.logs,
    quotas,
    poller,
    reader,
    context,
    store,
    reporter: options.reporter,
    ...timing,
    pollMs,
  });
  // The lock's look at the cluster (ListTasks + DescribeTasks) retries throttling too.
  const ecs: EcsTasksApi = {
    ...clients.ecs,
    describeTasks: async (cluster, arns) => {
      const out: Awaited<ReturnType<EcsTasksApi['describeTasks']>> = { tasks: [], failures: [] };
      for (let i = 0; i < arns.length; i += DESCRIBE_TASKS_MAX) {
        const chunk = arns.slice(i, i + DESCRIBE_TASKS_MAX);
        const part = await quotas.call('describeTasks', () =>
          clients.ecs.describeTasks(cluster, chunk),
        );
        out.tasks.push(...part.tasks);
        out.failures.push(...part.failures);
      }
      return out;
    },
    listTaskArns: (cluster, query) =>
      quotas.call('describeTasks', () => clients.ecs.listTaskArns(cluster, query)),
  };
  // The stack's ECR repository, for pinning the listing's image: one lookup per run (a
  // failed one is tried again).
  let repositoryLookup: Promise<EcrRepository | undefined> | undefined;
  const repository = () => {
    repositoryLookup ??= clients.ecr.describeRepository(config.registry.name);
    repositoryLookup.catch(() => (repositoryLookup = undefined));
    return repositoryLookup;
  };
  const backend = new AwsBackend({
    config,
    configDir: dir,
    ecs,
    runtime,
    context,
    listings: {
      cache: new ListingCache(paths.listings),
      image: async () => pinnedImage(clients.ecr, repository, (await context()).image),
    },
    ownTasks: runtime.started,
    reporter: options.reporter,
    ...timing,
    ...(options.lockPollMs !== undefined ? { lockPollMs: options.lockPollMs } : {}),
  });
  return {
    runtime,
    backend,
    quotas,
    poller,
    reader,
    context,
  };
}
