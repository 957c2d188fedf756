/** `berth prune` (src/state/prune.ts) on a real temporary .berth directory. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BerthError } from '../../src/core/errors.js';
import { parseAge, pruneState } from '../../src/state/prune.js';
import { statePaths, type StatePaths } from '../../src/state/paths.js';
import { TaskStore } from '../../src/state/task-store.js';
import { RunJournal, thisBerth, type RunMeta } from '../../src/state/journal.js';
import { recordIdentity, type ProcessIdentity } from '../../src/tasks/process-identity.js';
import type { TaskRecord } from '../../src/tasks/task.js';

const NOW = Date.parse('2026-06-30T12:00:00Z');
const DAY = 86_400_000;
const daysAgo = (d: number) => new Date(NOW - d * DAY).toISOString();

let paths: StatePaths;
let store: TaskStore;
beforeEach(async () => {
  paths = statePaths(await mkdtemp(path.join(os.tmpdir(), 'berth-prune-')));
  store = new TaskStore(paths.tasks, paths.logs);
});
afterEach(async () => {
  await rm(paths.root, { recursive: true, force: true });
});

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

/** A `sleep 30` child and its identity (PID and start time), read with berth's own helper. */
async function sleeper(): Promise<{ child: ChildProcess; identity: ProcessIdentity }> {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  const identity = recordIdentity(child.pid);
  if (!identity) throw new Error('could not read the start time of sleep');
  return { child, identity };
}

/** The identity of a process that has exited (and been reaped): a killed berth's supervisor. */
async function deadIdentity(): Promise<ProcessIdentity> {
  const { child, identity } = await sleeper();
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
  return identity;
}

async function task(
  id: string,
  ageDays: number,
  extra: Partial<TaskRecord> = {},
): Promise<TaskRecord> {
  const record: TaskRecord = {
    id,
    kind: 'migrate',
    runtime: 'process',
    databases: ['a'],
    command: ['node', 'migrate.js'],
    status: 'STOPPED',
    exitCode: 0,
    startedAt: daysAgo(ageDays),
    stoppedAt: daysAgo(ageDays),
    logFile: store.logFile(id),
    ...extra,
  };
  await store.save(record);
  await mkdir(paths.logs, { recursive: true });
  await writeFile(record.logFile, `log of ${id}\n`);
  return record;
}

async function run(
  id: string,
  ageDays: number,
  state: RunMeta['state'] = 'finished',
  berth?: RunMeta['berth'],
) {
  const journal = await RunJournal.create(paths.runs, {
    ...(berth ? { berth } : {}),
    id,
    operation: 'migrate',
    provider: 'local',
    databases: ['a'],
    options: { concurrency: 1, onError: 'stop', batchSize: 1 },
    startedAt: daysAgo(ageDays),
    state,
  });
  await journal.close();
}

const ids = async (dir: string) => (await readdir(dir).catch(() => [] as string[])).sort();

