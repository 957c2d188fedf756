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
