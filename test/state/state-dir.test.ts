/** The state directory is checked writable before a run starts anything. */
import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitCode, exitCodeForError } from '../../src/core/exit-codes.js';
import { parseConfig } from '../../src/config/load-config.js';
import { assertStateWritable, openStateDir } from '../../src/state/state-dir.js';
import { VALID } from '../config/valid-config.js';
import { tempDir } from '../support/temp-dir.js';

async function state() {
  const dir = await tempDir('berth-state-');
  return openStateDir({ config: parseConfig(VALID), dir, file: path.join(dir, 'berth.yaml') });
}

describe('assertStateWritable', () => {
  it('creates the directories private (0700) when they are missing', async () => {
    const s = await state();
    await assertStateWritable(s);
    for (const dir of [s.paths.root, s.paths.logs, s.paths.tasks, s.paths.runs])
      expect((await stat(dir)).mode & 0o777).toBe(0o700);
  });

  it('names the path and exits 7 when a directory cannot be written (a file in its place)', async () => {
    const s = await state();
    await mkdir(s.paths.root, { recursive: true });
    await writeFile(s.paths.runs, 'not a directory\n');
    const error = await assertStateWritable(s).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'STATE_UNWRITABLE' });
    expect((error as Error).message).toContain(s.paths.runs);
    expect(exitCodeForError('STATE_UNWRITABLE')).toBe(ExitCode.environment);
  });

  it('refuses a state directory inside /proc at once (Node would loop creating it)', async () => {
    const dir = await tempDir('berth-state-');
    const config = parseConfig(VALID);
    const s = openStateDir({
      config: { ...config, local: { ...config.local, dataDir: '/proc/berth-state' } },
      dir,
      file: path.join(dir, 'berth.yaml'),
    });
    await expect(assertStateWritable(s)).rejects.toMatchObject({
      code: 'STATE_UNWRITABLE',
      message:
        "cannot write berth's state to /proc/berth-state: it is inside /proc, a kernel file system",
    });
  });
});
