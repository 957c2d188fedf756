/** Which databases a run takes: --all / --database, or --resume of the last interrupted run. */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { selectRunDatabases } from '../../src/fleet/select-run.js';
import { RunJournal, type RunMeta } from '../../src/state/journal.js';
import { tempDir } from '../support/temp-dir.js';

async function interruptedRun(databases: string[], done: string[], state: RunMeta['state']) {
  const runsDir = path.join(await tempDir('berth-select-'), 'runs');
  const journal = await RunJournal.create(runsDir, {
    id: 'run-20260101T000000-abcd',
    operation: 'migrate',
    provider: 'local',
    databases,
    options: { concurrency: 1, onError: 'continue', batchSize: 1 },
    startedAt: '2026-01-01T00:00:00.000Z',
    state,
  });
  for (const database of done)
    await journal.record({
      database,
      status: 'applied',
      applied: ['1'],
      pending: [],
      durationMs: 1,
    });
  await journal.close();
  return runsDir;
}

describe('selectRunDatabases --resume', () => {
  it('resumes only the unfinished databases still in the fleet, and names the removed ones', async () => {
    const runsDir = await interruptedRun(['a', 'b', 'c', 'd'], ['a'], 'interrupted');
    const selected = await selectRunDatabases({ resume: true }, runsDir, () =>
      Promise.resolve(['a', 'b', 'd']),
    );
    expect(selected.databases).toEqual(['b', 'd']);
    expect(selected.resumed).toMatchObject({ left: 2, of: 4, removed: ['c'] });
  });

  it('does not offer a failed run (it ended before any task started)', async () => {
    const runsDir = await interruptedRun(['a'], [], 'failed');
    await expect(
      selectRunDatabases({ resume: true }, runsDir, () => Promise.resolve(['a'])),
    ).rejects.toMatchObject({ code: 'NOTHING_TO_RESUME' });
  });

  it('refuses --resume with --all', async () => {
    const runsDir = await interruptedRun(['a'], [], 'interrupted');
    await expect(
      selectRunDatabases({ resume: true, all: true }, runsDir, () => Promise.resolve(['a'])),
    ).rejects.toMatchObject({ code: 'USAGE' });
  });
});
