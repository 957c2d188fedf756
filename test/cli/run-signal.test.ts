/**
 * The run's abort signal carries a listener or a few per task in flight; at the highest
 * fleet.concurrency that stays under its bound, so Node prints no MaxListenersExceededWarning
 * on berth's stderr (it did above 10 tasks on AWS). A leak past the bound still warns.
 */
import { describe, expect, it } from 'vitest';
import { RUN_SIGNAL_MAX_LISTENERS, runAbortController } from '../../src/cli/context.js';
import { LIMITS } from '../../src/config/limits.js';

async function warningsWhile(add: (signal: AbortSignal) => void): Promise<string[]> {
  const warnings: string[] = [];
  const onWarning = (warning: Error) => warnings.push(warning.name);
  process.on('warning', onWarning);
  try {
    add(runAbortController().signal);
    // process.emitWarning delivers on a later tick.
    await new Promise((resolve) => setTimeout(resolve, 20));
  } finally {
    process.off('warning', onWarning);
  }
  return warnings;
}

const listeners = (signal: AbortSignal, count: number) => {
  for (let i = 0; i < count; i++) signal.addEventListener('abort', () => undefined);
};

describe("the run's abort signal", () => {
  it('takes four listeners per task at the highest concurrency without a warning', async () => {
    expect(
      await warningsWhile((signal) => listeners(signal, 4 * LIMITS['fleet.concurrency'].max)),
    ).not.toContain('MaxListenersExceededWarning');
  });

  it('still warns past its bound: a real leak is not hidden', async () => {
    expect(
      await warningsWhile((signal) => listeners(signal, RUN_SIGNAL_MAX_LISTENERS + 1)),
    ).toContain('MaxListenersExceededWarning');
  });
});
