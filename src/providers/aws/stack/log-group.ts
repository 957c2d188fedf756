/** Step 3 of the seed: the CloudWatch log group the tasks write to, with its retention. */
import type { LogGroup, LogsApi } from '../api/logs-api.js';
import type { Tags } from '../api/types.js';
import { decide, fieldChange, has, tagChanges, tagsToSet } from './diff.js';
import { isOwned } from './tags.js';
import type {
  ResourceDefinition,
  ResourcePlan,
  ResourceState,
  StackOutputs,
  StackSpec,
} from './types.js';

export interface LogGroupDesired {
  name: string;
  retentionDays: number;
  tags: Tags;
}

export interface LogGroupActual {
  group: LogGroup;
  tags: Tags;
}

export function desiredLogGroup(spec: StackSpec): LogGroupDesired {
  return {
    name: spec.config.logs.group,
    retentionDays: spec.config.logs.retentionDays,
    tags: spec.tags,
  };
}

export async function readLogGroup(
  logs: LogsApi,
  name: string,
): Promise<LogGroupActual | undefined> {
  const group = await logs.describeLogGroup(name);
  if (!group) return undefined;
  return { group, tags: await logs.listTags(group.arn) };
}

export function diffLogGroup(
  actual: LogGroupActual | undefined,
  desired: LogGroupDesired,
  app: string,
  adopt: boolean,
): ResourcePlan {
  const changes = [
    // A log group without retention keeps logs forever: shown as null.
    ...fieldChange(
      'retentionDays',
      actual ? (actual.group.retentionDays ?? null) : undefined,
      desired.retentionDays,
    ),
    ...tagChanges(actual?.tags ?? {}, desired.tags),
  ];
  return decide(
    'log-group',
    desired.name,
    { exists: Boolean(actual), owned: actual ? isOwned(actual.tags, app) : false, adopt },
    changes,
  );
}

export async function applyLogGroup(
  logs: LogsApi,
  plan: ResourcePlan,
  actual: LogGroupActual | undefined,
  desired: LogGroupDesired,
  log: (text: string) => void,
): Promise<LogGroup> {
  if (plan.action === 'create' || !actual) {
    log(`creating log group ${desired.name} (${desired.retentionDays} days)`);
    await logs.createLogGroup(desired.name, desired.tags);
    await logs.putRetentionPolicy(desired.name, desired.retentionDays);
    const created = await logs.describeLogGroup(desired.name);
    return (
      created ?? {
        name: desired.name,
        arn: '',
        retentionDays: desired.retentionDays,
        storedBytes: 0,
      }
    );
  }
  if (has(plan, 'retentionDays')) {
    log(
      `log group ${desired.name}: retention ${actual.group.retentionDays ?? 'never expire'} → ${desired.retentionDays} days`,
    );
    await logs.putRetentionPolicy(desired.name, desired.retentionDays);
  }
  const tags = tagsToSet(plan.changes, desired.tags);
  if (Object.keys(tags).length > 0) {
    log(`log group ${desired.name}: tagging (${Object.keys(tags).join(', ')})`);
    await logs.tagResource(actual.group.arn, tags);
  }
  return { ...actual.group, retentionDays: desired.retentionDays };
}

function outputs(group: LogGroup | undefined, streamPrefix: string): StackOutputs {
  return group
    ? {
        LOG_GROUP_NAME: group.name,
        ...(group.arn ? { LOG_GROUP_ARN: group.arn } : {}),
        LOG_STREAM_PREFIX: streamPrefix,
      }
    : {};
}

export const logGroup: ResourceDefinition = {
  kind: 'log-group',
  title: 'CloudWatch log group',
  step: 'ecs-cluster',
  dependsOn: [],
  name: (config) => config.logs.group,
  async load(env): Promise<ResourceState> {
    const name = env.config.logs.group;
    const prefix = env.config.logs.streamPrefix;
    const { logs } = env.clients;
    const actual = await readLogGroup(logs, name);
    return {
      kind: 'log-group',
      name,
      exists: Boolean(actual),
      owned: actual ? isOwned(actual.tags, env.config.app) : false,
      plan: (spec, _upstream, adopt) =>
        diffLogGroup(actual, desiredLogGroup(spec), spec.config.app, adopt),
      async apply(plan, spec, _upstream, log) {
        return outputs(await applyLogGroup(logs, plan, actual, desiredLogGroup(spec), log), prefix);
      },
      outputs: () => outputs(actual?.group, prefix),
      async destroy(log) {
        log(`deleting log group ${name}`);
        await logs.deleteLogGroup(name);
        return undefined;
      },
      details: () =>
        Promise.resolve(
          actual
            ? {
                name: actual.group.name,
                arn: actual.group.arn,
                retentionDays: actual.group.retentionDays ?? null,
                storedBytes: actual.group.storedBytes,
              }
            : null,
        ),
    };
  },
};
