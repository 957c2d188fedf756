/**
 * Build and push for a loaded berth.yaml: where the context, Dockerfile, logs and state
 * are, which base image and CA bundle, which registry. Shared by `berth build`, `berth push`
 * and the pipeline's build and push stages.
 */
import { access } from 'node:fs/promises';
import path from 'node:path';
import type { LoadedConfig } from '../config/load-config.js';
import { BerthError } from '../core/errors.js';
import type { Reporter } from '../core/events.js';
import type { AwsClientsFactory, AwsOverrides } from '../providers/aws/api/clients.js';
import { statePaths } from '../state/paths.js';
import { buildImages, resolveBaseImage, resolveCaFile, type BuildResult } from './build.js';
import { requireEngine } from './engine.js';
import { exec as defaultExec, type Exec } from '../core/exec.js';
import { authorizationFromEcr, type GetEcrAuthorization } from './ecr-login.js';
import { pushImage, pushToEcr, type PushResult } from './push.js';
import { updateImageState } from '../state/image-state.js';
import { gitInfo, IMAGE_TARGETS, type ImageTarget } from './tags.js';

export type BuildTargetOption = ImageTarget | 'all';

export interface StackBuildOptions {
  target: BuildTargetOption;
  reporter: Reporter;
  signal?: AbortSignal;
  exec?: Exec;
}

export function stateRoot(loaded: LoadedConfig): string {
  return path.resolve(loaded.dir, loaded.config.local.dataDir);
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

export interface StackPushOptions {
  provider: 'local' | 'aws';
  /** Version tag to push; the current git version otherwise. */
  tag?: string;
  reporter: Reporter;
  signal?: AbortSignal;
  exec?: Exec;
  aws?: AwsOverrides;
  /** Replaces the AWS clients (tests: the in-memory fake or mocked SDK clients). */
  awsClients?: AwsClientsFactory;
  /** Replaces GetAuthorizationToken (tests). */
  getAuthorization?: GetEcrAuthorization;
}

export interface StackPushResult extends PushResult {
  provider: 'local' | 'aws';
  /** The local image that was pushed. */
  source: string;
}

export async function pushStack(
  loaded: LoadedConfig,
  options: StackPushOptions,
): Promise<StackPushResult> {
  const { config, dir } = loaded;
  const exec = options.exec ?? defaultExec;
  const cli = config.local.containerCli;
  await requireEngine(cli, exec);
  const tag = options.tag ?? (await gitInfo(exec, path.resolve(dir, config.image.context))).tag;
  const source = `${config.registry.name}:${tag}`;
  const tags = tag === 'latest' ? ['latest'] : [tag, 'latest'];
  const say = (text: string) => options.reporter.emit({ type: 'message', level: 'info', text });
  let result: PushResult;
  if (options.provider === 'local') {
    const registry = config.registry.local;
    if (!registry) {
      throw new BerthError(
        'CONFIG_INVALID',
        'registry.local is not set: the local provider has no registry to push to',
        {
          hint: 'set registry.local in berth.yaml (the container lab runs one on 127.0.0.1:5000), or push with --provider aws',
        },
      );
    }
    say(`pushing ${source} to ${registry}/${config.registry.name}`);
    result = await pushImage({
      cli,
      exec,
      source,
      registry,
      repository: config.registry.name,
      tags,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } else {
    const { createAwsClients, resolveAwsSettings } =
      await import('../providers/aws/api/clients.js');
    const settings = resolveAwsSettings(config, options.aws ?? {});
    const { ecr } = (options.awsClients ?? createAwsClients)(settings);
    const repository = await ecr.describeRepository(config.registry.name);
    if (!repository) {
      throw new BerthError(
        'AWS_REFERENCE_INVALID',
        `the ECR repository ${config.registry.name} does not exist in ${settings.region}`,
        { hint: 'run `berth up` to create the stack first' },
      );
    }
    const getAuthorization = options.getAuthorization ?? authorizationFromEcr(ecr);
    say(`pushing ${source} to ${repository.uri}`);
    result = await pushToEcr({
      cli,
      exec,
      source,
      repository: config.registry.name,
      repositoryUri: repository.uri,
      ...(repository.registryId ? { registryId: repository.registryId } : {}),
      tags,
      getAuthorization,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }
  await updateImageState(stateRoot(loaded), (state) => {
    state.pushed[options.provider] = {
      provider: options.provider,
      uri: result.uri,
      digest: result.digest,
      imageRef: result.imageRef,
      pushedAt: new Date().toISOString(),
    };
  });
  return { ...result, provider: options.provider, source };
}
