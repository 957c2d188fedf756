/**
 * `berth runs list` and `berth runs show` agree on a run's state: a run whose journal still
 * says running is `interrupted` once its berth process is gone (SIGKILL), `running` while it
 * lives. On a project's .berth; no server is started.
 */
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runsListCommand, runsShowCommand } from '../../src/cli/commands/runs.js';
import { contextOf } from '../../src/cli/context.js';
import { createOutput } from '../../src/cli/output.js';
import { createReporter } from '../../src/cli/progress.js';
import { loadConfig } from '../../src/config/load-config.js';
import { RunJournal, type RunMeta } from '../../src/state/journal.js';
import { statePaths } from '../../src/state/paths.js';
import { processStartTime } from '../../src/tasks/process-identity.js';
import { captureStream } from '../support/aws-cli.js';
import { baseConfig } from '../support/project.js';
import { tempDir } from '../support/temp-dir.js';

const KILLED = 'run-20260101T000000-aaaa';
const LIVE = 'run-20260102T000000-bbbb';
const DONE = 'run-20260103T000000-cccc';
let configFile: string;

beforeAll(async () => {
  const dir = await tempDir('berth-runs-cli-');
  configFile = path.join(dir, 'berth.yaml');
  await writeFile(configFile, stringify(baseConfig()));
  const runsDir = statePaths(path.join(dir, '.berth')).runs;
  const gone = spawnSync(process.execPath, ['-e', '']);
  const runs: [string, RunMeta['state'], RunMeta['berth']][] = [
    [KILLED, 'running', { pid: gone.pid ?? 0, startTime: '1', host: os.hostname() }],
    [
      LIVE,
      'running',
      { pid: process.pid, startTime: processStartTime(process.pid) ?? '', host: os.hostname() },
    ],
    [DONE, 'finished', undefined],
  ];
  // Created newest first, so the killed run's journal is as its kill left it: a run started
  // after it would have settled it (settleKilledRuns); `runs` itself only reads.
  for (const [i, [id, state, berth]] of [...runs.entries()].reverse()) {
    const journal = await RunJournal.create(runsDir, {
      id,
      operation: 'migrate',
      provider: 'local',
      databases: ['tenant_a', 'tenant_b'],
      options: { concurrency: 1, onError: 'continue', batchSize: 1 },
      startedAt: `2026-01-0${i + 1}T00:00:00.000Z`,
      state,
      ...(berth ? { berth } : {}),
    });
    await journal.record({
      database: 'tenant_a',
      status: 'applied',
      applied: ['1'],
      pending: [],
      durationMs: 1,
    });
    await journal.close();
  }
});

/** `berth runs ARGS`: its exit code and stdout. */
async function runs(...args: string[]): Promise<{ code: number; stdout: string }> {
  const json = args.includes('--json');
  const stdout = captureStream();
  const out = createOutput(json, stdout, captureStream(), {});
  const ctx = contextOf({ json }, out, createReporter(out), new AbortController().signal, () =>
    loadConfig(configFile),
  );
  const [command, id] = args.filter((a) => a !== '--json');
  const code =
    command === 'show' ? await runsShowCommand(ctx, id ?? '') : await runsListCommand(ctx);
  return { code, stdout: stdout.text() };
}

/** The STATE column of `runs list`, by run. */
async function listed(): Promise<Record<string, string>> {
  const { code, stdout } = await runs('list');
  expect(code).toBe(0);
  return Object.fromEntries(
    stdout
      .split('\n')
      .filter((l) => l.startsWith('run-'))
      .map((l) => l.split(/\s+/).slice(0, 2) as [string, string]),
  );
}

async function shown(id: string): Promise<string> {
  const { code, stdout } = await runs('show', id);
  expect(code).toBe(0);
  return /^run-\S+: (\S+),/m.exec(stdout)?.[1] ?? stdout;
}

describe('berth runs list / show', () => {
  it('agree: a killed run is interrupted, a live one running', async () => {
    expect(await listed()).toEqual({
      [KILLED]: 'interrupted',
      [LIVE]: 'running',
      [DONE]: 'finished',
    });
    expect(await shown(KILLED)).toBe('interrupted');
    expect(await shown(LIVE)).toBe('running');
    expect(await shown(DONE)).toBe('finished');
  });

  it('--json keeps the journal state and adds the status both commands show', async () => {
    const list = JSON.parse((await runs('list', '--json')).stdout) as {
      runs: { id: string; state: string; status: string }[];
    };
    expect(list.runs.map((r) => [r.id, r.state, r.status])).toEqual([
      [KILLED, 'running', 'interrupted'],
      [LIVE, 'running', 'running'],
      [DONE, 'finished', 'finished'],
    ]);
    const show = JSON.parse((await runs('show', KILLED, '--json')).stdout) as {
      run: { state: string; status: string };
      unfinished: string[];
    };
    expect(show.run).toMatchObject({ state: 'running', status: 'interrupted' });
    expect(show.unfinished).toEqual(['tenant_b']);
  });
});
