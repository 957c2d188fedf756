/**
 * The aws provider: ECS Fargate tasks in the stack's VPC, CloudWatch logs, ECR, and the
 * stack's resources. The AWS SDK clients are built on first use, so opening the provider
 * (e.g. for `berth runs list`) makes no AWS call; `.berth/` keeps task records, logs and run
 * journals as it does locally, so `berth logs`, `berth runs` and `--resume` work the same.
 */
import { checkConfigPaths } from '../../config/check-paths.js';
import { assertAwsReady, type LoadedConfig } from '../../config/load-config.js';
import { abortableSleep, type Clock } from '../../core/clock.js';
import { BerthError } from '../../core/errors.js';
import type { Reporter } from '../../core/events.js';
import { exec as defaultExec, type Exec } from '../../core/exec.js';
import { discoverTenants } from '../../fleet/tenants.js';
import { assertStateWritable, openStateDir } from '../../state/state-dir.js';
import type { FleetRequest, OpenedFleet, Provider, ProviderStatus } from '../provider.js';
import {
  createAwsClients,
  resolveAwsSettings,
  type AwsClients,
  type AwsClientsFactory,
} from './api/clients.js';
import { ecrRegistry } from './ecr-registry.js';
import { openAws } from './open-aws.js';
import { stackOperations } from './stack-operations.js';
import { resolveImage } from './tasks/image-ref.js';
import { awsTaskControl } from './tasks/task-control.js';

/** Tasks run on Fargate from an image; the network and secret fields must be set. */
const PATHS = { tasksRunHere: false, imageRequired: true, awsFields: true };

export interface AwsProviderOptions {
  reporter: Reporter;
  profile?: string;
  region?: string;
  endpointUrl?: string;
  env?: NodeJS.ProcessEnv;
  createClients?: AwsClientsFactory;
  clock?: Clock;
  exec?: Exec;
  pollMs?: number;
  wallClock?: () => Date;
}

export function awsProvider(loaded: LoadedConfig, options: AwsProviderOptions): Provider {
  const { config, dir } = loaded;
  const state = openStateDir(loaded);
  const settings = resolveAwsSettings(
    config,
    {
      ...(options.region ? { region: options.region } : {}),
      ...(options.profile ? { profile: options.profile } : {}),
      ...(options.endpointUrl ? { endpointUrl: options.endpointUrl } : {}),
    },
    options.env ?? process.env,
  );
  let built: AwsClients | undefined;
  const clients = () => (built ??= (options.createClients ?? createAwsClients)(settings));
  const exec = options.exec ?? defaultExec;
  const stack = stackOperations({
    loaded,
    clients,
    region: settings.region,
    outputsDir: state.paths.root,
    reporter: options.reporter,
    ...(options.wallClock ? { now: options.wallClock } : {}),
  });

  const checkRequest = (request: { runtime?: string | undefined }) => {
    if (request.runtime !== undefined)
      throw new BerthError(
        'USAGE',
        '--runtime chooses how the local provider runs tasks; on AWS every task runs on ECS Fargate',
        { hint: 'drop --runtime, or use --provider local' },
      );
    assertAwsReady(loaded);
  };

  return {
    name: 'aws',
    loaded,
    state,
    tasksRunHere: false,
    // Inline or file; a SQL query needs a connection berth has not got from outside the VPC.
    tenants: () => discoverTenants(config, dir),

    checkConfig: (purpose) => checkConfigPaths(loaded, { for: purpose, ...PATHS }),

    async checkFleetRequest(request) {
      checkRequest(request);
      await checkConfigPaths(loaded, { for: request.purpose, ...PATHS });
      await assertStateWritable(state);
    },

    async openFleet(request: FleetRequest): Promise<OpenedFleet> {
      checkRequest(request);
      if (request.image === null)
        throw new BerthError('USAGE', 'nothing was pushed: Fargate tasks need an image in ECR');
      const image =
        request.purpose === 'migrate'
          ? await resolveImage(loaded, clients().ecr, settings.region, request.image, exec)
          : request.image;
      const clock = options.clock;
      const aws = openAws({
        loaded,
        clients: clients(),
        region: settings.region,
        ...(image !== undefined ? { image } : {}),
        reporter: options.reporter,
        ...(clock
          ? {
              now: () => clock.now(),
              sleep: (ms: number, signal?: AbortSignal) => clock.sleep(ms, signal),
            }
          : { sleep: abortableSleep }),
        ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
      });
      // migrate: the revision and the network first: a stack that is not there is an error,
      // not a run of failed tasks.
      if (request.purpose === 'migrate') await aws.context();
      return {
        backend: aws.backend,
        where: async () => {
          const c = await aws.context();
          return `ECS Fargate, ${c.family}:${c.revision}`;
        },
        facts: async () => {
          const c = await aws.context().catch(() => undefined);
          return {
            taskDefinition: c
              ? { family: c.family, revision: c.revision, arn: c.taskDefinitionArn, image: c.image }
              : null,
          };
        },
      };
    },

    tasks: awsTaskControl(loaded, state, clients),

    async status(): Promise<ProviderStatus> {
      return { kind: 'stack', provider: 'aws', ...(await stack.status()) };
    },

    registry: ecrRegistry({
      loaded,
      clients,
      region: settings.region,
      reporter: options.reporter,
      exec,
    }),

    stack,

    close: () => Promise.resolve(),
  };
}
