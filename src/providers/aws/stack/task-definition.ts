/**
 * Step 4 of the seed: the migration task definition (Fargate, awsvpc, the database secret's
 * keys and task.secrets — Secrets Manager secrets and Parameter Store parameters — as container
 * secrets, awslogs to the stack's log group, non-root, read-only root filesystem with a
 * writable /tmp).
 *
 * Task definitions are immutable revisions: an update registers a new revision. The image
 * TAG is left to deployments (CI registers revisions with `:<git sha>`), so the diff compares
 * the image repository only, and a new revision keeps the deployed tag. A family is berth's
 * when one of its ACTIVE revisions carries berth's tags (revisions CI derives from it
 * usually do not).
 */
import type {
  ContainerDefinition,
  EcsApi,
  TaskDefinition,
  TaskDefinitionSpec,
} from '../api/ecs-api.js';
import type { Tags } from '../api/types.js';
import { MASK, secretLikeName } from '../../../core/redact.js';
import { decide, fieldChange, tagChanges } from './diff.js';
import { isOwned } from './tags.js';
import { migrateCommandOf } from '../../../migrations/presets.js';
import { resolvedTaskSecrets } from './references.js';
import type {
  FieldChange,
  JsonValue,
  ResourceDefinition,
  ResourcePlan,
  ResourceState,
  StackOutputs,
  StackSpec,
} from './types.js';

export const TMP_VOLUME = 'tmp';

export interface TaskDefinitionDesired {
  spec: TaskDefinitionSpec;
  tags: Tags;
}

export interface TaskDefinitionActual {
  /** The latest ACTIVE revision. */
  latest: TaskDefinition;
  owned: boolean;
}

export function repositoryUri(
  account: string,
  region: string,
  partition: string,
  name: string,
): string {
  return `${account}.dkr.ecr.${region}.amazonaws.com${partition === 'aws-cn' ? '.cn' : ''}/${name}`;
}

/** `host/name:tag` or `host/name@sha256:...` → `host/name`. */
export function imageRepository(image: string): string {
  const withoutDigest = image.replace(/@sha256:[0-9a-f]+$/i, '');
  const slash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  return colon > slash ? withoutDigest.slice(0, colon) : withoutDigest;
}

export function desiredTaskDefinition(
  spec: StackSpec,
  upstream: StackOutputs,
): TaskDefinitionDesired {
  const { config, refs, region } = spec;
  const roleArn = (name: string) => `arn:${refs.partition}:iam::${refs.account}:role/${name}`;
  const uri =
    upstream.ECR_REPOSITORY_URI ??
    repositoryUri(refs.account, region, refs.partition, config.registry.name);
  const environment: Record<string, string> = {
    ...(config.task.environment.AWS_REGION === undefined ? { AWS_REGION: region } : {}),
    ...config.task.environment,
  };
  const readonly = config.task.readonlyRootFilesystem;
  const container: ContainerDefinition = {
    name: config.task.containerName,
    image: `${uri}:latest`,
    essential: true,
    command: [...migrateCommandOf(config)],
    environment: Object.keys(environment)
      .sort()
      .map((name) => ({ name, value: environment[name] ?? '' })),
    secrets: [
      ...Object.entries(config.database.secret.keys).map(([name, key]) => ({
        name,
        valueFrom: `${refs.secret.arn}:${key}::`,
      })),
      // By full ARN: ECS needs it for a JSON key, and for a parameter it is unambiguous
      // (`arn:…:ssm:…:parameter/path`, which the execution role's policy names too).
      ...resolvedTaskSecrets(config, refs).map((s) => ({
        name: s.name,
        valueFrom: s.source === 'secretsmanager' && s.key ? `${s.arn}:${s.key}::` : s.arn,
      })),
    ].sort((a, b) => a.name.localeCompare(b.name)),
    // Read-only root: migrations and their tools still need somewhere to write temp files.
    mountPoints: readonly
      ? [{ sourceVolume: TMP_VOLUME, containerPath: '/tmp', readOnly: false }]
      : [],
    logConfiguration: {
      logDriver: 'awslogs',
      options: {
        'awslogs-group': config.logs.group,
        'awslogs-region': region,
        'awslogs-stream-prefix': config.logs.streamPrefix,
      },
    },
    user: config.task.user,
    readonlyRootFilesystem: readonly,
  };
  return {
    spec: {
      family: config.task.family,
      taskRoleArn: upstream.ECS_TASK_ROLE_ARN ?? roleArn(config.roles.task),
      executionRoleArn: upstream.ECS_TASK_EXECUTION_ROLE_ARN ?? roleArn(config.roles.execution),
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: String(config.task.cpu),
      memory: String(config.task.memory),
      volumes: readonly ? [{ name: TMP_VOLUME }] : [],
      containerDefinitions: [container],
    },
    tags: spec.tags,
  };
}

