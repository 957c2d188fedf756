/**
 * `berth build`: the Dockerfile's targets built with the container CLI and BuildKit
 * (always `--network host`: the lab engines have no bridge network, and a build needs the
 * package registry), tagged with the git version and latest, measured, and the production
 * image checked against the policy. The library never prints: progress goes to the
 * reporter, the full build output to a log file, and the result is returned.
 */
import { createWriteStream } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config/schema.js';
import { BerthError } from '../core/errors.js';
import type { Reporter } from '../core/events.js';
import { redactor } from '../core/redact.js';
import { prepareContext, type PreparedContext } from './context.js';
import { exec as defaultExec, engineEnv, lastLines, type Exec } from '../core/exec.js';
import { inspectImage } from './inspect.js';
import {
  configChecks,
  forbiddenPathChecks,
  policyReport,
  reductionCheck,
  type PolicyReport,
} from './policy.js';
import { updateImageState } from '../state/image-state.js';
import { gitInfo, imageTags, targetTag, type GitInfo, type ImageTarget } from './tags.js';

export interface BuildImagesOptions {
  cli: string;
  /** Absolute build context. */
  context: string;
  /** Absolute Dockerfile path. */
  dockerfile: string;
  /** Local repository name (registry.name). */
  repository: string;
  /** Built in this order; development first so production reuses its cache. */
  targets: ImageTarget[];
  /** The BASE_IMAGE build argument; the Dockerfile's default when undefined. */
  baseImage?: string;
  /** A CA bundle passed as the BuildKit secret `npm_ca` (never stored in a layer). */
  caFile?: string;
  forbiddenPaths: readonly string[];
  minReduction: number;
  /** Build logs go to `<logDir>/build-<version>-<target>.log`. */
  logDir: string;
  /** When set, the result is recorded in `<stateRoot>/images.json`. */
  stateRoot?: string;
  reporter: Reporter;
  signal?: AbortSignal;
  exec?: Exec;
  /** Precomputed version (tests); read from git in the context otherwise. */
  git?: GitInfo;
}

export interface BuiltImage {
  target: ImageTarget;
  /** The version tag reference, e.g. startupwebapp-backend:abc1234-dirty. */
  ref: string;
  tags: string[];
  id: string;
  sizeBytes: number;
  durationMs: number;
  logFile: string;
}

export interface BuildResult {
  ok: boolean;
  version: string;
  git: { sha: string | null; dirty: boolean };
  baseImage: string | null;
  lockfile: PreparedContext['lockfile'];
  images: BuiltImage[];
  /** 1 - production/development, when both sizes are known. */
  reduction: number | null;
  /** Checks on the production image; null when production was not built. */
  policy: PolicyReport | null;
}

/** BERTH_BASE_IMAGE, else image.baseImage; undefined leaves the Dockerfile's default. */
export function resolveBaseImage(
  config: Config,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const fromEnv = env.BERTH_BASE_IMAGE?.trim();
  return fromEnv || config.image.baseImage;
}

