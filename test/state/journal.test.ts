/**
 * Stale run directories (a kill before run.json was written, a corrupt file) never break
 * `runs list` or `--resume`: they are skipped and reported as problems.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  RunJournal,
  berthIsAlive,
  listRuns,
  readRun,
  runStatus,
  scanRuns,
  settleKilledRuns,
  startRun,
  thisBerth,
  type RunMeta,
} from '../../src/state/journal.js';

let runsDir: string;
// FileHandle's class is not exported: its prototype, from a handle.
const FileHandlePrototype = await (async () => {
  const handle = await open(os.tmpdir(), 'r');
  await handle.close();
  return Object.getPrototypeOf(handle) as { write: (...args: unknown[]) => unknown };
})();

const meta = (id: string, startedAt: string, state: RunMeta['state']): RunMeta => ({
  id,
  operation: 'migrate',
  provider: 'local',
  databases: ['tenant_a', 'tenant_b'],
  options: { concurrency: 1, onError: 'stop', batchSize: 1 },
  startedAt,
  state,
});

beforeAll(async () => {
  runsDir = await mkdtemp(path.join(os.tmpdir(), 'berth-runs-'));
  await RunJournal.create(
    runsDir,
    meta('run-20260101T000000-aaaa', '2026-01-01T00:00:00Z', 'finished'),
  );
  await RunJournal.create(
    runsDir,
    meta('run-20260102T000000-bbbb', '2026-01-02T00:00:00Z', 'running'),
  );
  // Killed between mkdir and the first write of run.json.
  await mkdir(path.join(runsDir, 'run-20260103T000000-cccc'));
  // Cut short mid-write, or edited by hand.
  await mkdir(path.join(runsDir, 'run-20260104T000000-dddd'));
  await writeFile(path.join(runsDir, 'run-20260104T000000-dddd', 'run.json'), '{"id": "run-2026');
  // Valid JSON, but not a run record.
  await mkdir(path.join(runsDir, 'run-20260105T000000-eeee'));
  await writeFile(path.join(runsDir, 'run-20260105T000000-eeee', 'run.json'), '[]');
  // A stray file with a run-like name.
  await writeFile(path.join(runsDir, 'run-20260106T000000-ffff'), 'not a directory');
});
afterAll(() => rm(runsDir, { recursive: true, force: true }));

describe('scanRuns', () => {
  it('lists the readable runs and reports the others as problems', async () => {
    const { runs, problems } = await scanRuns(runsDir);
    expect(runs.map((r) => r.id)).toEqual(['run-20260101T000000-aaaa', 'run-20260102T000000-bbbb']);
    expect(problems.map((p) => p.id)).toEqual([
      'run-20260103T000000-cccc',
      'run-20260104T000000-dddd',
      'run-20260105T000000-eeee',
      'run-20260106T000000-ffff',
    ]);
    expect(problems[0]?.reason).toContain('no run run-20260103T000000-cccc');
    expect(problems[1]?.reason).toContain('is not JSON');
    expect(problems[2]?.reason).toContain('not a run record');
  });

  it('listRuns (used by runs list and --resume) skips them instead of throwing', async () => {
    const runs = await listRuns(runsDir);
    // --resume looks at the last run: the last readable one.
    expect(runs.at(-1)?.id).toBe('run-20260102T000000-bbbb');
  });

  it('an empty or missing runs directory is no runs and no problems', async () => {
    await expect(scanRuns(path.join(runsDir, 'nope'))).resolves.toEqual({ runs: [], problems: [] });
  });

  it('readRun of a corrupt run says what is wrong and how to clear it', async () => {
    await expect(readRun(runsDir, 'run-20260104T000000-dddd')).rejects.toMatchObject({
      code: 'RUN_NOT_FOUND',
      message: expect.stringContaining('is unreadable') as unknown,
      hint: expect.stringContaining('delete') as unknown,
    });
    await expect(readRun(runsDir, 'run-20260101T000000-aaaa')).resolves.toMatchObject({
      meta: { state: 'finished' },
      results: [],
    });
  });
});

describe('RunJournal.record', () => {
  it('writes every result, in order, before its promise resolves; results that land together share a write', async () => {
    const journal = await RunJournal.create(
      runsDir,
      meta('run-20260107T000000-gggg', '2026-01-07T00:00:00Z', 'running'),
    );
    const file = path.join(journal.dir, 'results.ndjson');
    const result = (i: number) => ({
      database: `tenant_${i}`,
      status: 'up-to-date' as const,
      applied: [],
      pending: [],
      durationMs: 0,
    });
    const lines = async () => (await readFile(file, 'utf8')).split('\n').filter(Boolean);
    await journal.record(result(0));
    expect(await lines()).toHaveLength(1);
    // 200 results in one tick, then each one awaited as fleet-run's finish() does.
    const writes = vi.spyOn(FileHandlePrototype, 'write');
    const pending = Array.from({ length: 200 }, (_, i) => journal.record(result(i + 1)));
    await pending[0];
    expect((await lines()).length).toBeGreaterThanOrEqual(2);
    await Promise.all(pending);
    expect((await lines()).map((l) => (JSON.parse(l) as { database: string }).database)).toEqual(
      Array.from({ length: 201 }, (_, i) => `tenant_${i}`),
    );
    expect(writes.mock.calls.length).toBeLessThanOrEqual(2);
    writes.mockRestore();
    await journal.close();
    expect((await readRun(runsDir, 'run-20260107T000000-gggg')).results).toHaveLength(201);
  });
});

describe('runStatus', () => {
  const running = (berth?: RunMeta['berth']): RunMeta => ({
    ...meta('run-20260108T000000-hhhh', '2026-01-08T00:00:00Z', 'running'),
    ...(berth ? { berth } : {}),
  });
  const gone = spawnSync(process.execPath, ['-e', '']).pid;

  it('a running run whose berth process lives is running', () => {
    const me = thisBerth();
    expect(me).toMatchObject({ pid: process.pid, host: os.hostname() });
    expect(berthIsAlive(me)).toBe(true);
    expect(runStatus(running(me))).toBe('running');
  });

  it('a running run whose berth process is gone (or cannot be checked) was interrupted', () => {
    const me = thisBerth();
    if (!me) throw new Error('no identity for this process');
    // Gone; the PID now another process (its start time differs); another host's; not recorded.
    for (const berth of [
      { ...me, pid: gone },
      { ...me, startTime: `${me.startTime}0` },
      { ...me, host: `not-${os.hostname()}` },
      undefined,
    ])
      expect(runStatus(running(berth))).toBe('interrupted');
  });

  it('any other state is what the journal says, whatever the process', () => {
    for (const state of ['finished', 'interrupted', 'resumed', 'failed'] as const)
      expect(runStatus({ ...running(thisBerth()), state })).toBe(state);
  });
});

describe('startRun', () => {
  const base = {
    id: 'run-20261201T000000-abcd',
    provider: 'local' as const,
    databases: ['a', 'b'],
    options: { concurrency: 2, onError: 'continue' as const, batchSize: 1 },
    startedAt: '2026-12-01T00:00:00.000Z',
  };

  it('records a running run by this berth process, and only the fields given', () => {
    const meta = startRun(base);
    expect(meta).toEqual({ ...base, operation: 'migrate', state: 'running', berth: thisBerth() });
    expect(runStatus(meta)).toBe('running');
    expect(
      startRun({ ...base, resumedFrom: 'run-x', waves: [{ wave: 1, databases: ['a'] }] }),
    ).toMatchObject({ resumedFrom: 'run-x', waves: [{ wave: 1, databases: ['a'] }] });
  });

  it("records no process for a wave's part of a run (the wave run records it)", () => {
    expect(startRun({ ...base, ownProcess: false }).berth).toBeUndefined();
  });
});

describe('settleKilledRuns', () => {
  it("records as interrupted the runs a kill left running on this host, when the next run starts; a live run, another host's and an unrecorded one are left alone", async () => {
    const dir = path.join(await mkdtemp(path.join(os.tmpdir(), 'berth-settle-')), 'runs');
    const me = thisBerth();
    if (!me) throw new Error('no identity for this process');
    const gone = spawnSync(process.execPath, ['-e', '']).pid ?? 0;
    const runs: [string, RunMeta['berth']][] = [
      ['run-20260101T000000-kill', { ...me, pid: gone }],
      ['run-20260102T000000-live', me],
      ['run-20260103T000000-host', { ...me, pid: gone, host: `not-${os.hostname()}` }],
      ['run-20260104T000000-none', undefined],
    ];
    for (const [i, [id, berth]] of runs.entries()) {
      // Written directly, as a killed berth left them: create() would settle the earlier ones.
      await mkdir(path.join(dir, id), { recursive: true });
      await new RunJournal(path.join(dir, id)).writeMeta({
        ...meta(id, `2026-01-0${i + 1}T00:00:00.000Z`, 'running'),
        ...(berth ? { berth } : {}),
      });
    }
    const states = async () =>
      Object.fromEntries(
        (await listRuns(dir)).map((r) => [r.id.slice(-4), [r.state, r.settledAt, runStatus(r)]]),
      );
    // Before: only the derived state says the killed run is over.
    expect((await states()).kill).toEqual(['running', undefined, 'interrupted']);

    await RunJournal.create(
      dir,
      meta('run-20260105T000000-next', '2026-01-05T00:00:00.000Z', 'running'),
    );
    expect(await states()).toEqual({
      kill: ['interrupted', '2026-01-05T00:00:00.000Z', 'interrupted'],
      live: ['running', undefined, 'running'],
      host: ['running', undefined, 'interrupted'],
      none: ['running', undefined, 'interrupted'],
      next: ['running', undefined, 'interrupted'],
    });
    // Settling again finds nothing left to settle.
    expect(await settleKilledRuns(dir, '2026-01-06T00:00:00.000Z')).toEqual([]);
  });
});
