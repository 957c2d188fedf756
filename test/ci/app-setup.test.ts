/**
 * The workflow fits the app: the language is read from migrations.tool and the project's files,
 * and the test job sets up that language and installs its dependencies; every job sets up Node
 * for berth, which always runs from npm. One file snapshot per language.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ACTIONS, uses } from '../../src/ci/actions.js';
import {
  detectAppLanguage,
  discoverAppProject,
  pythonInstall,
  type AppProject,
} from '../../src/ci/app-setup.js';
import { renderRunMigrations, runMigrationsWorkflow } from '../../src/ci/run-migrations.js';
import type { RunStep, Step, UsesStep } from '../../src/ci/workflow-types.js';
import { parseConfig } from '../../src/config/load-config.js';
import type { Config, MigrationTool } from '../../src/config/schema.js';
import { PACKAGE_VERSION } from '../../src/core/package-info.js';
import { ROOT, TENANTS } from '../support/project.js';

const base = parseConfig(await readFile(path.join(ROOT, 'berth.yaml'), 'utf8'));
const withTool = (tool: MigrationTool): Config => ({
  ...base,
  migrations: { ...base.migrations, tool },
});

const PROJECTS: Record<string, { tool: MigrationTool; app: AppProject }> = {
  django: {
    tool: 'django',
    app: {
      language: 'python',
      reason: 'migrations.tool: django',
      dir: '',
      files: ['manage.py', 'requirements.txt'],
    },
  },
  alembic: {
    tool: 'alembic',
    app: {
      language: 'python',
      reason: 'migrations.tool: alembic',
      dir: 'service',
      files: ['pyproject.toml', '.python-version'],
      pythonVersion: '3.11',
    },
  },
  rails: {
    tool: 'rails',
    app: {
      language: 'ruby',
      reason: 'migrations.tool: rails',
      dir: '',
      files: ['Gemfile', 'Gemfile.lock', '.ruby-version'],
    },
  },
  go: {
    tool: 'golang-migrate',
    app: { language: 'go', reason: 'go.mod', dir: '', files: ['go.mod'] },
  },
  node: {
    tool: 'knex',
    app: {
      language: 'node',
      reason: 'migrations.tool: knex',
      dir: 'api',
      files: ['package.json', 'package-lock.json'],
    },
  },
};

function generate(name: keyof typeof PROJECTS) {
  const { tool, app } = PROJECTS[name]!;
  const generated = runMigrationsWorkflow(withTool(tool), {
    tenants: TENANTS,
    configPath: app.dir ? `${app.dir}/berth.yaml` : 'berth.yaml',
    app,
  });
  return { generated, text: renderRunMigrations(generated) };
}

const setupOf = (steps: Step[]) =>
  steps
    .slice(
      1,
      steps.findIndex((s) => 'run' in s && s.run.includes('berth')),
    )
    .map((s) => ('uses' in s ? s.uses.split('@')[0] : s.run));

describe('detectAppLanguage', () => {
  it('takes the language from a tool that belongs to one, whatever the files say', () => {
    expect(detectAppLanguage('django', ['package.json']).language).toBe('python');
    expect(detectAppLanguage('alembic', []).language).toBe('python');
    expect(detectAppLanguage('rails', ['package.json']).language).toBe('ruby');
    expect(detectAppLanguage('prisma', ['requirements.txt']).language).toBe('node');
  });

  it('reads the files for tools any language uses, Python before a package.json', () => {
    expect(detectAppLanguage('flyway', ['package.json', 'manage.py'])).toEqual({
      language: 'python',
      reason: 'manage.py',
    });
    expect(detectAppLanguage('dbmate', ['Gemfile']).language).toBe('ruby');
    expect(detectAppLanguage('golang-migrate', ['go.mod']).language).toBe('go');
    expect(detectAppLanguage('custom', ['package.json']).language).toBe('node');
    expect(detectAppLanguage('custom', []).language).toBe('node');
  });

  it("installs Python dependencies from the project's own dependency file", () => {
    expect(pythonInstall(['requirements.txt', 'pyproject.toml'])).toContain(
      'pip install -r requirements.txt',
    );
    expect(pythonInstall(['pyproject.toml', 'poetry.lock'])).toContain('poetry install');
    expect(pythonInstall(['Pipfile', 'Pipfile.lock'])).toContain(
      'pipenv install --system --deploy',
    );
    expect(pythonInstall(['pyproject.toml'])).toContain('pip install .');
    expect(pythonInstall(['manage.py'])).toBeUndefined();
  });
});

describe('discoverAppProject (real files)', () => {
  let repo: string;
  beforeAll(async () => {
    repo = await mkdtemp(path.join(os.tmpdir(), 'berth-app-setup-'));
    await mkdir(path.join(repo, 'backend'));
    await writeFile(path.join(repo, 'backend/manage.py'), '');
    await writeFile(path.join(repo, 'backend/requirements.txt'), 'Django==4.2\n');
    await writeFile(path.join(repo, 'backend/.python-version'), '3.11.9\n');
    await writeFile(path.join(repo, 'package.json'), '{}');
  });
  afterAll(() => rm(repo, { recursive: true, force: true }));

  it("reads berth.yaml's directory, with the path from the repository root", async () => {
    expect(await discoverAppProject('flyway', path.join(repo, 'backend'), repo)).toEqual({
      language: 'python',
      reason: 'manage.py',
      dir: 'backend',
      files: ['.python-version', 'manage.py', 'requirements.txt'].sort(),
      pythonVersion: '3.11.9',
    });
  });

  it('falls back to the repository root when berth.yaml stands alone in its directory', async () => {
    await mkdir(path.join(repo, 'deploy'));
    const project = await discoverAppProject('custom', path.join(repo, 'deploy'), repo);
    expect(project).toMatchObject({ language: 'node', dir: '', files: ['package.json'] });
  });
});

describe('run-migrations.yml per language', () => {
  for (const name of Object.keys(PROJECTS)) {
    it(`${name}: matches the snapshot, parses back, pins every action`, async () => {
      const { generated, text } = generate(name);
      await expect(text).toMatchFileSnapshot(`./__snapshots__/run-migrations.${name}.yml`);
      expect(parse(text)).toEqual(JSON.parse(JSON.stringify(generated.workflow)));
      const used = Object.values(generated.workflow.jobs).flatMap((j) =>
        j.steps.filter((s): s is UsesStep => 'uses' in s).map((s) => s.uses),
      );
      for (const value of used) {
        expect(value).toMatch(/^[\w-]+\/[\w-]+@[0-9a-f]{40}$/);
        const pin = Object.values(ACTIONS).find((a) => uses(a) === value);
        expect(pin, value).toBeDefined();
        expect(text).toContain(`uses: ${value} # ${pin?.version}`);
      }
      // berth runs from npm in every job, pinned, with --strict in the rehearsal.
      expect(text).toContain(
        `npx --yes --package=berth-cli@${PACKAGE_VERSION} -- berth --config ${PROJECTS[name]!.app.dir ? `${PROJECTS[name]!.app.dir}/` : ''}berth.yaml pipeline --all --strict`,
      );
      // Node (for berth) in each of the three jobs that run it.
      expect(used.filter((u) => u === uses(ACTIONS.setupNode))).toHaveLength(3);
    });
  }

  it('django: Python with pip install -r requirements.txt in the test job, no npm ci anywhere', () => {
    const { generated, text } = generate('django');
    const { test, 'build-push': build, migrate } = generated.workflow.jobs;
    expect(setupOf(test!.steps)).toEqual([
      'actions/setup-python',
      'python -m pip install --upgrade pip\npip install -r requirements.txt',
      'actions/setup-node',
    ]);
    const python = test!.steps.find((s): s is UsesStep => 'uses' in s && s.uses.includes('python'));
    expect(python?.with).toEqual({
      'python-version': '3.12',
      cache: 'pip',
      'cache-dependency-path': 'requirements.txt',
    });
    // setup-node for berth, without npm caching (no package-lock.json to key it: it would fail).
    const node = test!.steps.find((s): s is UsesStep => 'uses' in s && s.uses.includes('node'));
    expect(node?.with).toEqual({ 'node-version': '20' });
    expect(setupOf(build!.steps)).toEqual([
      'actions/setup-node',
      'aws-actions/configure-aws-credentials',
    ]);
    // The migrate job also restores the listing berth recorded for the same image (a Django
    // listing is a Fargate task): the key names the pushed image, digest included.
    expect(setupOf(migrate!.steps)).toEqual([
      'actions/setup-node',
      'aws-actions/configure-aws-credentials',
      'actions/cache',
    ]);
    const listings = migrate!.steps.find(
      (s): s is UsesStep => 'uses' in s && s.uses.startsWith('actions/cache@'),
    );
    expect(listings?.with).toEqual({
      path: '.berth/listings',
      key: 'berth-listings-${{ needs.build-push.outputs.image }}',
    });
    expect(text).not.toContain('npm ci');
    expect(text).not.toContain('cache: npm');
  });

  it("alembic: the pinned Python version and pyproject install, in berth.yaml's directory", () => {
    const { generated } = generate('alembic');
    const steps = generated.workflow.jobs.test!.steps;
    const python = steps.find((s): s is UsesStep => 'uses' in s && s.uses.includes('python'));
    expect(python?.with).toEqual({ 'python-version': '3.11' });
    const install = steps.find((s): s is RunStep => s.name === 'Install Python dependencies');
    expect(install?.run).toContain('pip install .');
    expect(install?.['working-directory']).toBe('service');
  });

  it('rails: setup-ruby with bundler-cache (bundle install), the version from .ruby-version', () => {
    const { generated } = generate('rails');
    const ruby = generated.workflow.jobs.test!.steps.find(
      (s): s is UsesStep => 'uses' in s && s.uses === uses(ACTIONS.setupRuby),
    );
    expect(ruby?.with).toEqual({ 'bundler-cache': true });
  });

  it('go: setup-go from go.mod and the modules downloaded', () => {
    const { generated } = generate('go');
    expect(setupOf(generated.workflow.jobs.test!.steps)).toEqual([
      'actions/setup-go',
      'go mod download',
      'actions/setup-node',
    ]);
  });

  it("node: setup-node with npm caching and npm ci in berth.yaml's directory, in every job", () => {
    const { generated } = generate('node');
    for (const job of ['test', 'build-push', 'migrate'] as const) {
      const steps = generated.workflow.jobs[job]!.steps;
      const node = steps.find((s): s is UsesStep => 'uses' in s && s.uses.includes('setup-node'));
      expect(node?.with).toEqual({
        'node-version': '20',
        cache: 'npm',
        'cache-dependency-path': 'api/package-lock.json',
      });
      expect(steps.find((s) => s.name === 'Install dependencies')).toEqual({
        name: 'Install dependencies',
        run: 'npm ci',
        'working-directory': 'api',
      });
    }
    // Its migrations are files berth reads from the checkout: no listing to keep.
    expect(JSON.stringify(generated.workflow.jobs.migrate)).not.toContain('actions/cache@');
  });
});
