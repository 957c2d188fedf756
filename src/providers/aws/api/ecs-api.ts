/** The ECS calls berth makes: the stack's cluster and task definition, and the tasks it runs. */
import type { Tags } from './types.js';

export interface CapacityProviderStrategyItem {
  capacityProvider: string;
  weight: number;
  base: number;
}

export interface EcsCluster {
  name: string;
  arn: string;
  /** ACTIVE, PROVISIONING, DEPROVISIONING, FAILED or INACTIVE (deleted). */
  status: string;
  capacityProviders: string[];
  defaultCapacityProviderStrategy: CapacityProviderStrategyItem[];
  tags: Tags;
  runningTasksCount: number;
  pendingTasksCount: number;
}

export interface CreateClusterInput {
  name: string;
  capacityProviders: string[];
  defaultCapacityProviderStrategy: CapacityProviderStrategyItem[];
  tags: Tags;
}

export interface KeyValuePair {
  name: string;
  value: string;
}

export interface ContainerSecret {
  name: string;
  /** `<secret ARN>:<json key>::` */
  valueFrom: string;
}

export interface MountPoint {
  sourceVolume: string;
  containerPath: string;
  readOnly: boolean;
}

export interface LogConfiguration {
  logDriver: string;
  options: Record<string, string>;
}

export interface ContainerDefinition {
  name: string;
  image: string;
  essential: boolean;
  command?: string[];
  environment: KeyValuePair[];
  secrets: ContainerSecret[];
  mountPoints: MountPoint[];
  logConfiguration?: LogConfiguration;
  user?: string;
  readonlyRootFilesystem?: boolean;
}

/** What berth registers; a read revision has the same fields plus its identity. */
export interface TaskDefinitionSpec {
  family: string;
  taskRoleArn?: string;
  executionRoleArn?: string;
  networkMode?: string;
  requiresCompatibilities: string[];
  cpu?: string;
  memory?: string;
  /** Task-scoped (ephemeral) volumes by name. */
  volumes: { name: string }[];
  containerDefinitions: ContainerDefinition[];
}

export interface TaskDefinition extends TaskDefinitionSpec {
  arn: string;
  revision: number;
  /** ACTIVE or INACTIVE (deregistered). */
  status: string;
  tags: Tags;
}

export interface EcsApi extends EcsTasksApi {
  /** undefined when missing; an INACTIVE (deleted) cluster is returned with its status. */
  describeCluster(name: string): Promise<EcsCluster | undefined>;
  createCluster(input: CreateClusterInput): Promise<EcsCluster>;
  putClusterCapacityProviders(
    name: string,
    capacityProviders: string[],
    strategy: CapacityProviderStrategyItem[],
  ): Promise<void>;
  tagResource(arn: string, tags: Tags): Promise<void>;
  deleteCluster(name: string): Promise<void>;
  /** A family name resolves to its latest ACTIVE revision; undefined when there is none. */
  describeTaskDefinition(familyOrArn: string): Promise<TaskDefinition | undefined>;
  /** ARNs of the family's ACTIVE revisions, newest first (exact family, not a prefix). */
  listTaskDefinitionArns(family: string): Promise<string[]>;
  registerTaskDefinition(spec: TaskDefinitionSpec, tags: Tags): Promise<TaskDefinition>;
  deregisterTaskDefinition(arn: string): Promise<void>;
}

// ---- Tasks: run, watch, stop, list (migrate, verify, `berth tasks`) --------------------

export interface ContainerOverride {
  /** The container in the task definition. */
  name: string;
  command?: string[];
  environment?: KeyValuePair[];
}

export interface RunTaskInput {
  cluster: string;
  /** A revision ARN (or family:revision). */
  taskDefinition: string;
  /** Only FARGATE: berth's tasks never need EC2 capacity. */
  launchType: 'FARGATE';
  subnets: string[];
  securityGroups: string[];
  assignPublicIp: boolean;
  containerOverrides: ContainerOverride[];
  /** At most 128 characters: letters, digits, `-`, `_` and `/`. */
  startedBy?: string;
  tags: Tags;
}

export interface EcsContainer {
  name: string;
  /** PENDING, RUNNING, STOPPED. */
  lastStatus?: string;
  /** Absent when the container never ran to an exit (it failed to start, or still runs). */
  exitCode?: number;
  /** Why the container stopped or failed, e.g. `CannotPullContainerError: …`. */
  reason?: string;
}

export interface EcsTask {
  arn: string;
  /** The last part of the ARN: what CloudWatch log streams and the console use. */
  id: string;
  clusterArn: string;
  taskDefinitionArn: string;
  /** PROVISIONING, PENDING, ACTIVATING, RUNNING, DEACTIVATING, STOPPING, DEPROVISIONING, STOPPED. */
  lastStatus: string;
  desiredStatus: string;
  startedBy?: string;
  /** TaskFailedToStart, EssentialContainerExited, UserInitiated, ... */
  stopCode?: string;
  stoppedReason?: string;
  createdAt?: Date;
  startedAt?: Date;
  stoppedAt?: Date;
  containers: EcsContainer[];
  containerOverrides: ContainerOverride[];
  tags: Tags;
}

/** One entry of RunTask's or DescribeTasks' `failures[]` (e.g. capacity, MISSING). */
export interface EcsFailure {
  arn?: string;
  reason: string;
  detail?: string;
}

export interface RunTaskResult {
  tasks: EcsTask[];
  failures: EcsFailure[];
}

export interface DescribeTasksResult {
  tasks: EcsTask[];
  failures: EcsFailure[];
}

export interface ListTasksQuery {
  family?: string;
  /** RUNNING includes tasks still PROVISIONING or PENDING (their desired status is RUNNING). */
  desiredStatus: 'RUNNING' | 'STOPPED';
}

export interface EcsTasksApi {
  runTask(input: RunTaskInput): Promise<RunTaskResult>;
  /** Any number of ARNs (the adapter asks 100 at a time), with their tags. */
  describeTasks(cluster: string, arns: string[]): Promise<DescribeTasksResult>;
  /** undefined when ECS no longer knows the task. */
  stopTask(cluster: string, arn: string, reason: string): Promise<EcsTask | undefined>;
  /** Task ARNs in the cluster (every page). */
  listTaskArns(cluster: string, query: ListTasksQuery): Promise<string[]>;
}
