/** Progress rendering with a fake terminal (a captured stream with isTTY and columns) and a CI log. */
import { describe, expect, it } from 'vitest';
import { createOutput, stripAnsi } from '../../src/cli/output.js';
import { MovingRate, createReporter } from '../../src/cli/progress.js';
import { renderFleet, renderVerify } from '../../src/cli/render/fleet.js';
import type { BerthEvent } from '../../src/core/events.js';
import type { DatabaseResult, FleetCounts, FleetResult } from '../../src/fleet/types.js';
import type { VerifyDatabase } from '../../src/fleet/verify.js';

function fakeStream(isTTY: boolean) {
  let text = '';
  const stream = {
    isTTY,
    columns: 120,
    rows: 40,
    write(chunk: string | Uint8Array) {
      text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      return true;
    },
    on: () => stream,
    once: () => stream,
    off: () => stream,
    removeListener: () => stream,
  };
  return { stream: stream as unknown as NodeJS.WriteStream, text: () => text };
}

function harness(options: { tty: boolean; env?: NodeJS.ProcessEnv }) {
  const stdout = fakeStream(false);
  const stderr = fakeStream(options.tty);
  let clock = 0;
  const out = createOutput(false, stdout.stream, stderr.stream, {});
  const reporter = createReporter(out, {
    now: () => clock,
    env: options.env ?? {},
    stream: stderr.stream,
  });
  return {
    emit: (e: BerthEvent) => reporter.emit(e),
    at: (ms: number) => {
      clock = ms;
    },
    // Colours and log-update's cursor moves and erases.
    // eslint-disable-next-line no-control-regex
    stderr: () => stripAnsi(stderr.text()).replace(/\u001b\[[0-9;]*[A-Za-z]/g, ''),
  };
}

const counts = (done: number, failed = 0): FleetCounts => ({
  total: done,
  applied: done - failed,
  upToDate: 0,
  failed,
  skipped: 0,
  locked: 0,
});

const finished = (
  i: number,
  total: number,
  status: DatabaseResult['status'] = 'applied',
  failedSoFar = status === 'failed' ? 1 : 0,
) =>
  ({
    type: 'database-finished',
    runId: 'run-1',
    result: {
      database: `tenant_${i}`,
      status,
      applied: status === 'applied' ? ['0001'] : [],
      pending: [],
      taskId: `migrate-${i}`,
      ...(status === 'failed' ? { reason: 'the task exited 1' } : {}),
      durationMs: 100,
    },
    counts: counts(i, failedSoFar),
    total,
  }) satisfies BerthEvent;

describe('on a terminal', () => {
  it('shows database creation, no start lines, failures above the live line, and finishes at 200/200', () => {
    const h = harness({ tty: true });
    h.emit({ type: 'fleet-started', runId: 'run-1', operation: 'migrate', total: 200 });
    for (let i = 1; i <= 200; i++) {
      h.at(i * 100);
      h.emit({ type: 'progress', phase: 'create', done: i, total: 200 });
    }
    for (let i = 1; i <= 200; i++) {
      h.at(20_000 + i * 100);
      h.emit({
        type: 'database-started',
        runId: 'run-1',
        databases: [`tenant_${i}`],
        taskId: `migrate-${i}`,
      });
      h.emit(finished(i, 200, i === 50 ? 'failed' : 'applied', i >= 50 ? 1 : 0));
    }
    const text = h.stderr();
    expect(text).toContain('creating databases 45/200');
    expect(text).not.toMatch(/\bstart\b/);
    // The one failure is printed above the live line; successes of a large fleet are not.
    expect(text).toContain('failed  tenant_50: the task exited 1  [50/200]');
    expect(text).not.toContain('applied  tenant_49');
    expect(text).toMatch(
      /200\/200 done · 199 applied · 0 up to date · 1 failed · 0 running · 0 remaining · 10\.0\/s · ETA 0s\n$/,
    );
  });

  it('takes the ETA from the last completions, not from the start of the run', () => {
    const h = harness({ tty: true });
    h.emit({ type: 'fleet-started', runId: 'run-1', operation: 'migrate', total: 200 });
    // 27 s of creating and probing, then one database every 250 ms.
    for (let i = 1; i <= 9; i++) {
      h.at(27_000 + (i - 1) * 250);
      h.emit(finished(i, 200));
    }
    // 8 intervals of 250 ms over the window: 4/s, 191 left: 47.8 s (the average since the
    // start, 9 in 29 s, would say 10 minutes).
    expect(h.stderr()).toMatch(/9\/200 done .* 4\.0\/s · ETA 47\.8s/);
  });

  it('lists every result of a small fleet above the live line', () => {
    const h = harness({ tty: true });
    h.emit({ type: 'fleet-started', runId: 'run-1', operation: 'migrate', total: 3 });
    for (let i = 1; i <= 3; i++) h.emit(finished(i, 3));
    expect(h.stderr()).toContain('applied  tenant_2 (+1)  [2/3]');
  });

  it('shows verify probing and checking as they go', () => {
    const h = harness({ tty: true });
    for (let i = 1; i <= 30; i++) h.emit({ type: 'progress', phase: 'probe', done: i, total: 30 });
    for (let i = 1; i <= 30; i++) h.emit({ type: 'progress', phase: 'check', done: i, total: 30 });
    expect(h.stderr()).toContain('probing 12/30');
    expect(h.stderr()).toContain('checking 29/30');
  });
});

describe('in CI (not a terminal)', () => {
  it('prints plain lines with the elapsed time, and groups a fleet run in GitHub Actions', () => {
    const h = harness({ tty: false, env: { GITHUB_ACTIONS: 'true' } });
    h.emit({ type: 'fleet-started', runId: 'run-1', operation: 'migrate', total: 2 });
    h.at(1_500);
    h.emit({
      type: 'database-started',
      runId: 'run-1',
      databases: ['tenant_1'],
      taskId: 'migrate-1',
    });
    h.at(83_000);
    h.emit(finished(1, 2));
    h.emit(finished(2, 2));
    h.emit({ type: 'message', level: 'info', text: 'after' });
    expect(h.stderr().split('\n')).toEqual([
      '::group::migrate: 2 database(s), run run-1',
      '[00:01]   start  tenant_1 (task migrate-1)',
      '[01:23]   applied  tenant_1 (+1)  [1/2]',
      '[01:23]   applied  tenant_2 (+1)  [2/2]',
      '::endgroup::',
      '[01:23] after',
      '',
    ]);
  });

  it('groups pipeline stages without nesting the fleet group inside', () => {
    const h = harness({ tty: false, env: { GITHUB_ACTIONS: 'true' } });
    h.emit({ type: 'stage-started', stage: 'migrate' });
    h.emit({ type: 'fleet-started', runId: 'run-1', operation: 'migrate', total: 1 });
    h.emit(finished(1, 1));
    h.emit({ type: 'stage-finished', stage: 'migrate', status: 'passed', durationMs: 1200 });
    const lines = h.stderr().split('\n');
    expect(lines.filter((l) => l.startsWith('::'))).toEqual(['::group::▸ migrate', '::endgroup::']);
    expect(lines.at(-2)).toBe('[00:00]   migrate: passed in 1.2s');
  });

  it('uses no workflow commands outside GitHub Actions, and reports phases every 10 %', () => {
    const h = harness({ tty: false });
    for (let i = 1; i <= 200; i++)
      h.emit({ type: 'progress', phase: 'create', done: i, total: 200 });
    const lines = h.stderr().trim().split('\n');
    expect(lines).toHaveLength(10);
    expect(lines[0]).toBe('[00:00] creating databases: 20/200');
    expect(lines.at(-1)).toBe('[00:00] creating databases: 200/200');
    expect(h.stderr()).not.toContain('::');
  });
});

describe('MovingRate', () => {
  it('measures over the last N completions only', () => {
    const rate = new MovingRate(5);
    expect(rate.perSecond()).toBeUndefined();
    rate.add(0);
    expect(rate.eta(10)).toBe('…');
    for (const t of [10_000, 10_100, 10_200, 10_300, 10_400]) rate.add(t);
    // The first completion (10 s earlier) has left the window: 4 intervals in 400 ms.
    expect(rate.perSecond()).toBe(10);
    expect(rate.eta(50)).toBe('5.0s');
  });
});

describe('verify table', () => {
  const db = (i: number, ok: boolean): VerifyDatabase => ({
    name: `tenant_${i}`,
    exists: true,
    tables: ok ? 57 : 12,
    expectedTables: 57,
    pending: ok ? 0 : 3,
    pendingMigrations: [],
    check: 'not-configured',
    ok,
    ...(ok ? {} : { reason: '12 tables, expected 57' }),
  });
  const render = (databases: VerifyDatabase[]) => {
    const stdout = fakeStream(false);
    renderVerify(createOutput(false, stdout.stream, fakeStream(false).stream, {}), {
      ok: databases.every((d) => d.ok),
      databases,
    });
    return stdout.text();
  };

  it('collapses above 20 databases to those that need attention, as migrate does', () => {
    const text = render(Array.from({ length: 200 }, (_, i) => db(i, i !== 7)));
    expect(text).toContain('tenant_7');
    expect(text).not.toContain('tenant_8 ');
    expect(text).toContain('1 of 200 database(s) incomplete');
    // No table above it: the summary is the first line (`berth verify --all | head -1`).
    expect(render(Array.from({ length: 200 }, (_, i) => db(i, true)))).toBe(
      '✓ all 200 database(s) complete\n',
    );
  });

  it('lists every database up to 20', () => {
    expect(render(Array.from({ length: 20 }, (_, i) => db(i, true)))).toContain('tenant_19');
  });
});

describe('migrate summary', () => {
  const render = (statuses: DatabaseResult['status'][]) => {
    const stdout = fakeStream(false);
    const databases: DatabaseResult[] = statuses.map((status, i) => ({
      database: `tenant_${i}`,
      status,
      applied: [],
      pending: [],
      durationMs: 1,
    }));
    const count = (s: string) => statuses.filter((x) => x === s).length;
    const result: FleetResult = {
      runId: 'run-1',
      ok: count('failed') === 0,
      counts: {
        total: statuses.length,
        applied: count('applied'),
        upToDate: count('up-to-date'),
        failed: count('failed'),
        locked: count('locked'),
        skipped: count('skipped'),
      },
      databases,
      durationMs: 1200,
    };
    renderFleet(createOutput(false, stdout.stream, fakeStream(false).stream, {}), result);
    return stdout.text();
  };

  it('starts with the summary when no table is shown (over 20 databases, none to look at)', () => {
    const text = render(Array.from({ length: 30 }, () => 'up-to-date' as const));
    expect(text.split('\n')[0]).toMatch(/^30 database\(s\): 0 applied, 30 up to date/);
  });

  it('keeps a blank line between the table and the summary', () => {
    const text = render(['applied', 'up-to-date']);
    expect(text).toMatch(/tenant_1 .*\n\n2 database\(s\): 1 applied, 1 up to date/);
  });
});

describe('the probe line', () => {
  it('counts databases nobody could see into apart from the pending ones (aws without a probe)', () => {
    for (const tty of [true, false]) {
      const h = harness({ tty, env: tty ? {} : { CI: 'true' } });
      h.emit({
        type: 'fleet-probed',
        runId: 'run-1',
        pending: 1,
        upToDate: 3,
        missing: 1,
        unknown: 0,
      });
      h.emit({
        type: 'fleet-probed',
        runId: 'run-1',
        pending: 0,
        upToDate: 0,
        missing: 0,
        unknown: 2,
      });
      expect(h.stderr()).toContain('probe: 1 with pending migrations, 3 up to date, 1 new\n');
      expect(h.stderr()).toContain(
        'probe: 0 with pending migrations, 0 up to date, 2 not known (a task runs in each)',
      );
    }
  });
});
