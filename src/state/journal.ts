/**
 * Every fleet run keeps a journal under `.berth/runs/RUN_ID/`: what it set out to do
 * (run.json) and one line per finished database (results.ndjson, appended as each finishes,
 * so a SIGKILL loses at most the databases in flight). `migrate --resume` reads it back.
 */
import { mkdir, open, readdir, readFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { writeFileAtomic } from '../core/atomic-write.js';
import { BerthError } from '../core/errors.js';
import type { DatabaseResult, FleetCounts } from '../fleet/types.js';

export interface RunMeta {
  id: string;
  operation: 'migrate';
  provider: 'local' | 'aws';
  databases: string[];
  options: { concurrency: number; onError: 'stop' | 'continue'; batchSize: number };
  startedAt: string;
  finishedAt?: string;
  /** `running` after a SIGKILL too (nobody was left to update it); `resumed` once --resume took it over. */
  state: 'running' | 'finished' | 'interrupted' | 'resumed';
  counts?: FleetCounts;
  resumedFrom?: string;
  resumedBy?: string;
}

export function newRunId(now = new Date()): string {
  return `run-${now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, '')}-${randomBytes(2).toString('hex')}`;
}

export class RunJournal {
  constructor(readonly dir: string) {}

  static async create(runsDir: string, meta: RunMeta): Promise<RunJournal> {
    const journal = new RunJournal(path.join(runsDir, meta.id));
    await mkdir(journal.dir, { recursive: true, mode: 0o700 });
    await journal.writeMeta(meta);
    return journal;
  }

  async writeMeta(meta: RunMeta): Promise<void> {
    await writeFileAtomic(path.join(this.dir, 'run.json'), `${JSON.stringify(meta, null, 2)}\n`);
  }

  private results: Promise<FileHandle> | undefined;

  /** Appends one result; the file stays open for the run (one open, not one per database). */
  async record(result: DatabaseResult): Promise<void> {
    this.results ??= open(path.join(this.dir, 'results.ndjson'), 'a', 0o600);
    await (await this.results).write(`${JSON.stringify(result)}\n`);
  }

  async close(): Promise<void> {
    if (this.results) await (await this.results).close();
    this.results = undefined;
  }
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
  if (!/^run-[0-9A-Za-z-]+$/.test(id))
    throw new BerthError('RUN_NOT_FOUND', `"${id}" is not a run ID`, {
      hint: 'see `berth runs list`',
    });
  let meta: RunMeta;
  try {
    meta = JSON.parse(await readFile(path.join(runsDir, id, 'run.json'), 'utf8')) as RunMeta;
  } catch {
    throw new BerthError('RUN_NOT_FOUND', `no run ${id}`, { hint: 'see `berth runs list`' });
  }
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

export async function listRuns(runsDir: string): Promise<RunMeta[]> {
  let ids: string[];
  try {
    ids = (await readdir(runsDir)).filter((d) => d.startsWith('run-'));
  } catch {
    return [];
  }
  const metas = await Promise.all(ids.map(async (id) => (await readRun(runsDir, id)).meta));
  return metas.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}
