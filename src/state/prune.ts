/**
 * Housekeeping for `.berth/`: task records with their logs, run journals, and logs no record
 * points at. A fleet run leaves one task record and one log per database (or batch), so the
 * directory grows without bound unless something removes the old ones.
 *
 * What goes: with `olderThanMs`, items that started longer ago than that; with `keep`, items
 * beyond the newest `keep` of their kind (tasks, runs). Given both, an item goes only when
 * both say so. Never pruned: a task still running, and a run still going (its berth process
 * alive, `runStatus`) or one of whose tasks is still running. "Running" is decided as `berth tasks list|stop` decide it (`taskIsRunning`): a
 * RUNNING record whose supervisor or task process is still the recorded one, same PID and same
 * start time. A record `tasks list` shows LOST (berth killed, both processes gone, or the PID
 * now another process's) is not running and goes like any other. Only a record that names no
 * process on this machine (an ECS task's) cannot be checked here, and is kept while RUNNING.
 * Plan first (`planPrune`, pure over what it read), then delete (`applyPrune`); `dryRun` stops
 * at the plan.
 */
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { BerthError } from '../core/errors.js';
import { taskIsRunning } from '../tasks/process-identity.js';
import type { TaskRecord } from '../tasks/task.js';
import type { StatePaths } from './paths.js';
import { runStatus, type RunMeta } from './journal.js';

export interface PruneOptions {
  /** Remove what started longer ago than this. */
  olderThanMs?: number;
  /** Keep the newest `keep` tasks and the newest `keep` runs. */
  keep?: number;
  dryRun?: boolean;
  now?: number;
  /** Whether a RUNNING task is still running (default: `stillRunning`, the identity check). */
  isAlive?: (record: TaskRecord) => boolean;
  /** Whether a run is still going (default: its berth process is alive, `runStatus`). */
  runIsLive?: (meta: RunMeta) => boolean;
}

export interface PruneItem {
  kind: 'task' | 'run' | 'log';
  id: string;
  /** ISO time the item started (a stray log: its last modification). */
  startedAt: string;
  /** Files and directories that go with it. */
  paths: string[];
  bytes: number;
}

export interface PruneResult {
  dryRun: boolean;
  removed: PruneItem[];
  kept: { tasks: number; runs: number; running: number };
  bytes: number;
}

const DAY = 86_400_000;
const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: DAY, w: 7 * DAY };

/** `30m`, `12h`, `7d`, `2w` → milliseconds; a USAGE error naming `--older-than` otherwise. */
export function parseAge(text: string, option = '--older-than'): number {
  const match = /^(\d+)([mhdw])$/.exec(text.trim());
  const amount = match ? Number(match[1]) : NaN;
  const unit = match ? UNITS[match[2] ?? ''] : undefined;
  if (!unit || !Number.isSafeInteger(amount) || amount < 1) {
    throw new BerthError(
      'USAGE',
      `${option} must be a whole number with a unit m, h, d or w (e.g. 7d), got "${text}"`,
    );
  }
  return amount * unit;
}

export async function pruneState(paths: StatePaths, options: PruneOptions): Promise<PruneResult> {
  const plan = planPrune(await readState(paths), options);
  if (!options.dryRun) await applyPrune(plan.removed);
  return plan;
}

export interface StateSnapshot {
  tasks: { record: TaskRecord; file: string; bytes: number; logBytes: number }[];
  runs: { meta: RunMeta; dir: string; bytes: number }[];
  /** Logs in the logs directory that no task record names. */
  strayLogs: { file: string; modifiedMs: number; bytes: number }[];
}

