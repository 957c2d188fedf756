/** The task records' store: listing is a read, and creates nothing. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startRecord, TaskStore } from '../../src/state/task-store.js';
import { tempDir } from '../support/temp-dir.js';

describe('TaskStore', () => {
  it('lists no tasks without creating the records directory (berth tasks list in a new app)', async () => {
    const dir = await tempDir('berth-task-store-');
    const store = new TaskStore(path.join(dir, '.berth/tasks'), path.join(dir, '.berth/logs'));
    expect(await store.list()).toEqual([]);
    expect(existsSync(path.join(dir, '.berth'))).toBe(false);
    // A saved record is listed (save creates the directory).
    const spec = { id: 'migrate-1', kind: 'migrate' as const, databases: ['a'], command: ['m'] };
    await store.save(
      startRecord({ ...spec, environment: {}, timeoutMs: 1000 }, 'process', 'x.log', 0),
    );
    expect((await store.list()).map((r) => r.id)).toEqual(['migrate-1']);
  });
});
