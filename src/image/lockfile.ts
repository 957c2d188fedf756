/**
 * Deterministic installs for a build context that is an npm workspace without a lockfile of
 * its own (the example app: the repository's root package-lock.json covers it).
 *
 * `deriveWorkspaceLockfile` cuts the workspace's dependency closure out of the root lockfile
 * and rewrites it as the lockfile of a standalone project, so `npm ci` in the image installs
 * exactly the versions (and integrity hashes) the repository tested. Paths are re-rooted
 * (`examples/app/node_modules/x` → `node_modules/x`) and the dev/optional/peer flags are
 * recomputed for the new root the way npm's arborist does (calc-dep-flags), because
 * `npm ci --omit=dev` trusts them to decide what production gets.
 *
 * Pure: takes and returns JSON values; the caller reads and writes files.
 */
import { BerthError } from '../core/errors.js';

type DepMap = Record<string, string>;

export interface LockEntry {
  name?: string;
  version?: string;
  resolved?: string;
  integrity?: string;
  link?: boolean;
  dev?: boolean;
  optional?: boolean;
  devOptional?: boolean;
  peer?: boolean;
  dependencies?: DepMap;
  devDependencies?: DepMap;
  optionalDependencies?: DepMap;
  peerDependencies?: DepMap;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  [key: string]: unknown;
}

export interface Lockfile {
  name?: string;
  version?: string;
  lockfileVersion: number;
  requires?: boolean;
  packages: Record<string, LockEntry>;
  [key: string]: unknown;
}

export interface WorkspaceManifest {
  name: string;
  version?: string;
  dependencies?: DepMap;
  devDependencies?: DepMap;
  optionalDependencies?: DepMap;
  peerDependencies?: DepMap;
  [key: string]: unknown;
}

type EdgeKind = 'prod' | 'dev' | 'optional' | 'peer' | 'peerOptional';

interface Edge {
  name: string;
  kind: EdgeKind;
}

const FLAG_KEYS = ['dev', 'optional', 'devOptional', 'peer', 'extraneous'] as const;

/** Node's lookup: `<dir>/node_modules/<name>` from `from` up to the root. */
function resolveFrom(
  packages: Record<string, LockEntry>,
  from: string,
  name: string,
): string | undefined {
  let dir = from;
  for (;;) {
    const base = dir.split('/').pop() ?? '';
    if (base !== 'node_modules') {
      const candidate = dir === '' ? `node_modules/${name}` : `${dir}/node_modules/${name}`;
      if (packages[candidate]) return candidate;
    }
    if (dir === '') return undefined;
    const cut = dir.lastIndexOf('/');
    dir = cut < 0 ? '' : dir.slice(0, cut);
  }
}

function edgesOf(entry: LockEntry, isRoot: boolean): Edge[] {
  const edges: Edge[] = [];
  const add = (deps: DepMap | undefined, kind: EdgeKind) => {
    for (const name of Object.keys(deps ?? {})) edges.push({ name, kind });
  };
  add(entry.dependencies, 'prod');
  add(entry.optionalDependencies, 'optional');
  if (isRoot) add(entry.devDependencies, 'dev');
  for (const name of Object.keys(entry.peerDependencies ?? {})) {
    edges.push({
      name,
      kind: entry.peerDependenciesMeta?.[name]?.optional ? 'peerOptional' : 'peer',
    });
  }
  // A name listed as both a dependency and an optional one is optional (npm's rule).
  const byName = new Map<string, Edge>();
  for (const edge of edges)
    if (!byName.has(edge.name) || edge.kind === 'optional') byName.set(edge.name, edge);
  return [...byName.values()];
}

/**
 * The lockfile a standalone copy of workspace `workspacePath` (relative to the root
 * lockfile's directory, e.g. `examples/startupwebapp`) would have.
 */
