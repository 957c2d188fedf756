/**
 * The resource model: every stack resource is read (actual state), diffed with what
 * berth.yaml asks for (desired state) into a ResourcePlan — plain data — and only then
 * applied. Each resource kind lives in its own module; stack.ts runs them in dependency order.
 */
import type { Config } from '../../../config/schema.js';
import type { BerthError } from '../../../core/errors.js';
import type { AwsClients } from '../api/clients.js';
import type { SecurityGroup } from '../api/ec2-api.js';
import type { SecretDescription } from '../api/secrets-api.js';
import type { ParameterDescription } from '../api/ssm-api.js';
import type { Tags } from '../api/types.js';

export type JsonValue =
  string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export type ResourceKind =
  | 'ecr-repository'
  | 'ecs-cluster'
  | 'log-group'
  | 'execution-role'
  | 'task-role'
  | 'security-group-rules'
  | 'task-definition';

/** The seed's steps, as `berth status` reports them (one row each). */
export type StatusStep =
  'ecr' | 'ecs-cluster' | 'iam-roles' | 'security-group-rules' | 'task-definition';

/**
 * - create: absent, `up` creates it
 * - update: berth's, and some fields differ from berth.yaml
 * - no-change: berth's and as configured
 * - delete: `down` deletes it
 * - adopt: exists without berth's tags; `up --adopt` tags it and fixes the fields
 * - not-owned: exists without berth's tags; `up` refuses (AWS_RESOURCE_NOT_OWNED) unless --adopt
 */
export type PlanAction = 'create' | 'update' | 'no-change' | 'delete' | 'adopt' | 'not-owned';

export interface FieldChange {
  /** Field name, e.g. `retentionDays`, `tags.Environment`, `container.environment[NODE_ENV]`. */
  field: string;
  /** null: absent. */
  actual: JsonValue;
  /** null: to be removed. */
  desired: JsonValue;
  /** Context for people, e.g. why a change cannot be applied. */
  note?: string;
  /** `up` cannot change this in place (it warns and leaves it): recreate the resource to change it. */
  immutable?: boolean;
}

export interface ResourcePlan {
  kind: ResourceKind;
  name: string;
  action: PlanAction;
  changes: FieldChange[];
}

/** A Parameter Store parameter described, with its ARN (from the answer or built). */
export type ResolvedParameter = ParameterDescription & { arn: string };

/** The prerequisites berth reads and never creates, changes or deletes. */
export interface StackRefs {
  account: string;
  partition: string;
  secret: SecretDescription;
  /** task.secrets' secrets, by the name or ARN berth.yaml gives. */
  taskSecrets: Map<string, SecretDescription>;
  /** task.secrets' Parameter Store parameters, by the name or ARN berth.yaml gives. */
  taskParameters: Map<string, ResolvedParameter>;
  backendGroup: SecurityGroup;
  databaseGroup: SecurityGroup;
}

/** Everything the desired state is computed from. */
export interface StackSpec {
  config: Config;
  region: string;
  refs: StackRefs;
  /** berth.yaml `tags` plus berth's ownership tags. */
  tags: Tags;
}

export const OUTPUT_KEYS = [
  'AWS_REGION',
  'AWS_ACCOUNT_ID',
  'ECR_REPOSITORY_NAME',
  'ECR_REPOSITORY_URI',
  'ECR_REPOSITORY_ARN',
  'ECS_CLUSTER_NAME',
  'ECS_CLUSTER_ARN',
  'LOG_GROUP_NAME',
  'LOG_GROUP_ARN',
  'LOG_STREAM_PREFIX',
  'ECS_TASK_EXECUTION_ROLE_NAME',
  'ECS_TASK_EXECUTION_ROLE_ARN',
  'ECS_TASK_ROLE_NAME',
  'ECS_TASK_ROLE_ARN',
  'ECS_TASK_DEFINITION_FAMILY',
  'ECS_TASK_DEFINITION_ARN',
  'ECS_TASK_DEFINITION_REVISION',
  'ECS_CONTAINER_NAME',
  'VPC_ID',
  'PRIVATE_SUBNET_IDS',
  'BACKEND_SECURITY_GROUP_ID',
  'DATABASE_SECURITY_GROUP_ID',
  'DB_SECRET_NAME',
  'DB_SECRET_ARN',
] as const;
export type OutputKey = (typeof OUTPUT_KEYS)[number];
export type StackOutputs = Partial<Record<OutputKey, string>>;

export interface ResourceEnv {
  clients: AwsClients;
  config: Config;
  region: string;
  /** Absent when the prerequisites could not be resolved (`down` does not need them). */
  refs?: StackRefs;
}

/** One resource's actual state, read once, with the operations that depend on it. */
export interface ResourceState {
  readonly kind: ResourceKind;
  readonly name: string;
  readonly exists: boolean;
  /** Carries berth's managed-by and stack tags (false when absent). */
  readonly owned: boolean;
  /** Pure: compares the state read with the desired state. `upstream`: outputs of the resources this one depends on. */
  plan(spec: StackSpec, upstream: StackOutputs, adopt: boolean): ResourcePlan;
  /** Carries out a plan from plan(); returns this resource's outputs afterwards. */
  apply(
    plan: ResourcePlan,
    spec: StackSpec,
    upstream: StackOutputs,
    log: (text: string) => void,
  ): Promise<StackOutputs>;
  /** Outputs as read (empty when absent). */
  outputs(): StackOutputs;
  /** Deletes the resource; only called when it exists and is owned. Returns a note for the report. */
  destroy(log: (text: string) => void): Promise<string | undefined>;
  /** Why destroy() would fail now (e.g. tasks still running); checked before `down` deletes anything. */
  destroyBlocker?(): BerthError | undefined;
  /** What `berth show` prints (null when absent); may make extra read calls (e.g. the image count). */
  details(): Promise<Record<string, JsonValue> | null>;
}

export interface ResourceDefinition {
  kind: ResourceKind;
  /** Human name, e.g. "ECR repository". */
  title: string;
  step: StatusStep;
  dependsOn: readonly ResourceKind[];
  name(config: Config): string;
  /** Reads the actual state (read calls only, in parallel where possible). */
  load(env: ResourceEnv): Promise<ResourceState>;
}
