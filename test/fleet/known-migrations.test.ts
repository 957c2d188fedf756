/**
 * The code's migrations from a listing command (Django's showmigrations), run once as a task:
 * when it fails, the error says what to do. A fake TaskRuntime stands in for the process
 * runtime (the failure is Python's own output, written to the task's log as a task would).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import { isBerthError } from '../../src/core/errors.js';
import { loadKnownMigrations } from '../../src/fleet/known-migrations.js';
import type { TaskRuntime, TaskSpec } from '../../src/tasks/task.js';
import { VALID } from '../config/valid-config.js';
import { tempDir } from '../support/temp-dir.js';

const django = parseConfig(
  VALID.replace('migrations: { directory: migrations }', 'migrations: { tool: django }'),
);

/** A runtime whose one task exits 1 after printing `output`. */
async function failingRuntime(output: string): Promise<TaskRuntime> {
  const dir = await tempDir('berth-listing-');
  return {
    name: 'fake',
    run: async (spec: TaskSpec) => {
      const logFile = path.join(dir, `${spec.id}.log`);
      await writeFile(logFile, output);
      return { id: spec.id, exitCode: 1, timedOut: false, logFile, durationMs: 1 };
    },
  };
}

const listingError = async (output: string) =>
  loadKnownMigrations({
    config: django,
    configDir: '.',
    runtime: await failingRuntime(output),
    environment: () => ({}),
  }).catch((error: unknown) => error);

describe('loadKnownMigrations: a listing command that fails', () => {
  it('says to use the virtualenv when python3 has no Django', async () => {
    const error = await listingError(
      "Traceback (most recent call last):\nImportError: Couldn't import Django. Are you sure it's installed?\n",
    );
    expect(isBerthError(error) && error.code).toBe('MIGRATIONS_LIST_FAILED');
    expect(isBerthError(error) && error.hint).toMatch(
      /^`python3` here has no Django: run berth with the project's virtualenv active, or name its interpreter in task.command/,
    );
    const plain = await listingError("ModuleNotFoundError: No module named 'django'\n");
    expect(isBerthError(plain) && plain.hint).toMatch(/has no Django/);
  });

  it('otherwise points at the task log and migrations.listCommand', async () => {
    const error = await listingError('django.db.utils.OperationalError: could not connect\n');
    expect(isBerthError(error) && error.message).toMatch(
      /^could not list the code's migrations: `python3 manage.py showmigrations --plan` \(task probe-\S+\) exited 1: django.db.utils.OperationalError/,
    );
    expect(isBerthError(error) && error.hint).toMatch(/^see `berth logs probe-/);
  });
});
