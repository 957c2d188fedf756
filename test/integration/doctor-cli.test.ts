/** `berth doctor` as a user runs it: the real Node, PostgreSQL binaries and config. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, type TestProject } from '../support/project.js';

describe('berth doctor', () => {
  let project: TestProject;
  beforeAll(async () => {
    project = await createProject();
  });
  afterAll(() => project.cleanup());

  it('finds this machine ready (warnings allowed), and makes no AWS call without --provider aws', async () => {
    // An unreachable endpoint: any AWS call would fail the aws check.
    const run = await project.berth(['doctor', '--json'], {
      env: { AWS_ENDPOINT_URL: 'http://127.0.0.1:9', AWS_REGION: 'eu-west-1' },
    });
    const report = JSON.parse(run.stdout) as {
      ok: boolean;
      checks: { name: string; status: string; detail: string }[];
    };
    expect(report.checks.filter((c) => c.status === 'fail')).toEqual([]);
    expect(run.code).toBe(0);
    expect(report.checks.map((c) => c.name)).toEqual([
      'node',
      'config',
      'postgres',
      'task-command',
      'container-engine',
      'aws',
      'state',
    ]);
    // The test project's tasks run `node`, which is on PATH here.
    expect(report.checks.find((c) => c.name === 'task-command')).toMatchObject({
      status: 'ok',
      detail: expect.stringMatching(/^node: \//) as string,
    });
    expect(report.checks.find((c) => c.name === 'postgres')?.detail).toMatch(
      /^postgres \(PostgreSQL\) 16\.\d+/,
    );
    expect(report.checks.find((c) => c.name === 'aws')?.detail).toMatch(
      /^region eu-west-1 \(AWS_REGION\)/,
    );
  });

  it('exits 7 with what to do when the config is invalid', async () => {
    const { writeFile } = await import('node:fs/promises');
    await writeFile(project.configFile, 'version: 1\napp: 12\n');
    const run = await project.berth(['doctor']);
    expect(run.code).toBe(7);
    expect(run.stdout).toMatch(/✗ config/);
    expect(run.stdout).toMatch(/fix: /);
  });
});
