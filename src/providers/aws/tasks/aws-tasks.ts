/**
 * berth's tasks on the cluster: how they are labelled when started, and how berth finds them
 * again — for the migration lock, `berth tasks list/stop` (the seed's quick rollback) and
 * `berth logs` of a task started elsewhere (a CI runner).
 *
 * Every task carries berth.yaml's tags, `managed-by=berth`, `stack=<app>` and:
 *   berth:task       berth's task ID (migrate-20261125T181346-3d0563), what `berth logs` takes
 *   berth:kind       migrate | check | probe
 *   berth:databases  the tenant databases, space-separated (cut at 256 characters)
 * and `startedBy` = `berth/<kind>/<database>` (or `berth/<kind>/<n>-databases` for a batch).
 * The authoritative database list is the task's own container overrides (DATABASE_NAME, the
 * batch loop's arguments, DATABASE_NAMES), which is also how tasks other tools started on the
 * same family (the seed's workflow) are recognised.
 */
import type { Config } from '../../../config/schema.js';
import { PROBE_DATABASES_ENV } from '../../../fleet/probe-protocol.js';
import { isOwned } from '../stack/tags.js';
import type { TaskKind } from '../../../tasks/task.js';
import type { EcsTask, EcsTasksApi } from '../api/ecs-api.js';
import type { Tags } from '../api/types.js';

export const TASK_ID_TAG = 'berth:task';
export const TASK_KIND_TAG = 'berth:kind';
export const DATABASES_TAG = 'berth:databases';

const TAG_VALUE_MAX = 256;

/** The tags berth puts on a task it starts. */
export function taskTags(
  stack: Tags,
  id: string,
  kind: TaskKind,
  databases: readonly string[],
): Tags {
  let list = databases.join(' ');
  if (list.length > TAG_VALUE_MAX) {
    const more = ` +${databases.length}`;
    list = `${list.slice(0, TAG_VALUE_MAX - more.length).replace(/ \S*$/, '')}${more}`;
  }
  return { ...stack, [TASK_ID_TAG]: id, [TASK_KIND_TAG]: kind, [DATABASES_TAG]: list };
}

/** startedBy: at most 128 characters of letters, digits, `-`, `_` and `/`. */
export function startedBy(kind: TaskKind, databases: readonly string[]): string {
  return databases.length === 1
    ? `berth/${kind}/${databases[0] ?? ''}`
    : `berth/${kind}/${databases.length}-databases`;
}

/** The databases a task works on, read from its container overrides. */
export function taskDatabases(task: EcsTask, containerName: string): string[] {
  const override =
    task.containerOverrides.find((o) => o.name === containerName) ?? task.containerOverrides[0];
  if (!override) return [];
  const env = new Map((override.environment ?? []).map((e) => [e.name, e.value]));
  const command = override.command ?? [];
  // fleet/batch-script.ts: ['sh', '-c', script, 'berth-batch', ...databases]
  const batch = command.indexOf('berth-batch');
  if (command[0] === 'sh' && command[1] === '-c' && batch === 3) return command.slice(4);
  const names = env.get(PROBE_DATABASES_ENV);
  if (names !== undefined) return names.split(',').filter(Boolean);
  const single = env.get('DATABASE_NAME');
  return single ? [single] : [];
}

/** migrate | check | probe for berth's tasks; undefined for tasks other tools started. */
export function taskKind(task: EcsTask): TaskKind | undefined {
  const kind = task.tags[TASK_KIND_TAG];
  return kind === 'migrate' || kind === 'check' || kind === 'probe' || kind === 'verify'
    ? kind
    : undefined;
}

/** What `berth tasks list --provider aws` shows for one task. */
export interface AwsTaskSummary {
  /** berth's task ID, or the ECS task ID for a task without one. */
  id: string;
  ecsTaskId: string;
  taskArn: string;
  kind: TaskKind | null;
  /** ECS lastStatus: PROVISIONING, PENDING, RUNNING, …, STOPPED. */
  status: string;
  desiredStatus: string;
  exitCode: number | null;
  databases: string[];
  taskDefinition: string;
  startedBy: string | null;
  createdAt: string | null;
  stoppedAt: string | null;
  stopCode: string | null;
  stoppedReason: string | null;
}

export function summariseTask(task: EcsTask, containerName: string): AwsTaskSummary {
  const container =
    task.containers.find((c) => c.name === containerName) ?? task.containers[0] ?? undefined;
  return {
    id: task.tags[TASK_ID_TAG] ?? task.id,
    ecsTaskId: task.id,
    taskArn: task.arn,
    kind: taskKind(task) ?? null,
    status: task.lastStatus,
    desiredStatus: task.desiredStatus,
    exitCode: container?.exitCode ?? null,
    databases: taskDatabases(task, containerName),
    taskDefinition: task.taskDefinitionArn.split('/').pop() ?? task.taskDefinitionArn,
    startedBy: task.startedBy ?? null,
    createdAt: task.createdAt?.toISOString() ?? null,
    stoppedAt: task.stoppedAt?.toISOString() ?? null,
    stopCode: task.stopCode ?? null,
    stoppedReason: task.stoppedReason ?? container?.reason ?? null,
  };
}

/**
 * The tasks of berth's family on the cluster — running ones, and with `stopped` also those
 * ECS still remembers (about an hour) — with their tags. `owned` keeps only berth's tasks of
 * this stack; the migration lock looks at every task of the family.
 */
export async function listFamilyTasks(
  ecs: EcsTasksApi,
  config: Config,
  options: { stopped: boolean; owned: boolean },
): Promise<EcsTask[]> {
  const cluster = config.cluster.name;
  const family = config.task.family;
  const [running, stopped] = await Promise.all([
    ecs.listTaskArns(cluster, { family, desiredStatus: 'RUNNING' }),
    options.stopped
      ? ecs.listTaskArns(cluster, { family, desiredStatus: 'STOPPED' })
      : Promise.resolve([]),
  ]);
  const arns = [...new Set([...running, ...stopped])];
  if (arns.length === 0) return [];
  const { tasks } = await ecs.describeTasks(cluster, arns);
  const kept = options.owned ? tasks.filter((t) => isOwned(t.tags, config.app)) : tasks;
  return kept.sort(
    (a, b) =>
      (a.createdAt?.getTime() ?? 0) - (b.createdAt?.getTime() ?? 0) || a.id.localeCompare(b.id),
  );
}
