import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseConfig, type LoadedConfig } from '../../../src/config/load-config.js';
import { updateImageState } from '../../../src/state/image-state.js';
import { cliEnvironment, runArgs } from '../../../src/providers/local/container-runtime.js';
import { chooseRuntime } from '../../../src/providers/local/select-runtime.js';
import { TaskStore } from '../../../src/state/task-store.js';
import type { TaskSpec } from '../../../src/tasks/task.js';
import { fakeExec, inspectJson, sub } from '../../support/container-fakes.js';
import { baseConfig } from '../../support/project.js';

const spec: TaskSpec = {
  id: 'migrate-20261125T120000-abcdef',
  kind: 'migrate',
  databases: ['fintech_experiment'],
  command: ['node', 'dist/migrate.js'],
  environment: { DATABASE_NAME: 'fintech_experiment', DATABASE_PASSWORD: 's3cret-value' },
  timeoutMs: 1000,
};

describe('the container runtime command line', () => {
  const store = new TaskStore('/t', '/l');

  it('mirrors the Fargate task: host network, non-root user, read-only root, limits', () => {
    const args = runArgs(
      {
        cli: 'docker',
        image: 'reg/app@sha256:1',
        store,
        user: '1000',
        readonlyRootFilesystem: true,
        cpu: 0.25,
        memoryMiB: 512,
        labels: { 'berth.stack': 'app' },
      },
      spec,
    );
    expect(args).toEqual([
      'run',
      '--rm',
      '--name',
      'berth-migrate-20261125T120000-abcdef',
      '--network',
      'host',
      '--label',
      'berth.task=migrate-20261125T120000-abcdef',
      '--label',
      'berth.stack=app',
      '--user',
      '1000',
      '--read-only',
      '--tmpfs',
      '/tmp:rw,nosuid,nodev,size=64m',
      '--cap-drop',
      'ALL',
      '--security-opt',
      'no-new-privileges',
      '--cpus',
      '0.25',
      '--memory',
      '512m',
      '--env',
      'DATABASE_NAME',
      '--env',
      'DATABASE_PASSWORD',
      'reg/app@sha256:1',
      'node',
      'dist/migrate.js',
    ]);
    expect(args.join(' ')).not.toContain('s3cret-value');
  });

  it('starts the image ID resolved for the run, not the tag, when it has one', () => {
    const args = runArgs({ cli: 'docker', image: 'app:dev', imageId: 'sha256:abc', store }, spec);
    expect(args.slice(-3)).toEqual(['sha256:abc', 'node', 'dist/migrate.js']);
    expect(args).not.toContain('app:dev');
  });

  it("puts the values in the CLI's environment, with only what the CLI needs of ours", () => {
    const env = cliEnvironment(spec);
    expect(env.DATABASE_PASSWORD).toBe('s3cret-value');
    expect(env.DOCKER_BUILDKIT).toBe('1');
    expect(env.PATH).toBe(process.env.PATH);
    for (const key of Object.keys(env)) {
      expect(key).toMatch(
        /^(PATH|HOME|LANG|DOCKER_\w+|XDG_RUNTIME_DIR|BUILDKIT_\w+|DATABASE_\w+)$/,
      );
    }
  });

  it('refuses task variables the CLI would read itself', () => {
    expect(() =>
      cliEnvironment({ ...spec, environment: { DOCKER_HOST: 'tcp://elsewhere' } }),
    ).toThrow(/DOCKER_HOST, which the container CLI reads itself/);
  });
});

