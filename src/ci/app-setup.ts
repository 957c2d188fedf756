/**
 * The language the app is written in, and the steps that set it up in a GitHub job, so the
 * workflow `berth ci init` writes runs a Django app's tests with Python and its dependencies
 * rather than with `npm ci` in a repository that has no package.json. berth itself always runs
 * from npm (`npx --package=berth-cli@VERSION`), so every job also sets up Node.
 *
 * Detection: the migration tool first, when it belongs to one language (django and alembic are
 * Python, rails is Ruby, the npm tools are Node), else the files next to berth.yaml (manage.py,
 * requirements.txt, pyproject.toml, Pipfile → Python; Gemfile → Ruby; go.mod → Go;
 * package.json → Node), else Node. The file system comes in as a parameter.
 */
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { MigrationTool } from '../config/schema.js';
import { assertNever } from '../core/errors.js';
import { ACTIONS, uses } from './actions.js';
import type { RunStep, Step } from './workflow-types.js';

export type AppLanguage = 'node' | 'python' | 'ruby' | 'go';

export interface AppProject {
  language: AppLanguage;
  /** Why berth chose it, for `ci init`'s output. */
  reason: string;
  /** berth.yaml's directory relative to the repository root ('' for the root). */
  dir: string;
  /** Files present in that directory, among those berth looks for. */
  files: string[];
  /** The Python version from .python-version, when the project pins one. */
  pythonVersion?: string;
}

/** The files berth looks for next to berth.yaml. */
export const PROJECT_FILES = [
  'manage.py',
  'requirements.txt',
  'pyproject.toml',
  'Pipfile',
  'Pipfile.lock',
  'poetry.lock',
  '.python-version',
  'Gemfile',
  'Gemfile.lock',
  '.ruby-version',
  'go.mod',
  'package.json',
  'package-lock.json',
] as const;

const TOOL_LANGUAGE: Partial<Record<MigrationTool, AppLanguage>> = {
  django: 'python',
  alembic: 'python',
  rails: 'ruby',
  knex: 'node',
  sequelize: 'node',
  typeorm: 'node',
  prisma: 'node',
  'node-pg-migrate': 'node',
};

const FILE_LANGUAGE: [string, AppLanguage][] = [
  ['manage.py', 'python'],
  ['requirements.txt', 'python'],
  ['pyproject.toml', 'python'],
  ['Pipfile', 'python'],
  ['Gemfile', 'ruby'],
  ['go.mod', 'go'],
  ['package.json', 'node'],
];

export function detectAppLanguage(
  tool: MigrationTool,
  files: readonly string[],
): { language: AppLanguage; reason: string } {
  const byTool = TOOL_LANGUAGE[tool];
  if (byTool) return { language: byTool, reason: `migrations.tool: ${tool}` };
  for (const [file, language] of FILE_LANGUAGE)
    if (files.includes(file)) return { language, reason: file };
  return { language: 'node', reason: 'no manage.py, Gemfile, go.mod or package.json: the default' };
}

const DEFAULT_PYTHON = '3.12';

/** Runs in berth.yaml's directory when it is not the repository root. */
function inDir(step: RunStep, dir: string): RunStep {
  return dir ? { ...step, 'working-directory': dir } : step;
}

/** setup-node for berth itself (npx); with `npm` caching only when there is a lockfile to key it. */
function nodeStep(project: AppProject, nodeVersion: string, cache: boolean): Step {
  return {
    name: project.language === 'node' ? 'Set up Node' : 'Set up Node (for berth)',
    uses: uses(ACTIONS.setupNode),
    with: {
      'node-version': nodeVersion,
      ...(cache
        ? {
            cache: 'npm',
            ...(project.dir
              ? { 'cache-dependency-path': path.posix.join(project.dir, 'package-lock.json') }
              : {}),
          }
        : {}),
    },
  };
}

/** The Python dependency install for the project's dependency file; undefined when it has none. */
export function pythonInstall(files: readonly string[]): string | undefined {
  if (files.includes('requirements.txt'))
    return 'python -m pip install --upgrade pip\npip install -r requirements.txt';
  if (files.includes('poetry.lock'))
    return 'pipx install poetry\npoetry config virtualenvs.create false\npoetry install --no-interaction --no-root';
  if (files.includes('Pipfile.lock') || files.includes('Pipfile'))
    return `python -m pip install --upgrade pip pipenv\npipenv install --system${files.includes('Pipfile.lock') ? ' --deploy' : ''}`;
  if (files.includes('pyproject.toml')) return 'python -m pip install --upgrade pip\npip install .';
  return undefined;
}