export function deriveWorkspaceLockfile(
  root: Lockfile,
  workspacePath: string,
  manifest: WorkspaceManifest,
): Lockfile {
  if (root.lockfileVersion < 2) {
    throw new BerthError(
      'IMAGE_BUILD_FAILED',
      `the root package-lock.json has lockfileVersion ${root.lockfileVersion}; berth needs 2 or 3`,
      { hint: 'run `npm install` with npm 7 or later to upgrade it' },
    );
  }
  const packages = root.packages;
  const ws = packages[workspacePath];
  if (!ws) {
    throw new BerthError(
      'IMAGE_BUILD_FAILED',
      `${workspacePath} is not a workspace in the root package-lock.json`,
      { hint: 'add it to "workspaces" in the root package.json and run `npm install`' },
    );
  }

  // 1. The closure, following the same edges npm would install.
  const rootEntry: LockEntry = {
    ...ws,
    name: manifest.name,
    ...(manifest.version ? { version: manifest.version } : {}),
  };
  const outEdges = new Map<string, { to: string; kind: EdgeKind }[]>();
  const queue: string[] = [workspacePath];
  const seen = new Set<string>([workspacePath]);
  while (queue.length > 0) {
    const from = queue.shift() ?? '';
    const entry = from === workspacePath ? rootEntry : packages[from];
    if (!entry) continue;
    const resolved: { to: string; kind: EdgeKind }[] = [];
    for (const edge of edgesOf(entry, from === workspacePath)) {
      const to = resolveFrom(packages, from, edge.name);
      if (!to) {
        if (edge.kind === 'optional' || edge.kind === 'peerOptional') continue;
        throw new BerthError(
          'IMAGE_BUILD_FAILED',
          `cannot derive a lockfile for ${workspacePath}: ${edge.name} (needed by ${from || 'the root'}) is not in the root package-lock.json`,
          { hint: 'run `npm install` at the repository root so the lockfile is complete' },
        );
      }
      if (packages[to]?.link) {
        throw new BerthError(
          'IMAGE_BUILD_FAILED',
          `cannot derive a lockfile for ${workspacePath}: it depends on the linked package ${to}`,
          {
            hint: 'give the build context its own package-lock.json (npm install --package-lock-only --workspaces=false in that folder)',
          },
        );
      }
      // Optional peers are never installed for their own sake.
      if (edge.kind === 'peerOptional' && !seen.has(to)) {
        resolved.push({ to, kind: edge.kind });
        continue;
      }
      resolved.push({ to, kind: edge.kind });
      if (!seen.has(to)) {
        seen.add(to);
        queue.push(to);
      }
    }
    outEdges.set(from, resolved);
  }

  // 2. Flags for the new root: arborist's calc-dep-flags, over the closure.
  interface Flags {
    dev: boolean;
    optional: boolean;
    devOptional: boolean;
    peer: boolean;
  }
  const flags = new Map<string, Flags>();
  for (const p of seen)
    flags.set(
      p,
      p === workspacePath
        ? { dev: false, optional: false, devOptional: false, peer: false }
        : { dev: true, optional: true, devOptional: true, peer: true },
    );
  const work: string[] = [workspacePath];
  while (work.length > 0) {
    const from = work.pop() ?? '';
    const f = flags.get(from);
    if (!f) continue;
    for (const { to, kind } of outEdges.get(from) ?? []) {
      const t = flags.get(to);
      if (!t) continue; // an optional peer nothing else installs
      const dev = kind === 'dev';
      const optional = kind === 'optional' || kind === 'peerOptional';
      const peer = kind === 'peer' || kind === 'peerOptional';
      let changed = false;
      if (t.dev && !f.dev && !dev) {
        t.dev = false;
        changed = true;
      }
      if (t.optional && !f.optional && !optional) {
        t.optional = false;
        changed = true;
      }
      if (t.devOptional && !f.devOptional && !f.dev && !f.optional && !dev && !optional) {
        t.devOptional = false;
        changed = true;
      }
      if (t.peer && !f.peer && !peer) {
        t.peer = false;
        changed = true;
      }
      if (changed) work.push(to);
    }
  }

  // 3. Re-root the paths and write the entries with their new flags.
  const prefix = `${workspacePath}/`;
  const rename = (p: string) => (p.startsWith(prefix) ? p.slice(prefix.length) : p);
  const out: Record<string, LockEntry> = {};
  const origin = new Map<string, string>();
  const rootOut: LockEntry = { name: manifest.name };
  if (manifest.version) rootOut.version = manifest.version;
  for (const key of [
    'dependencies',
    'devDependencies',
    'optionalDependencies',
    'peerDependencies',
    'peerDependenciesMeta',
    'bin',
    'engines',
    'license',
  ] as const) {
    const value: unknown = manifest[key] ?? ws[key];
    if (value !== undefined && value !== null) (rootOut as Record<string, unknown>)[key] = value;
  }
  out[''] = rootOut;
  const ordered = [...seen].filter((p) => p !== workspacePath).sort();
  for (const p of ordered) {
    const target = rename(p);
    const clash = origin.get(target);
    if (clash) {
      throw new BerthError(
        'IMAGE_BUILD_FAILED',
        `cannot derive a lockfile for ${workspacePath}: ${clash} and ${p} would both become ${target}`,
        {
          hint: 'give the build context its own package-lock.json (npm install --package-lock-only --workspaces=false in that folder)',
        },
      );
    }
    origin.set(target, p);
    const entry: LockEntry = { ...packages[p] };
    for (const k of FLAG_KEYS) delete entry[k];
    const f = flags.get(p);
    if (f) {
      const devOptional = f.devOptional && !f.dev && !f.optional;
      if (f.dev) entry.dev = true;
      if (f.optional) entry.optional = true;
      if (devOptional) entry.devOptional = true;
      if (f.peer) entry.peer = true;
    }
    out[target] = entry;
  }
  const sorted: Record<string, LockEntry> = { '': rootOut };
  for (const key of Object.keys(out)
    .filter((k) => k !== '')
    .sort())
    sorted[key] = out[key] as LockEntry;

  return {
    name: manifest.name,
    ...(manifest.version ? { version: manifest.version } : {}),
    lockfileVersion: 3,
    requires: true,
    packages: sorted,
  };
}
