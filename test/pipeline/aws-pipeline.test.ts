/**
 * `berth pipeline --provider aws` (runAwsPipeline): test → build → push → migrate → verify
 * with stage durations, over the AWS fake. Build and push are injected (no container engine
 * here); migrate and verify run real fleet logic on the fake's ECS.
 */
import { writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pipelineCommand } from '../../src/cli/commands/pipeline.js';
import type { CommandDeps } from '../../src/cli/context.js';
import type { StageRunners } from '../../src/pipeline/delivery.js';
import type { RegistryPush } from '../../src/providers/provider.js';
import { ExitCode } from '../../src/core/exit-codes.js';
import type { BuildResult } from '../../src/image/build.js';
import {
  awsFleetHarness,
  DATABASES,
  MIGRATIONS,
  type AwsFleetHarness,
} from '../support/aws-fleet.js';

let h: AwsFleetHarness;
afterEach(async () => {
  await h.cleanup();
});

const VERSION = 'def5678';

function built(policyOk = true): BuildResult {
  return {
    ok: policyOk,
    version: VERSION,
    git: { sha: VERSION, dirty: false },
    baseImage: null,
    lockfile: { source: 'context' },
    images: [
      {
        target: 'production',
        ref: `startupwebapp-backend:${VERSION}`,
        tags: [`startupwebapp-backend:${VERSION}`, 'startupwebapp-backend:latest'],
        id: 'sha256:1',
        sizeBytes: 1,
        durationMs: 1,
        logFile: '/dev/null',
      },
    ],
    reduction: null,
    policy: {
      ok: policyOk,
      checks: [
        { name: 'non-root-user', ok: policyOk, detail: policyOk ? 'user node' : 'runs as root' },
      ],
    },
  };
}

interface Pipeline {
  type: 'pipeline';
  provider: 'aws';
  ok: boolean;
  failedStage?: string;
  stages: { name: string; status: string; durationMs: number; detail?: string }[];
  taskDefinition: { image: string; revision: number } | null;
  migrate: { counts: Record<string, number> } | null;
  verify: { ok: boolean } | null;
}

type Deps = CommandDeps & { runners: Partial<StageRunners> };

function deps(overrides: Partial<StageRunners> = {}): Deps {
  const pushes: string[] = [];
  const loaded = h.loaded;
  // The pipeline checks its config's paths first; the build itself is injected.
  writeFileSync(path.join(h.dir, 'Dockerfile'), 'FROM scratch\n');
  return {
    ...h.fleetDeps,
    runners: runners(overrides),
  };
  function runners(o: Partial<StageRunners>): Partial<StageRunners> {
    return {
      runTests: async (_command, _cwd, logFile) => {
        await writeFile(logFile, 'all 740 tests passed\n');
        return 0;
      },
      build: () => Promise.resolve(built()),
      push: (tag) => {
        pushes.push(tag);
        h.fake.pushImage(loaded.config.registry.name, tag);
        h.fake.pushImage(loaded.config.registry.name, 'latest');
        const uri = h.imageUri.replace(/:[^:]+$/, '');
        const result: RegistryPush = {
          provider: 'aws',
          source: `startupwebapp-backend:${tag}`,
          registry: uri.split('/')[0] ?? '',
          repository: uri,
          tags: [tag, 'latest'],
          uri: `${uri}:${tag}`,
          digest: `sha256:${'a'.repeat(64)}`,
          imageRef: `${uri}@sha256:${'a'.repeat(64)}`,
        };
        return Promise.resolve(result);
      },
      ...o,
    };
  }
}

const testYaml = (y: string) => `${y}pipeline:\n  test: [npm, test]\n  testDirectory: .\n`;