export async function readTaskDefinition(
  ecs: EcsApi,
  family: string,
  app: string,
): Promise<TaskDefinitionActual | undefined> {
  const latest = await ecs.describeTaskDefinition(family);
  if (!latest) return undefined;
  if (isOwned(latest.tags, app)) return { latest, owned: true };
  // The latest revision may come from CI; the family is berth's if an older revision is.
  for (const arn of await ecs.listTaskDefinitionArns(family)) {
    if (arn === latest.arn) continue;
    const revision = await ecs.describeTaskDefinition(arn);
    if (revision && isOwned(revision.tags, app)) return { latest, owned: true };
  }
  return { latest, owned: false };
}

const environmentMap = (pairs: { name: string; value: string }[]): Record<string, JsonValue> =>
  Object.fromEntries(
    pairs.map((p): [string, JsonValue] => [p.name, p.value]).sort(([a], [b]) => a.localeCompare(b)),
  );

/**
 * `<secret ARN>:<json key>::` → { secretArn, jsonKey }: clearer in a plan, and it keeps the
 * redactor (which masks anything that looks like `password:...`) from garbling the reference.
 * A whole secret's ARN and a parameter's (`arn:…:ssm:…:parameter/path`, which has no key or
 * version part) are compared and shown as they are: what berth registers reads back equal.
 */
export function secretReference(valueFrom: string): JsonValue {
  const match =
    /^(arn:[^:]+:secretsmanager:[^:]*:[^:]*:secret:[^:]+):([^:]*):([^:]*):([^:]*)$/.exec(valueFrom);
  if (!match?.[1]) return valueFrom;
  return {
    secretArn: match[1],
    jsonKey: match[2] ?? '',
    ...(match[3] ? { versionStage: match[3] } : {}),
    ...(match[4] ? { versionId: match[4] } : {}),
  };
}

const secretsMap = (pairs: { name: string; valueFrom: string }[]): Record<string, JsonValue> =>
  Object.fromEntries(
    pairs
      .map((p): [string, JsonValue] => [p.name, secretReference(p.valueFrom)])
      .sort(([a], [b]) => a.localeCompare(b)),
  );

/**
 * One change per variable: `container.environment[NODE_ENV]`. With `maskSecrets`, a variable
 * whose name says it holds a secret (one set outside berth, since berth.yaml refuses them) is
 * compared by value but shown masked.
 */
function mapChanges(
  field: string,
  actual: Record<string, JsonValue> | undefined,
  desired: Record<string, JsonValue>,
  { maskSecrets = false }: { maskSecrets?: boolean } = {},
): FieldChange[] {
  const keys = [...new Set([...Object.keys(actual ?? {}), ...Object.keys(desired)])].sort();
  return keys.flatMap((k) =>
    fieldChange(`${field}[${k}]`, actual?.[k], desired[k]).map((change) =>
      maskSecrets && secretLikeName(k)
        ? {
            ...change,
            actual: change.actual === null ? null : MASK,
            desired: change.desired === null ? null : MASK,
            note: 'value masked: the name says it is a secret',
          }
        : change,
    ),
  );
}

export function diffTaskDefinition(
  actual: TaskDefinitionActual | undefined,
  desired: TaskDefinitionDesired,
  adopt: boolean,
): ResourcePlan {
  const a = actual?.latest;
  const d = desired.spec;
  const want = d.containerDefinitions[0];
  const have = a?.containerDefinitions.find((c) => c.name === want?.name);
  const changes: FieldChange[] = [
    ...fieldChange('taskRoleArn', a?.taskRoleArn, d.taskRoleArn),
    ...fieldChange('executionRoleArn', a?.executionRoleArn, d.executionRoleArn),
    ...fieldChange('networkMode', a?.networkMode, d.networkMode),
    ...fieldChange(
      'requiresCompatibilities',
      a ? [...a.requiresCompatibilities].sort() : undefined,
      [...d.requiresCompatibilities].sort(),
    ),
    ...fieldChange('cpu', a?.cpu, d.cpu),
    ...fieldChange('memory', a?.memory, d.memory),
    ...fieldChange(
      'volumes',
      a ? a.volumes.map((v) => v.name).sort() : undefined,
      d.volumes.map((v) => v.name).sort(),
    ),
  ];
  if (want) {
    if (a && !have) {
      changes.push(
        ...fieldChange(
          'container.name',
          a.containerDefinitions.map((c) => c.name),
          want.name,
        ),
      );
    } else {
      changes.push(
        ...fieldChange(
          'container.image',
          have ? imageRepository(have.image) : undefined,
          imageRepository(want.image),
          { note: 'the tag is left to deployments' },
        ),
        ...fieldChange('container.command', have?.command, want.command),
        ...mapChanges(
          'container.environment',
          have ? environmentMap(have.environment) : undefined,
          environmentMap(want.environment),
          // Plain values: one named as a secret is shown masked. container.secrets below are
          // references (ARN and key), never values.
          { maskSecrets: true },
        ),
        ...mapChanges(
          'container.secrets',
          have ? secretsMap(have.secrets) : undefined,
          secretsMap(want.secrets),
        ),
        ...fieldChange(
          'container.logConfiguration',
          (have?.logConfiguration as unknown as JsonValue) ?? undefined,
          want.logConfiguration as unknown as JsonValue,
        ),
        ...fieldChange('container.user', have?.user, want.user),
        ...fieldChange(
          'container.readonlyRootFilesystem',
          have ? (have.readonlyRootFilesystem ?? false) : undefined,
          want.readonlyRootFilesystem ?? false,
        ),
        ...fieldChange(
          'container.mountPoints',
          have ? (have.mountPoints as unknown as JsonValue) : undefined,
          want.mountPoints as unknown as JsonValue,
        ),
        ...fieldChange('container.essential', have?.essential, want.essential),
      );
    }
  }
  // A note on the image change is only useful when it is a change: drop it on create.
  const shown = a ? changes : changes.map(({ note: _note, ...c }) => c);
  // Tags only decide ownership (CI's revisions have none); when adopting they are added.
  if (adopt && a && !actual.owned) shown.push(...tagChanges(a.tags, desired.tags));
  return decide(
    'task-definition',
    d.family,
    { exists: Boolean(a), owned: actual?.owned ?? false, adopt },
    shown,
  );
}

