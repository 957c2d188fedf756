/**
 * `berth tasks list|stop` and `berth logs` on the local provider: the task records under
 * `.berth/tasks`, whose processes (or container CLIs) run on this machine.
 */
import { BerthError } from '../../core/errors.js';
import type { StateDir } from '../../state/state-dir.js';
import { followLogFile } from '../../state/follow-log.js';
import { readLogLines } from '../../state/task-store.js';
import type { TaskRecord } from '../../tasks/task.js';
import type { StopPlan, TaskControl } from '../provider.js';
import { taskIsRunning } from '../../tasks/process-identity.js';
import { stopTaskTree } from './process-identity.js';

/**
 * A RUNNING record whose process is still the one berth started: the PID alone could by now
 * belong to an unrelated process, so its start time is checked too (process-identity.ts).
 */
export function isAlive(record: TaskRecord): boolean {
  return record.status === 'RUNNING' && taskIsRunning(record);
}

export function footerOf(record: TaskRecord): string {
  return `— task ${record.id} (${record.databases.join(', ')}): ${record.status}${record.exitCode === null ? '' : `, exit code ${record.exitCode}`}${record.stoppedReason ? `, ${record.stoppedReason}` : ''}`;
}

export function localTaskControl(state: StateDir): TaskControl {
  const store = state.tasks;
  return {
    async list({ running, limit }) {
      // A RUNNING record whose process is gone belonged to a berth that was killed.
      const records = (await store.list()).map((r) =>
        r.status === 'RUNNING' && !isAlive(r) ? { ...r, status: 'LOST' as const } : r,
      );
      const shown = running ? records.filter((r) => r.status === 'RUNNING') : records;
      return { tasks: limit === undefined ? shown : shown.slice(-limit) };
    },

    async log(id) {
      const record = await store.get(id);
      return {
        task: record,
        lines: readLogLines(record.logFile),
        footer: footerOf(record),
      };
    },

    async follow(id, options = {}) {
      const first = await store.get(id);
      const stopped = async () => {
        const record = await store.get(id);
        return record.status !== 'RUNNING' || !isAlive(record);
      };
      let footer = footerOf(first);
      async function* lines(): AsyncGenerator<string> {
        yield* followLogFile(first.logFile, { ...options, stopped });
        // The record as the task left it: its exit code, why it stopped.
        footer = footerOf(await store.get(id));
      }
      return {
        task: first,
        lines: lines(),
        get footer() {
          return footer;
        },
      };
    },

    async planStop({ ids, all }): Promise<StopPlan> {
      if (ids.length === 0 && !all)
        throw new BerthError('USAGE', 'name the tasks to stop, or pass --all');
      const targets = all
        ? (await store.list()).filter(isAlive)
        : await Promise.all(ids.map((id) => store.get(id)));
      const running = targets.filter(isAlive);
      return {
        targets: running,
        async stop() {
          // The whole process tree, within a bounded time; never a process that is not ours.
          const stopped: { id: string }[] = [];
          for (const record of running) {
            const outcome = await stopTaskTree(record, { graceMs: 5_000 });
            if (outcome !== 'not-ours') stopped.push({ id: record.id });
          }
          return stopped;
        },
      };
    },
  };
}
