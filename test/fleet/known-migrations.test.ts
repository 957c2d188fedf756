/**
 * The code's migrations from a listing command (Django's showmigrations), run once as a task:
 * when it fails, the error says what to do; for an image named by digest, it runs once per
 * image and is recorded. A fake TaskRuntime stands in for the process runtime (the output is
 * Python's own, written to the task's log as a task would).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import { isBerthError } from '../../src/core/errors.js';
import { loadKnownMigrations } from '../../src/fleet/known-migrations.js';
import { ListingCache } from '../../src/state/listing-cache.js';
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

describe('loadKnownMigrations: listings recorded per image', () => {
  const PINNED = `registry.example/app@sha256:${'c'.repeat(64)}`;
  const PLAN = '[ ]  contenttypes.0001_initial\n[ ]  auth.0001_initial\n';

  /** A runtime whose listing task prints PLAN, counting the tasks it starts. */
  async function countingRuntime(output = PLAN, exitCode = 0) {
    const dir = await tempDir('berth-listing-');
    const started: TaskSpec[] = [];
    const runtime: TaskRuntime = {
      name: 'fake',
      run: async (spec: TaskSpec) => {
        started.push(spec);
        const logFile = path.join(dir, `${spec.id}.log`);
        await writeFile(logFile, output);
        return { id: spec.id, exitCode, timedOut: false, logFile, durationMs: 1 };
      },
    };
    return { runtime, started };
  }

  const load = (
    runtime: TaskRuntime,
    cache: ListingCache,
    image: () => Promise<string | undefined>,
  ) =>
    loadKnownMigrations({
      config: django,
      configDir: '.',
      runtime,
      environment: () => ({}),
      listings: { cache, image },
    });

  it('runs the listing once per image named by digest; the next command reads the record', async () => {
    const cache = new ListingCache(await tempDir('berth-listings-'));
    const { runtime, started } = await countingRuntime();
    const ids = ['contenttypes.0001_initial', 'auth.0001_initial'];
    expect(await load(runtime, cache, () => Promise.resolve(PINNED))).toEqual(ids);
    expect(await load(runtime, cache, () => Promise.resolve(PINNED))).toEqual(ids);
    expect(started).toHaveLength(1);
    // Another image is listed again.
    const other = PINNED.replace('c'.repeat(64), 'd'.repeat(64));
    expect(await load(runtime, cache, () => Promise.resolve(other))).toEqual(ids);
    expect(started).toHaveLength(2);
  });

  it('records nothing for a tag, an image it cannot resolve, or a tag that moved while it listed', async () => {
    const cache = new ListingCache(await tempDir('berth-listings-'));
    const { runtime, started } = await countingRuntime();
    await load(runtime, cache, () => Promise.resolve('registry.example/app:abc1234'));
    await load(runtime, cache, () => Promise.resolve('registry.example/app:abc1234'));
    await load(runtime, cache, () => Promise.reject(new Error('ECR is unreachable')));
    expect(started).toHaveLength(3);
    // Resolved to one digest before the listing and another after it: the listing may have
    // run either image, so it is not recorded under the first.
    const digests = [PINNED, PINNED.replace('c'.repeat(64), 'e'.repeat(64))];
    let calls = 0;
    await load(runtime, cache, () => Promise.resolve(digests[Math.min(calls++, 1)]));
    await load(runtime, cache, () => Promise.resolve(PINNED));
    expect(started).toHaveLength(5);
  });

  it('records no failed listing', async () => {
    const cache = new ListingCache(await tempDir('berth-listings-'));
    const failing = await countingRuntime('Traceback: boom\n', 1);
    await expect(load(failing.runtime, cache, () => Promise.resolve(PINNED))).rejects.toThrow(
      /could not list/,
    );
    const { runtime, started } = await countingRuntime();
    await load(runtime, cache, () => Promise.resolve(PINNED));
    expect(started).toHaveLength(1);
  });
});