export async function applyTaskDefinition(
  ecs: EcsApi,
  plan: ResourcePlan,
  actual: TaskDefinitionActual | undefined,
  desired: TaskDefinitionDesired,
  log: (text: string) => void,
): Promise<TaskDefinition> {
  const contentChanges = plan.changes.filter((c) => !c.field.startsWith('tags.'));
  if (actual && contentChanges.length === 0) {
    // Adopting an identical revision: tag it rather than registering a copy.
    log(`task definition ${actual.latest.family}:${actual.latest.revision}: tagging as berth's`);
    await ecs.tagResource(actual.latest.arn, desired.tags);
    return { ...actual.latest, tags: { ...actual.latest.tags, ...desired.tags } };
  }
  const spec = structuredClone(desired.spec);
  const container = spec.containerDefinitions[0];
  const deployed = actual?.latest.containerDefinitions.find(
    (c) => c.name === container?.name,
  )?.image;
  if (container && deployed && imageRepository(deployed) === imageRepository(container.image))
    container.image = deployed;
  log(
    `registering task definition ${spec.family} (${spec.cpu} CPU units, ${spec.memory} MiB, image ${container?.image ?? '?'})`,
  );
  return ecs.registerTaskDefinition(spec, desired.tags);
}

function outputs(td: TaskDefinition | undefined, containerName: string): StackOutputs {
  return td
    ? {
        ECS_TASK_DEFINITION_FAMILY: td.family,
        ECS_TASK_DEFINITION_ARN: td.arn,
        ECS_TASK_DEFINITION_REVISION: String(td.revision),
        ECS_CONTAINER_NAME: containerName,
      }
    : {};
}

export const taskDefinition: ResourceDefinition = {
  kind: 'task-definition',
  title: 'ECS task definition',
  step: 'task-definition',
  dependsOn: ['ecr-repository', 'log-group', 'execution-role', 'task-role'],
  name: (config) => config.task.family,
  async load(env): Promise<ResourceState> {
    const family = env.config.task.family;
    const containerName = env.config.task.containerName;
    const { ecs } = env.clients;
    const actual = await readTaskDefinition(ecs, family, env.config.app);
    return {
      kind: 'task-definition',
      name: family,
      exists: Boolean(actual),
      owned: actual?.owned ?? false,
      plan: (spec, upstream, adopt) =>
        diffTaskDefinition(actual, desiredTaskDefinition(spec, upstream), adopt),
      async apply(plan, spec, upstream, log) {
        return outputs(
          await applyTaskDefinition(ecs, plan, actual, desiredTaskDefinition(spec, upstream), log),
          containerName,
        );
      },
      outputs: () => outputs(actual?.latest, containerName),
      async destroy(log) {
        // Every ACTIVE revision of berth's family, including those CI registered from it.
        const arns = await ecs.listTaskDefinitionArns(family);
        for (const arn of arns) {
          log(`deregistering task definition ${arn.split('/').pop() ?? arn}`);
          await ecs.deregisterTaskDefinition(arn);
        }
        return `${arns.length} revision(s) deregistered`;
      },
      details: () => {
        if (!actual) return Promise.resolve(null);
        const td = actual.latest;
        const c =
          td.containerDefinitions.find((x) => x.name === containerName) ??
          td.containerDefinitions[0];
        return Promise.resolve({
          family: td.family,
          arn: td.arn,
          revision: td.revision,
          status: td.status,
          cpu: td.cpu ?? null,
          memory: td.memory ?? null,
          containerName: c?.name ?? null,
          image: c?.image ?? null,
          command: c?.command ?? null,
          executionRoleArn: td.executionRoleArn ?? null,
          taskRoleArn: td.taskRoleArn ?? null,
        });
      },
    };
  },
};
