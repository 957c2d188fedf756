import {
  CreateClusterCommand,
  DeleteClusterCommand,
  DeregisterTaskDefinitionCommand,
  DescribeClustersCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ListTaskDefinitionsCommand,
  PutClusterCapacityProvidersCommand,
  RegisterTaskDefinitionCommand,
  TagResourceCommand,
  type Cluster,
  type Compatibility,
  type ContainerDefinition as SdkContainerDefinition,
  type LogDriver,
  type NetworkMode,
  type Tag,
  type TaskDefinition as SdkTaskDefinition,
} from '@aws-sdk/client-ecs';
import type {
  ContainerDefinition,
  EcsApi,
  EcsCluster,
  TaskDefinition,
  TaskDefinitionSpec,
} from '../ecs-api.js';
import { awsCall, awsCallStrict, errorCodeOf } from '../errors.js';
import type { AwsSettings, Tags } from '../types.js';
import { sdkClientConfig, tagList, tagsFromList } from './common.js';

const op = (action: string, resource?: string) => ({
  service: 'ecs',
  action,
  ...(resource ? { resource } : {}),
});
const ecsTags = (tags: Tags): Tag[] => tagList(tags, 'key', 'value');
const fromEcsTags = (tags: Tag[] | undefined): Tags =>
  tagsFromList(
    tags,
    (t) => t.key,
    (t) => t.value,
  );

function cluster(c: Cluster): EcsCluster {
  return {
    name: c.clusterName ?? '',
    arn: c.clusterArn ?? '',
    status: c.status ?? 'ACTIVE',
    capacityProviders: c.capacityProviders ?? [],
    defaultCapacityProviderStrategy: (c.defaultCapacityProviderStrategy ?? []).map((s) => ({
      capacityProvider: s.capacityProvider ?? '',
      weight: s.weight ?? 0,
      base: s.base ?? 0,
    })),
    tags: fromEcsTags(c.tags),
    runningTasksCount: c.runningTasksCount ?? 0,
    pendingTasksCount: c.pendingTasksCount ?? 0,
  };
}

function container(c: SdkContainerDefinition): ContainerDefinition {
  return {
    name: c.name ?? '',
    image: c.image ?? '',
    essential: c.essential ?? true,
    ...(c.command ? { command: c.command } : {}),
    environment: (c.environment ?? []).map((e) => ({ name: e.name ?? '', value: e.value ?? '' })),
    secrets: (c.secrets ?? []).map((s) => ({ name: s.name ?? '', valueFrom: s.valueFrom ?? '' })),
    mountPoints: (c.mountPoints ?? []).map((m) => ({
      sourceVolume: m.sourceVolume ?? '',
      containerPath: m.containerPath ?? '',
      readOnly: m.readOnly ?? false,
    })),
    ...(c.logConfiguration
      ? {
          logConfiguration: {
            logDriver: c.logConfiguration.logDriver ?? '',
            options: c.logConfiguration.options ?? {},
          },
        }
      : {}),
    ...(c.user !== undefined ? { user: c.user } : {}),
    ...(c.readonlyRootFilesystem !== undefined
      ? { readonlyRootFilesystem: c.readonlyRootFilesystem }
      : {}),
  };
}

function taskDefinition(t: SdkTaskDefinition, tags: Tag[] | undefined): TaskDefinition {
  return {
    arn: t.taskDefinitionArn ?? '',
    family: t.family ?? '',
    revision: t.revision ?? 0,
    status: t.status ?? 'ACTIVE',
    ...(t.taskRoleArn ? { taskRoleArn: t.taskRoleArn } : {}),
    ...(t.executionRoleArn ? { executionRoleArn: t.executionRoleArn } : {}),
    ...(t.networkMode ? { networkMode: t.networkMode } : {}),
    requiresCompatibilities: t.requiresCompatibilities ?? [],
    ...(t.cpu ? { cpu: t.cpu } : {}),
    ...(t.memory ? { memory: t.memory } : {}),
    volumes: (t.volumes ?? []).map((v) => ({ name: v.name ?? '' })),
    containerDefinitions: (t.containerDefinitions ?? []).map(container),
    tags: fromEcsTags(tags),
  };
}

function sdkContainer(c: ContainerDefinition): SdkContainerDefinition {
  return {
    name: c.name,
    image: c.image,
    essential: c.essential,
    ...(c.command ? { command: c.command } : {}),
    environment: c.environment,
    secrets: c.secrets,
    mountPoints: c.mountPoints,
    ...(c.logConfiguration
      ? {
          logConfiguration: {
            logDriver: c.logConfiguration.logDriver as LogDriver,
            options: c.logConfiguration.options,
          },
        }
      : {}),
    ...(c.user !== undefined ? { user: c.user } : {}),
    ...(c.readonlyRootFilesystem !== undefined
      ? { readonlyRootFilesystem: c.readonlyRootFilesystem }
      : {}),
  };
}

