/** Which databases a run takes: --all / --database, or --resume of the last run if it did not complete. */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { selectRunDatabases } from '../../src/fleet/select-run.js';
import { RunJournal, settleKilledRuns, type RunMeta } from '../../src/state/journal.js';
import { processStartTime } from '../../src/tasks/process-identity.js';
import { tempDir } from '../support/temp-dir.js';

/** Each of `databases` applied in the run's journal, which is then closed. */
async function recordApplied(journal: RunJournal, databases: string[]): Promise<void> {
  for (const database of databases)
    await journal.record({
      database,
      status: 'applied',
      applied: ['1'],
      pending: [],
      durationMs: 1,
    });
  await journal.close();
}

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
  await recordApplied(journal, done);
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

  it('resumes a failed run with what it left (an error stopped it after b)', async () => {
    const runsDir = await interruptedRun(['a', 'b', 'c'], ['b'], 'failed');
    const selected = await selectRunDatabases({ resume: true }, runsDir, () =>
      Promise.resolve(['a', 'b', 'c']),
    );
    expect(selected.databases).toEqual(['a', 'c']);
    expect(selected.resumed).toMatchObject({ state: 'failed', left: 2, of: 3 });
  });

  it('refuses --resume with --all', async () => {
    const runsDir = await interruptedRun(['a'], [], 'interrupted');
    await expect(
      selectRunDatabases({ resume: true, all: true }, runsDir, () => Promise.resolve(['a'])),
    ).rejects.toMatchObject({ code: 'USAGE' });
  });
});

/** The berth process of a run that was SIGKILLed: that PID now names no process. */
function deadBerth(): NonNullable<RunMeta['berth']> {
  const gone = spawnSync(process.execPath, ['-e', '']);
  return { pid: gone.pid ?? 0, startTime: '1', host: os.hostname() };
}

/** This test process, standing for a berth that is still running. */
function liveBerth(): NonNullable<RunMeta['berth']> {
  return { pid: process.pid, startTime: processStartTime(process.pid) ?? '', host: os.hostname() };
}

/** Runs in one runs directory, in start order; `done` databases have a result. */
async function runs(
  ...specs: {
    id: string;
    state: RunMeta['state'];
    done?: number;
    berth?: RunMeta['berth'];
    stoppedAtWave?: number;
    error?: string;
  }[]
) {
  const runsDir = path.join(await tempDir('berth-select-'), 'runs');
  const databases = Array.from({ length: 30 }, (_, i) => `t${String(i).padStart(2, '0')}`);
  for (const [i, spec] of specs.entries()) {
    const journal = await RunJournal.create(runsDir, {
      id: spec.id,
      operation: 'migrate',
      provider: 'local',
      databases,
      options: { concurrency: 1, onError: 'continue', batchSize: 1 },
      startedAt: `2026-01-0${i + 1}T00:00:00.000Z`,
      state: spec.state,
      ...(spec.berth ? { berth: spec.berth } : {}),
      ...(spec.stoppedAtWave !== undefined
        ? {
            stoppedAtWave: spec.stoppedAtWave,
            waves: [
              { wave: 1, databases: databases.slice(0, 1) },
              { wave: 2, databases: databases.slice(1) },
            ],
          }
        : {}),
      ...(spec.error ? { error: spec.error } : {}),
    });
    await recordApplied(journal, databases.slice(0, spec.done ?? 0));
  }
  return { runsDir, databases };
}

const resume = (runsDir: string, fleet: string[]) =>
  selectRunDatabases({ resume: true }, runsDir, () => Promise.resolve(fleet));

