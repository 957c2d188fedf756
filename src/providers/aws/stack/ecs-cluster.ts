/** Step 3 of the seed: the ECS cluster, Fargate with FARGATE_SPOT available. */
import type { CapacityProviderStrategyItem, EcsApi, EcsCluster } from '../api/ecs-api.js';
import type { Tags } from '../api/types.js';
import { BerthError } from '../../../core/errors.js';
import { decide, fieldChange, has, sortedStrings, tagChanges, tagsToSet } from './diff.js';
import { isOwned } from './tags.js';
import type {
  JsonValue,
  ResourceDefinition,
  ResourcePlan,
  ResourceState,
  StackOutputs,
  StackSpec,
} from './types.js';

export interface ClusterDesired {
  name: string;
  capacityProviders: string[];
  /** Migrations run on regular Fargate: a Spot interruption mid-migration is not worth the saving. */
  defaultCapacityProviderStrategy: CapacityProviderStrategyItem[];
  tags: Tags;
}

export function desiredCluster(spec: StackSpec): ClusterDesired {
  return {
    name: spec.config.cluster.name,
    capacityProviders: ['FARGATE', 'FARGATE_SPOT'],
    defaultCapacityProviderStrategy: [{ capacityProvider: 'FARGATE', weight: 1, base: 0 }],
    tags: spec.tags,
  };
}

/** A deleted cluster stays visible as INACTIVE for a while: that is absent for berth. */
export async function readCluster(ecs: EcsApi, name: string): Promise<EcsCluster | undefined> {
  const cluster = await ecs.describeCluster(name);
  return cluster && cluster.status !== 'INACTIVE' ? cluster : undefined;
}

const strategy = (items: CapacityProviderStrategyItem[]): JsonValue =>
  [...items]
    .sort((a, b) => a.capacityProvider.localeCompare(b.capacityProvider))
    .map((s) => ({ capacityProvider: s.capacityProvider, weight: s.weight, base: s.base }));

export function diffCluster(
  actual: EcsCluster | undefined,
  desired: ClusterDesired,
  app: string,
  adopt: boolean,
): ResourcePlan {
  const changes = [
    ...fieldChange(
      'capacityProviders',
      actual ? sortedStrings(actual.capacityProviders) : undefined,
      sortedStrings(desired.capacityProviders),
    ),
    ...fieldChange(
      'defaultCapacityProviderStrategy',
      actual ? strategy(actual.defaultCapacityProviderStrategy) : undefined,
      strategy(desired.defaultCapacityProviderStrategy),
    ),
    ...tagChanges(actual?.tags ?? {}, desired.tags),
  ];
  return decide(
    'ecs-cluster',
    desired.name,
    { exists: Boolean(actual), owned: actual ? isOwned(actual.tags, app) : false, adopt },
    changes,
  );
}

export async function applyCluster(
  ecs: EcsApi,
  plan: ResourcePlan,
  actual: EcsCluster | undefined,
  desired: ClusterDesired,
  log: (text: string) => void,
): Promise<EcsCluster> {
  if (plan.action === 'create' || !actual) {
    log(`creating ECS cluster ${desired.name} (FARGATE, FARGATE_SPOT)`);
    return ecs.createCluster({
      name: desired.name,
      capacityProviders: desired.capacityProviders,
      defaultCapacityProviderStrategy: desired.defaultCapacityProviderStrategy,
      tags: desired.tags,
    });
  }
  if (has(plan, 'capacityProviders') || has(plan, 'defaultCapacityProviderStrategy')) {
    log(`ECS cluster ${desired.name}: capacity providers ${desired.capacityProviders.join(', ')}`);
    await ecs.putClusterCapacityProviders(
      desired.name,
      desired.capacityProviders,
      desired.defaultCapacityProviderStrategy,
    );
  }
  const tags = tagsToSet(plan.changes, desired.tags);
  if (Object.keys(tags).length > 0) {
    log(`ECS cluster ${desired.name}: tagging (${Object.keys(tags).join(', ')})`);
    await ecs.tagResource(actual.arn, tags);
  }
  return actual;
}

function outputs(cluster: EcsCluster | undefined): StackOutputs {
  return cluster ? { ECS_CLUSTER_NAME: cluster.name, ECS_CLUSTER_ARN: cluster.arn } : {};
}

export const ecsCluster: ResourceDefinition = {
  kind: 'ecs-cluster',
  title: 'ECS cluster',
  step: 'ecs-cluster',
  dependsOn: [],
  name: (config) => config.cluster.name,
  async load(env): Promise<ResourceState> {
    const name = env.config.cluster.name;
    const { ecs } = env.clients;
    const actual = await readCluster(ecs, name);
    return {
      kind: 'ecs-cluster',
      name,
      exists: Boolean(actual),
      owned: actual ? isOwned(actual.tags, env.config.app) : false,
      plan: (spec, _upstream, adopt) =>
        diffCluster(actual, desiredCluster(spec), spec.config.app, adopt),
      async apply(plan, spec, _upstream, log) {
        return outputs(await applyCluster(ecs, plan, actual, desiredCluster(spec), log));
      },
      outputs: () => outputs(actual),
      destroyBlocker() {
        const busy = actual ? actual.runningTasksCount + actual.pendingTasksCount : 0;
        if (busy === 0) return undefined;
        return new BerthError(
          'AWS_ERROR',
          `ECS cluster ${name} still has ${busy} task(s) running or pending; nothing was deleted`,
          {
            hint: 'stop them first (`berth tasks stop --all`), or wait for them to finish, then run `berth down` again',
            details: { resource: name },
          },
        );
      },
      async destroy(log) {
        log(`deleting ECS cluster ${name}`);
        await ecs.deleteCluster(name);
        return undefined;
      },
      details: () =>
        Promise.resolve(
          actual
            ? {
                name: actual.name,
                arn: actual.arn,
                status: actual.status,
                capacityProviders: actual.capacityProviders,
                runningTasks: actual.runningTasksCount,
                pendingTasks: actual.pendingTasksCount,
              }
            : null,
        ),
    };
  },
};