export function createSdkEcsApi(
  settings: AwsSettings,
  client = new ECSClient(sdkClientConfig(settings)),
): EcsApi {
  return {
    async describeCluster(name) {
      const out = await awsCallStrict(op('DescribeClusters', name), () =>
        client.send(new DescribeClustersCommand({ clusters: [name], include: ['TAGS'] })),
      );
      const found = out.clusters?.[0];
      return found ? cluster(found) : undefined;
    },
    async createCluster(input) {
      const out = await awsCallStrict(op('CreateCluster', input.name), () =>
        client.send(
          new CreateClusterCommand({
            clusterName: input.name,
            capacityProviders: input.capacityProviders,
            defaultCapacityProviderStrategy: input.defaultCapacityProviderStrategy,
            tags: ecsTags(input.tags),
          }),
        ),
      );
      if (!out.cluster) throw new Error(`ECS returned no cluster for ${input.name}`);
      return cluster(out.cluster);
    },
    async putClusterCapacityProviders(name, capacityProviders, strategy) {
      await awsCallStrict(op('PutClusterCapacityProviders', name), () =>
        client.send(
          new PutClusterCapacityProvidersCommand({
            cluster: name,
            capacityProviders,
            defaultCapacityProviderStrategy: strategy,
          }),
        ),
      );
    },
    async tagResource(arn, tags) {
      await awsCallStrict(op('TagResource', arn), () =>
        client.send(new TagResourceCommand({ resourceArn: arn, tags: ecsTags(tags) })),
      );
    },
    async deleteCluster(name) {
      await awsCall(
        op('DeleteCluster', name),
        () => client.send(new DeleteClusterCommand({ cluster: name })),
        ['ClusterNotFoundException'],
      );
    },
    async describeTaskDefinition(familyOrArn) {
      try {
        const out = await client.send(
          new DescribeTaskDefinitionCommand({ taskDefinition: familyOrArn, include: ['TAGS'] }),
        );
        return out.taskDefinition ? taskDefinition(out.taskDefinition, out.tags) : undefined;
      } catch (error) {
        // ECS answers a missing family with a generic ClientException.
        if (
          errorCodeOf(error) === 'ClientException' &&
          /unable to describe task ?definition/i.test((error as Error).message)
        )
          return undefined;
        return awsCallStrict(op('DescribeTaskDefinition', familyOrArn), () =>
          Promise.reject(error as Error),
        );
      }
    },
    async listTaskDefinitionArns(family) {
      const arns: string[] = [];
      let nextToken: string | undefined;
      do {
        const token = nextToken;
        const out = await awsCallStrict(op('ListTaskDefinitions', family), () =>
          client.send(
            new ListTaskDefinitionsCommand({
              familyPrefix: family,
              status: 'ACTIVE',
              sort: 'DESC',
              ...(token ? { nextToken: token } : {}),
            }),
          ),
        );
        arns.push(...(out.taskDefinitionArns ?? []));
        nextToken = out.nextToken;
      } while (nextToken);
      // familyPrefix is a prefix: keep only this family's revisions.
      return arns.filter((arn) => arn.includes(`:task-definition/${family}:`));
    },
    async registerTaskDefinition(spec: TaskDefinitionSpec, tags) {
      const out = await awsCallStrict(op('RegisterTaskDefinition', spec.family), () =>
        client.send(
          new RegisterTaskDefinitionCommand({
            family: spec.family,
            ...(spec.taskRoleArn ? { taskRoleArn: spec.taskRoleArn } : {}),
            ...(spec.executionRoleArn ? { executionRoleArn: spec.executionRoleArn } : {}),
            ...(spec.networkMode ? { networkMode: spec.networkMode as NetworkMode } : {}),
            requiresCompatibilities: spec.requiresCompatibilities as Compatibility[],
            ...(spec.cpu ? { cpu: spec.cpu } : {}),
            ...(spec.memory ? { memory: spec.memory } : {}),
            volumes: spec.volumes,
            containerDefinitions: spec.containerDefinitions.map(sdkContainer),
            tags: ecsTags(tags),
          }),
        ),
      );
      if (!out.taskDefinition)
        throw new Error(`ECS returned no task definition for ${spec.family}`);
      return taskDefinition(out.taskDefinition, out.tags ?? ecsTags(tags));
    },
    async deregisterTaskDefinition(arn) {
      await awsCallStrict(op('DeregisterTaskDefinition', arn), () =>
        client.send(new DeregisterTaskDefinitionCommand({ taskDefinition: arn })),
      );
    },
  };
}
