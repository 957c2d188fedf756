/**
 * Which image a migration runs on AWS: --image, else this commit's tag in the stack's ECR
 * repository (`<ECR uri>:<short sha>`, what `berth push` and the pipeline push), else the
 * image `berth push --provider aws` last pushed from this machine.
 */
import path from 'node:path';
import type { LoadedConfig } from '../../../config/load-config.js';
import { BerthError } from '../../../core/errors.js';
import type { Exec } from '../../../core/exec.js';
import { gitInfo } from '../../../image/tags.js';
import { readImageState } from '../../../state/image-state.js';
import { isPinnedImage } from '../../../state/listing-cache.js';
import { stateRoot } from '../../../state/state-dir.js';
import type { EcrApi, EcrRepository } from '../api/ecr-api.js';

export async function resolveImage(
  loaded: LoadedConfig,
  ecr: EcrApi,
  region: string,
  image: string | undefined,
  exec: Exec,
): Promise<string> {
  if (image !== undefined) {
    if (!/^\S+$/.test(image))
      throw new BerthError('USAGE', `--image must be an image reference, got "${image}"`);
    return image;
  }
  const { config, dir } = loaded;
  const repository = await ecr.describeRepository(config.registry.name);
  if (!repository)
    throw new BerthError(
      'AWS_REFERENCE_INVALID',
      `the ECR repository ${config.registry.name} does not exist in ${region}`,
      { hint: 'run `berth up` first, then push an image (`berth push --provider aws`)' },
    );
  const git = await gitInfo(exec, path.resolve(dir, config.image.context));
  if (git.sha) {
    const found = await ecr.describeImageTag(repository.name, git.tag);
    if (found) return `${repository.uri}:${git.tag}`;
    throw new BerthError(
      'AWS_REFERENCE_INVALID',
      `there is no image ${repository.uri}:${git.tag} (this commit${git.dirty ? ', with uncommitted changes' : ''}) in ECR`,
      {
        hint: 'push it first (`berth build && berth push --provider aws`, or `berth pipeline --provider aws`), or pass --image URI:TAG',
      },
    );
  }
  const pushed = (await readImageState(stateRoot(loaded))).pushed.aws;
  if (pushed) return pushed.uri;
  throw new BerthError('USAGE', 'which image should the migration tasks run?', {
    hint: 'pass --image URI:TAG (there is no git commit to derive the tag from, and nothing was pushed from here)',
  });
}

/**
 * `image` by digest: as it is when it names one, else the stack repository's tag looked up in
 * ECR (`<uri>:<tag>` -> `<uri>@sha256:…`); undefined for a tag ECR does not have or an image
 * outside the stack's repository, which berth cannot pin. `repository` is the stack's
 * repository, looked up once per run by the caller (it does not move within a run; the tag
 * may, so the tag is looked up on every call).
 */
export async function pinnedImage(
  ecr: EcrApi,
  repository: () => Promise<EcrRepository | undefined>,
  image: string,
): Promise<string | undefined> {
  if (isPinnedImage(image)) return image;
  const repo = await repository();
  if (!repo || !image.startsWith(`${repo.uri}:`)) return undefined;
  const found = await ecr.describeImageTag(repo.name, image.slice(repo.uri.length + 1));
  return found ? `${repo.uri}@${found.digest}` : undefined;
}
