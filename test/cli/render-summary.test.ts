/** Job summaries and annotations (src/cli/render/summary.ts), against a temporary GITHUB_STEP_SUMMARY. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  annotationLines,
  fleetReport,
  pipelineReport,
  publishToGithub,
  verifyReport,
} from '../../src/cli/render/summary.js';
import { verifySummary } from '../../src/cli/render/fleet.js';
import type { DatabaseResult, FleetResult } from '../../src/fleet/types.js';
import type { VerifyResult } from '../../src/fleet/verify.js';
import type { DeliveryResult } from '../../src/pipeline/delivery.js';
import { redactor } from '../../src/core/redact.js';

const ok = (database: string): DatabaseResult => ({
  database,
  status: 'applied',
  applied: ['0001_init'],
  pending: [],
  taskId: `migrate-${database}`,
  durationMs: 10,
});

function fleet(databases: DatabaseResult[]): FleetResult {
  const count = (s: DatabaseResult['status']) => databases.filter((d) => d.status === s).length;
  return {
    runId: 'run-20261130T150000-abcd',
    ok: databases.every((d) => d.status === 'applied' || d.status === 'up-to-date'),
    counts: {
      total: databases.length,
      applied: count('applied'),
      upToDate: count('up-to-date'),
      failed: count('failed'),
      skipped: count('skipped'),
      locked: count('locked'),
    },
    databases,
    durationMs: 119_700,
  };
}

const failed: DatabaseResult = {
  database: 'fintech_experiment',
  status: 'failed',
  applied: [],
  pending: ['0013_fixture_fail'],
  taskId: 'migrate-x1',
  exitCode: 1,
  reason: 'the task exited 1',
  logExcerpt: ['error: fixture: refusing to migrate fintech_experiment', 'at line 3'],
  durationMs: 20,
};

describe('job summary', () => {
  let dir: string;
  let file: string;
  const notes: string[] = [];
  const warnings: string[] = [];
  const out = { note: (t: string) => notes.push(t), warn: (t: string) => warnings.push(t) };
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'berth-summary-'));
    file = path.join(dir, 'summary.md');
    await writeFile(file, '# earlier step\n');
    notes.length = 0;
    warnings.length = 0;
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('appends the counts, each failed tenant with its reason and log excerpt, and how to resume', async () => {
    const report = fleetReport(fleet([ok('startupwebapp_prod'), failed]));
    expect(await publishToGithub(report, out, { GITHUB_STEP_SUMMARY: file })).toBe(true);
    const text = await readFile(file, 'utf8');
    expect(text.startsWith('# earlier step\n')).toBe(true);
    expect(text).toContain('## ❌ berth migrate');
    expect(text).toContain('**2** database(s): **1** applied, **0** up to date, **1** failed');
    expect(text).toContain('2m0s');
    expect(text).toContain('| fintech_experiment | failed | 0 | migrate-x1 | the task exited 1 |');
    expect(text).toContain('### ❌ fintech_experiment: the task exited 1');
    expect(text).toContain('error: fixture: refusing to migrate fintech_experiment');
    expect(text).toContain('berth migrate --database fintech_experiment');
    expect(text).toContain('berth migrate --resume');
    expect(text).toContain('run-20261130T150000-abcd');
    // Annotations only in GitHub Actions.
    expect(notes).toEqual([]);
  });

  it('says nothing about resuming when every database is migrated', () => {
    const { markdown, annotations } = fleetReport(fleet([ok('a'), ok('b')]));
    expect(markdown).toContain('## ✅ berth migrate');
    expect(markdown).not.toContain('resume');
    expect(annotations).toEqual([]);
  });

  it('lists only the databases needing attention above 20 tenants', () => {
    const many = Array.from({ length: 30 }, (_, i) => ok(`t${i}`));
    const { markdown } = fleetReport(fleet([...many, failed]));
    expect(markdown).toContain('| fintech_experiment |');
    expect(markdown).not.toContain('| t0 |');
  });

  it('writes nothing and returns false without GITHUB_STEP_SUMMARY', async () => {
    expect(await publishToGithub(fleetReport(fleet([failed])), out, {})).toBe(false);
    expect(await readFile(file, 'utf8')).toBe('# earlier step\n');
  });

  it('warns, and does not throw, when the summary file cannot be written', async () => {
    const report = fleetReport(fleet([failed]));
    const missing = path.join(dir, 'no-such-dir', 'summary.md');
    expect(await publishToGithub(report, out, { GITHUB_STEP_SUMMARY: missing })).toBe(false);
    expect(warnings.join('\n')).toContain('could not append the job summary');
  });

  it('redacts secrets in the summary', async () => {
    redactor.add('s3cr3t-password-value');
    const leaky = { ...failed, logExcerpt: ['connecting with s3cr3t-password-value'] };
    await publishToGithub(fleetReport(fleet([leaky])), out, { GITHUB_STEP_SUMMARY: file });
    const text = await readFile(file, 'utf8');
    expect(text).not.toContain('s3cr3t-password-value');
    expect(text).toContain('***');
  });

  /** A database that passed every check of its own. */
  const completeDatabase = {
    name: 'a',
    exists: true,
    tables: 57,
    expectedTables: 57,
    pending: 0,
    pendingMigrations: [],
    check: 'not-configured' as const,
    ok: true,
  };

  it('verify: incomplete databases with their reasons and what to run', () => {
    const result: VerifyResult = {
      ok: false,
      databases: [
        { ...completeDatabase, check: 'passed' },
        {
          name: 'b',
          exists: true,
          tables: 12,
          expectedTables: 57,
          pending: 3,
          pendingMigrations: ['x', 'y', 'z'],
          check: 'failed',
          checkTaskId: 'check-b',
          ok: false,
          reason: '12 tables, expected 57',
        },
      ],
    };
    const { markdown, annotations } = verifyReport(result);
    expect(markdown).toContain('**1** of **2** database(s) incomplete.');
    expect(markdown).toContain('| b | 12/57 | 3 | failed | FAILED 12 tables, expected 57 |');
    expect(markdown).toContain('berth migrate --database b');
    expect(annotations).toEqual([
      {
        title: 'berth verify: b incomplete',
        message: '12 tables, expected 57 (log: berth logs check-b)',
      },
    ]);
  });

  it('verify: says what the schemas were compared with, or that they were not', () => {
    const database = completeDatabase;
    const compared = verifyReport({
      ok: true,
      schema: {
        compared: true,
        reference: { kind: 'tenant', name: 'golden', fingerprint: 'ab'.repeat(32), tables: 57 },
        expectedTables: { count: 57, from: 'reference' },
      },
      databases: [database],
    });
    expect(compared.markdown).toContain(
      'schema compared with the reference tenant golden (fingerprint abababababab, 57 tables); expected tables: 57, from the reference',
    );
    const notCompared = verifyReport({
      ok: true,
      schema: { compared: false, reason: 'verify.compareSchema is false', expectedTables: null },
      databases: [database],
    });
    expect(notCompared.markdown).toContain('schema not compared: verify.compareSchema is false');
  });

  it('verify: never says complete when verify failed or was interrupted, though every database is ok', () => {
    const database = completeDatabase;
    const failedReference: VerifyResult = {
      ok: false,
      schema: {
        compared: false,
        reason: 'the scratch database did not migrate from zero',
        expectedTables: null,
      },
      databases: [database],
    };
    expect(verifySummary(failedReference, false)).toBe(
      '✗ not verified: each of the 1 database(s) passed its own checks, but the schema reference failed (the scratch database did not migrate from zero)',
    );
    expect(verifyReport(failedReference).markdown).not.toContain('complete.');
    expect(verifyReport(failedReference).markdown).toContain('Not verified');
    const passed: VerifyResult = { ok: true, databases: [database] };
    expect(verifySummary(passed, true)).toMatch(/^✗ interrupted: verify did not finish/);
    expect(verifySummary(passed, false)).toBe('✓ all 1 database(s) complete');
  });

  it('pipeline: the stage table, the failing stage, and the nested fleet section', () => {
    const result: DeliveryResult = {
      ok: false,
      failedStage: 'migrate',
      skipped: [],
      durationMs: 5000,
      stages: [
        { name: 'test', status: 'passed', durationMs: 1000 },
        { name: 'build', status: 'skipped', durationMs: 0, detail: 'no registry' },
        { name: 'migrate', status: 'failed', durationMs: 3000, detail: '1 failed' },
        { name: 'verify', status: 'skipped', durationMs: 0 },
      ],
      provider: 'local',
      image: null,
      migrate: fleet([ok('a'), failed]),
      verify: null,
      facts: {},
    };
    const { markdown, annotations } = pipelineReport(result);
    expect(markdown).toContain('## ❌ berth pipeline (local)');
    expect(markdown).toContain('Failed at **migrate**');
    expect(markdown).toContain('| Stage | Result | Time | Detail |');
    expect(markdown).toContain('| build | skipped | 0ms | no registry |');
    expect(markdown).toContain('### ❌ migrate stage');
    expect(markdown).toContain('#### ❌ fintech_experiment: the task exited 1');
    expect(annotations.map((a) => a.title)).toEqual(['berth: fintech_experiment failed']);
  });

  it('pipeline: a failing test stage is one annotation with its output tail in the summary', () => {
    const result: DeliveryResult = {
      ok: false,
      failedStage: 'test',
      skipped: [],
      durationMs: 1000,
      stages: [
        { name: 'test', status: 'failed', durationMs: 1000, detail: 'exited 1\nFAIL x.test' },
      ],
      provider: 'local',
      image: null,
      migrate: null,
      verify: null,
      facts: {},
    };
    const { markdown, annotations } = pipelineReport(result);
    expect(markdown).toContain('### ❌ test stage: exited 1');
    expect(markdown).toContain('FAIL x.test');
    expect(annotations).toEqual([{ title: 'berth pipeline: test failed', message: 'exited 1' }]);
  });
});

describe('annotations', () => {
  it('are ::error workflow commands on stderr in GitHub Actions, escaped', async () => {
    const notes: string[] = [];
    const report = fleetReport(
      fleet([{ ...failed, database: 'a', reason: 'line 1\nline 2: 100%' }]),
    );
    await publishToGithub(
      report,
      { note: (t) => notes.push(t), warn: () => undefined },
      {
        GITHUB_ACTIONS: 'true',
      },
    );
    expect(notes).toEqual([
      '::error title=berth%3A a failed::line 1%0Aline 2: 100%25 (log: berth logs migrate-x1)',
    ]);
  });

  it('stop at 10, with one more that counts the rest', () => {
    const lines = annotationLines(
      Array.from({ length: 13 }, (_, i) => ({ title: `t${i}`, message: 'm' })),
    );
    expect(lines).toHaveLength(11);
    expect(lines.at(-1)).toBe('::error title=berth::3 more failure(s); see the job summary');
  });
});
