/**
 * `berth logs --follow` on the local provider: the task log grows while its record says
 * RUNNING (with a live pid), and the follow ends, with the final footer, once it is STOPPED.
 */
import { appendFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localTaskControl } from '../../src/providers/local/local-tasks.js';
import { processStartTime } from '../../src/tasks/process-identity.js';
import { statePaths } from '../../src/state/paths.js';
import { TaskStore, stopRecord } from '../../src/state/task-store.js';
import type { TaskRecord } from '../../src/tasks/task.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'berth-local-follow-'));
  await mkdir(statePaths(dir).logs, { recursive: true });
  await mkdir(statePaths(dir).tasks, { recursive: true });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('local task control: follow', () => {
  it('prints lines as the task writes them and ends when its record is STOPPED', async () => {
    const paths = statePaths(dir);
    const store = new TaskStore(paths.tasks, paths.logs);
    const record: TaskRecord = {
      id: 'migrate-1',
      kind: 'migrate',
      runtime: 'process',
      databases: ['acme'],
      command: ['node', 'migrate.js'],
      status: 'RUNNING',
      exitCode: null,
      startedAt: new Date(0).toISOString(),
      logFile: store.logFile('migrate-1'),
      pid: process.pid, // alive for as long as the test runs
      startTime: processStartTime(process.pid),
    };
    await store.save(record);
    const control = localTaskControl({ paths, tasks: store });
    const steps = [
      () => appendFile(record.logFile, 'Applying 0001\n'),
      () => appendFile(record.logFile, 'Applying 0002\n'),
      async () => {
        await appendFile(record.logFile, 'done\n');
        await store.save(stopRecord({ ...record }, { exitCode: 0 }, 1000));
      },
    ];
    const log = await control.follow('migrate-1', {
      sleep: async () => {
        await steps.shift()?.();
      },
    });
    expect(log.footer).toBe('— task migrate-1 (acme): RUNNING');
    const lines: string[] = [];
    for await (const line of log.lines) lines.push(line);
    expect(lines).toEqual(['Applying 0001', 'Applying 0002', 'done']);
    expect(steps).toHaveLength(0);
    expect(log.footer).toBe('— task migrate-1 (acme): STOPPED, exit code 0');
  });

  it('ends when the process behind a RUNNING record is gone (a killed berth)', async () => {
    const paths = statePaths(dir);
    const store = new TaskStore(paths.tasks, paths.logs);
    const record: TaskRecord = {
      id: 'migrate-2',
      kind: 'migrate',
      runtime: 'process',
      databases: ['acme'],
      command: ['x'],
      status: 'RUNNING',
      exitCode: null,
      startedAt: new Date(0).toISOString(),
      logFile: store.logFile('migrate-2'),
      pid: 2 ** 22 + 12345, // above Linux's pid_max: no such process
    };
    await store.save(record);
    await appendFile(record.logFile, 'half way\n');
    const log = await localTaskControl({ paths, tasks: store }).follow('migrate-2', {
      sleep: () => Promise.reject(new Error('should not wait for a dead task')),
    });
    const lines: string[] = [];
    for await (const line of log.lines) lines.push(line);
    expect(lines).toEqual(['half way']);
  });
});
