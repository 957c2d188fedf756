/**
 * A local task whose log file cannot be written (a full disk): berth does not crash, the task
 * runs to its end, and its outcome says which file failed and what to do. The log is
 * /dev/full, a real device whose writes fail with ENOSPC; the task is a real process under
 * berth's real supervisor.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessRuntime } from '../../../src/providers/local/process-runtime.js';
import { TaskStore } from '../../../src/state/task-store.js';

/** A store whose task logs all go to /dev/full. */
class FullDiskStore extends TaskStore {
  override logFile(): string {
    return '/dev/full';
  }
}

describe('ProcessRuntime with a log it cannot write', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'berth-full-log-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('lets the task finish and reports the log failure with its exit code', async () => {
    const store = new FullDiskStore(path.join(dir, 'tasks'), path.join(dir, 'logs'));
    const runtime = new ProcessRuntime({ cwd: dir, store, killGraceMs: 500 });
    const marker = path.join(dir, 'ran');
    const outcome = await runtime.run({
      id: `migrate-full-${Date.now()}`,
      kind: 'migrate',
      databases: ['t1'],
      // Prints more than one block's worth, then leaves proof that it ran to its end.
      command: [
        'node',
        '-e',
        `for (let i = 0; i < 5000; i++) console.log('Applying migration ' + i); require('fs').writeFileSync(${JSON.stringify(marker)}, 'done')`,
      ],
      environment: {},
      timeoutMs: 60_000,
    });
    expect(outcome.exitCode).toBe(0);
    expect(outcome.stopped).toBeUndefined();
    expect(outcome.stoppedReason).toMatch(
      /could not write the task log \/dev\/full: .*ENOSPC.*free space on that disk/,
    );
    const { readFile } = await import('node:fs/promises');
    expect(await readFile(marker, 'utf8')).toBe('done');
    // The task's record is saved with the outcome (the state directory itself is writable).
    const record = await store.get(outcome.id);
    expect(record.stoppedReason).toMatch(/\/dev\/full/);
  });
});