describe('--resume takes only the last run, and only if it did not complete', () => {
  it('a completed last run leaves nothing to resume, however many killed runs came before it', async () => {
    const { runsDir, databases } = await runs(
      { id: 'run-20260101T000000-aaaa', state: 'running', done: 2, berth: deadBerth() },
      { id: 'run-20260102T000000-bbbb', state: 'running', done: 0, berth: deadBerth() },
      { id: 'run-20260103T000000-cccc', state: 'finished', done: 30 },
    );
    for (let i = 0; i < 2; i++)
      await expect(resume(runsDir, databases)).rejects.toMatchObject({
        code: 'NOTHING_TO_RESUME',
        message:
          'no interrupted migrate run to resume: the last run, run-20260103T000000-cccc (started 2026-01-03T00:00:00.000Z), completed',
      });
  });

  it('an interrupted run that a later run followed is never picked up', async () => {
    const { runsDir, databases } = await runs(
      { id: 'run-20260101T000000-aaaa', state: 'interrupted', done: 2 },
      { id: 'run-20260102T000000-bbbb', state: 'finished', done: 30 },
    );
    await expect(resume(runsDir, databases)).rejects.toMatchObject({
      code: 'NOTHING_TO_RESUME',
      message: expect.stringContaining(
        'the last run, run-20260102T000000-bbbb (started 2026-01-02T00:00:00.000Z), completed',
      ) as unknown,
    });
  });

  it('a last run that failed (the server did not start) is resumed: nothing it had is lost', async () => {
    // A --resume of an interrupted run that failed before its first task: the run it resumed
    // is marked resumed, so the rest lives on in the failed run, which --resume takes.
    const { runsDir, databases } = await runs(
      { id: 'run-20260101T000000-aaaa', state: 'resumed', done: 2 },
      { id: 'run-20260102T000000-bbbb', state: 'failed', error: 'the server did not start' },
    );
    const selected = await resume(runsDir, databases);
    expect(selected.resumed).toMatchObject({
      runId: 'run-20260102T000000-bbbb',
      state: 'failed',
      left: 30,
    });
  });

  it('a last run whose berth was killed (its journal still says running) is resumed as interrupted', async () => {
    const { runsDir, databases } = await runs(
      { id: 'run-20260101T000000-aaaa', state: 'running', done: 1, berth: deadBerth() },
      { id: 'run-20260102T000000-bbbb', state: 'running', done: 5, berth: deadBerth() },
    );
    const selected = await resume(runsDir, databases);
    expect(selected.resumed).toMatchObject({
      runId: 'run-20260102T000000-bbbb',
      left: 25,
      of: 30,
      state: 'interrupted',
      killed: true,
    });
    expect(selected.databases).toEqual(databases.slice(5));
  });

  it('a killed run that a later start settled (interrupted on disk) is still resumed as killed', async () => {
    const { runsDir, databases } = await runs({
      id: 'run-20260101T000000-aaaa',
      state: 'running',
      done: 4,
      berth: deadBerth(),
    });
    expect(await settleKilledRuns(runsDir, '2026-01-02T00:00:00.000Z')).toEqual([
      'run-20260101T000000-aaaa',
    ]);
    await expect(resume(runsDir, databases)).resolves.toMatchObject({
      resumed: { runId: 'run-20260101T000000-aaaa', left: 26, state: 'interrupted', killed: true },
    });
  });

  it('a killed run from before berth recorded its process is resumable too', async () => {
    const { runsDir, databases } = await runs({
      id: 'run-20260101T000000-aaaa',
      state: 'running',
      done: 3,
    });
    await expect(resume(runsDir, databases)).resolves.toMatchObject({
      resumed: { runId: 'run-20260101T000000-aaaa', left: 27, killed: true },
    });
  });

  it('a last run whose berth is still running is not resumed', async () => {
    const { runsDir, databases } = await runs(
      { id: 'run-20260101T000000-aaaa', state: 'interrupted', done: 2 },
      { id: 'run-20260102T000000-bbbb', state: 'running', done: 1, berth: liveBerth() },
    );
    await expect(resume(runsDir, databases)).rejects.toMatchObject({
      code: 'NOTHING_TO_RESUME',
      message: `no interrupted migrate run to resume: the last run, run-20260102T000000-bbbb (started 2026-01-02T00:00:00.000Z), is still running (berth PID ${process.pid})`,
    });
  });

  it('a last run that stopped at a wave is resumed from there; a Ctrl-C one as interrupted', async () => {
    const stopped = await runs(
      { id: 'run-20260101T000000-aaaa', state: 'interrupted', done: 2 },
      { id: 'run-20260102T000000-bbbb', state: 'finished', done: 1, stoppedAtWave: 2 },
    );
    await expect(resume(stopped.runsDir, stopped.databases)).resolves.toMatchObject({
      resumed: { runId: 'run-20260102T000000-bbbb', left: 29, state: 'stopped', killed: false },
    });
    const interrupted = await runs(
      { id: 'run-20260101T000000-aaaa', state: 'finished', done: 30 },
      { id: 'run-20260102T000000-bbbb', state: 'interrupted', done: 4 },
    );
    await expect(resume(interrupted.runsDir, interrupted.databases)).resolves.toMatchObject({
      resumed: { runId: 'run-20260102T000000-bbbb', left: 26, state: 'interrupted', killed: false },
    });
  });

  it('no run at all is nothing to resume', async () => {
    const runsDir = path.join(await tempDir('berth-select-'), 'runs');
    await expect(resume(runsDir, ['a'])).rejects.toMatchObject({
      code: 'NOTHING_TO_RESUME',
      message: 'no interrupted migrate run to resume: no run yet',
    });
  });
});
