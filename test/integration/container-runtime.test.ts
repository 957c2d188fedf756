/**
 * The container runtime against a real engine: exit codes, redacted logs from the engine,
 * secrets never on argv, the image's non-root user and read-only root, timeout and abort
 * stopping the container (like ECS StopTask).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MASK, redactor } from '../../src/core/redact.js';
import { ContainerRuntime, runArgs } from '../../src/providers/local/container-runtime.js';
import { TaskStore } from '../../src/state/task-store.js';
import type { TaskSpec } from '../../src/tasks/task.js';
import {
  CLI,
  DEBIAN_IMAGE,
  docker,
  dockerStatus,
  NODE_IMAGE,
  requireContainers,
  skipContainers,
} from '../support/container.js';

const SECRET = 'pw-container-runtime-secret-7f3a';

describe('ContainerRuntime', () => {
  let dir: string;
  let store: TaskStore;
  let n = 0;
  const spec = (command: string[], extra: Partial<TaskSpec> = {}): TaskSpec => ({
    id: `ct-${process.pid}-${Date.now()}-${n++}`,
    kind: 'migrate',
    databases: ['tenant_a'],
    command,
    environment: { DATABASE_NAME: 'tenant_a', DATABASE_PASSWORD: SECRET },
    timeoutMs: 60_000,
    ...extra,
  });
  const runtime = (options: { readonly?: boolean; user?: string } = {}) =>
    new ContainerRuntime({
      cli: CLI,
      image: NODE_IMAGE,
      store,
      user: options.user ?? '1000',
      readonlyRootFilesystem: options.readonly ?? true,
      stopGraceSeconds: 1,
    });

  beforeAll(async () => {
    if (skipContainers) return;
    requireContainers();
    redactor.add(SECRET);
    dir = await mkdtemp(path.join(os.tmpdir(), 'berth-container-runtime-'));
    store = new TaskStore(path.join(dir, 'tasks'), path.join(dir, 'logs'));
    // Present locally, so no test waits for a pull.
    if (dockerStatus(['image', 'inspect', NODE_IMAGE]).code !== 0) docker(['pull', NODE_IMAGE]);
  }, 300_000);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it.skipIf(skipContainers)(
    "returns the container's exit code and its redacted output in the task log",
    async () => {
      const s = spec([
        'sh',
        '-c',
        'echo "db=$DATABASE_NAME pw=$DATABASE_PASSWORD"; echo oops >&2; exit 3',
      ]);
      const outcome = await runtime().run(s);
      expect(outcome.exitCode).toBe(3);
      expect(outcome.timedOut).toBe(false);
      const log = await readFile(outcome.logFile, 'utf8');
      expect(log).toContain(`db=tenant_a pw=${MASK}`);
      expect(log).toContain('oops');
      expect(log).not.toContain(SECRET);
      const record = await store.get(s.id);
      expect(record).toMatchObject({ runtime: 'container', status: 'STOPPED', exitCode: 3 });
    },
  );

  it.skipIf(skipContainers)('never puts an environment value on the command line', () => {
    const args = runArgs({ cli: CLI, image: NODE_IMAGE, store }, spec(['true']));
    expect(args.join(' ')).not.toContain(SECRET);
    expect(args).toContain('DATABASE_PASSWORD');
    expect(args.slice(args.indexOf('--network'), args.indexOf('--network') + 2)).toEqual([
      '--network',
      'host',
    ]);
  });

  it.skipIf(skipContainers)(
    'runs as the configured user on a read-only root with a writable /tmp',
    async () => {
      const outcome = await runtime().run(
        spec([
          'sh',
          '-c',
          'id -u; touch /app-write 2>/dev/null && echo root-writable || echo root-readonly; touch /tmp/ok && echo tmp-writable',
        ]),
      );
      expect(outcome.exitCode).toBe(0);
      const log = await readFile(outcome.logFile, 'utf8');
      expect(log).toMatch(/^1000$/m);
      expect(log).toContain('root-readonly');
      expect(log).toContain('tmp-writable');
    },
  );

  it.skipIf(skipContainers)(
    'stops the container when the task times out',
    async () => {
      const s = spec(['sleep', '60'], { timeoutMs: 1_500 });
      const started = Date.now();
      const outcome = await runtime().run(s);
      expect(outcome.timedOut).toBe(true);
      expect(outcome.stoppedReason).toMatch(/timed out after 2s/);
      expect(outcome.exitCode).not.toBe(0);
      expect(Date.now() - started).toBeLessThan(20_000);
      // --rm: nothing is left behind.
      expect(dockerStatus(['container', 'inspect', `berth-${s.id}`]).code).not.toBe(0);
    },
    60_000,
  );

  it.skipIf(skipContainers)(
    'stops the container when the run is aborted',
    async () => {
      const controller = new AbortController();
      const s = spec(['sleep', '60']);
      setTimeout(() => controller.abort(), 1_500);
      const outcome = await runtime().run(s, controller.signal);
      expect(outcome.timedOut).toBe(false);
      expect(outcome.stoppedReason).toBe('stopped by berth (interrupted)');
      expect(dockerStatus(['container', 'inspect', `berth-${s.id}`]).code).not.toBe(0);
    },
    60_000,
  );

  it.skipIf(skipContainers)(
    'runs the image ID resolved when the run opened, even after its tag moved',
    async () => {
      // The tag names the Node image when the run opens, then a rebuild moves it to Debian's
      // slim image, which has no node: a task started by tag would fail with 127.
      if (dockerStatus(['image', 'inspect', DEBIAN_IMAGE]).code !== 0)
        docker(['pull', DEBIAN_IMAGE]);
      const tag = `berth-test-moving-${process.pid}:run`;
      docker(['tag', NODE_IMAGE, tag]);
      try {
        const imageId = docker(['image', 'inspect', '--format', '{{.Id}}', tag]).trim();
        const pinned = new ContainerRuntime({ cli: CLI, image: tag, imageId, store });
        docker(['tag', DEBIAN_IMAGE, tag]);
        const outcome = await pinned.run(
          spec(['node', '-e', 'console.log("node " + process.version)']),
        );
        const log = await readFile(outcome.logFile, 'utf8');
        expect(outcome.exitCode, log).toBe(0);
        expect(log).toMatch(/^node v\d+/m);
        expect(log).toContain(`from ${tag} (${imageId})`);
      } finally {
        dockerStatus(['image', 'rm', tag]);
      }
    },
    60_000,
  );

  it.skipIf(skipContainers)('reports an image that cannot be run as failed to start', async () => {
    const broken = new ContainerRuntime({
      cli: CLI,
      image: '127.0.0.1:5000/berth-no-such-image:nope',
      store,
    });
    const outcome = await broken.run(spec(['true']));
    expect(outcome.exitCode).toBeNull();
    expect(outcome.stoppedReason).toMatch(/^failed to start: /);
  });
});
