/**
 * The aws provider's registry: the stack's ECR repository. A push logs the container CLI in
 * with GetAuthorizationToken (the password travels on stdin, never in argv), pushes the git
 * SHA tag and latest, and records the digest for `migrate --provider aws` from this machine.
 */
import path from 'node:path';
import type { LoadedConfig } from '../../config/load-config.js';
import { BerthError } from '../../core/errors.js';
import type { Reporter } from '../../core/events.js';
import { exec as defaultExec, type Exec } from '../../core/exec.js';
import { authorizationFromEcr, type GetEcrAuthorization } from '../../image/ecr-login.js';
import { requireEngine } from '../../image/engine.js';
import { pushToEcr } from '../../image/push.js';
import { recordPush } from '../../image/stack.js';
import { gitInfo } from '../../image/tags.js';
import type { ImageRegistry, RegistryPush } from '../provider.js';
import type { AwsClients } from './api/clients.js';

export interface EcrRegistryOptions {
  loaded: LoadedConfig;
  clients: () => AwsClients;
  region: string;
  reporter: Reporter;
  exec?: Exec;
  /** Replaces GetAuthorizationToken (tests). */
  getAuthorization?: GetEcrAuthorization;
}

export function ecrRegistry(o: EcrRegistryOptions): ImageRegistry {
  const { config, dir } = o.loaded;
  const exec = o.exec ?? defaultExec;
  return {
    required: true,
    unavailable: () => undefined,
    async push(tag, signal): Promise<RegistryPush> {
      const cli = config.local.containerCli;
      await requireEngine(cli, exec);
      const version = tag || (await gitInfo(exec, path.resolve(dir, config.image.context))).tag;
      const source = `${config.registry.name}:${version}`;
      const { ecr } = o.clients();
      const repository = await ecr.describeRepository(config.registry.name);
      if (!repository)
        throw new BerthError(
          'AWS_REFERENCE_INVALID',
          `the ECR repository ${config.registry.name} does not exist in ${o.region}`,
          { hint: 'run `berth up` to create the stack first' },
        );
      o.reporter.emit({
        type: 'message',
        level: 'info',
        text: `pushing ${source} to ${repository.uri}`,
      });
      const result = await pushToEcr({
        cli,
        exec,
        source,
        repository: config.registry.name,
        repositoryUri: repository.uri,
        ...(repository.registryId ? { registryId: repository.registryId } : {}),
        tags: version === 'latest' ? ['latest'] : [version, 'latest'],
        getAuthorization: o.getAuthorization ?? authorizationFromEcr(ecr),
        ...(signal ? { signal } : {}),
      });
      await recordPush(o.loaded, 'aws', result);
      return { ...result, provider: 'aws', source };
    },
  };
}
