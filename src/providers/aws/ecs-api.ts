/** The ECS calls berth makes for the stack's cluster and task definition. */
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

export interface EcsApi {
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
