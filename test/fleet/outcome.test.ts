/** databaseOutcome: one database's result from what berth observed (a pure function). */
import { describe, expect, it } from 'vitest';
import { databaseOutcome, type OutcomeInput } from '../../src/fleet/outcome.js';
import type { ProbeResult } from '../../src/fleet/types.js';

const KNOWN = ['0001', '0002'];

function probe(applied: string[], extra: Partial<ProbeResult> = {}): ProbeResult {
  return {
    database: 'db',
    exists: true,
    applied,
    pending: KNOWN.filter((m) => !applied.includes(m)),
    pendingKnown: true,
    ...extra,
  };
}

function input(over: Partial<OutcomeInput> = {}): OutcomeInput {
  return {
    database: 'db',
    taskId: 'migrate-1',
    single: true,
    exitCode: 0,
    started: true,
    tail: ['last line'],
    task: { exitCode: 0 },
    onError: 'continue',
    before: probe([]),
    after: probe(KNOWN),
    durationMs: 5,
    ...over,
  };
}

const BLIND = 'no task.probeCommand';
const blind = (applied: string[]) =>
  probe(applied, { blind: BLIND, pendingKnown: false, pending: [] });

/** A batch database whose section never began, in a batch berth stopped (Ctrl-C). */
const unreachedInStoppedBatch: Partial<OutcomeInput> = {
  single: false,
  exitCode: null,
  started: false,
  task: { exitCode: null, stopped: 'interrupted', stoppedReason: 'stopped by berth (interrupted)' },
};

describe('databaseOutcome', () => {
  it.each<[string, Partial<OutcomeInput>, { status: string; applied?: string[]; reason?: RegExp }]>(
    [
      ['exit 0, everything applied', {}, { status: 'applied', applied: KNOWN }],
      [
        'its section printed ::berth-locked: the task found the lock held and did not migrate it',
        { locked: true, single: false, exitCode: 75, after: probe([]) },
        { status: 'locked', applied: [], reason: /held its lock inside the VPC/ },
      ],
      [
        'exit 0, nothing was pending',
        { before: probe(KNOWN) },
        { status: 'up-to-date', applied: [] },
      ],
      [
        'exit 0 with a migration still pending',
        { after: probe(['0001']) },
        {
          status: 'failed',
          applied: ['0001'],
          reason: /exited 0 but 1 migration\(s\) are still pending/,
        },
      ],
      [
        'exit 0 after berth timed it out (a container that exits 0 on SIGTERM)',
        {
          task: {
            exitCode: 0,
            stopped: 'timeout',
            stoppedReason: 'timed out after 10s and was stopped',
          },
        },
        { status: 'failed', reason: /timed out after 10s.*not counted as applied/ },
      ],
      [
        'exit 0 after `berth tasks stop` (StopTask, UserInitiated)',
        { task: { exitCode: 0, stopped: 'user', stoppedReason: 'stopped: berth tasks stop' } },
        { status: 'failed', reason: /berth tasks stop.*not counted as applied/ },
      ],
      [
        'exit 0 after Ctrl-C',
        { task: { exitCode: 0, stopped: 'interrupted' } },
        { status: 'failed', reason: /stopped \(interrupted\).*not counted/ },
      ],
      [
        'a batch stopped after this database finished, and the probe confirms it',
        { single: false, task: { exitCode: 143, stopped: 'timeout', stoppedReason: 'timed out' } },
        { status: 'applied', applied: KNOWN },
      ],
      [
        'a batch stopped, its section said 0, but the probe shows work left',
        {
          single: false,
          after: probe(['0001']),
          task: { exitCode: 143, stopped: 'timeout', stoppedReason: 'timed out' },
        },
        { status: 'failed', reason: /not counted as applied/ },
      ],
      [
        'exit 0, blind, and the task wrote no log line (never observed running)',
        { before: blind([]), after: blind([]), task: { exitCode: 0, logLines: 0 } },
        { status: 'failed', reason: /wrote no log line/ },
      ],
      [
        'exit 0, blind, with a log',
        { before: blind([]), after: blind([]), task: { exitCode: 0, logLines: 12 } },
        { status: 'applied', reason: /which migrations it applied is unknown/ },
      ],
      [
        'exit 0, but the probe after it failed',
        { after: probe([], { error: 'connection refused' }) },
        { status: 'failed', reason: /probe after it failed: connection refused/ },
      ],
      [
        'no exit code: timed out while running',
        {
          exitCode: null,
          task: {
            exitCode: null,
            stopped: 'timeout',
            stoppedReason: 'timed out after 10s and was stopped',
          },
          after: probe([]),
        },
        { status: 'failed', reason: /^timed out after 10s and was stopped$/ },
      ],
      [
        'exit 143 after a timeout',
        {
          exitCode: 143,
          task: {
            exitCode: 143,
            stopped: 'timeout',
            stoppedReason: 'timed out after 60s and was stopped',
          },
          after: probe([]),
        },
        {
          status: 'failed',
          reason: /^the migrate command exited 143 \(timed out after 60s and was stopped\)$/,
        },
      ],
      [
        'exit 3',
        { exitCode: 3, task: { exitCode: 3 }, after: probe([]) },
        { status: 'failed', reason: /^the migrate command exited 3$/ },
      ],
      [
        'never started in a batch whose earlier database failed (--on-error stop)',
        {
          single: false,
          exitCode: null,
          started: false,
          onError: 'stop',
          task: { exitCode: 1 },
          after: probe([]),
        },
        { status: 'skipped', reason: /--on-error stop/ },
      ],
      [
        'never reached in a batch that was stopped, nothing changed: skipped, not failed',
        {
          ...unreachedInStoppedBatch,
          after: probe([]),
        },
        {
          status: 'skipped',
          reason:
            /^not started: its batch was stopped before it reached this database \(stopped by berth \(interrupted\)\)$/,
        },
      ],
      [
        'no section in a stopped batch, but the probe after sees migrations applied: failed',
        {
          ...unreachedInStoppedBatch,
          after: probe(['0001']),
        },
        { status: 'failed', applied: ['0001'], reason: /interrupted/ },
      ],
      [
        'no section in a stopped batch and no probe after: failed (nothing confirms it was untouched)',
        {
          ...unreachedInStoppedBatch,
          after: undefined,
        },
        { status: 'failed', reason: /interrupted/ },
      ],
    ],
  )('%s', (_name, over, expected) => {
    const result = databaseOutcome(input(over));
    expect(result.status).toBe(expected.status);
    if (expected.applied) expect(result.applied).toEqual(expected.applied);
    if (expected.reason) expect(result.reason).toMatch(expected.reason);
    else expect(result.reason).toBeUndefined();
  });

  it('never reports applied for a stopped single task, whatever its exit code', () => {
    for (const exitCode of [0, 1, 143, null])
      for (const stopped of ['timeout', 'interrupted', 'user', 'lost'] as const)
        expect(databaseOutcome(input({ exitCode, task: { exitCode, stopped } })).status).not.toBe(
          'applied',
        );
  });

  it('keeps the log excerpt of a failure', () => {
    expect(databaseOutcome(input({ exitCode: 1, task: { exitCode: 1 } })).logExcerpt).toEqual([
      'last line',
    ]);
  });
});
