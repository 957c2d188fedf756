/**
 * Build for a loaded berth.yaml: where the context, Dockerfile, logs and state are, which
 * base image and CA bundle. Shared by `berth build` and the pipeline's build stage. Pushing
 * belongs to each provider's registry (`provider.registry.push`); what was pushed is
 * recorded here, in the image state both providers read.
 */
import { access } from 'node:fs/promises';
import path from 'node:path';
import type { LoadedConfig } from '../config/load-config.js';
import { BerthError } from '../core/errors.js';
import type { Reporter } from '../core/events.js';
import { statePaths } from '../state/paths.js';
import { stateRoot } from '../state/state-dir.js';
import { buildImages, resolveBaseImage, resolveCaFile, type BuildResult } from './build.js';
import { requireEngine } from './engine.js';
import type { Exec } from '../core/exec.js';
import type { PushResult } from './push.js';
import { updateImageState } from '../state/image-state.js';
import { IMAGE_TARGETS, type ImageTarget } from './tags.js';

export type BuildTargetOption = ImageTarget | 'all';

export interface StackBuildOptions {
  target: BuildTargetOption;
  reporter: Reporter;
  signal?: AbortSignal;
  exec?: Exec;
}

/** The Dockerfile image.context and image.dockerfile point at (absolute). */
export function dockerfilePath(loaded: LoadedConfig): string {
  const context = path.resolve(loaded.dir, loaded.config.image.context);
  return path.resolve(context, loaded.config.image.dockerfile);
}

export async function hasDockerfile(loaded: LoadedConfig): Promise<boolean> {
  try {
    await access(dockerfilePath(loaded));
    return true;
  } catch {
    return false;
  }
}

export async function buildStack(
  loaded: LoadedConfig,
  options: StackBuildOptions,
): Promise<BuildResult & { engine: string }> {
  const { config, dir } = loaded;
  const cli = config.local.containerCli;
  const engine = await requireEngine(cli, options.exec);
  const context = path.resolve(dir, config.image.context);
  if (!(await hasDockerfile(loaded))) {
    throw new BerthError('CONFIG_INVALID', `no Dockerfile at ${dockerfilePath(loaded)}`, {
      hint: 'set image.context (relative to berth.yaml) and image.dockerfile (relative to the context)',
    });
  }
  const root = stateRoot(loaded);
  const baseImage = resolveBaseImage(config);
  const caFile = await resolveCaFile();
  const result = await buildImages({
    cli,
    context,
    dockerfile: dockerfilePath(loaded),
    repository: config.registry.name,
    targets: options.target === 'all' ? [...IMAGE_TARGETS] : [options.target],
    ...(baseImage ? { baseImage } : {}),
    ...(caFile ? { caFile } : {}),
    forbiddenPaths: config.image.forbiddenPaths,
    minReduction: config.image.minReduction,
    logDir: statePaths(root).logs,
    stateRoot: root,
    reporter: options.reporter,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.exec ? { exec: options.exec } : {}),
  });
  return { ...result, engine };
}

/** Remembers what was pushed where (`.berth/images.json`): the local runtime's image choice. */
export async function recordPush(
  loaded: LoadedConfig,
  provider: 'local' | 'aws',
  result: PushResult,
): Promise<void> {
  await updateImageState(stateRoot(loaded), (state) => {
    state.pushed[provider] = {
      provider,
      uri: result.uri,
      digest: result.digest,
      imageRef: result.imageRef,
      pushedAt: new Date().toISOString(),
    };
  });
}
