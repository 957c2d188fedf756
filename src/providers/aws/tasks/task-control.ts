/**
 * `berth tasks list|stop` and `berth logs` on AWS: berth's tasks on the cluster (running, and
 * those ECS still remembers, about an hour after they stopped), and a task's CloudWatch
 * stream found by berth's task ID, the ECS task ID or the ARN. A task this machine ran has a
 * local record and log under `.berth/`, which is read first.
 */
import { abortableSleep as defaultSleep } from '../../../core/clock.js';
import type { LoadedConfig } from '../../../config/load-config.js';
import { BerthError, isBerthError } from '../../../core/errors.js';
import { redactor } from '../../../core/redact.js';
import type { StateDir } from '../../../state/state-dir.js';
import { followLogFile } from '../../../state/follow-log.js';
import { readLogLines } from '../../../state/task-store.js';
import type { StopPlan, TaskControl, TaskLog } from '../../provider.js';
import type { AwsClients } from '../api/clients.js';
import type { EcsTask } from '../api/ecs-api.js';
import { listFamilyTasks, summariseTask, TASK_ID_TAG } from './aws-tasks.js';
import { logStreamName } from './ecs-run-context.js';
import type { EcsTaskRecord } from './ecs-task-runtime.js';
import { LogFollower } from './log-follower.js';

const ECS_TASK_ID = /^[0-9a-f]{32}$/;
const TASK_ARN = /^arn:[^:]+:ecs:[^:]*:\d*:task\/[^/]+\/([0-9a-f]{32})$/;

