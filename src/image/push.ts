/**
 * `berth push`: the production image to the stack's registry — `registry.local` for the
 * local provider (the lab's loopback registry, no auth), ECR for aws (logged in with a
 * GetAuthorizationToken password on stdin, in a throwaway DOCKER_CONFIG). Tags the local
 * image for the registry, pushes each tag, and returns the URI and the manifest digest;
 * tasks then run `registry/repository@digest`, exactly what was pushed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BerthError } from '../core/errors.js';
import { redactor } from '../core/redact.js';
import { dockerLogin, type GetEcrAuthorization } from './ecr-login.js';
import { exec as defaultExec, engineEnv, lastLines, type Exec } from '../core/exec.js';
import { inspectImage } from './inspect.js';

export interface PushImageOptions {
  cli: string;
  /** The local image, e.g. startupwebapp-backend:abc1234. */
  source: string;
  /** Registry host[:port], e.g. 127.0.0.1:5000. */
  registry: string;
  /** Repository name in that registry (registry.name). */
  repository: string;
  /** Tags to push, the version tag first (its URI is the result's `uri`). */
  tags: string[];
  /** Engine global `--config` directory (credentials of a login for this push). */
  dockerConfig?: string;
  exec?: Exec;
  signal?: AbortSignal;
  onLine?: (line: string) => void;
}

export interface PushResult {
  registry: string;
  /** registry/repository */
  repository: string;
  tags: string[];
  /** registry/repository:<version tag> */
  uri: string;
  /** sha256:… of the pushed manifest. */
  digest: string;
  /** registry/repository@digest */
  imageRef: string;
}

const DIGEST = /digest: (sha256:[0-9a-f]{64})/;

export async function pushImage(options: PushImageOptions): Promise<PushResult> {
  const exec = options.exec ?? defaultExec;
  const env = engineEnv();
  const global = options.dockerConfig ? ['--config', options.dockerConfig] : [];
  const local = await inspectImage(exec, options.cli, options.source);
  if (!local) {
    throw new BerthError('IMAGE_PUSH_FAILED', `there is no local image ${options.source} to push`, {
      hint: 'run `berth build` first (or pass --tag with a tag it built)',
    });
  }
  const repository = `${options.registry}/${options.repository}`;
  let digest = '';
  for (const tag of options.tags) {
    const target = `${repository}:${tag}`;
    const tagged = await exec(options.cli, ['tag', options.source, target], { env });
    if (tagged.code !== 0) {
      throw new BerthError(
        'IMAGE_PUSH_FAILED',
        `${options.cli} tag ${options.source} ${target} failed: ${lastLines(tagged.stderr, 3).join(' ')}`,
      );
    }
    const pushed = await exec(options.cli, [...global, 'push', target], {
      env,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onLine ? { onLine: (l: string) => options.onLine?.(redactor.redact(l)) } : {}),
    });
    if (pushed.code !== 0) {
      const tail = lastLines(redactor.redact(pushed.stderr || pushed.stdout), 5);
      throw new BerthError(
        'IMAGE_PUSH_FAILED',
        `${options.cli} push ${target} failed: ${tail.at(-1) ?? `exit ${pushed.code}`}`,
        {
          hint: /connection refused|no such host|dial tcp/i.test(tail.join(' '))
            ? `is the registry at ${options.registry} running? (lab: bash ../shared/container-lab.sh status)`
            : /denied|unauthorized|authentication required/i.test(tail.join(' '))
              ? 'the registry refused the credentials; for ECR check ecr:InitiateLayerUpload/PutImage permissions'
              : undefined,
          details: { tail },
        },
      );
    }
    digest = DIGEST.exec(pushed.stdout)?.[1] ?? digest;
  }
  if (!digest) {
    // Older CLIs print the digest elsewhere: ask the engine.
    const info = await inspectImage(exec, options.cli, options.source);
    const entry = info?.repoDigests.find((d) => d.startsWith(`${repository}@`));
    digest = entry?.slice(entry.indexOf('@') + 1) ?? '';
  }
  if (!digest) {
    throw new BerthError('IMAGE_PUSH_FAILED', `pushed ${repository} but could not read its digest`);
  }
  return {
    registry: options.registry,
    repository,
    tags: options.tags,
    uri: `${repository}:${options.tags[0] ?? 'latest'}`,
    digest,
    imageRef: `${repository}@${digest}`,
  };
}

/** Push to ECR: login with a fresh token into a private DOCKER_CONFIG, push, forget it. */
export async function pushToEcr(
  options: Omit<PushImageOptions, 'dockerConfig' | 'registry'> & {
    getAuthorization: GetEcrAuthorization;
    registryId?: string;
    /** The repository URI from ECR (account.dkr.ecr.region.amazonaws.com/name). */
    repositoryUri: string;
  },
): Promise<PushResult> {
  const exec = options.exec ?? defaultExec;
  const auth = await options.getAuthorization(options.registryId);
  const registry = options.repositoryUri.split('/')[0] ?? auth.endpoint;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-docker-config-'));
  try {
    await dockerLogin(exec, options.cli, auth, dir);
    return await pushImage({ ...options, exec, registry, dockerConfig: dir });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
