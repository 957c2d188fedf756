/**
 * Stopping a local task (what `berth tasks stop` does, through process-identity.ts): the
 * whole process tree of a shell-loop batch ends within the grace period, the runtime reports
 * the task stopped (not a success), and a record whose PID now names another process is
 * never signalled.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchCommand } from '../../src/fleet/batch-script.js';
import { stopTaskTree } from '../../src/providers/local/process-identity.js';
import { ProcessRuntime } from '../../src/providers/local/process-runtime.js';
import { TaskStore } from '../../src/state/task-store.js';
import {
  isSameProcess,
  processStartTime,
  recordIdentity,
  taskIsRunning,
} from '../../src/tasks/process-identity.js';
import type { TaskRecord } from '../../src/tasks/task.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('stopping local tasks', () => {
  let dir: string;
  let store: TaskStore;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'berth-task-stop-'));
    store = new TaskStore(path.join(dir, 'tasks'), path.join(dir, 'logs'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('stopTaskTree ends a shell-loop batch and its child that ignores SIGTERM, and the task is not a success', async () => {
    const pids = path.join(dir, 'pids');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(pids);
    // The migrate command of each tenant: records its pid, ignores SIGTERM, runs "forever".
    const migrate = [
      'node',
      '-e',
      `process.on('SIGTERM',()=>{}); require('fs').writeFileSync(${JSON.stringify(pids)}+'/'+process.pid,''); setInterval(()=>{},1000)`,
    ];
    const runtime = new ProcessRuntime({ cwd: dir, store, killGraceMs: 500 });
    const id = `migrate-stop-${Date.now()}`;
    const running = runtime.run({
      id,
      kind: 'migrate',
      databases: ['t1', 't2'],
      command: batchCommand(migrate, ['t1', 't2'], false),
      environment: {},
      timeoutMs: 600_000,
    });
    await waitFor(async () => (await readdir(pids)).length > 0, 'the first tenant to start');
    await waitFor(async () => (await store.get(id)).pid !== undefined, 'the task record');
    const record = await store.get(id);
    const [child] = (await readdir(pids)).map(Number);
    expect(taskIsRunning(record)).toBe(true);

    expect(await stopTaskTree(record, { graceMs: 500 })).toBe('stopped');
    expect(alive(child ?? 0)).toBe(false);
    expect(alive(record.pid ?? 0)).toBe(false);
    const outcome = await running;
    expect(outcome.exitCode).toBeNull();
    expect(outcome.stoppedReason).toMatch(/SIGTERM/);
    // The loop never reached the second tenant.
    expect((await readdir(pids)).length).toBe(1);
    expect(taskIsRunning(await store.get(id))).toBe(false);
  });

  it('a record whose PID now belongs to another process is left alone', async () => {
    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      await waitFor(() => processStartTime(other.pid ?? 0) !== undefined, 'sleep to start');
      const identity = recordIdentity(other.pid);
      expect(isSameProcess(identity)).toBe(true);
      // A stale record: same PID, but the process it named started at another time.
      const stale: TaskRecord = {
        id: 'migrate-stale',
        kind: 'migrate',
        runtime: 'process',
        databases: ['t1'],
        command: ['x'],
        status: 'RUNNING',
        exitCode: null,
        startedAt: new Date().toISOString(),
        logFile: path.join(dir, 'none.log'),
        pid: other.pid ?? 0,
        startTime: '1',
        supervisor: { pid: other.pid ?? 0, startTime: '1' },
      };
      expect(taskIsRunning(stale)).toBe(false);
      expect(await stopTaskTree(stale, { graceMs: 100 })).toBe('not-ours');
      expect(alive(other.pid ?? 0)).toBe(true);
      // A record written before identities were recorded is never signalled either.
      const { startTime: _s, supervisor: _v, ...legacy } = stale;
      expect(taskIsRunning(legacy)).toBe(false);
      expect(await stopTaskTree(legacy, { graceMs: 100 })).toBe('not-ours');
      expect(alive(other.pid ?? 0)).toBe(true);
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('a record of a process that has exited is not running and stopping it signals nothing', async () => {
    const gone = spawn('true', [], { stdio: 'ignore' });
    const identity = await new Promise<ReturnType<typeof recordIdentity>>((resolve) => {
      const id = recordIdentity(gone.pid);
      gone.on('close', () => resolve(id ?? { pid: gone.pid ?? 0, startTime: 'x' }));
    });
    expect(isSameProcess(identity)).toBe(false);
  });

  it('reads the start time of a process whose name holds spaces and parentheses', async () => {
    const { copyFile } = await import('node:fs/promises');
    const odd = path.join(dir, 'sl) (x y');
    await copyFile('/bin/sleep', odd);
    const { chmod } = await import('node:fs/promises');
    await chmod(odd, 0o755);
    const child = spawn(odd, ['30'], { stdio: 'ignore' });
    try {
      await waitFor(() => processStartTime(child.pid ?? 0) !== undefined, 'the process to start');
      const identity = recordIdentity(child.pid);
      expect(identity?.startTime).toMatch(/^\d+$/);
      // The same as for a plainly named process started now, give or take a few ticks.
      const plain = spawn('sleep', ['30'], { stdio: 'ignore' });
      await waitFor(() => processStartTime(plain.pid ?? 0) !== undefined, 'sleep to start');
      const a = Number(identity?.startTime);
      const b = Number(processStartTime(plain.pid ?? 0));
      plain.kill('SIGKILL');
      expect(Math.abs(a - b)).toBeLessThan(1_000);
      expect(isSameProcess(identity)).toBe(true);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('when the supervisor alone is killed, berth ends the task group itself and reports it stopped', async () => {
    const pids = path.join(dir, 'pids-orphan');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(pids);
    const migrate = [
      'node',
      '-e',
      `process.on('SIGTERM',()=>{}); require('fs').writeFileSync(${JSON.stringify(pids)}+'/'+process.pid,''); setInterval(()=>{},1000)`,
    ];
    const runtime = new ProcessRuntime({ cwd: dir, store, killGraceMs: 500 });
    const id = `migrate-orphan-${Date.now()}`;
    const running = runtime.run({
      id,
      kind: 'migrate',
      databases: ['t1'],
      command: batchCommand(migrate, ['t1'], false),
      environment: {},
      timeoutMs: 600_000,
    });
    await waitFor(async () => (await readdir(pids)).length > 0, 'the task to start');
    await waitFor(async () => (await store.get(id)).pid !== undefined, 'the task record');
    const record = await store.get(id);
    const [child] = (await readdir(pids)).map(Number);
    process.kill(record.supervisor?.pid ?? 0, 'SIGKILL');
    const outcome = await running;
    expect(outcome.exitCode).toBeNull();
    expect(outcome.stoppedReason).toMatch(/supervisor died/);
    expect(alive(child ?? 0)).toBe(false);
    expect(alive(record.pid ?? 0)).toBe(false);
  });
});
