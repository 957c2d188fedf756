import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import { RecordingReporter } from '../../src/core/events.js';
import { isBerthError } from '../../src/core/errors.js';
import { buildArgs, buildImages, resolveBaseImage, resolveCaFile } from '../../src/image/build.js';
import { configChecks, forbiddenPathChecks, reductionCheck } from '../../src/image/policy.js';
import { readImageState } from '../../src/state/image-state.js';
import { gitInfo, imageTags } from '../../src/image/tags.js';
import { fakeExec, first, inspectJson, sub } from '../support/container-fakes.js';
import { baseConfig } from '../support/project.js';
import { stringify } from 'yaml';

describe('tags', () => {
  it('tags production <sha> and latest, development with a -dev suffix', () => {
    expect(imageTags('repo', 'abc1234', 'production')).toEqual(['repo:abc1234', 'repo:latest']);
    expect(imageTags('repo', 'abc1234-dirty', 'development')).toEqual([
      'repo:abc1234-dirty-dev',
      'repo:latest-dev',
    ]);
  });

  it('adds -dirty when the work tree has changes', async () => {
    const clean = fakeExec([
      [sub('rev-parse', '--short'), { stdout: 'abc1234\n' }],
      [sub('status', '--porcelain'), { stdout: '' }],
    ]);
    expect(await gitInfo(clean, '/x')).toEqual({ sha: 'abc1234', dirty: false, tag: 'abc1234' });
    const dirty = fakeExec([
      [sub('rev-parse', '--short'), { stdout: 'abc1234\n' }],
      [sub('status', '--porcelain'), { stdout: ' M src/app.ts\n' }],
    ]);
    expect(await gitInfo(dirty, '/x')).toEqual({
      sha: 'abc1234',
      dirty: true,
      tag: 'abc1234-dirty',
    });
  });

  it('outside git, tags by time', async () => {
    const none = fakeExec([[first('rev-parse'), { code: 128, stderr: 'not a git repository' }]]);
    const info = await gitInfo(none, '/x', new Date('2026-11-25T18:33:01.123Z'));
    expect(info).toEqual({ dirty: false, tag: 'nogit-20261125T183301' });
  });
});

describe('buildArgs', () => {
  it('always builds on the host network, passes the base image and the CA as a secret', () => {
    const args = buildArgs({
      target: 'production',
      tags: ['repo:abc', 'repo:latest'],
      dockerfile: '/ctx/Dockerfile',
      context: '/tmp/ctx',
      baseImage: '127.0.0.1:5000/library/node:20-bookworm-slim',
      caFile: '/etc/ssl/ca.pem',
      labels: { 'berth.target': 'production' },
    });
    expect(args.slice(0, 3)).toEqual(['build', '--network', 'host']);
    expect(args).toEqual(expect.arrayContaining(['--target', 'production', '--tag', 'repo:abc']));
    expect(args.join(' ')).toContain(
      '--build-arg BASE_IMAGE=127.0.0.1:5000/library/node:20-bookworm-slim',
    );
    expect(args.join(' ')).toContain('--secret id=npm_ca,src=/etc/ssl/ca.pem');
    // The CA is never a build argument (build args end up in the image history).
    expect(args.filter((a) => a.includes('ca.pem'))).toEqual(['id=npm_ca,src=/etc/ssl/ca.pem']);
    expect(args.at(-1)).toBe('/tmp/ctx');
  });

  it('leaves the base image and secret out when there are none', () => {
    const args = buildArgs({
      target: 'development',
      tags: ['r:1-dev'],
      dockerfile: 'D',
      context: 'C',
      labels: {},
    });
    expect(args.join(' ')).not.toMatch(/BASE_IMAGE|--secret/);
  });

  it('takes the base image from BERTH_BASE_IMAGE, then image.baseImage', () => {
    const config = parseConfig(
      stringify(baseConfig({ image: { baseImage: 'node:20-bookworm-slim' } })),
    );
    expect(resolveBaseImage(config, {})).toBe('node:20-bookworm-slim');
    expect(resolveBaseImage(config, { BERTH_BASE_IMAGE: 'lab/node:20' })).toBe('lab/node:20');
  });

  it('finds the CA bundle in CONTAINER_LAB_EXTRA_CA, else NODE_EXTRA_CA_CERTS, if it exists', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-ca-'));
    const ca = path.join(dir, 'ca.pem');
    await writeFile(ca, 'PEM');
    expect(await resolveCaFile({ CONTAINER_LAB_EXTRA_CA: ca, NODE_EXTRA_CA_CERTS: '/nope' })).toBe(
      ca,
    );
    expect(
      await resolveCaFile({ CONTAINER_LAB_EXTRA_CA: '/missing', NODE_EXTRA_CA_CERTS: ca }),
    ).toBe(ca);
    expect(await resolveCaFile({ CONTAINER_LAB_EXTRA_CA: '' })).toBeUndefined();
    await rm(dir, { recursive: true });
  });
});