/**
 * The set-up steps of the job that runs the app's tests (the local rehearsal): check-out is the
 * caller's. The app's language and its dependencies, then Node for berth.
 */
export function appSetupSteps(project: AppProject, nodeVersion: string): Step[] {
  const { language, dir, files } = project;
  switch (language) {
    case 'node': {
      const lockfile = files.includes('package-lock.json');
      return [
        nodeStep(project, nodeVersion, lockfile),
        ...(lockfile || files.includes('package.json')
          ? [inDir({ name: 'Install dependencies', run: lockfile ? 'npm ci' : 'npm install' }, dir)]
          : []),
      ];
    }
    case 'python': {
      const install = pythonInstall(files);
      return [
        {
          name: 'Set up Python',
          uses: uses(ACTIONS.setupPython),
          with: {
            'python-version': project.pythonVersion ?? DEFAULT_PYTHON,
            ...(files.includes('requirements.txt')
              ? {
                  cache: 'pip',
                  'cache-dependency-path': path.posix.join(dir, 'requirements.txt'),
                }
              : {}),
          },
        },
        ...(install ? [inDir({ name: 'Install Python dependencies', run: install }, dir)] : []),
        nodeStep(project, nodeVersion, false),
      ];
    }
    case 'ruby':
      return [
        {
          name: 'Set up Ruby and bundle install',
          uses: uses(ACTIONS.setupRuby),
          // ruby-version: read from .ruby-version (or the Gemfile); bundler-cache runs
          // `bundle install` and caches the gems.
          with: {
            ...(files.includes('.ruby-version') ? {} : { 'ruby-version': '3.3' }),
            'bundler-cache': true,
            ...(dir ? { 'working-directory': dir } : {}),
          },
        },
        nodeStep(project, nodeVersion, false),
      ];
    case 'go':
      return [
        {
          name: 'Set up Go',
          uses: uses(ACTIONS.setupGo),
          with: {
            'go-version-file': path.posix.join(dir, 'go.mod'),
            'cache-dependency-path': path.posix.join(dir, 'go.sum'),
          },
        },
        inDir({ name: 'Download Go modules', run: 'go mod download' }, dir),
        nodeStep(project, nodeVersion, false),
      ];
    default:
      return assertNever(language, 'app language');
  }
}

/**
 * The set-up of the jobs that only run berth (build and push, migrate on AWS). A Node app
 * installs its dependencies there too, so a berth devDependency at this version is the one
 * npx runs; other apps need only Node.
 */
export function berthSetupSteps(project: AppProject, nodeVersion: string): Step[] {
  if (project.language === 'node') return appSetupSteps(project, nodeVersion);
  return [nodeStep(project, nodeVersion, false)];
}

/** Today's default: a Node app at the repository root with a lockfile. */
export const DEFAULT_PROJECT: AppProject = {
  language: 'node',
  reason: 'the default',
  dir: '',
  files: ['package.json', 'package-lock.json'],
};

export interface ProjectFs {
  /** Names in a directory (an unreadable directory: none). */
  list(dir: string): Promise<string[]>;
  read(file: string): Promise<string>;
}

const realFs: ProjectFs = {
  list: (dir) => readdir(dir).catch(() => []),
  read: (file) => readFile(file, 'utf8'),
};

/**
 * The app's project as the workflow sees it: the files next to berth.yaml, or at the
 * repository root when berth.yaml's directory has none of them.
 */
export async function discoverAppProject(
  tool: MigrationTool,
  configDir: string,
  repoRoot: string,
  fs: ProjectFs = realFs,
): Promise<AppProject> {
  const present = async (dir: string) =>
    (await fs.list(dir)).filter((f) => (PROJECT_FILES as readonly string[]).includes(f));
  let base = configDir;
  let files = await present(configDir);
  if (files.length === 0 && path.resolve(configDir) !== path.resolve(repoRoot)) {
    const atRoot = await present(repoRoot);
    if (atRoot.length > 0) {
      base = repoRoot;
      files = atRoot;
    }
  }
  const rel = path.relative(repoRoot, base).split(path.sep).join('/');
  const dir = rel.startsWith('..') ? '' : rel;
  const { language, reason } = detectAppLanguage(tool, files);
  let pythonVersion: string | undefined;
  if (language === 'python' && files.includes('.python-version')) {
    const pinned = (await fs.read(path.join(base, '.python-version')).catch(() => ''))
      .split('\n')[0]
      ?.trim();
    if (pinned && /^\d+\.\d+(\.\d+)?$/.test(pinned)) pythonVersion = pinned;
  }
  return { language, reason, dir, files, ...(pythonVersion ? { pythonVersion } : {}) };
}