export function planPrune(state: StateSnapshot, options: PruneOptions): PruneResult {
  const { olderThanMs, keep } = options;
  if (olderThanMs === undefined && keep === undefined) {
    throw new BerthError('USAGE', 'prune needs --older-than AGE or --keep N (or both)', {
      hint: 'e.g. `berth prune --older-than 7d --dry-run` to see what would go',
    });
  }
  if (keep !== undefined && (!Number.isInteger(keep) || keep < 1))
    throw new BerthError('USAGE', `--keep must be a whole number of at least 1, got ${keep}`);
  const now = options.now ?? Date.now();
  const cutoff = olderThanMs === undefined ? undefined : now - olderThanMs;
  const isAlive = options.isAlive ?? stillRunning;

  const running = state.tasks.filter((t) => t.record.status === 'RUNNING' && isAlive(t.record));
  const runIsLive = options.runIsLive ?? ((meta: RunMeta) => runStatus(meta) === 'running');
  // A run is live while a task of it runs, or while its own berth does (probing, between
  // batches: no task yet, and its journal is being written).
  const liveRuns = new Set([
    ...running.flatMap((t) => (t.record.runId ? [t.record.runId] : [])),
    ...state.runs.filter((r) => runIsLive(r.meta)).map((r) => r.meta.id),
  ]);

  // Newest first: index < keep is "among the last N".
  const goes = (startedMs: number, index: number) =>
    (cutoff === undefined || startedMs < cutoff) && (keep === undefined || index >= keep);
  const tasks = [...state.tasks].sort((a, b) =>
    b.record.startedAt.localeCompare(a.record.startedAt),
  );
  const runs = [...state.runs].sort((a, b) => b.meta.startedAt.localeCompare(a.meta.startedAt));

  const removed: PruneItem[] = [];
  const keptTasks = tasks.filter((t, i) => {
    if (running.includes(t) || !goes(Date.parse(t.record.startedAt), i)) return true;
    removed.push({
      kind: 'task',
      id: t.record.id,
      startedAt: t.record.startedAt,
      paths: [t.file, t.record.logFile],
      bytes: t.bytes + t.logBytes,
    });
    return false;
  });
  const keptRuns = runs.filter((r, i) => {
    if (liveRuns.has(r.meta.id) || !goes(Date.parse(r.meta.startedAt), i)) return true;
    removed.push({
      kind: 'run',
      id: r.meta.id,
      startedAt: r.meta.startedAt,
      paths: [r.dir],
      bytes: r.bytes,
    });
    return false;
  });
  // A stray log goes by age; with --keep only, when it is older than every task kept.
  const oldestKept = keptTasks.at(-1)?.record.startedAt;
  const strayCutoff = cutoff ?? (oldestKept ? Date.parse(oldestKept) : now);
  for (const log of state.strayLogs) {
    if (log.modifiedMs >= strayCutoff) continue;
    removed.push({
      kind: 'log',
      id: path.basename(log.file, '.log'),
      startedAt: new Date(log.modifiedMs).toISOString(),
      paths: [log.file],
      bytes: log.bytes,
    });
  }
  return {
    dryRun: options.dryRun ?? false,
    removed,
    kept: { tasks: keptTasks.length, runs: keptRuns.length, running: running.length },
    bytes: removed.reduce((sum, item) => sum + item.bytes, 0),
  };
}

export async function applyPrune(items: PruneItem[]): Promise<void> {
  for (const item of items) {
    // The record last: an interrupted prune leaves a record whose log is gone (shown as
    // such by `berth logs`), never a log no record can find again.
    for (const p of [...item.paths].reverse()) await rm(p, { recursive: true, force: true });
  }
}

export async function readState(paths: StatePaths): Promise<StateSnapshot> {
  const tasks: StateSnapshot['tasks'] = [];
  for (const name of await list(paths.tasks)) {
    if (!name.endsWith('.json')) continue;
    const file = path.join(paths.tasks, name);
    const record = await readJson<TaskRecord>(file);
    if (!record?.id || !record.startedAt) continue; // not a record berth wrote: leave it
    const logFile = record.logFile || path.join(paths.logs, `${record.id}.log`);
    tasks.push({
      record: { ...record, logFile },
      file,
      bytes: await size(file),
      logBytes: await size(logFile),
    });
  }
  const named = new Set(tasks.map((t) => path.resolve(t.record.logFile)));
  const strayLogs: StateSnapshot['strayLogs'] = [];
  for (const name of await list(paths.logs)) {
    const file = path.join(paths.logs, name);
    if (!name.endsWith('.log') || named.has(path.resolve(file))) continue;
    const info = await stat(file).catch(() => undefined);
    if (info?.isFile()) strayLogs.push({ file, modifiedMs: info.mtimeMs, bytes: info.size });
  }
  const runs: StateSnapshot['runs'] = [];
  for (const id of await list(paths.runs)) {
    if (!id.startsWith('run-')) continue;
    const dir = path.join(paths.runs, id);
    const meta = await readJson<RunMeta>(path.join(dir, 'run.json'));
    if (!meta?.startedAt) continue;
    runs.push({ meta: { ...meta, id }, dir, bytes: await dirSize(dir) });
  }
  return { tasks, runs, strayLogs };
}

/**
 * Whether a RUNNING record's task is still running, as `berth tasks list` sees it: a local
 * task (one with a supervisor or a task process recorded) only while one of them is still the
 * same process (`taskIsRunning`). A record with neither is a task on another machine (ECS),
 * which cannot be checked from here: it is kept while its record says RUNNING.
 */
function stillRunning(record: TaskRecord): boolean {
  if (record.status !== 'RUNNING') return false;
  if (record.supervisor === undefined && record.pid === undefined) return true;
  return taskIsRunning(record);
}

async function list(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

async function size(file: string): Promise<number> {
  return (await stat(file).catch(() => undefined))?.size ?? 0;
}

async function dirSize(dir: string): Promise<number> {
  let total = 0;
  for (const name of await list(dir)) {
    const info = await stat(path.join(dir, name)).catch(() => undefined);
    if (info?.isFile()) total += info.size;
  }
  return total;
}