describe('chooseRuntime', () => {
  let dir: string;
  let loaded: LoadedConfig;
  const up = () => Promise.resolve({ available: true, version: '27.0.0' });
  const down = () => Promise.resolve({ available: false, reason: 'no docker CLI on PATH' });
  const images = (present: string[]) =>
    fakeExec([
      [
        sub('image', 'inspect'),
        (args) =>
          present.includes(args.at(-1) ?? '')
            ? { stdout: inspectJson({ size: 1 }) }
            : { code: 1, stderr: 'Error: No such image' },
      ],
    ]);

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'berth-runtime-'));
    const config = parseConfig(
      stringify(baseConfig({ registry: { name: 'app', local: '127.0.0.1:5000' } })),
    );
    loaded = { config, dir, file: path.join(dir, 'berth.yaml') };
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('auto without an engine: processes, saying why', async () => {
    expect(await chooseRuntime(loaded, 'auto', undefined, { detect: down })).toEqual({
      runtime: 'process',
      reason: 'no container engine (no docker CLI on PATH)',
    });
  });

  it('auto with an engine but no image: processes, saying why', async () => {
    const choice = await chooseRuntime(loaded, undefined, undefined, {
      detect: up,
      exec: images([]),
    });
    expect(choice).toEqual({
      runtime: 'process',
      reason: 'no image for app yet (run `berth build`)',
    });
  });

  it('auto with an engine and a pushed image: containers from the pushed digest', async () => {
    const ref = `127.0.0.1:5000/app@sha256:${'1'.repeat(64)}`;
    await updateImageState(path.join(dir, '.berth'), (s) => {
      s.pushed.local = {
        provider: 'local',
        uri: 'u',
        digest: 'd',
        imageRef: ref,
        pushedAt: '2026-11-25T12:00:00Z',
      };
      s.built.production = {
        ref: 'app:abc',
        tags: [],
        id: 'i',
        sizeBytes: 1,
        version: 'abc',
        builtAt: '2026-11-25T11:00:00Z',
      };
    });
    const choice = await chooseRuntime(loaded, 'auto', undefined, {
      detect: up,
      exec: images([ref, 'app:abc']),
    });
    // With the image ID it inspected: the run starts every container from it (no second look).
    expect(choice).toMatchObject({ runtime: 'container', image: ref, imageId: 'sha256:feed' });
  });

  it('a build newer than the last push wins', async () => {
    await updateImageState(path.join(dir, '.berth'), (s) => {
      s.pushed.local = {
        provider: 'local',
        uri: 'u',
        digest: 'd',
        imageRef: 'old@sha256:0',
        pushedAt: '2026-11-25T10:00:00Z',
      };
      s.built.production = {
        ref: 'app:new',
        tags: [],
        id: 'i',
        sizeBytes: 1,
        version: 'new',
        builtAt: '2026-11-25T11:00:00Z',
      };
    });
    const choice = await chooseRuntime(loaded, 'auto', undefined, {
      detect: up,
      exec: images(['old@sha256:0', 'app:new']),
    });
    expect(choice.image).toBe('app:new');
  });

  it("ignores images this stack did not build, even with the stack's repository name", async () => {
    const choice = await chooseRuntime(loaded, 'auto', undefined, {
      detect: up,
      exec: images(['app:latest', '127.0.0.1:5000/app:latest']),
    });
    expect(choice.runtime).toBe('process');
  });

  it('a recorded image the engine no longer has does not count', async () => {
    await updateImageState(path.join(dir, '.berth'), (s) => {
      s.built.production = {
        ref: 'app:gone',
        tags: [],
        id: 'i',
        sizeBytes: 1,
        version: 'gone',
        builtAt: '2026-11-25T11:00:00Z',
      };
    });
    const choice = await chooseRuntime(loaded, 'auto', undefined, { detect: up, exec: images([]) });
    expect(choice.runtime).toBe('process');
  });

  it('--runtime container without an engine is CONTAINER_ENGINE_UNAVAILABLE', async () => {
    await expect(
      chooseRuntime(loaded, 'container', undefined, { detect: down }),
    ).rejects.toMatchObject({
      code: 'CONTAINER_ENGINE_UNAVAILABLE',
      hint: expect.stringContaining('container-lab.sh start') as string,
    });
  });

  it('--runtime container without an image is a usage error; --image names one', async () => {
    await expect(
      chooseRuntime(loaded, 'container', undefined, { detect: up, exec: images([]) }),
    ).rejects.toMatchObject({ code: 'USAGE' });
    expect(
      await chooseRuntime(loaded, 'container', 'reg/app:1', { detect: up, exec: images([]) }),
    ).toEqual({ runtime: 'container', image: 'reg/app:1', reason: '--image reg/app:1' });
  });

  it('--runtime process never asks the engine; anything else is a usage error', async () => {
    expect(
      await chooseRuntime(loaded, 'process', undefined, {
        detect: () => Promise.reject(new Error('asked')),
      }),
    ).toEqual({ runtime: 'process', reason: 'runtime: process' });
    await expect(chooseRuntime(loaded, 'fargate', undefined)).rejects.toMatchObject({
      code: 'USAGE',
    });
  });
});
