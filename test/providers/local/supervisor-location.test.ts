/**
 * Which supervisor berth starts: built berth (its modules in dist/ or dist/chunks/) runs the
 * one-file bundle the build makes; berth run from its sources runs libexec's plain script.
 * Laid out in a temporary directory shaped like the package, so the real files do not decide.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BUNDLED_SUPERVISOR, locateSupervisor } from '../../../src/providers/local/supervise.js';

describe('locateSupervisor', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'berth-supervisor-location-'));
    await mkdir(path.join(root, 'libexec'));
    await writeFile(path.join(root, 'libexec', 'berth-supervisor.mjs'), '');
    await mkdir(path.join(root, 'dist', 'chunks'), { recursive: true });
    await mkdir(path.join(root, 'src', 'providers', 'local'), { recursive: true });
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('gives built berth the bundle, from dist/ and from dist/chunks/', async () => {
    await writeFile(path.join(root, 'dist', BUNDLED_SUPERVISOR), '');
    const bundle = path.join(root, 'dist', BUNDLED_SUPERVISOR);
    expect(locateSupervisor(path.join(root, 'dist'))).toBe(bundle);
    expect(locateSupervisor(path.join(root, 'dist', 'chunks'))).toBe(bundle);
  });

  it('gives the sources the plain script, even when a (maybe stale) bundle is built', async () => {
    await writeFile(path.join(root, 'dist', BUNDLED_SUPERVISOR), '');
    expect(locateSupervisor(path.join(root, 'src', 'providers', 'local'))).toBe(
      path.join(root, 'libexec', 'berth-supervisor.mjs'),
    );
  });

  it('falls back to the plain script when dist/ has no bundle (a build from before it)', () => {
    expect(locateSupervisor(path.join(root, 'dist', 'chunks'))).toBe(
      path.join(root, 'libexec', 'berth-supervisor.mjs'),
    );
  });
});
