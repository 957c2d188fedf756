/**
 * Every fleet run keeps a journal under `.berth/runs/RUN_ID/`: what it set out to do
 * (run.json) and one line per finished database (results.ndjson, appended as each finishes,
 * so a SIGKILL loses at most the databases in flight). `migrate --resume` reads it back.
 */
import { mkdir, open, readdir, readFile, type FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { writeFileAtomic } from '../core/atomic-write.js';
import { redactor } from '../core/redact.js';
import { BerthError, errorMessage } from '../core/errors.js';
import type { DatabaseResult, FleetCounts } from '../fleet/types.js';
import { isSameProcess, recordIdentity, type ProcessIdentity } from '../tasks/process-identity.js';

export interface RunMeta {
  id: string;
  operation: 'migrate';
  provider: 'local' | 'aws';
  databases: string[];
  options: {
    concurrency: number;
    onError: 'stop' | 'continue';
    batchSize: number;
    /** The failure budget: a count, a percentage (`10%`) or `unlimited`. Absent in older runs. */
    maxFailures?: string;
  };
  /** A run in waves: the waves it set out to run, in order (`--resume` keeps them). */
  waves?: { wave: number; databases: string[] }[];
  /**
   * A run in waves that stopped because a wave failed or did not verify: the wave it stopped
   * at. Such a run is finished, and `--resume` continues it from that wave.
   */
  stoppedAtWave?: number;
  startedAt: string;
  finishedAt?: string;
  /**
   * `running` after a SIGKILL too, until the next run on this host settles it (nobody was left
   * to update it: runStatus tells, from `berth`, whether it still runs); `resumed` once
   * --resume took it over; `failed` when it threw (e.g. the server did not start) or was
   * interrupted before any task started. An interrupted or failed last run is what `--resume`
   * continues (select-run.ts).
   */
  state: RunState;
  /**
   * When a later run found this one still `running` with its berth process gone (a SIGKILL, a
   * lost machine) and recorded it as `interrupted` (settleKilledRuns).
   */
  settledAt?: string;
  /**
   * The berth process that runs it (PID and start time) and its host. Absent in older runs,
   * and when the start time could not be read.
   */
  berth?: ProcessIdentity & { host: string };
  /** Why a failed run failed (redacted). */
  error?: string;
  counts?: FleetCounts;
  resumedFrom?: string;
  resumedBy?: string;
}

export type RunState = 'running' | 'finished' | 'interrupted' | 'resumed' | 'failed';

/**
 * A run's record as it starts: `running`, by this berth process (unless `ownProcess` is false:
 * a wave's part of a run, whose wave run records the process).
 */
export function startRun(run: {
  id: string;
  provider: RunMeta['provider'];
  databases: string[];
  options: RunMeta['options'];
  startedAt: string;
  waves?: RunMeta['waves'];
  resumedFrom?: string | undefined;
  ownProcess?: boolean;
}): RunMeta {
  const berth = run.ownProcess === false ? undefined : thisBerth();
  return {
    id: run.id,
    operation: 'migrate',
    provider: run.provider,
    databases: run.databases,
    options: run.options,
    ...(run.waves ? { waves: run.waves } : {}),
    startedAt: run.startedAt,
    state: 'running',
    ...(run.resumedFrom ? { resumedFrom: run.resumedFrom } : {}),
    ...(berth ? { berth } : {}),
  };
}

/** What to record as a new run's `berth`: this process, on this host. */
export function thisBerth(): RunMeta['berth'] {
  const identity = recordIdentity(process.pid);
  return identity && { ...identity, host: os.hostname() };
}

/**
 * Whether a run's berth process is still alive: the same PID with the same start time, on
 * this host. False when it is gone, and when berth cannot tell (no process recorded, or
 * another host's): a run that still says `running` then was interrupted by a kill.
 */
export function berthIsAlive(berth: RunMeta['berth']): boolean {
  return berth !== undefined && berth.host === os.hostname() && isSameProcess(berth);
}

/**
 * A run's state as it stands: its journal's, except that a run whose journal still says
 * `running` but whose berth process is gone (SIGKILL, a lost machine) is `interrupted`.
 * `runs list`, `runs show` and `migrate --resume` all decide through this.
 */
export function runStatus(meta: RunMeta): RunState {
  if (meta.state !== 'running') return meta.state;
  return berthIsAlive(meta.berth) ? 'running' : 'interrupted';
}

export function newRunId(now = new Date()): string {
  return `run-${now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, '')}-${randomBytes(2).toString('hex')}`;
}

export class RunJournal {
  constructor(readonly dir: string) {}

  /**
   * A new run's journal. Runs a kill left `running` on this host are settled first, so what
   * is on disk says what `runs list` says.
   */
  static async create(runsDir: string, meta: RunMeta): Promise<RunJournal> {
    await settleKilledRuns(runsDir, meta.startedAt);
    const journal = new RunJournal(path.join(runsDir, meta.id));
    await mkdir(journal.dir, { recursive: true, mode: 0o700 });
    await journal.writeMeta(meta);
    return journal;
  }

  async writeMeta(meta: RunMeta): Promise<void> {
    await writeFileAtomic(path.join(this.dir, 'run.json'), `${JSON.stringify(meta, null, 2)}\n`);
  }

  private results: Promise<FileHandle> | undefined;
  /** Lines waiting for the write in flight to end, and the write that will carry them. */
  private queued: string[] = [];
  private next: Promise<void> | undefined;
  private writing: Promise<void> = Promise.resolve();

  /**
   * Appends one result; resolves once its line is written (to the kernel: no fsync, a SIGKILL
   * loses nothing written, and a result the journal lost is probed again by --resume). The
   * file stays open for the run, and results that land while a write is in flight go out
   * together in the next one: a thousand up-to-date databases take a few writes, not a
   * thousand, and each line is still written before its result is reported.
   */
  record(result: DatabaseResult): Promise<void> {
    this.queued.push(`${JSON.stringify(result)}\n`);
    this.next ??= this.writing.then(
      () => this.flush(),
      () => this.flush(),
    );
    return this.next;
  }

  private async flush(): Promise<void> {
    const lines = this.queued;
    this.queued = [];
    this.next = undefined;
    this.results ??= open(path.join(this.dir, 'results.ndjson'), 'a', 0o600);
    const written = this.results.then((file) => file.write(lines.join(''))).then(() => undefined);
    this.writing = written;
    return written;
  }

  async close(): Promise<void> {
    await this.next?.catch(() => undefined);
    await this.writing.catch(() => undefined);
    if (this.results) await (await this.results).close();
    this.results = undefined;
  }
}

/**
 * Records as `interrupted` (with `settledAt`) every run whose journal says `running` but whose
 * berth process, on this host, is gone: a SIGKILL left nobody to write how it ended. A run
 * from another host, or without a recorded process, is left alone: berth cannot tell that it
 * stopped. Best effort: a journal it cannot rewrite keeps its derived state (runStatus).
 */
export async function settleKilledRuns(runsDir: string, at: string): Promise<string[]> {
  const host = os.hostname();
  const killed = (await listRuns(runsDir)).filter(
    (run) => run.state === 'running' && run.berth?.host === host && !berthIsAlive(run.berth),
  );
  const settled = await Promise.all(
    killed.map((run) =>
      new RunJournal(path.join(runsDir, run.id))
        .writeMeta({ ...run, state: 'interrupted', settledAt: at })
        .then(
          () => run.id,
          () => undefined,
        ),
    ),
  );
  return settled.filter((id): id is string => id !== undefined);
}

/** Marks a run as taken over by a resuming run, so it is not offered for --resume again. */
export async function markResumed(runsDir: string, id: string, by: string): Promise<void> {
  const { meta } = await readRun(runsDir, id);
  await new RunJournal(path.join(runsDir, id)).writeMeta({
    ...meta,
    state: 'resumed',
    resumedBy: by,
  });
}

export async function readRun(
  runsDir: string,
  id: string,
): Promise<{ meta: RunMeta; results: DatabaseResult[] }> {
  const meta = await readMeta(runsDir, id);
  let results: DatabaseResult[];
  try {
    const text = await readFile(path.join(runsDir, id, 'results.ndjson'), 'utf8');
    // A line cut short by a kill is ignored: that database simply has no result.
    results = text
      .split('\n')
      .filter(Boolean)
      .flatMap((line) => {
        try {
          return [JSON.parse(line) as DatabaseResult];
        } catch {
          return [];
        }
      });
  } catch {
    results = [];
  }
  return { meta, results };
}

/** A run directory berth cannot read: left alone, and reported instead of breaking a command. */
export interface RunProblem {
  id: string;
  reason: string;
}

export interface RunListing {
  /** Readable runs, oldest first. */
  runs: RunMeta[];
  /** Run directories skipped because run.json is missing or corrupt (e.g. cut short by a kill). */
  problems: RunProblem[];
}

/** Every run under runsDir; a directory without a readable run.json is a problem, not an error. */
export async function scanRuns(runsDir: string): Promise<RunListing> {
  let ids: string[];
  try {
    ids = (await readdir(runsDir)).filter((d) => d.startsWith('run-'));
  } catch {
    return { runs: [], problems: [] };
  }
  const read = await Promise.all(
    ids.map(async (id) => {
      try {
        return { meta: await readMeta(runsDir, id) };
      } catch (error) {
        return { problem: { id, reason: errorMessage(error) } };
      }
    }),
  );
  const runs = read.flatMap((r) => (r.meta ? [r.meta] : []));
  const problems = read.flatMap((r) => (r.problem ? [r.problem] : []));
  runs.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  problems.sort((a, b) => a.id.localeCompare(b.id));
  return { runs, problems };
}

/** The readable runs, oldest first (scanRuns also says which directories were skipped). */
export async function listRuns(runsDir: string): Promise<RunMeta[]> {
  return (await scanRuns(runsDir)).runs;
}

const RUN_STATES: readonly RunState[] = ['running', 'finished', 'interrupted', 'resumed', 'failed'];

async function readMeta(runsDir: string, id: string): Promise<RunMeta> {
  if (!/^run-[0-9A-Za-z-]+$/.test(id))
    throw new BerthError('RUN_NOT_FOUND', `"${id}" is not a run ID`, {
      hint: 'see `berth runs list`',
    });
  const file = path.join(runsDir, id, 'run.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const missing = code === 'ENOENT' || code === 'ENOTDIR';
    throw new BerthError(
      'RUN_NOT_FOUND',
      missing ? `no run ${id} (no ${file})` : `cannot read ${file}: ${errorMessage(error)}`,
      { hint: 'see `berth runs list`' },
    );
  }
  let meta: unknown;
  try {
    meta = JSON.parse(text);
  } catch (error) {
    throw corrupt(id, file, `not JSON (${errorMessage(error)})`);
  }
  const m = meta as Partial<Record<keyof RunMeta, unknown>> | null;
  if (
    !m ||
    typeof m !== 'object' ||
    m.id !== id ||
    typeof m.startedAt !== 'string' ||
    typeof m.state !== 'string' ||
    !RUN_STATES.includes(m.state as RunState) ||
    !Array.isArray(m.databases) ||
    !m.databases.every((d) => typeof d === 'string')
  ) {
    throw corrupt(
      id,
      file,
      'not a run record (id, startedAt, state or databases missing or wrong)',
    );
  }
  return meta as RunMeta;
}

function corrupt(id: string, file: string, why: string): BerthError {
  return new BerthError('RUN_NOT_FOUND', `run ${id} is unreadable: ${file} is ${why}`, {
    hint: `berth leaves it alone; delete ${path.dirname(file)} if you do not need it`,
  });
}

/**
 * How a run ended, into its meta: `failed` when it threw or was interrupted before any task
 * started, `interrupted` when stopped mid-run (both resumable: select-run.ts), else `finished`.
 */
export function endRun(
  meta: RunMeta,
  end: {
    error: unknown;
    interrupted: boolean;
    tasksStarted: number;
    finishedAt: string;
    /** The database server went away mid-run: what is left is resumed once it is back. */
    serverGone?: boolean;
  },
): void {
  const failed =
    end.error !== undefined || (end.interrupted && end.tasksStarted === 0 && !end.serverGone);
  meta.state = failed ? 'failed' : end.interrupted || end.serverGone ? 'interrupted' : 'finished';
  if (end.error !== undefined) meta.error = redactor.redact(errorMessage(end.error));
  meta.finishedAt = end.finishedAt;
}
