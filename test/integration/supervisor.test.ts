/**
 * The task supervisor (libexec/berth-supervisor.mjs) on its own: when berth's end of its
 * stdin closes — which is what berth dying looks like from the supervisor — the task's whole
 * process group ends, and a container task's container is stopped and removed. Each case runs
 * twice: with the plain script (what berth runs from its sources) and with the one-file
 * bundle `npm run build` makes of it (dist/berth-supervisor.cjs, what built berth runs).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineEnv } from '../../src/core/exec.js';
import { BUNDLED_SUPERVISOR, supervisorScript } from '../../src/providers/local/supervise.js';
import {
  CLI,
  docker,
  dockerStatus,
  NODE_IMAGE,
  requireContainers,
  skipContainers,
} from '../support/container.js';
import { createProject } from '../support/project.js';

interface Started {
  child: ChildProcess;
  events: Record<string, unknown>[];
  started: Promise<number>;
  closed: Promise<void>;
}

const bundle = path.resolve(import.meta.dirname, '../../dist', BUNDLED_SUPERVISOR);

function startSupervisor(script: string, job: Record<string, unknown>): Started {
  const child = spawn(process.execPath, [script], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore', 'pipe'],
  });
  child.stdin?.write(`${JSON.stringify(job)}\n`);
  const events: Record<string, unknown>[] = [];
  let onStarted: (pid: number) => void = () => undefined;
  const started = new Promise<number>((r) => (onStarted = r));
  const lines = readline.createInterface({ input: child.stdio[3] as Readable });
  lines.on('line', (line) => {
    const event = JSON.parse(line) as Record<string, unknown>;
    events.push(event);
    if (event.type === 'started') onStarted(event.pid as number);
  });
  const closed = new Promise<void>((r) => child.on('close', () => r()));
  return { child, events, started, closed };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.each([
  ['libexec/berth-supervisor.mjs', supervisorScript()],
  [`dist/${BUNDLED_SUPERVISOR}`, bundle],
])('task supervisor (%s)', (_name, supervisor) => {
  let dir: string;
  beforeAll(async () => {
    // `npm test` builds first; without the bundle this suite fails rather than skip it.
    expect(existsSync(supervisor), `${supervisor} is missing: run npm run build`).toBe(true);
    dir = await mkdtemp(path.join(os.tmpdir(), 'berth-supervisor-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('ends the whole process group, children that ignore SIGTERM included, when berth goes away', async () => {
    // A shell-loop-like tree: the shell, and a child that ignores SIGTERM and records its pid.
    const script = `node -e "process.on('SIGTERM',()=>{}); require('fs').writeFileSync(process.argv[1]+'/'+process.pid,''); setInterval(()=>{},1000)" ${dir} & wait`;
    const task = startSupervisor(supervisor, {
      command: 'sh',
      args: ['-c', script],
      env: { PATH: process.env.PATH },
      graceMs: 500,
    });
    const leader = await task.started;
    await waitFor(async () => (await readdir(dir)).length > 0, 'the child to start');
    const [childPid] = (await readdir(dir)).map(Number);
    expect(alive(leader)).toBe(true);
    expect(alive(childPid ?? 0)).toBe(true);

    task.child.stdin?.destroy();
    await task.closed;
    expect(alive(leader)).toBe(false);
    expect(alive(childPid ?? 0)).toBe(false);
    expect(task.events.at(-1)).toMatchObject({
      type: 'exited',
      stopped: 'berth exited while the task was running',
    });
  });

  it.skipIf(skipContainers)(
    'stops and removes a container task when berth goes away',
    async () => {
      requireContainers();
      if (dockerStatus(['image', 'inspect', NODE_IMAGE]).code !== 0) docker(['pull', NODE_IMAGE]);
      const name = `berth-supervisor-test-${process.pid}-${Date.now()}`;
      const task = startSupervisor(supervisor, {
        command: CLI,
        args: ['run', '--rm', '--name', name, '--network', 'none', NODE_IMAGE, 'sleep', '300'],
        env: engineEnv(),
        graceMs: 1_000,
        container: { cli: CLI, name, env: engineEnv() },
      });
      await task.started;
      await waitFor(
        () => dockerStatus(['inspect', '--format', '{{.State.Running}}', name]).code === 0,
        'the container to run',
      );
      task.child.stdin?.destroy();
      await task.closed;
      expect(dockerStatus(['inspect', name]).code).not.toBe(0);
    },
    120_000,
  );

  it.skipIf(skipContainers)(
    'removes the container when its CLI is killed while berth is still there',
    async () => {
      requireContainers();
      const name = `berth-supervisor-test-${process.pid}-${Date.now()}-cli`;
      const task = startSupervisor(supervisor, {
        command: CLI,
        args: ['run', '--rm', '--name', name, '--network', 'none', NODE_IMAGE, 'sleep', '300'],
        env: engineEnv(),
        graceMs: 1_000,
        container: { cli: CLI, name, env: engineEnv() },
      });
      const cli = await task.started;
      await waitFor(
        () => dockerStatus(['inspect', '--format', '{{.State.Running}}', name]).code === 0,
        'the container to run',
      );
      process.kill(cli, 'SIGKILL');
      await task.closed;
      expect(dockerStatus(['inspect', name]).code).not.toBe(0);
      task.child.stdin?.end();
    },
    120_000,
  );

  it('refuses to start the task when berth no longer holds the migration lock (the fence)', async () => {
    const project = await createProject();
    try {
      expect((await project.berth(['local', 'start'])).code).toBe(0);
      const secret = JSON.parse(
        await readFile(path.join(project.dir, '.berth/secret.json'), 'utf8'),
      ) as { username: string; password: string; port: number };
      const marker = path.join(dir, 'fenced-task-ran');
      const task = startSupervisor(supervisor, {
        command: 'sh',
        args: ['-c', `touch ${marker}`],
        env: { PATH: process.env.PATH },
        graceMs: 500,
        locks: {
          connection: {
            host: path.join(project.dir, '.berth/postgres'),
            port: secret.port,
            user: secret.username,
            password: secret.password,
          },
          controlDatabase: 'postgres',
          taskClass: 0x62657275,
          migrationKey: [0x62657274, 1],
          // No session holds the migration lock of this database (berth died meanwhile).
          databases: [{ name: 'template1', holderPid: 1 }],
        },
      });
      await task.closed;
      expect(task.events).toEqual([
        { type: 'refused', reason: 'berth no longer holds the migration lock' },
      ]);
      expect(existsSync(marker)).toBe(false);
      task.child.stdin?.end();
    } finally {
      await project.cleanup();
    }
  });
});
