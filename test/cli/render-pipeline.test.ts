/** The pipeline's closing line never says "passed" alone when it skipped its checks. */
import { describe, expect, it } from 'vitest';
import { renderPipeline } from '../../src/cli/render/pipeline.js';
import { createOutput } from '../../src/cli/output.js';
import { captureStream } from '../support/aws-cli.js';

describe('renderPipeline', () => {
  it('says how many stages were skipped and why', () => {
    const stdout = captureStream();
    const stderr = captureStream();
    renderPipeline(
      createOutput(false, stdout, stderr, {}),
      {
        ok: true,
        skipped: [
          { name: 'test', detail: 'not configured' },
          { name: 'build', detail: 'no container engine' },
        ],
        stages: [
          { name: 'test', status: 'skipped', durationMs: 0, detail: 'not configured' },
          { name: 'build', status: 'skipped', durationMs: 0, detail: 'no container engine' },
          { name: 'migrate', status: 'passed', durationMs: 5 },
        ],
        durationMs: 5,
      },
      { title: 'Pipeline summary (local)' },
    );
    expect(stdout.text()).toMatch(
      /✓ pipeline passed with 2 stage\(s\) skipped \(test: not configured; build: no container engine\) in /,
    );
  });
});