/** CONTAINER_LAB_EXTRA_CA, else NODE_EXTRA_CA_CERTS, when the file exists. */
export async function resolveCaFile(
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | undefined> {
  for (const candidate of [env.CONTAINER_LAB_EXTRA_CA, env.NODE_EXTRA_CA_CERTS]) {
    const file = candidate?.trim();
    if (!file) continue;
    try {
      await access(file);
      return file;
    } catch {
      // Not readable here: try the next one.
    }
  }
  return undefined;
}

export function buildArgs(options: {
  target: ImageTarget;
  tags: string[];
  dockerfile: string;
  context: string;
  baseImage?: string;
  caFile?: string;
  labels: Record<string, string>;
}): string[] {
  const args = [
    'build',
    '--network',
    'host',
    '--progress',
    'plain',
    '--target',
    options.target,
    '--file',
    options.dockerfile,
  ];
  for (const tag of options.tags) args.push('--tag', tag);
  for (const [k, v] of Object.entries(options.labels)) args.push('--label', `${k}=${v}`);
  if (options.baseImage) args.push('--build-arg', `BASE_IMAGE=${options.baseImage}`);
  if (options.caFile) args.push('--secret', `id=npm_ca,src=${options.caFile}`);
  args.push(options.context);
  return args;
}

export async function buildImages(options: BuildImagesOptions): Promise<BuildResult> {
  const exec = options.exec ?? defaultExec;
  const say = (text: string) => options.reporter.emit({ type: 'message', level: 'info', text });
  const git = options.git ?? (await gitInfo(exec, options.context));
  const prepared = await prepareContext(options.context);
  if (prepared.lockfile.source === 'workspace-root') {
    say(
      `lockfile: derived from ${prepared.lockfile.root} for workspace ${prepared.lockfile.workspace} (${prepared.lockfile.packages} packages)`,
    );
  }
  const order: ImageTarget[] = (['development', 'production'] as const).filter((t) =>
    options.targets.includes(t),
  );
  const images: BuiltImage[] = [];
  try {
    await mkdir(options.logDir, { recursive: true, mode: 0o700 });
    for (const target of order) {
      const tags = imageTags(options.repository, git.tag, target);
      const logFile = path.join(options.logDir, `build-${git.tag}-${target}.log`);
      say(`building ${target} → ${tags.join(', ')}`);
      const started = Date.now();
      const args = buildArgs({
        target,
        tags,
        dockerfile: options.dockerfile,
        context: prepared.dir,
        ...(options.baseImage ? { baseImage: options.baseImage } : {}),
        ...(options.caFile ? { caFile: options.caFile } : {}),
        labels: {
          'org.opencontainers.image.version': targetTag(git.tag, target),
          ...(git.sha ? { 'org.opencontainers.image.revision': git.sha } : {}),
          'berth.target': target,
        },
      });
      const log = createWriteStream(logFile, { mode: 0o600 });
      log.write(`$ ${options.cli} ${args.join(' ')}\n`);
      const result = await exec(options.cli, args, {
        env: engineEnv(),
        ...(options.signal ? { signal: options.signal } : {}),
        onLine: (line) => log.write(`${redactor.redact(line)}\n`),
      });
      await new Promise<void>((r) => log.end(r));
      if (result.code !== 0) {
        if (options.signal?.aborted) throw new BerthError('ABORTED', 'build interrupted');
        const tail = lastLines(redactor.redact(result.stderr || result.stdout), 12);
        const baseProblem = tail.some((l) =>
          /pull access denied|failed to resolve source metadata|manifest unknown|not found: manifest|no such host|connection refused/i.test(
            l,
          ),
        );
        throw new BerthError(
          'IMAGE_BUILD_FAILED',
          `${options.cli} build --target ${target} failed (${result.error ? result.error.message : `exit ${result.code}`})`,
          {
            hint: baseProblem
              ? `the base image could not be pulled: set image.baseImage or BERTH_BASE_IMAGE to one the engine can reach (lab: $CONTAINER_LAB_NODE_IMAGE); full log: ${logFile}`
              : `full log: ${logFile}`,
            details: { target, logFile, tail },
          },
        );
      }
      const info = await inspectImage(exec, options.cli, tags[0] ?? '');
      if (!info) {
        throw new BerthError(
          'IMAGE_BUILD_FAILED',
          `${tags[0] ?? target} is missing after a successful build`,
          { details: { target, logFile } },
        );
      }
      images.push({
        target,
        ref: tags[0] ?? '',
        tags,
        id: info.id,
        sizeBytes: info.sizeBytes,
        durationMs: Date.now() - started,
        logFile,
      });
    }
  } finally {
    await prepared.cleanup();
  }

  const production = images.find((i) => i.target === 'production');
  let development = images.find((i) => i.target === 'development')?.sizeBytes;
  let policy: PolicyReport | null = null;
  let reduction: number | null = null;
  if (production) {
    if (development === undefined) {
      // `--target production`: compare with this version's development image if there is one.
      development = (
        await inspectImage(
          exec,
          options.cli,
          imageTags(options.repository, git.tag, 'development')[0] ?? '',
        )
      )?.sizeBytes;
    }
    const info = await inspectImage(exec, options.cli, production.ref);
    const size = reductionCheck(production.sizeBytes, development, options.minReduction);
    reduction = size.reduction ?? null;
    say(`checking the production image against the policy`);
    policy = policyReport([
      ...(info ? configChecks(info) : []),
      ...(await forbiddenPathChecks(exec, options.cli, production.ref, options.forbiddenPaths)),
      {
        name: size.name,
        ok: size.ok,
        detail: size.detail,
      },
    ]);
  }

  if (options.stateRoot) {
    const builtAt = new Date().toISOString();
    await updateImageState(options.stateRoot, (state) => {
      for (const image of images) {
        // A production image that failed the policy is never what `auto` picks to run.
        if (image.target === 'production' && policy && !policy.ok) continue;
        state.built[image.target] = {
          ref: image.ref,
          tags: image.tags,
          id: image.id,
          sizeBytes: image.sizeBytes,
          version: git.tag,
          builtAt,
        };
      }
    });
  }

  return {
    ok: policy?.ok ?? true,
    version: git.tag,
    git: { sha: git.sha ?? null, dirty: git.dirty },
    baseImage: options.baseImage ?? null,
    lockfile: prepared.lockfile,
    images,
    reduction,
    policy,
  };
}
