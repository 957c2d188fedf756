/**
 * Which berth.yaml a command reads (src/config/find-config.ts): found upward from the working
 * directory as git finds `.git`, stopping at the repository root; `--config` and BERTH_CONFIG
 * override the search, BERTH_PROVIDER the config's provider.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  configAbove,
  findConfig,
  initTarget,
  resolveProvider,
} from '../../src/config/find-config.js';
import { BerthError } from '../../src/core/errors.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'berth-find-config-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function touch(file: string, text = 'version: 1\n'): Promise<string> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, text);
  return file;
}

async function notFound(promise: Promise<unknown>): Promise<BerthError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(BerthError);
  expect((error as BerthError).code).toBe('CONFIG_NOT_FOUND');
  return error as BerthError;
}

describe('findConfig', () => {
  it('finds berth.yaml in the working directory', async () => {
    const file = await touch(path.join(root, 'repo/berth.yaml'));
    await mkdir(path.join(root, 'repo/.git'));
    expect(await findConfig({ cwd: path.join(root, 'repo'), env: {} })).toEqual({
      file,
      source: 'discovered',
    });
  });

  it('finds the repository root’s berth.yaml from a subdirectory', async () => {
    const file = await touch(path.join(root, 'repo/berth.yaml'));
    await mkdir(path.join(root, 'repo/.git'));
    const deep = path.join(root, 'repo/services/api/src');
    await mkdir(deep, { recursive: true });
    expect((await findConfig({ cwd: deep, env: {} })).file).toBe(file);
  });

  it('takes the nearest config when a subdirectory has its own', async () => {
    await touch(path.join(root, 'repo/berth.yaml'));
    await mkdir(path.join(root, 'repo/.git'));
    const nested = await touch(path.join(root, 'repo/deploy/berth.yaml'));
    await mkdir(path.join(root, 'repo/deploy/sub'));
    expect((await findConfig({ cwd: path.join(root, 'repo/deploy/sub'), env: {} })).file).toBe(
      nested,
    );
  });

  it('stops at the repository root: a config above it is not used', async () => {
    await touch(path.join(root, 'berth.yaml'));
    await mkdir(path.join(root, 'repo/.git'), { recursive: true });
    await mkdir(path.join(root, 'repo/app'));
    const error = await notFound(findConfig({ cwd: path.join(root, 'repo/app'), env: {} }));
    const repo = path.join(root, 'repo');
    expect(error.message).toBe(
      `no berth.yaml in ${path.join(repo, 'app')} or any parent up to ${repo} (the repository root)`,
    );
    expect(error.details).toEqual({ searched: [path.join(repo, 'app'), repo] });
    // From a subdirectory, `berth init` here would hide the config from the rest of the repo.
    expect(error.hint).toBe(
      `run \`berth init\` in ${repo} (the repository root) to write a starter berth.yaml, or pass --config PATH or set BERTH_CONFIG`,
    );
  });

  it('treats a .git file (a worktree or submodule) as the repository root too', async () => {
    await touch(path.join(root, 'berth.yaml'));
    await touch(path.join(root, 'wt/.git'), 'gitdir: /elsewhere\n');
    await notFound(findConfig({ cwd: path.join(root, 'wt'), env: {} }));
  });

  it('suggests `berth init` here when run at the repository root', async () => {
    await mkdir(path.join(root, 'repo/.git'), { recursive: true });
    const error = await notFound(findConfig({ cwd: path.join(root, 'repo'), env: {} }));
    expect(error.message).toBe(`no berth.yaml in ${path.join(root, 'repo')}`);
    expect(error.hint).toMatch(/^run `berth init` to write a starter berth.yaml here, or pass/);
  });

  it('outside any repository, searches up to the filesystem root', async () => {
    const dir = path.join(root, 'a/b');
    await mkdir(dir, { recursive: true });
    const error = await notFound(findConfig({ cwd: dir, env: {} }));
    const searched = (error.details as { searched: string[] }).searched;
    expect(searched.slice(0, 3)).toEqual([dir, path.join(root, 'a'), root]);
    expect(searched.at(-1)).toBe(path.parse(dir).root);
  });

  it('uses --config as given, relative to the working directory, without searching', async () => {
    await touch(path.join(root, 'berth.yaml'));
    const found = await findConfig({
      cwd: root,
      explicit: 'deploy/other.yaml',
      env: { BERTH_CONFIG: '/elsewhere.yaml' },
    });
    expect(found).toEqual({ file: path.join(root, 'deploy/other.yaml'), source: 'flag' });
  });

  it('BERTH_CONFIG overrides the search (relative to the working directory)', async () => {
    await touch(path.join(root, 'berth.yaml'));
    const found = await findConfig({ cwd: root, env: { BERTH_CONFIG: 'ci/berth.yaml' } });
    expect(found).toEqual({ file: path.join(root, 'ci/berth.yaml'), source: 'env' });
    // An empty variable is unset, as in a shell `BERTH_CONFIG= berth …`.
    expect((await findConfig({ cwd: root, env: { BERTH_CONFIG: ' ' } })).source).toBe('discovered');
  });
});

describe('initTarget', () => {
  it('writes where --config or BERTH_CONFIG says, else berth.yaml in the working directory', () => {
    expect(initTarget({ cwd: root, env: {} })).toBe(path.join(root, 'berth.yaml'));
    expect(initTarget({ cwd: root, env: { BERTH_CONFIG: 'x/b.yaml' } })).toBe(
      path.join(root, 'x/b.yaml'),
    );
    expect(initTarget({ cwd: root, explicit: 'c.yaml', env: { BERTH_CONFIG: 'x/b.yaml' } })).toBe(
      path.join(root, 'c.yaml'),
    );
  });
});

describe('configAbove', () => {
  it('names the parent directory’s config that a new one here would shadow', async () => {
    const repoConfig = await touch(path.join(root, 'repo/berth.yaml'));
    await mkdir(path.join(root, 'repo/.git'));
    await mkdir(path.join(root, 'repo/web'));
    const web = path.join(root, 'repo/web');
    expect(await configAbove({ cwd: web, env: {} })).toBe(repoConfig);
    // Not when the target is that file, nor when --config or BERTH_CONFIG chose the file.
    expect(await configAbove({ cwd: path.join(root, 'repo'), env: {} })).toBeUndefined();
    expect(await configAbove({ cwd: web, explicit: 'berth.yaml', env: {} })).toBeUndefined();
    expect(await configAbove({ cwd: web, env: { BERTH_CONFIG: 'b.yaml' } })).toBeUndefined();
  });

  it('is undefined when there is no config up to the repository root', async () => {
    await touch(path.join(root, 'berth.yaml'));
    await mkdir(path.join(root, 'repo/.git'), { recursive: true });
    expect(await configAbove({ cwd: path.join(root, 'repo'), env: {} })).toBeUndefined();
  });
});

describe('resolveProvider', () => {
  it('--provider, then BERTH_PROVIDER, then the config', () => {
    expect(resolveProvider('aws', 'local', { BERTH_PROVIDER: 'local' })).toBe('aws');
    expect(resolveProvider(undefined, 'local', { BERTH_PROVIDER: 'aws' })).toBe('aws');
    expect(resolveProvider(undefined, 'aws', {})).toBe('aws');
    expect(resolveProvider(undefined, 'local', { BERTH_PROVIDER: '' })).toBe('local');
  });

  it('rejects an unknown BERTH_PROVIDER, naming the variable', () => {
    expect(() => resolveProvider(undefined, 'local', { BERTH_PROVIDER: 'gcp' })).toThrow(
      expect.objectContaining({
        code: 'USAGE',
        message: 'BERTH_PROVIDER must be local or aws, got "gcp"',
      }),
    );
  });
});
