/**
 * Task records and their log files on disk (`.berth/tasks/ID.json`, `.berth/logs/ID.log`).
 * Logs stream to files and are never held in memory, so fleet size does not grow berth.
 */
import { createReadStream } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import readline from 'node:readline';
import { writeFileAtomic } from '../core/atomic-write.js';
import { BerthError } from '../core/errors.js';
import { TASK_ID_PATTERN } from '../tasks/task-id.js';
import type { TaskOutcome, TaskRecord, TaskSpec } from '../tasks/task.js';

export class TaskStore {
  constructor(
    readonly tasksDir: string,
    readonly logsDir: string,
  ) {}

  logFile(id: string): string {
    return path.join(this.logsDir, `${id}.log`);
  }

  async save(record: TaskRecord): Promise<void> {
    await writeFileAtomic(
      path.join(this.tasksDir, `${record.id}.json`),
      `${JSON.stringify(record, null, 2)}\n`,
    );
  }

  async get(id: string): Promise<TaskRecord> {
    if (!TASK_ID_PATTERN.test(id)) {
      throw new BerthError('TASK_NOT_FOUND', `"${id}" is not a task ID`, {
        hint: 'see `berth tasks list`',
      });
    }
    try {
      return JSON.parse(
        await readFile(path.join(this.tasksDir, `${id}.json`), 'utf8'),
      ) as TaskRecord;
    } catch {
      throw new BerthError('TASK_NOT_FOUND', `no local task ${id}`, {
        hint: 'see `berth tasks list`',
      });
    }
  }

  /** No records directory yet is no tasks: listing (a read) creates nothing. */
  async list(): Promise<TaskRecord[]> {
    let names: string[];
    try {
      names = await readdir(this.tasksDir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const files = names.filter((f) => f.endsWith('.json'));
    const records = await Promise.all(
      files.map(
        async (f) => JSON.parse(await readFile(path.join(this.tasksDir, f), 'utf8')) as TaskRecord,
      ),
    );
    return records.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  }
}

/** The RUNNING record every runtime writes when a task starts. */
export function startRecord(
  spec: TaskSpec,
  runtime: string,
  logFile: string,
  startedMs: number,
  runId?: string,
): TaskRecord {
  return {
    id: spec.id,
    kind: spec.kind,
    runtime,
    databases: spec.databases,
    command: spec.command,
    status: 'RUNNING',
    exitCode: null,
    startedAt: new Date(startedMs).toISOString(),
    logFile,
    ...(runId ? { runId } : {}),
  };
}

/** Marks a record STOPPED with the outcome's exit code and reason. */
export function stopRecord<R extends TaskRecord>(
  record: R,
  outcome: Pick<TaskOutcome, 'exitCode' | 'stoppedReason'>,
  stoppedMs: number,
): R {
  record.status = 'STOPPED';
  record.exitCode = outcome.exitCode;
  record.stoppedAt = new Date(stoppedMs).toISOString();
  if (outcome.stoppedReason) record.stoppedReason = outcome.stoppedReason;
  delete record.pid;
  delete record.startTime;
  delete record.supervisor;
  return record;
}

/** Streams a log file line by line (bounded memory). */
export async function* readLogLines(file: string): AsyncGenerator<string> {
  const stream = createReadStream(file, { encoding: 'utf8' });
  const lines = readline.createInterface({ input: stream, crlfDelay: Infinity });
  try {
    for await (const line of lines) yield line;
  } finally {
    lines.close();
    stream.destroy();
  }
}

/** The last `count` lines of a log, reading the whole file once but keeping only `count`. */
export async function tailLog(file: string, count: number): Promise<string[]> {
  const tail: string[] = [];
  try {
    for await (const line of readLogLines(file)) {
      tail.push(line);
      if (tail.length > count) tail.shift();
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  return tail;
}
