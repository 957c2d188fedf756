import { describe, expect, it } from 'vitest';
import { RecordingReporter } from '../../src/core/events.js';
import { runPipeline } from '../../src/pipeline/run-pipeline.js';

const clock = () => {
  let t = 0;
  return () => (t += 10);
};

describe('runPipeline', () => {
  it('runs the stages in order and times each', async () => {
    const order: string[] = [];
    const stage = (name: string) => () => {
      order.push(name);
      return Promise.resolve({ status: 'passed' as const });
    };
    const result = await runPipeline(
      {
        verify: stage('verify'),
        test: stage('test'),
        migrate: stage('migrate'),
        build: stage('build'),
        push: stage('push'),
      },
      new RecordingReporter(),
      undefined,
      clock(),
    );
    expect(order).toEqual(['test', 'build', 'push', 'migrate', 'verify']);
    expect(result.ok).toBe(true);
    expect(result.stages.every((s) => s.durationMs === 10)).toBe(true);
  });

  it('stops at the first failed stage and reports the rest skipped', async () => {
    const reporter = new RecordingReporter();
    const result = await runPipeline(
      {
        test: () => Promise.resolve({ status: 'passed' }),
        build: () => Promise.reject(new Error('docker exploded')),
        migrate: () => Promise.resolve({ status: 'passed' }),
      },
      reporter,
    );
    expect(result.ok).toBe(false);
    expect(result.failedStage).toBe('build');
    expect(result.stages.map((s) => [s.name, s.status])).toEqual([
      ['test', 'passed'],
      ['build', 'failed'],
      ['migrate', 'skipped'],
    ]);
    expect(result.stages[1]?.detail).toBe('docker exploded');
    expect(reporter.events.filter((e) => e.type === 'stage-started')).toHaveLength(2);
  });

  it('a skipped stage does not fail the pipeline', async () => {
    const result = await runPipeline(
      { build: () => Promise.resolve({ status: 'skipped', detail: 'no container engine' }) },
      new RecordingReporter(),
    );
    expect(result.ok).toBe(true);
  });
});

describe('runPipeline: skipped stages', () => {
  const skip = (detail: string) => () => Promise.resolve({ status: 'skipped' as const, detail });
  const pass = () => Promise.resolve({ status: 'passed' as const });

  it('a pass with stages skipped on their own account says which and why', async () => {
    const result = await runPipeline(
      {
        test: skip('no pipeline.test command configured'),
        build: skip('no container engine'),
        migrate: pass,
      },
      new RecordingReporter(),
    );
    expect(result.ok).toBe(true);
    expect(result.skipped).toEqual([
      { name: 'test', detail: 'no pipeline.test command configured' },
      { name: 'build', detail: 'no container engine' },
    ]);
  });

  it('--strict turns a stage that skips itself into the failing stage', async () => {
    const result = await runPipeline(
      { test: pass, build: skip('no container engine'), migrate: pass },
      new RecordingReporter(),
      undefined,
      Date.now,
      true,
    );
    expect(result.ok).toBe(false);
    expect(result.failedStage).toBe('build');
    expect(result.stages.map((s) => s.status)).toEqual(['passed', 'failed', 'skipped']);
    expect(result.stages[1]?.detail).toMatch(/--strict allows no skip: no container engine/);
  });
});
