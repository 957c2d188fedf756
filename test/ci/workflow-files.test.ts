/**
 * Both workflows validated against GitHub's own workflow schema and expression parser,
 * `@actions/workflow-parser` (github.com/actions/languageservices, what the Actions VS Code
 * extension uses): the one `berth ci init` generates and berth's own .github/workflows/ci.yml.
 *
 * The package imports its schema JSON without an import attribute, which only a bundler
 * accepts, so the test bundles it once with esbuild (already a devDependency) and imports
 * the bundle.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as WorkflowParser from '@actions/workflow-parser';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ACTIONS, REGISTRY_IMAGE, uses } from '../../src/ci/actions.js';
import type { AppProject } from '../../src/ci/app-setup.js';
import { renderRunMigrations, runMigrationsWorkflow } from '../../src/ci/run-migrations.js';
import { parseConfig } from '../../src/config/load-config.js';
import { ROOT, TENANTS } from '../support/project.js';

type Parser = typeof WorkflowParser;

let parser: Parser;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'berth-workflow-parser-'));
  const outfile = path.join(dir, 'workflow-parser.mjs');
  await build({
    stdin: { contents: "export * from '@actions/workflow-parser';", resolveDir: ROOT },
    bundle: true,
    format: 'esm',
    platform: 'node',
    outfile,
    logLevel: 'warning',
  });
  parser = (await import(pathToFileURL(outfile).href)) as Parser;
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Validation {
  errors: string[];
  jobs: { id: string; needs: string[] }[];
}

async function validate(name: string, content: string): Promise<Validation> {
  const result = parser.parseWorkflow({ name, content }, new parser.NoOperationTraceWriter());
  const errors = result.context.errors.getErrors().map((e) => e.message);
  if (!result.value) return { errors, jobs: [] };
  const template = await parser.convertWorkflowTemplate(result.context, result.value);
  // Declared non-optional, but absent when the workflow has errors.
  const converted: typeof template.jobs | undefined = template.jobs;
  return {
    errors: [...errors, ...(template.errors ?? []).map((e) => e.Message)].filter(
      (e, i, all) => all.indexOf(e) === i,
    ),
    jobs: (converted ?? []).map((j) => ({
      id: j.id.value,
      needs: (j.needs ?? []).map((n) => n.value),
    })),
  };
}

describe('GitHub workflow validation', () => {
  it('rejects what GitHub would reject (the validator works)', async () => {
    const bad = await validate(
      'bad.yml',
      'on: workflow_dispatch\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    stepz: []\n',
    );
    expect(bad.errors.join('\n')).toMatch(/Unexpected value 'stepz'/);
    const expression = await validate(
      'bad.yml',
      'on: workflow_dispatch\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    if: ${{ inputs.x == }}\n    steps: [{run: x}]\n',
    );
    expect(expression.errors.join('\n')).toMatch(/Unexpected end of expression/);
  });

  it('run-migrations.yml from `berth ci init` is a valid workflow', async () => {
    const config = parseConfig(await readFile(path.join(ROOT, 'berth.yaml'), 'utf8'));
    for (const [tenants, canary] of [
      [TENANTS, undefined],
      [TENANTS, ['startupwebapp_prod', 'fintech_experiment']],
      [undefined, undefined],
    ] as const) {
      const text = renderRunMigrations(
        runMigrationsWorkflow(config, {
          ...(tenants ? { tenants: [...tenants] } : {}),
          ...(canary ? { canary: [...canary] } : {}),
          configPath: 'berth.yaml',
        }),
      );
      const { errors, jobs } = await validate('run-migrations.yml', text);
      expect(errors).toEqual([]);
      expect(jobs).toEqual([
        { id: 'test', needs: [] },
        { id: 'build-push', needs: ['test'] },
        { id: 'migrate', needs: ['build-push'] },
        { id: 'summary', needs: ['test', 'build-push', 'migrate'] },
      ]);
    }
  });

  it('run-migrations.yml is valid for a Python, Ruby, Go and Node app alike', async () => {
    const config = parseConfig(await readFile(path.join(ROOT, 'berth.yaml'), 'utf8'));
    const apps: AppProject[] = [
      { language: 'python', reason: 't', dir: '', files: ['manage.py', 'requirements.txt'] },
      { language: 'python', reason: 't', dir: 'svc', files: ['pyproject.toml', 'poetry.lock'] },
      { language: 'ruby', reason: 't', dir: 'app', files: ['Gemfile'] },
      { language: 'go', reason: 't', dir: '', files: ['go.mod'] },
      { language: 'node', reason: 't', dir: 'web', files: ['package.json'] },
    ];
    for (const app of apps) {
      const text = renderRunMigrations(
        runMigrationsWorkflow(config, { tenants: [...TENANTS], configPath: 'berth.yaml', app }),
      );
      const { errors, jobs } = await validate('run-migrations.yml', text);
      expect(errors, app.language).toEqual([]);
      expect(jobs.map((j) => j.id)).toEqual(['test', 'build-push', 'migrate', 'summary']);
    }
  });

  it(".github/workflows/ci.yml is a valid workflow with berth's pins", async () => {
    const text = await readFile(path.join(ROOT, '.github/workflows/ci.yml'), 'utf8');
    const { errors, jobs } = await validate('ci.yml', text);
    expect(errors).toEqual([]);
    expect(jobs.map((j) => j.id)).toEqual(['check']);

    const workflow = parse(text) as {
      on: Record<string, unknown>;
      permissions: Record<string, string>;
      jobs: {
        check: {
          services: { registry: { image: string } };
          steps: { uses?: string; run?: string; with?: Record<string, unknown> }[];
        };
      };
    };
    expect(Object.keys(workflow.on).sort()).toEqual(['pull_request', 'push']);
    expect(workflow.permissions).toEqual({ contents: 'read' });
    const { steps, services } = workflow.jobs.check;
    const used = steps.flatMap((s) => (s.uses ? [s.uses] : []));
    expect(used).toEqual([uses(ACTIONS.checkout), uses(ACTIONS.setupNode)]);
    for (const action of [ACTIONS.checkout, ACTIONS.setupNode])
      expect(text).toContain(`uses: ${uses(action)} # ${action.version}`);
    expect(steps.find((s) => s.uses === uses(ACTIONS.setupNode))?.with?.['node-version']).toBe(
      '20',
    );
    expect(steps.flatMap((s) => (s.run ? [s.run] : []))).toEqual(
      expect.arrayContaining([
        'npm ci',
        'npm run format:check',
        'npm run lint',
        'npm run typecheck',
        'npm test',
        'bash scripts/pack-smoke.sh',
      ]),
    );
    expect(services.registry.image).toBe(REGISTRY_IMAGE);
  });
});