describe('pruneState', () => {
  it('removes tasks (record and log) and runs older than --older-than, keeps the rest', async () => {
    await task('migrate-20260601T000000-aaaaaa', 29);
    await task('migrate-20260629T000000-bbbbbb', 1);
    await run('run-20260601T000000-aaaa', 29);
    await run('run-20260629T000000-bbbb', 1);

    const result = await pruneState(paths, { olderThanMs: 7 * DAY, now: NOW });

    expect(result.removed.map((i) => `${i.kind} ${i.id}`)).toEqual([
      'task migrate-20260601T000000-aaaaaa',
      'run run-20260601T000000-aaaa',
    ]);
    expect(result.kept).toEqual({ tasks: 1, runs: 1, running: 0 });
    expect(result.bytes).toBeGreaterThan(0);
    expect(await ids(paths.tasks)).toEqual(['migrate-20260629T000000-bbbbbb.json']);
    expect(await ids(paths.logs)).toEqual(['migrate-20260629T000000-bbbbbb.log']);
    expect(await ids(paths.runs)).toEqual(['run-20260629T000000-bbbb']);
  });

  it('--keep N keeps the newest N of each kind', async () => {
    for (let d = 1; d <= 5; d++) {
      await task(`migrate-2026060${d}T000000-00000${d}`, d);
      await run(`run-2026060${d}T000000-000${d}`, d);
    }
    const result = await pruneState(paths, { keep: 2, now: NOW });
    expect(result.kept).toEqual({ tasks: 2, runs: 2, running: 0 });
    // The newest are the least days ago: 1 and 2.
    expect(await ids(paths.tasks)).toEqual([
      'migrate-20260601T000000-000001.json',
      'migrate-20260602T000000-000002.json',
    ]);
    expect(await ids(paths.runs)).toEqual(['run-20260601T000000-0001', 'run-20260602T000000-0002']);
  });

  it('given both, removes only what is older AND beyond the last N', async () => {
    await task('migrate-20260101T000000-000001', 30);
    await task('migrate-20260102T000000-000002', 20);
    await task('migrate-20260103T000000-000003', 10);
    await task('migrate-20260104T000000-000004', 1);
    const result = await pruneState(paths, { olderThanMs: 7 * DAY, keep: 2, now: NOW });
    // 10 days old but among the last 2: kept; 1 day old: kept.
    expect(result.removed.map((i) => i.id)).toEqual([
      'migrate-20260102T000000-000002',
      'migrate-20260101T000000-000001',
    ]);
  });

  it('--dry-run reports the same plan and deletes nothing', async () => {
    await task('migrate-20260601T000000-aaaaaa', 29);
    await run('run-20260601T000000-aaaa', 29);
    const dry = await pruneState(paths, { olderThanMs: DAY, now: NOW, dryRun: true });
    expect(dry.dryRun).toBe(true);
    expect(dry.removed).toHaveLength(2);
    expect(await ids(paths.tasks)).toHaveLength(1);
    expect(await ids(paths.logs)).toHaveLength(1);
    expect(await ids(paths.runs)).toHaveLength(1);
    const real = await pruneState(paths, { olderThanMs: DAY, now: NOW });
    expect(real.removed).toEqual(dry.removed);
    expect(await ids(paths.tasks)).toEqual([]);
  });

  it('never removes a running task or its run, but does remove a lost one (process gone)', async () => {
    await task('migrate-20260601T000000-aaaaaa', 29, {
      status: 'RUNNING',
      exitCode: null,
      pid: 111,
      runId: 'run-20260601T000000-aaaa',
    });
    await task('migrate-20260601T000000-bbbbbb', 29, {
      status: 'RUNNING',
      exitCode: null,
      pid: 222,
    });
    await run('run-20260601T000000-aaaa', 29, 'running');
    const result = await pruneState(paths, {
      olderThanMs: DAY,
      now: NOW,
      isAlive: (r) => r.pid === 111,
    });
    expect(result.removed.map((i) => i.id)).toEqual(['migrate-20260601T000000-bbbbbb']);
    expect(result.kept.running).toBe(1);
    expect(existsSync(path.join(paths.runs, 'run-20260601T000000-aaaa'))).toBe(true);
  });

  // Without `isAlive`: "running" is decided as `berth tasks list|stop` decide it (taskIsRunning).
  const RUNNING = { status: 'RUNNING', exitCode: null } as const;

  it('removes a LOST task (berth killed at start: only a supervisor identity, gone) and its run', async () => {
    await task('migrate-20260601T000000-aaaaaa', 29, {
      ...RUNNING,
      supervisor: await deadIdentity(),
      runId: 'run-20260601T000000-aaaa',
    });
    await run('run-20260601T000000-aaaa', 29, 'running');
    const result = await pruneState(paths, { olderThanMs: 7 * DAY, now: NOW, dryRun: true });
    expect(result.removed.map((i) => `${i.kind} ${i.id}`)).toEqual([
      'task migrate-20260601T000000-aaaaaa',
      'run run-20260601T000000-aaaa',
    ]);
    expect(result.kept).toEqual({ tasks: 0, runs: 0, running: 0 });
  });

  it('keeps a run whose berth is still going though no task of it runs yet (probing)', async () => {
    // This test process stands for the live berth; the older run's berth is gone.
    await run('run-20260601T000000-aaaa', 29, 'running', thisBerth());
    await run('run-20260602T000000-bbbb', 28, 'running', {
      ...(await deadIdentity()),
      host: os.hostname(),
    });
    const result = await pruneState(paths, { olderThanMs: 7 * DAY, now: NOW, dryRun: true });
    expect(result.removed.map((i) => `${i.kind} ${i.id}`)).toEqual([
      'run run-20260602T000000-bbbb',
    ]);
    expect(result.kept.runs).toBe(1);
  });

  it('removes a task whose PID is alive but is another process now (start time differs)', async () => {
    await task('migrate-20260601T000000-aaaaaa', 29, {
      ...RUNNING,
      pid: process.pid,
      startTime: 'not-the-recorded-start-time',
      supervisor: { pid: process.pid, startTime: 'not-the-recorded-start-time' },
    });
    // An older berth's record: a PID and no start time is no identity either.
    await task('migrate-20260601T000000-bbbbbb', 29, { ...RUNNING, pid: process.pid });
    const result = await pruneState(paths, { olderThanMs: 7 * DAY, now: NOW });
    expect(result.removed.map((i) => i.id).sort()).toEqual([
      'migrate-20260601T000000-aaaaaa',
      'migrate-20260601T000000-bbbbbb',
    ]);
    expect(result.kept.running).toBe(0);
    expect(await ids(paths.tasks)).toEqual([]);
  });

  it('keeps a task whose process or supervisor is still the recorded one, and its run', async () => {
    const { identity } = await sleeper();
    const gone = await deadIdentity();
    // The task's own process alive (its supervisor killed on its own) …
    await task('migrate-20260601T000000-aaaaaa', 29, {
      ...RUNNING,
      pid: identity.pid,
      ...(identity.startTime ? { startTime: identity.startTime } : {}),
      supervisor: gone,
      runId: 'run-20260601T000000-aaaa',
    });
    // … or its supervisor alive (the task's PID not recorded yet).
    await task('migrate-20260601T000000-bbbbbb', 29, { ...RUNNING, supervisor: identity });
    await run('run-20260601T000000-aaaa', 29, 'running');
    const result = await pruneState(paths, { olderThanMs: 7 * DAY, now: NOW });
    expect(result.removed).toEqual([]);
    expect(result.kept).toEqual({ tasks: 2, runs: 1, running: 2 });
    expect(await ids(paths.tasks)).toHaveLength(2);
  });

  it('keeps a RUNNING record that names no process on this machine (an ECS task)', async () => {
    await task('migrate-20260601T000000-aaaaaa', 29, { ...RUNNING, runtime: 'ecs' });
    const result = await pruneState(paths, { olderThanMs: 7 * DAY, now: NOW });
    expect(result.removed).toEqual([]);
    expect(result.kept.running).toBe(1);
  });

  it('removes stray logs (no record) by age, and leaves files berth did not write', async () => {
    await mkdir(paths.logs, { recursive: true });
    const old = path.join(paths.logs, 'migrate-20260101T000000-cccccc.log');
    const fresh = path.join(paths.logs, 'migrate-20260630T115900-dddddd.log');
    await writeFile(old, 'x');
    await writeFile(fresh, 'y');
    await utimes(old, new Date(NOW - 30 * DAY), new Date(NOW - 30 * DAY));
    await utimes(fresh, new Date(NOW - 60_000), new Date(NOW - 60_000));
    await writeFile(path.join(paths.logs, 'notes.txt'), 'mine');
    await mkdir(paths.tasks, { recursive: true });
    await writeFile(path.join(paths.tasks, 'broken.json'), '{not json');

    const result = await pruneState(paths, { olderThanMs: 7 * DAY, now: NOW });
    expect(result.removed.map((i) => `${i.kind} ${i.id}`)).toEqual([
      'log migrate-20260101T000000-cccccc',
    ]);
    expect(await ids(paths.logs)).toEqual(['migrate-20260630T115900-dddddd.log', 'notes.txt']);
    expect(await ids(paths.tasks)).toEqual(['broken.json']);
  });

  it('works on a .berth directory that does not exist yet', async () => {
    const empty = statePaths(path.join(paths.root, 'nothing-here'));
    expect(await pruneState(empty, { keep: 1 })).toMatchObject({ removed: [], bytes: 0 });
  });

  it('needs --older-than or --keep, and a sensible --keep', async () => {
    await expect(pruneState(paths, {})).rejects.toMatchObject({ code: 'USAGE' });
    await expect(pruneState(paths, { keep: 0 })).rejects.toBeInstanceOf(BerthError);
  });
});

describe('parseAge', () => {
  it('reads minutes, hours, days and weeks', () => {
    expect(parseAge('30m')).toBe(30 * 60_000);
    expect(parseAge('12h')).toBe(12 * 3_600_000);
    expect(parseAge('7d')).toBe(7 * DAY);
    expect(parseAge('2w')).toBe(14 * DAY);
  });

  it.each(['7', '7 days', '-1d', '0d', 'd', '1.5d'])('rejects %j, naming the option', (text) => {
    expect(() => parseAge(text)).toThrow(/--older-than must be a whole number with a unit/);
  });
});
