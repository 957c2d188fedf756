/**
 * Config discovery through the built CLI: `berth` run from a subdirectory reads the
 * repository's berth.yaml; BERTH_CONFIG and BERTH_PROVIDER override; a miss says where it looked.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { BERTH, baseConfig, collect } from '../support/project.js';

let repo: string;
const berth = (cwd: string, args: string[], env: Record<string, string> = {}) => {
  const { BERTH_CONFIG: _c, BERTH_PROVIDER: _p, ...inherited } = process.env;
  return collect(
    spawn(process.execPath, [BERTH, ...args], {
      cwd,
      env: { ...inherited, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
};

beforeAll(async () => {
  repo = await mkdtemp(path.join(os.tmpdir(), 'berth-discovery-'));
  await mkdir(path.join(repo, '.git'));
  await mkdir(path.join(repo, 'services/api'), { recursive: true });
  await writeFile(path.join(repo, 'berth.yaml'), stringify(baseConfig()));
  await mkdir(path.join(repo, 'ci'));
  await writeFile(path.join(repo, 'ci/other.yaml'), stringify(baseConfig({ app: 'other' })));
});
afterAll(async () => {
  await rm(repo, { recursive: true, force: true });
});

describe('config discovery (CLI)', () => {
  it('finds the repository’s berth.yaml from a subdirectory', async () => {
    const run = await berth(path.join(repo, 'services/api'), ['config', 'validate', '--json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: true, file: path.join(repo, 'berth.yaml') });
  });

  it('BERTH_CONFIG overrides the search; --config overrides BERTH_CONFIG', async () => {
    const cwd = path.join(repo, 'services/api');
    const env = await berth(cwd, ['config', 'validate', '--json'], {
      BERTH_CONFIG: path.join(repo, 'ci/other.yaml'),
    });
    expect(JSON.parse(env.stdout)).toMatchObject({ config: { app: 'other' } });
    const flag = await berth(
      cwd,
      ['--config', path.join(repo, 'berth.yaml'), 'config', 'validate', '--json'],
      { BERTH_CONFIG: path.join(repo, 'ci/other.yaml') },
    );
    expect(JSON.parse(flag.stdout)).toMatchObject({ config: { app: 'startupwebapp' } });
  });

  it('`berth init` in a subdirectory refuses to shadow the repository’s config (exit 2)', async () => {
    const cwd = path.join(repo, 'services/api');
    const run = await berth(cwd, ['init']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${path.join(repo, 'berth.yaml')} is already the config here`);
    expect(run.stderr).toContain('--force');
    const forced = await berth(cwd, ['init', '--force']);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain(`wrote ${path.join(cwd, 'berth.yaml')}`);
    await rm(path.join(cwd, 'berth.yaml'));
  });

  it('BERTH_PROVIDER is checked and used (an unknown one is exit 2)', async () => {
    const run = await berth(repo, ['status'], { BERTH_PROVIDER: 'gcp' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('BERTH_PROVIDER must be local or aws, got "gcp"');
  });

  it('from a subdirectory of a repository without a config, says where it looked (exit 3)', async () => {
    const empty = await mkdtemp(path.join(os.tmpdir(), 'berth-discovery-empty-'));
    try {
      await mkdir(path.join(empty, '.git'));
      await mkdir(path.join(empty, 'web'));
      const run = await berth(path.join(empty, 'web'), ['status']);
      expect(run.code).toBe(3);
      expect(run.stderr).toContain(
        `no berth.yaml in ${path.join(empty, 'web')} or any parent up to ${empty} (the repository root)`,
      );
      expect(run.stderr).toContain(`run \`berth init\` in ${empty} (the repository root)`);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});
