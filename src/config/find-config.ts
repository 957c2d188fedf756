/**
 * Which berth.yaml a command reads, and which provider it uses, before the file is parsed.
 *
 * Precedence: `--config PATH` → `BERTH_CONFIG` → the nearest `berth.yaml` found upward from
 * the working directory, as git finds `.git`: the working directory first, then each parent,
 * stopping after the first directory that holds a `.git` (a directory, or the file of a
 * worktree or submodule) — a config above the repository belongs to something else — or at
 * the filesystem root outside a repository.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { BerthError } from '../core/errors.js';

export const CONFIG_FILE_NAME = 'berth.yaml';
const PROVIDERS = ['local', 'aws'] as const;
export type ProviderName = (typeof PROVIDERS)[number];

export interface FindConfigOptions {
  /** `--config`, when given: used as is (relative to cwd), never searched for. */
  explicit?: string | undefined;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export interface FoundConfig {
  /** Absolute path of the config file (it exists when `source` is 'discovered'). */
  file: string;
  source: 'flag' | 'env' | 'discovered';
}

/** The config a command reads; CONFIG_NOT_FOUND (saying where it looked) when there is none. */
export async function findConfig(options: FindConfigOptions = {}): Promise<FoundConfig> {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const env = options.env ?? process.env;
  if (options.explicit) return { file: path.resolve(cwd, options.explicit), source: 'flag' };
  const fromEnv = nonEmpty(env.BERTH_CONFIG);
  if (fromEnv) return { file: path.resolve(cwd, fromEnv), source: 'env' };

  const searched: string[] = [];
  for (let dir = cwd; ; dir = path.dirname(dir)) {
    searched.push(dir);
    const candidate = path.join(dir, CONFIG_FILE_NAME);
    if (await isFile(candidate)) return { file: candidate, source: 'discovered' };
    if (await exists(path.join(dir, '.git'))) return notFound(cwd, searched, dir);
    if (path.dirname(dir) === dir) return notFound(cwd, searched, undefined);
  }
}

/** Where `berth init` writes: `--config`, else BERTH_CONFIG, else berth.yaml in the cwd. */
export function initTarget(options: FindConfigOptions = {}): string {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const env = options.env ?? process.env;
  return path.resolve(cwd, options.explicit || nonEmpty(env.BERTH_CONFIG) || CONFIG_FILE_NAME);
}

/**
 * The config a command run here would already read from a parent directory, if any (none when
 * --config or BERTH_CONFIG names the file): `berth init` in a subdirectory would otherwise
 * write a second config that shadows the repository's.
 */
export async function configAbove(options: FindConfigOptions = {}): Promise<string | undefined> {
  const env = options.env ?? process.env;
  if (options.explicit || nonEmpty(env.BERTH_CONFIG)) return undefined;
  const target = initTarget(options);
  try {
    const found = await findConfig(options);
    return found.file === target ? undefined : found.file;
  } catch (error) {
    if (error instanceof BerthError && error.code === 'CONFIG_NOT_FOUND') return undefined;
    throw error;
  }
}

/** `--provider` → BERTH_PROVIDER → the config's `provider`. */
export function resolveProvider(
  flag: ProviderName | undefined,
  configured: ProviderName,
  env: NodeJS.ProcessEnv = process.env,
): ProviderName {
  if (flag) return flag;
  const fromEnv = nonEmpty(env.BERTH_PROVIDER);
  if (fromEnv === undefined) return configured;
  if ((PROVIDERS as readonly string[]).includes(fromEnv)) return fromEnv as ProviderName;
  throw new BerthError(
    'USAGE',
    `BERTH_PROVIDER must be ${PROVIDERS.join(' or ')}, got "${fromEnv}"`,
    { hint: 'fix or unset the BERTH_PROVIDER environment variable' },
  );
}

function notFound(cwd: string, searched: string[], repoRoot: string | undefined): never {
  const top = searched[searched.length - 1] ?? cwd;
  const where =
    searched.length === 1
      ? `in ${cwd}`
      : `in ${cwd} or any parent up to ${top}${repoRoot ? ' (the repository root)' : ''}`;
  // From a subdirectory, `berth init` here would put the config where nothing else looks for
  // it: suggest the repository root instead.
  const initHere = repoRoot === undefined || repoRoot === cwd;
  const init = initHere
    ? 'run `berth init` to write a starter berth.yaml here'
    : `run \`berth init\` in ${repoRoot} (the repository root) to write a starter berth.yaml`;
  throw new BerthError('CONFIG_NOT_FOUND', `no ${CONFIG_FILE_NAME} ${where}`, {
    hint: `${init}, or pass --config PATH or set BERTH_CONFIG`,
    details: { searched },
  });
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value && value.trim() !== '' ? value.trim() : undefined;
}
