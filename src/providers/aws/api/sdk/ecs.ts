import {
  CreateClusterCommand,
  DeleteClusterCommand,
  DeregisterTaskDefinitionCommand,
  DescribeClustersCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTaskDefinitionsCommand,
  ListTasksCommand,
  PutClusterCapacityProvidersCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  TagResourceCommand,
  type Cluster,
  type ContainerOverride as SdkContainerOverride,
  type Failure,
  type Task,
  type Compatibility,
  type ContainerDefinition as SdkContainerDefinition,
  type LogDriver,
  type NetworkMode,
  type Tag,
  type TaskDefinition as SdkTaskDefinition,
} from '@aws-sdk/client-ecs';
import type {
  ContainerDefinition,
  ContainerOverride,
  EcsApi,
  EcsCluster,
  EcsFailure,
  EcsTask,
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

function override(o: SdkContainerOverride): ContainerOverride {
  return {
    name: o.name ?? '',
    ...(o.command ? { command: o.command } : {}),
    ...(o.environment
      ? { environment: o.environment.map((e) => ({ name: e.name ?? '', value: e.value ?? '' })) }
      : {}),
  };
}

export function ecsTask(t: Task): EcsTask {
  const arn = t.taskArn ?? '';
  return {
    arn,
    id: arn.split('/').pop() ?? arn,
    clusterArn: t.clusterArn ?? '',
    taskDefinitionArn: t.taskDefinitionArn ?? '',
    lastStatus: t.lastStatus ?? 'PROVISIONING',
    desiredStatus: t.desiredStatus ?? 'RUNNING',
    ...(t.startedBy ? { startedBy: t.startedBy } : {}),
    ...(t.stopCode ? { stopCode: t.stopCode } : {}),
    ...(t.stoppedReason ? { stoppedReason: t.stoppedReason } : {}),
    ...(t.createdAt ? { createdAt: t.createdAt } : {}),
    ...(t.startedAt ? { startedAt: t.startedAt } : {}),
    ...(t.stoppedAt ? { stoppedAt: t.stoppedAt } : {}),
    containers: (t.containers ?? []).map((c) => ({
      name: c.name ?? '',
      ...(c.lastStatus ? { lastStatus: c.lastStatus } : {}),
      ...(c.exitCode !== undefined && c.exitCode !== null ? { exitCode: c.exitCode } : {}),
      ...(c.reason ? { reason: c.reason } : {}),
    })),
    containerOverrides: (t.overrides?.containerOverrides ?? []).map(override),
    tags: fromEcsTags(t.tags),
  };
}

const failure = (f: Failure): EcsFailure => ({
  ...(f.arn ? { arn: f.arn } : {}),
  reason: f.reason ?? 'unknown',
  ...(f.detail ? { detail: f.detail } : {}),
});

/** DescribeTasks takes at most 100 tasks per call. */
const DESCRIBE_TASKS_MAX = 100;

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
    async runTask(input) {
      const out = await awsCallStrict(op('RunTask', input.taskDefinition), () =>
        client.send(
          new RunTaskCommand({
            cluster: input.cluster,
            taskDefinition: input.taskDefinition,
            launchType: input.launchType,
            count: 1,
            networkConfiguration: {
              awsvpcConfiguration: {
                subnets: input.subnets,
                securityGroups: input.securityGroups,
                assignPublicIp: input.assignPublicIp ? 'ENABLED' : 'DISABLED',
              },
            },
            overrides: {
              containerOverrides: input.containerOverrides.map((o) => ({
                name: o.name,
                ...(o.command ? { command: o.command } : {}),
                ...(o.environment ? { environment: o.environment } : {}),
              })),
            },
            ...(input.startedBy ? { startedBy: input.startedBy } : {}),
            ...(Object.keys(input.tags).length ? { tags: ecsTags(input.tags) } : {}),
          }),
        ),
      );
      return { tasks: (out.tasks ?? []).map(ecsTask), failures: (out.failures ?? []).map(failure) };
    },
    async describeTasks(cluster, arns) {
      const tasks: EcsTask[] = [];
      const failures: EcsFailure[] = [];
      for (let i = 0; i < arns.length; i += DESCRIBE_TASKS_MAX) {
        const chunk = arns.slice(i, i + DESCRIBE_TASKS_MAX);
        const out = await awsCallStrict(op('DescribeTasks', cluster), () =>
          client.send(new DescribeTasksCommand({ cluster, tasks: chunk, include: ['TAGS'] })),
        );
        tasks.push(...(out.tasks ?? []).map(ecsTask));
        failures.push(...(out.failures ?? []).map(failure));
      }
      return { tasks, failures };
    },
    async stopTask(cluster, arn, reason) {
      try {
        const out = await client.send(
          new StopTaskCommand({ cluster, task: arn, reason: reason.slice(0, 255) }),
        );
        return out.task ? ecsTask(out.task) : undefined;
      } catch (error) {
        // A task ECS has already forgotten (stopped more than about an hour ago).
        if (
          errorCodeOf(error) === 'InvalidParameterException' &&
          /not found|does not exist/i.test((error as Error).message)
        )
          return undefined;
        return awsCallStrict(op('StopTask', arn), () => Promise.reject(error as Error));
      }
    },
    async listTaskArns(cluster, query) {
      const arns: string[] = [];
      let nextToken: string | undefined;
      do {
        const token = nextToken;
        const out = await awsCallStrict(op('ListTasks', cluster), () =>
          client.send(
            new ListTasksCommand({
              cluster,
              desiredStatus: query.desiredStatus,
              ...(query.family ? { family: query.family } : {}),
              maxResults: 100,
              ...(token ? { nextToken: token } : {}),
            }),
          ),
        );
        arns.push(...(out.taskArns ?? []));
        nextToken = out.nextToken;
      } while (nextToken);
      return arns;
    },
    async deregisterTaskDefinition(arn) {
      await awsCallStrict(op('DeregisterTaskDefinition', arn), () =>
        client.send(new DeregisterTaskDefinitionCommand({ taskDefinition: arn })),
      );
    },
  };
}