export function awsTaskControl(
  loaded: LoadedConfig,
  state: StateDir,
  clients: () => AwsClients,
): TaskControl {
  const { config } = loaded;
  const cluster = config.cluster.name;
  const summary = (t: EcsTask) => summariseTask(t, config.task.containerName);

  /** A task by berth ID, ECS task ID or ARN, among the tasks ECS still remembers. */
  const findTask = async (ref: string): Promise<EcsTask | undefined> => {
    const tasks = await listFamilyTasks(clients().ecs, config, { stopped: true, owned: false });
    return tasks.find((t) => t.tags[TASK_ID_TAG] === ref || t.id === ref || t.arn === ref);
  };

  const cloudWatchLog = async (ref: string): Promise<TaskLog> => {
    const arnId = TASK_ARN.exec(ref)?.[1];
    const task = await findTask(arnId ?? ref);
    const ecsTaskId = task?.id ?? arnId ?? (ECS_TASK_ID.test(ref) ? ref : undefined);
    if (!ecsTaskId)
      throw new BerthError('TASK_NOT_FOUND', `no task ${ref} here or on cluster ${cluster}`, {
        hint: 'ECS forgets stopped tasks after about an hour: pass the ECS task ID (32 hex characters, in the CI log) to read its CloudWatch stream',
      });
    const stream = logStreamName(config.logs.streamPrefix, config.task.containerName, ecsTaskId);
    const lines: string[] = [];
    const follower = new LogFollower(clients().logs, config.logs.group, stream, (line) =>
      lines.push(redactor.redact(line)),
    );
    await follower.poll();
    if (follower.failure)
      throw new BerthError(
        'AWS_ERROR',
        `could not read ${config.logs.group}:${stream}: ${follower.failure}`,
      );
    if (!follower.found && !task)
      throw new BerthError(
        'TASK_NOT_FOUND',
        `no task ${ref}: no local record, and no log stream ${config.logs.group}:${stream}`,
        { hint: 'see `berth tasks list --provider aws`' },
      );
    const where = { logGroup: config.logs.group, logStream: stream };
    if (!follower.found) lines.length = 0;
    const s = task ? summary(task) : undefined;
    const footer = [
      ...(follower.found ? [] : [`(no log stream ${config.logs.group}:${stream} yet)`]),
      s
        ? `— task ${s.id} (${s.databases.join(', ')}): ${s.status}${s.exitCode === null ? '' : `, exit code ${s.exitCode}`}${s.stoppedReason && s.exitCode === null ? `, ${s.stoppedReason}` : ''}`
        : `— ECS task ${ecsTaskId} (${config.logs.group}:${stream})`,
    ].join('\n');
    return {
      task: s
        ? { ...s, ...where }
        : {
            id: ref,
            ecsTaskId,
            kind: null,
            status: 'UNKNOWN',
            exitCode: null,
            databases: [],
            ...where,
          },
      lines: toAsync(lines),
      footer,
    };
  };

  return {
    async list({ running, limit }) {
      const tasks = (
        await listFamilyTasks(clients().ecs, config, { stopped: !running, owned: true })
      ).map(summary);
      return { cluster, tasks: limit === undefined ? tasks : tasks.slice(-limit) };
    },

    async log(ref) {
      // The local record first (a task this machine ran); on a CI runner's task, CloudWatch.
      const record = await state.tasks.get(ref).catch((error: unknown) => {
        if (isBerthError(error) && error.code === 'TASK_NOT_FOUND') return undefined;
        throw error;
      });
      if (!record) return cloudWatchLog(ref);
      return {
        task: record,
        lines: readLogLines(record.logFile),
        footer: footerOf(record),
      };
    },

    async follow(ref, options = {}) {
      const sleep = options.sleep ?? defaultSleep;
      const pollMs = options.pollMs ?? 2000;
      /** ECS's view: stopped, or forgotten (it keeps stopped tasks for about an hour). */
      const ecsStopped = async (id: string) => {
        const task = await findTask(id);
        return !task || task.lastStatus === 'STOPPED';
      };
      const record = await state.tasks.get(ref).catch((error: unknown) => {
        if (isBerthError(error) && error.code === 'TASK_NOT_FOUND') return undefined;
        throw error;
      });
      if (record) {
        // A task this machine runs: its berth copies the CloudWatch stream into the file.
        let footer = footerOf(record);
        const stopped = async () => {
          const now = await state.tasks.get(ref);
          footer = footerOf(now);
          return now.status !== 'RUNNING' || (await ecsStopped(ref));
        };
        return {
          task: record,
          lines: followLogFile(record.logFile, { ...options, pollMs, sleep, stopped }),
          get footer() {
            return footer;
          },
        };
      }
      // A task started elsewhere (a CI runner): poll its CloudWatch stream until ECS stops it.
      const first = await cloudWatchLog(ref);
      const ecsTaskId = 'ecsTaskId' in first.task ? first.task.ecsTaskId : undefined;
      const stream = logStreamName(
        config.logs.streamPrefix,
        config.task.containerName,
        String(ecsTaskId ?? ref),
      );
      let footer = first.footer;
      async function* lines(): AsyncGenerator<string> {
        const buffered: string[] = [];
        const follower = new LogFollower(clients().logs, config.logs.group, stream, (line) =>
          buffered.push(redactor.redact(line)),
        );
        for (;;) {
          const done = await ecsStopped(String(ecsTaskId ?? ref));
          await follower.poll();
          if (follower.failure)
            throw new BerthError(
              'AWS_ERROR',
              `could not read ${config.logs.group}:${stream}: ${follower.failure}`,
            );
          yield* buffered.splice(0);
          if (done || options.signal?.aborted) break;
          await sleep(pollMs, options.signal);
        }
        footer = (await cloudWatchLog(ref).catch(() => first)).footer;
      }
      return {
        task: first.task,
        lines: lines(),
        get footer() {
          return footer;
        },
      };
    },

    async planStop({ ids, all }): Promise<StopPlan> {
      const known = await listFamilyTasks(clients().ecs, config, { stopped: !all, owned: true });
      let targets: EcsTask[];
      if (all) targets = known;
      else {
        targets = [];
        for (const id of ids) {
          const local: EcsTaskRecord | undefined = await state.tasks.get(id).catch(() => undefined);
          const found = known.find(
            (t) =>
              t.tags[TASK_ID_TAG] === id ||
              t.id === id ||
              t.arn === id ||
              (local?.ecsTaskArn !== undefined && t.arn === local.ecsTaskArn),
          );
          if (!found)
            throw new BerthError('TASK_NOT_FOUND', `no berth task ${id} on cluster ${cluster}`, {
              hint: 'see `berth tasks list --provider aws`',
            });
          targets.push(found);
        }
      }
      const running = targets.filter(
        (t) => t.lastStatus !== 'STOPPED' && t.desiredStatus !== 'STOPPED',
      );
      return {
        targets: running.map(summary),
        async stop() {
          const stopped: { id: string; ecsTaskId: string }[] = [];
          for (const task of running) {
            await clients().ecs.stopTask(cluster, task.arn, 'berth tasks stop (rollback)');
            stopped.push({ id: task.tags[TASK_ID_TAG] ?? task.id, ecsTaskId: task.id });
          }
          return stopped;
        },
      };
    },
  };
}

function footerOf(record: {
  id: string;
  databases: string[];
  status: string;
  exitCode: number | null;
  stoppedReason?: string | undefined;
}): string {
  return `— task ${record.id} (${record.databases.join(', ')}): ${record.status}${record.exitCode === null ? '' : `, exit code ${record.exitCode}`}${record.stoppedReason ? `, ${record.stoppedReason}` : ''}`;
}

async function* toAsync(lines: readonly string[]): AsyncGenerator<string> {
  for (const line of lines) yield await Promise.resolve(line);
}