describe('policy', () => {
  const base = { id: 'x', sizeBytes: 1, workingDir: '/app', repoDigests: [] };

  it('wants a non-root user and a healthcheck', () => {
    const ok = configChecks({
      ...base,
      user: 'node',
      healthcheck: ['CMD', 'node', '/app/dist/healthcheck.js'],
    });
    expect(ok.map((c) => [c.name, c.ok])).toEqual([
      ['non-root-user', true],
      ['healthcheck', true],
    ]);
    for (const user of ['', 'root', '0', '0:0', 'root:staff']) {
      expect(configChecks({ ...base, user, healthcheck: [] })[0]?.ok).toBe(false);
    }
    expect(configChecks({ ...base, user: '1000', healthcheck: ['NONE'] })[1]).toMatchObject({
      ok: false,
      detail: 'no HEALTHCHECK instruction',
    });
  });

  it('measures the reduction against development', () => {
    expect(reductionCheck(200e6, 700e6, 0.5)).toMatchObject({ ok: true });
    expect(reductionCheck(200e6, 700e6, 0.5).detail).toBe(
      '200 MB vs 700 MB for development: 71% smaller (minimum 50%)',
    );
    expect(reductionCheck(300e6, 500e6, 0.5)).toMatchObject({ ok: false, reduction: 0.4 });
    expect(reductionCheck(300e6, undefined, 0.5)).toMatchObject({ ok: true });
  });

  it('looks for forbidden paths in a created container and removes it', async () => {
    const exec = fakeExec([
      [first('create'), { stdout: 'cid\n' }],
      [(a) => a[0] === 'cp' && (a[1] ?? '').endsWith(':/app/node_modules/vitest'), { code: 0 }],
      [
        first('cp'),
        { code: 1, stderr: 'Error: No such container:path: berth-policy-1:/app/secret' },
      ],
    ]);
    const checks = await forbiddenPathChecks(exec, 'docker', 'img:1', [
      '/app/node_modules/vitest',
      '/app/secret',
    ]);
    expect(checks.map((c) => [c.path, c.ok])).toEqual([
      ['/app/node_modules/vitest', false],
      ['/app/secret', true],
    ]);
    const create = exec.calls.find((c) => c.args[0] === 'create');
    expect(create?.args.slice(0, 3)).toEqual(['create', '--network', 'none']);
    expect(exec.calls.at(-1)?.args.slice(0, 2)).toEqual(['rm', '-f']);
  });
});