describe('berth pipeline --provider aws', () => {
  it('tests, builds, pushes the SHA tag, migrates with it on Fargate and verifies, with stage durations', async () => {
    h = await awsFleetHarness({ patch: testYaml });
    expect(await pipelineCommand(h.ctx(), {}, deps())).toBe(ExitCode.ok);
    const out = h.json<Pipeline>();
    expect(out).toMatchObject({ type: 'pipeline', provider: 'aws', ok: true });
    expect(out.stages.map((s) => [s.name, s.status])).toEqual([
      ['test', 'passed'],
      ['build', 'passed'],
      ['push', 'passed'],
      ['lint', 'passed'],
      ['migrate', 'passed'],
      ['verify', 'passed'],
    ]);
    for (const s of out.stages) expect(typeof s.durationMs).toBe('number');
    // The digest of the pushed SHA tag: exactly what was pushed.
    expect(out.taskDefinition?.image).toBe(
      `${h.imageUri.replace(/:[^:]+$/, '')}@sha256:${'a'.repeat(64)}`,
    );
    expect(out.migrate?.counts).toMatchObject({ applied: 3 });
    expect(out.verify?.ok).toBe(true);
    for (const db of DATABASES) expect(h.tenants.applied.get(db)).toEqual(MIGRATIONS);
    const images = new Set(
      h.fake.ecsTasks
        .started()
        .map((t) => h.fake.taskDefinitions.find((d) => d.arn === t.taskDefinitionArn))
        .map((d) => d?.containerDefinitions[0]?.image),
    );
    expect(images).toEqual(new Set([out.taskDefinition?.image]));
  });

  it('exits 14 when a database fails to migrate, and verify is skipped', async () => {
    h = await awsFleetHarness({ patch: testYaml });
    h.tenants.behaviour.set('fintech_experiment', { kind: 'fail', exitCode: 1 });
    expect(await pipelineCommand(h.ctx(), {}, deps())).toBe(ExitCode.pipelineMigrateFailed);
    const out = h.json<Pipeline>();
    expect(out.failedStage).toBe('migrate');
    expect(out.stages.at(-1)).toMatchObject({
      name: 'verify',
      status: 'skipped',
      detail: 'migrate failed',
    });
  });

  it('exits 15 when verify finds a database incomplete', async () => {
    h = await awsFleetHarness({ patch: testYaml, checkCommand: true });
    // Migrate succeeds, but the app's own check still sees a migration pending on one tenant.
    let migrated = false;
    h.fake.onRunTask((task) => {
      if (
        task.command.includes('--check') &&
        task.environment.DATABASE_NAME === 'healthtech_experiment'
      )
        return { exitCode: 1, logs: ['Pending: 0004_extra'] };
      if (task.tags['berth:kind'] === 'migrate') migrated = true;
      return h.tenants.script(task);
    });
    expect(await pipelineCommand(h.ctx(), {}, deps())).toBe(ExitCode.pipelineVerifyFailed);
    expect(migrated).toBe(true);
    expect(h.json<Pipeline>().failedStage).toBe('verify');
  });

  it('exits 11, 12 or 13 for the stage that failed, and runs nothing on ECS', async () => {
    h = await awsFleetHarness({ patch: testYaml });
    expect(await pipelineCommand(h.ctx(), {}, deps({ runTests: () => Promise.resolve(1) }))).toBe(
      ExitCode.pipelineTestFailed,
    );
    expect(h.json<Pipeline>().stages.map((s) => s.status)).toEqual([
      'failed',
      'skipped',
      'skipped',
      'skipped',
      'skipped',
      'skipped',
    ]);
    expect(
      await pipelineCommand(
        h.ctx(),
        { skipTests: true },
        deps({ build: () => Promise.resolve(built(false)) }),
      ),
    ).toBe(ExitCode.pipelineBuildFailed);
    expect(h.json<Pipeline>().stages[1]?.detail).toContain('runs as root');
    expect(
      await pipelineCommand(
        h.ctx(),
        { skipTests: true },
        deps({ push: () => Promise.reject(new Error('denied: ecr:InitiateLayerUpload')) }),
      ),
    ).toBe(ExitCode.pipelinePushFailed);
    expect(h.fake.ecsTasks.started()).toEqual([]);
  });
});
