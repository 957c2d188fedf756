/**
 * What every ECS task berth starts needs, worked out once per command: the cluster, the
 * task-definition revision to run, the network (config subnets, the backend security group
 * resolved by ID or Name tag), the container and where its logs go.
 *
 * With an image (migrate, the pipeline) berth registers a revision from berth.yaml — the same
 * desired definition `berth up` builds (../stack/task-definition.ts) with the image to
 * run in place of `:latest`, as the seed's workflow registers `<ECR uri>:<git sha>` — unless
 * the family's latest revision is already exactly that, so running twice registers nothing
 * the second time. Without an image (verify) the latest revision runs as it is.
 */
import type { Config } from '../../../config/schema.js';
import { BerthError } from '../../../core/errors.js';
import type { Reporter } from '../../../core/events.js';
import { assertReferences, resolveReferences } from '../stack/references.js';
import { stackTags } from '../stack/tags.js';
import {
  desiredTaskDefinition,
  diffTaskDefinition,
  readTaskDefinition,
} from '../stack/task-definition.js';
import type { StackSpec } from '../stack/types.js';
import type { AwsClients } from '../api/clients.js';
import type { TaskDefinition } from '../api/ecs-api.js';
import type { Tags } from '../api/types.js';

export interface EcsRunContext {
  app: string;
  cluster: string;
  family: string;
  taskDefinitionArn: string;
  revision: number;
  /** The essential container the overrides address. */
  containerName: string;
  image: string;
  subnets: string[];
  securityGroups: string[];
  assignPublicIp: boolean;
  logGroup: string;
  streamPrefix: string;
  /** berth.yaml tags + berth's ownership tags: every task carries them. */
  tags: Tags;
  /** True when this command registered the revision. */
  registered: boolean;
}

export interface PrepareEcsRunOptions {
  clients: AwsClients;
  config: Config;
  region: string;
  /** berth.yaml's path, for messages. */
  configFile: string;
  /** The image to run; undefined runs the family's latest revision as it is. */
  image?: string;
  reporter?: Reporter;
}

/** `<streamPrefix>/<container>/<task id>`: the awslogs driver's stream for a task. */
export function logStreamName(prefix: string, container: string, taskId: string): string {
  return `${prefix}/${container}/${taskId}`;
}

export async function prepareEcsRun(options: PrepareEcsRunOptions): Promise<EcsRunContext> {
  const { clients, config, region } = options;
  const say = (text: string) => options.reporter?.emit({ type: 'message', level: 'info', text });
  const family = config.task.family;
  const [resolved, actual] = await Promise.all([
    resolveReferences(clients, config, region),
    readTaskDefinition(clients.ecs, family, config.app),
  ]);
  const refs = assertReferences(resolved, options.configFile);
  if (!actual) {
    throw new BerthError(
      'AWS_REFERENCE_INVALID',
      `the task definition family ${family} does not exist in ${region}`,
      { hint: 'run `berth up` first: it creates the stack the migration tasks run on' },
    );
  }
  if (!actual.owned) {
    throw new BerthError(
      'AWS_RESOURCE_NOT_OWNED',
      `the task definition family ${family} was not created by berth for stack ${config.app}`,
      { hint: 'run `berth up --adopt` to take it over, or rename task.family in berth.yaml' },
    );
  }

  let td: TaskDefinition = actual.latest;
  let registered = false;
  if (options.image !== undefined) {
    const spec: StackSpec = { config, region, refs, tags: stackTags(config) };
    const desired = desiredTaskDefinition(spec, {});
    const container = desired.spec.containerDefinitions[0];
    if (container) container.image = options.image;
    const plan = diffTaskDefinition(actual, desired, false);
    const deployed = actual.latest.containerDefinitions.find(
      (c) => c.name === config.task.containerName,
    )?.image;
    const same =
      deployed === options.image && plan.changes.every((c) => c.field.startsWith('tags.'));
    if (!same) {
      td = await clients.ecs.registerTaskDefinition(desired.spec, desired.tags);
      registered = true;
      say(`registered task definition ${td.family}:${td.revision} with image ${options.image}`);
    }
  }

  const container =
    td.containerDefinitions.find((c) => c.name === config.task.containerName) ??
    td.containerDefinitions.find((c) => c.essential);
  if (!container) {
    throw new BerthError(
      'AWS_REFERENCE_INVALID',
      `task definition ${td.family}:${td.revision} has no container named ${config.task.containerName}`,
      { hint: 'run `berth up` to bring the task definition in line with berth.yaml' },
    );
  }
  const logOptions = container.logConfiguration?.options ?? {};
  return {
    app: config.app,
    cluster: config.cluster.name,
    family: td.family,
    taskDefinitionArn: td.arn,
    revision: td.revision,
    containerName: container.name,
    image: container.image,
    subnets: [...config.network.subnets],
    securityGroups: [refs.backendGroup.id],
    assignPublicIp: config.network.assignPublicIp,
    logGroup: logOptions['awslogs-group'] ?? config.logs.group,
    streamPrefix: logOptions['awslogs-stream-prefix'] ?? config.logs.streamPrefix,
    tags: stackTags(config),
    registered,
  };
}
