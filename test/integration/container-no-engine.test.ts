/**
 * Without a container engine berth still does its main job: the pipeline skips build and
 * push saying why, and tasks run as host processes. The engine is "missing" because
 * local.containerCli points at a program that does not exist, so this runs everywhere.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  baseConfig,
  createProject,
  parseJsonLines,
  TENANTS,
  type TestProject,
} from '../support/project.js';

const MISSING = '/nonexistent/docker';

/** `pipeline --json` prints one line per database, then the pipeline document. */
interface PipelineJson {
  stages: { name: string; status: string; detail?: string }[];
  runtime: { runtime: string; reason: string };
  verify: { ok: boolean; databases: { name: string; tables: number }[] };
}

function pipelineJson(stdout: string): PipelineJson {
  const doc = parseJsonLines(stdout).find((l) => l.type === 'pipeline');
  if (!doc) throw new Error(`no pipeline document in:\n${stdout}`);
  return doc as unknown as PipelineJson;
}

describe('no container engine', () => {
  let project: TestProject;

  beforeAll(async () => {
    project = await createProject(
      baseConfig({
        registry: { name: 'berth-it-noengine', local: '127.0.0.1:5000' },
        local: { ...(baseConfig().local as object), containerCli: MISSING },
      }),
    );
  });

  afterAll(async () => {
    await project.cleanup();
  });

  it('runs the pipeline with host processes and says why build was skipped', async () => {
    const run = await project.berth(['pipeline', '--all', '--json']);
    expect(run.code).toBe(0);
    const result = pipelineJson(run.stdout);
    const build = result.stages.find((s) => s.name === 'build');
    expect(build?.status).toBe('skipped');
    expect(build?.detail).toBe(
      `no container engine (${MISSING} does not exist); migrations run as host processes`,
    );
    expect(result.stages.find((s) => s.name === 'push')).toMatchObject({
      status: 'skipped',
      detail: 'nothing was built',
    });
    expect(result.runtime).toEqual({
      runtime: 'process',
      reason: `no container engine (${MISSING} does not exist)`,
    });
    expect(result.verify.ok).toBe(true);
    expect(result.verify.databases.map((d) => [d.name, d.tables])).toEqual(
      TENANTS.map((t) => [t, 57]),
    );
  });

  it('the human summary says it too', async () => {
    const run = await project.berth(['pipeline', '--all', '--skip-tests']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /build\s+skipped\s+\S+\s+no container engine \(\/nonexistent\/docker does not exist\)/,
    );
    expect(run.stderr).toContain('tasks run as host processes: no container engine');
  });

  it('berth build exits 7 with a hint about starting an engine', async () => {
    const run = await project.berth(['build', '--json']);
    expect(run.code).toBe(7);
    const { error } = JSON.parse(run.stdout) as {
      error: { code: string; message: string; hint: string };
    };
    expect(error.code).toBe('CONTAINER_ENGINE_UNAVAILABLE');
    expect(error.message).toContain(`${MISSING} does not exist`);
    expect(error.hint).toContain('container-lab.sh start');
    expect(error.hint).toContain('DOCKER_HOST');
  });

  it('migrate --runtime container exits 7; --runtime auto falls back to processes', async () => {
    const forced = await project.berth(['migrate', '--all', '--runtime', 'container']);
    expect(forced.code).toBe(7);
    expect(forced.stderr).toContain('--runtime container needs a container engine');
    const auto = await project.berth(['migrate', '--all', '--runtime', 'auto', '--json']);
    expect(auto.code).toBe(0);
  });
});
