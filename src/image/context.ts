/**
 * The build context handed to the engine. A context with its own package-lock.json (or
 * npm-shrinkwrap.json), or with no package.json at all, is used as it is. A context that is
 * an npm workspace without a lockfile gets a temporary copy with a lockfile derived from the
 * workspace root's (see lockfile.ts), so the image installs exactly what the repository
 * tested, and the work tree is never written to.
 */
import { cp, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BerthError, errorMessage } from '../core/errors.js';
import { deriveWorkspaceLockfile, type Lockfile, type WorkspaceManifest } from './lockfile.js';

export interface PreparedContext {
  /** The directory to pass to `docker build`. */
  dir: string;
  /** Where the install's lockfile comes from. */
  lockfile:
    | { source: 'context' }
    | { source: 'workspace-root'; root: string; workspace: string; packages: number }
    | { source: 'none' };
  /** Removes the temporary copy, if one was made. */
  cleanup(): Promise<void>;
}

/** Directories never copied into a temporary context (the engine would ignore them anyway). */
const NEVER_COPIED = new Set(['node_modules', '.git', '.berth']);

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

async function readJson<T>(file: string): Promise<T> {
  return JSON.parse(await readFile(file, 'utf8')) as T;
}

/** The nearest ancestor holding a package-lock.json whose package.json declares workspaces. */
async function findWorkspaceRoot(context: string): Promise<string | undefined> {
  let dir = path.dirname(context);
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if ((await exists(path.join(dir, 'package-lock.json'))) && (await exists(manifest))) {
      const pkg = await readJson<{ workspaces?: unknown }>(manifest).catch(() => ({}));
      if ('workspaces' in pkg && pkg.workspaces) return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

export async function prepareContext(context: string): Promise<PreparedContext> {
  const asIs = (source: 'context' | 'none'): PreparedContext => ({
    dir: context,
    lockfile: { source },
    cleanup: () => Promise.resolve(),
  });
  if (!(await exists(context))) {
    throw new BerthError('CONFIG_INVALID', `image.context: ${context} does not exist`, {
      hint: 'point image.context (relative to berth.yaml) at the folder holding the Dockerfile',
    });
  }
  if (
    (await exists(path.join(context, 'package-lock.json'))) ||
    (await exists(path.join(context, 'npm-shrinkwrap.json')))
  )
    return asIs('context');
  if (!(await exists(path.join(context, 'package.json')))) return asIs('none');

  const root = await findWorkspaceRoot(context);
  if (!root) return asIs('none');
  const workspace = path.relative(root, context).split(path.sep).join('/');
  const rootLock = await readJson<Lockfile>(path.join(root, 'package-lock.json'));
  if (!rootLock.packages?.[workspace]) return asIs('none');
  const manifest = await readJson<WorkspaceManifest>(path.join(context, 'package.json'));
  const derived = deriveWorkspaceLockfile(rootLock, workspace, manifest);

  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-context-'));
  try {
    await cp(context, dir, {
      recursive: true,
      filter: (source) => !NEVER_COPIED.has(path.basename(source)),
    });
    await writeFile(path.join(dir, 'package-lock.json'), `${JSON.stringify(derived, null, 2)}\n`);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw new BerthError(
      'IMAGE_BUILD_FAILED',
      `could not prepare the build context: ${errorMessage(error)}`,
      { cause: error },
    );
  }
  return {
    dir,
    lockfile: {
      source: 'workspace-root',
      root: path.join(root, 'package-lock.json'),
      workspace,
      packages: Object.keys(derived.packages).length - 1,
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