describe('buildImages', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'berth-build-'));
    await writeFile(path.join(dir, 'Dockerfile'), 'FROM scratch\n');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const sizes: Record<string, number> = { 'repo:v1-dev': 700e6, 'repo:v1': 200e6 };
  const engine = (buildCode = 0) =>
    fakeExec([
      [
        first('build'),
        buildCode === 0
          ? { stdout: '#1 DONE 0.1s' }
          : {
              code: buildCode,
              stderr:
                'ERROR: failed to solve: node:20-bookworm-slim: pull access denied, repository does not exist',
            },
      ],
      [
        sub('image', 'inspect'),
        (args) => {
          const ref = args.at(-1) ?? '';
          const size = sizes[ref];
          return size === undefined
            ? { code: 1, stderr: `Error: No such image: ${ref}` }
            : {
                stdout: inspectJson({
                  size,
                  user: ref.endsWith('-dev') ? '' : 'node',
                  healthcheck: ['CMD', 'node', 'dist/healthcheck.js'],
                }),
              };
        },
      ],
      [
        first('cp'),
        { code: 1, stderr: 'Error: No such container:path: x:/app/node_modules/vitest' },
      ],
    ]);

  it('builds development then production, measures them and checks the policy', async () => {
    const exec = engine();
    const reporter = new RecordingReporter();
    const result = await buildImages({
      cli: 'docker',
      context: dir,
      dockerfile: path.join(dir, 'Dockerfile'),
      repository: 'repo',
      targets: ['production', 'development'],
      forbiddenPaths: ['/app/node_modules/vitest'],
      minReduction: 0.5,
      logDir: path.join(dir, 'logs'),
      stateRoot: path.join(dir, 'state'),
      reporter,
      exec,
      git: { sha: 'v1', dirty: false, tag: 'v1' },
    });
    const builds = exec.calls.filter((c) => c.args[0] === 'build');
    expect(builds.map((c) => c.args[c.args.indexOf('--target') + 1])).toEqual([
      'development',
      'production',
    ]);
    expect(builds.every((c) => c.options.env?.DOCKER_BUILDKIT === '1')).toBe(true);
    expect(result.images.map((i) => [i.target, i.ref, i.sizeBytes])).toEqual([
      ['development', 'repo:v1-dev', 700e6],
      ['production', 'repo:v1', 200e6],
    ]);
    expect(result.reduction).toBeCloseTo(5 / 7);
    expect(result.ok).toBe(true);
    expect(result.policy?.checks.map((c) => c.name)).toEqual([
      'non-root-user',
      'healthcheck',
      'forbidden-path',
      'size-reduction',
    ]);
    // The build output went to the log file, not to the reporter.
    expect(await readFile(result.images[0]?.logFile ?? '', 'utf8')).toContain('#1 DONE 0.1s');
    expect(reporter.events.map((e) => (e.type === 'message' ? e.text : e.type))).toContain(
      'building production → repo:v1, repo:latest',
    );
    const state = await readImageState(path.join(dir, 'state'));
    expect(state.built.production?.ref).toBe('repo:v1');
  });

  it('a production image that breaks the policy fails the build result and is not recorded', async () => {
    sizes['repo:v1'] = 600e6;
    try {
      const result = await buildImages({
        cli: 'docker',
        context: dir,
        dockerfile: path.join(dir, 'Dockerfile'),
        repository: 'repo',
        targets: ['development', 'production'],
        forbiddenPaths: [],
        minReduction: 0.5,
        logDir: path.join(dir, 'logs'),
        stateRoot: path.join(dir, 'state'),
        reporter: new RecordingReporter(),
        exec: engine(),
        git: { sha: 'v1', dirty: false, tag: 'v1' },
      });
      expect(result.ok).toBe(false);
      expect(result.policy?.checks.find((c) => !c.ok)?.name).toBe('size-reduction');
      expect((await readImageState(path.join(dir, 'state'))).built.production).toBeUndefined();
    } finally {
      sizes['repo:v1'] = 200e6;
    }
  });

  it('a failed build is IMAGE_BUILD_FAILED with the log tail and a base-image hint', async () => {
    try {
      await buildImages({
        cli: 'docker',
        context: dir,
        dockerfile: path.join(dir, 'Dockerfile'),
        repository: 'repo',
        targets: ['production'],
        forbiddenPaths: [],
        minReduction: 0.5,
        logDir: path.join(dir, 'logs'),
        reporter: new RecordingReporter(),
        exec: engine(1),
        git: { sha: 'v1', dirty: false, tag: 'v1' },
      });
      expect.unreachable();
    } catch (error) {
      expect(isBerthError(error) && error.code).toBe('IMAGE_BUILD_FAILED');
      expect((error as Error).message).toBe('docker build --target production failed (exit 1)');
      expect(isBerthError(error) && error.hint).toMatch(/BERTH_BASE_IMAGE/);
      expect(isBerthError(error) && error.details?.tail).toEqual([
        expect.stringContaining('pull access denied'),
      ]);
    }
  });
});
