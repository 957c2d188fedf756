/**
 * Layer 4 of config validation: the file system. Every path in berth.yaml a command will use
 * is checked before that command creates anything (a database server, a journal, a task),
 * and every problem is reported at once with its field path and line. Commands call
 * checkConfigPaths first; `berth config validate` calls it with `for: 'validate'`, which
 * checks every path any command would use.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { errorMessage } from '../core/errors.js';
import { invalid, type LoadedConfig } from './load-config.js';
import { awsIssues, type ConfigIssue } from './rules.js';

/** What the paths are checked for: each command needs its own subset. */
export type PathCheckPurpose = 'migrate' | 'verify' | 'pipeline' | 'build' | 'validate';

/** What the provider needs, as capabilities (the provider knows; config does not ask its name). */
export interface PathCheckOptions {
  for: PathCheckPurpose;
  /** Tasks run on this machine, in local.workdir (the local provider). */
  tasksRunHere: boolean;
  /** Tasks run only from an image, so the pipeline always builds one (aws). */
  imageRequired: boolean;
  /** The aws-only fields must be set (network, secret). */
  awsFields: boolean;
}

/**
 * Files berth counts as migrations in migrations.directory (and shows as pending): the
 * usual source extensions, without type declarations and `__init__.py`-style files.
 */
export function isMigrationFile(name: string): boolean {
  return (
    /\.(sql|js|cjs|mjs|ts|py)$/.test(name) && !name.endsWith('.d.ts') && !name.startsWith('__')
  );
}

/** Throws CONFIG_INVALID (exit 3) listing every path problem; resolves when there is none. */
export async function checkConfigPaths(
  loaded: LoadedConfig,
  options: PathCheckOptions,
): Promise<void> {
  const issues = await configPathIssues(loaded, options);
  if (issues.length > 0) {
    throw invalid(
      loaded.file,
      issues,
      options.for === 'validate' ? 'invalid config' : `cannot ${options.for} with this config`,
    );
  }
}

/** The problems checkConfigPaths reports, each with its field path and line. */
export async function configPathIssues(
  loaded: LoadedConfig,
  options: PathCheckOptions,
): Promise<ConfigIssue[]> {
  const { config, dir } = loaded;
  const purpose = options.for;
  const runsTasks = purpose !== 'build';
  const issues: (ConfigIssue | undefined)[] = [];

  if (runsTasks && config.migrations.directory) {
    issues.push(
      await migrationsIssue(
        path.resolve(dir, config.migrations.directory),
        config.migrations.tool === 'custom',
      ),
    );
  }
  if (runsTasks && options.tasksRunHere) {
    issues.push(
      await directoryIssue(
        'local.workdir',
        path.resolve(dir, config.local.workdir),
        "point local.workdir (relative to berth.yaml) at the app's folder, where task.command runs",
      ),
    );
  }
  const tenants = config.database.tenants;
  if (runsTasks && !Array.isArray(tenants) && 'file' in tenants) {
    issues.push(await fileIssue('database.tenants.file', path.resolve(dir, tenants.file)));
  }
  if (purpose === 'pipeline' || purpose === 'validate') {
    issues.push(
      await directoryIssue(
        'pipeline.testDirectory',
        path.resolve(dir, config.pipeline.testDirectory),
        'point pipeline.testDirectory (relative to berth.yaml) at the folder the tests run in',
      ),
    );
  }
  // Where tasks can run without an image, the pipeline builds only when there is a Dockerfile.
  const needsDockerfile = purpose === 'build' || (purpose === 'pipeline' && options.imageRequired);
  if (needsDockerfile || purpose === 'pipeline' || purpose === 'validate') {
    const context = path.resolve(dir, config.image.context);
    const contextIssue = await directoryIssue(
      'image.context',
      context,
      'point image.context (relative to berth.yaml) at the folder holding the Dockerfile',
    );
    issues.push(contextIssue);
    if (!contextIssue && needsDockerfile) {
      issues.push(
        await fileIssue('image.dockerfile', path.resolve(context, config.image.dockerfile)),
      );
    }
  }
  if (options.awsFields) issues.push(...awsIssues(config));

  return issues
    .filter((i): i is ConfigIssue => i !== undefined)
    .map((i) => (i.line === undefined ? { ...i, ...loaded.locate?.(i.path) } : i));
}

/** What is at a path: a kind, or why nothing usable is there. */
type Found = { kind: 'file' | 'directory' | 'other' } | { kind: 'missing'; problem: string };

async function kindOf(file: string): Promise<Found> {
  try {
    const info = await stat(file);
    return { kind: info.isDirectory() ? 'directory' : info.isFile() ? 'file' : 'other' };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const problem =
      code === 'ENOENT'
        ? `${file} does not exist`
        : code === 'ENOTDIR'
          ? `${file} does not exist (a parent is a file)`
          : `cannot read ${file}: ${errorMessage(error)}`;
    return { kind: 'missing', problem };
  }
}

async function directoryIssue(
  field: string,
  dir: string,
  hint: string,
): Promise<ConfigIssue | undefined> {
  const found = await kindOf(dir);
  if (found.kind === 'directory') {
    try {
      await readdir(dir);
      return undefined;
    } catch (error) {
      return { path: field, message: `cannot read ${dir}: ${errorMessage(error)}` };
    }
  }
  const problem = found.kind === 'missing' ? found.problem : `${dir} is not a directory`;
  return { path: field, message: `${problem}; ${hint}` };
}

async function fileIssue(field: string, file: string): Promise<ConfigIssue | undefined> {
  const found = await kindOf(file);
  if (found.kind === 'file') return undefined;
  const problem = found.kind === 'missing' ? found.problem : `${file} is not a file`;
  return { path: field, message: `${problem}; fix the path (relative to berth.yaml)` };
}

/**
 * `custom`: the directory must hold files berth counts as migrations. A preset's own files
 * (Rails' .rb, Prisma's one directory per migration) are the preset's to recognise, so for a
 * preset the directory only has to be there.
 */
async function migrationsIssue(dir: string, custom: boolean): Promise<ConfigIssue | undefined> {
  const field = 'migrations.directory';
  const problem = await directoryIssue(
    field,
    dir,
    'point migrations.directory (relative to berth.yaml) at the folder holding the migration files',
  );
  if (problem || !custom) return problem;
  const files = await readdir(dir).catch(() => []);
  if (files.some(isMigrationFile)) return undefined;
  // An empty directory would make every fresh database look up to date.
  return {
    path: field,
    message: `${dir} holds no migration files (.sql, .js, .cjs, .mjs, .ts or .py); a fresh database would look up to date`,
  };
}
