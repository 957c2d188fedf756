import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isBerthError } from '../../src/core/errors.js';
import { deriveWorkspaceLockfile, type Lockfile } from '../../src/image/lockfile.js';
import { ROOT } from '../support/project.js';

const manifest = {
  name: 'app',
  version: '1.0.0',
  dependencies: { a: '^1.0.0' },
  devDependencies: { t: '^2.0.0' },
};

/** A workspace root whose own dependencies (rootonly) must not leak into the app's lockfile. */
function rootLock(): Lockfile {
  return {
    name: 'monorepo',
    lockfileVersion: 3,
    requires: true,
    packages: {
      '': { name: 'monorepo', workspaces: ['apps/app'], dependencies: { rootonly: '1' } },
      'apps/app': {
        version: '1.0.0',
        dependencies: { a: '^1.0.0' },
        devDependencies: { t: '^2.0.0' },
      },
      'node_modules/app': { resolved: 'apps/app', link: true },
      'node_modules/rootonly': { version: '1.0.0', integrity: 'sha512-r' },
      // a → b (prod) and c (optional); b peers on p; t (dev) → b and d.
      'node_modules/a': {
        version: '1.2.0',
        integrity: 'sha512-a',
        dependencies: { b: '^1' },
        optionalDependencies: { c: '^1' },
      },
      'node_modules/b': {
        version: '1.0.0',
        integrity: 'sha512-b',
        peerDependencies: { p: '*', q: '*' },
        peerDependenciesMeta: { q: { optional: true } },
      },
      'node_modules/c': { version: '1.0.0', optional: true, os: ['darwin'] },
      'node_modules/p': { version: '3.0.0', peer: true },
      'node_modules/q': { version: '1.0.0' },
      // The workspace has its own t (the root would hoist another one).
      'apps/app/node_modules/t': {
        version: '2.1.0',
        dev: true,
        dependencies: { b: '^1', d: '^1' },
      },
      'node_modules/d': { version: '1.0.0', dev: true, dependencies: { e: '1' } },
      'node_modules/d/node_modules/e': { version: '1.0.0', dev: true },
    },
  };
}

describe('deriveWorkspaceLockfile', () => {
  it("keeps exactly the workspace's closure, re-rooted", () => {
    const lock = deriveWorkspaceLockfile(rootLock(), 'apps/app', manifest);
    expect(Object.keys(lock.packages)).toEqual([
      '',
      'node_modules/a',
      'node_modules/b',
      'node_modules/c',
      'node_modules/d',
      'node_modules/d/node_modules/e',
      'node_modules/p',
      'node_modules/t',
    ]);
    expect(lock.packages['']).toEqual({
      name: 'app',
      version: '1.0.0',
      dependencies: { a: '^1.0.0' },
      devDependencies: { t: '^2.0.0' },
    });
    expect(lock).toMatchObject({ name: 'app', lockfileVersion: 3, requires: true });
    // Integrity hashes travel with the entries.
    expect(lock.packages['node_modules/a']?.integrity).toBe('sha512-a');
  });

  it('recomputes dev, optional and peer flags for the new root', () => {
    const { packages } = deriveWorkspaceLockfile(rootLock(), 'apps/app', manifest);
    const flags = (key: string) =>
      ['dev', 'optional', 'devOptional', 'peer'].filter((f) => packages[key]?.[f] === true);
    expect(flags('node_modules/a')).toEqual([]);
    expect(flags('node_modules/b')).toEqual([]); // prod via a, although t (dev) needs it too
    expect(flags('node_modules/c')).toEqual(['optional']);
    expect(flags('node_modules/p')).toEqual(['peer']);
    expect(flags('node_modules/t')).toEqual(['dev']);
    expect(flags('node_modules/d')).toEqual(['dev']);
    expect(flags('node_modules/d/node_modules/e')).toEqual(['dev']);
  });

  it('fails with a hint when two packages would land on the same path', () => {
    const lock = rootLock();
    // The root's own t would be needed by a (outside the workspace) and clash with the app's.
    lock.packages['node_modules/t'] = { version: '1.0.0' };
    (lock.packages['node_modules/a'] as { dependencies: Record<string, string> }).dependencies.t =
      '^1';
    try {
      deriveWorkspaceLockfile(lock, 'apps/app', manifest);
      expect.unreachable();
    } catch (error) {
      expect(isBerthError(error) && error.code).toBe('IMAGE_BUILD_FAILED');
      expect((error as Error).message).toContain('would both become node_modules/t');
      expect(isBerthError(error) && error.hint).toContain('--package-lock-only');
    }
  });

  it('fails when a required dependency is missing and skips a missing optional one', () => {
    const lock = rootLock();
    delete lock.packages['node_modules/c'];
    expect(Object.keys(deriveWorkspaceLockfile(lock, 'apps/app', manifest).packages)).not.toContain(
      'node_modules/c',
    );
    delete lock.packages['node_modules/b'];
    expect(() => deriveWorkspaceLockfile(lock, 'apps/app', manifest)).toThrow(
      /b \(needed by node_modules\/a\) is not in the root package-lock.json/,
    );
  });

  it("derives the example app's lockfile from the repository's", async () => {
    const root = JSON.parse(
      await readFile(path.join(ROOT, 'package-lock.json'), 'utf8'),
    ) as Lockfile;
    const pkg = JSON.parse(
      await readFile(path.join(ROOT, 'examples/startupwebapp/package.json'), 'utf8'),
    ) as { name: string; version: string };
    const lock = deriveWorkspaceLockfile(root, 'examples/startupwebapp', pkg);
    const { packages } = lock;
    expect(packages['node_modules/pg']?.dev).toBeUndefined();
    expect(packages['node_modules/node-pg-migrate']?.dev).toBeUndefined();
    expect(packages['node_modules/vitest']?.dev).toBe(true);
    expect(packages['node_modules/typescript']?.dev).toBe(true);
    // berth's own dependencies stay out.
    expect(packages['node_modules/commander']).toBeUndefined();
    expect(packages['node_modules/@aws-sdk/client-ecs']).toBeUndefined();
    // Every entry but the root is pinned by integrity (what makes `npm ci` reproducible).
    const unpinned = Object.entries(packages).filter(
      ([key, entry]) => key !== '' && !entry.integrity && !entry.link,
    );
    expect(unpinned).toEqual([]);
  });
});
