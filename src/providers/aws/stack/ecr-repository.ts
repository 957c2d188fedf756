/** Step 2 of the seed: the ECR repository (scan on push, AES256, lifecycle policy, tags). */
import type { EcrApi, EcrRepository } from '../api/ecr-api.js';
import type { Tags } from '../api/types.js';
import { decide, fieldChange, has, tagChanges, tagsToSet } from './diff.js';
import { parsePolicy } from './policies.js';
import { isOwned } from './tags.js';
import type {
  JsonValue,
  ResourceDefinition,
  ResourcePlan,
  ResourceState,
  StackOutputs,
  StackSpec,
} from './types.js';

export interface LifecyclePolicy {
  rules: {
    rulePriority: number;
    description: string;
    selection: { tagStatus: 'any'; countType: 'imageCountMoreThan'; countNumber: number };
    action: { type: 'expire' };
  }[];
}

/** The seed's create-ecr.sh policy, with the count from `registry.keepImages`. */
export function lifecyclePolicy(keepImages: number): LifecyclePolicy {
  return {
    rules: [
      {
        rulePriority: 1,
        description: `Keep last ${keepImages} images`,
        selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: keepImages },
        action: { type: 'expire' },
      },
    ],
  };
}

export interface RepositoryDesired {
  name: string;
  scanOnPush: boolean;
  encryptionType: 'AES256' | 'KMS';
  kmsKey?: string;
  lifecyclePolicy: LifecyclePolicy;
  tags: Tags;
}

export interface RepositoryActual {
  repository: EcrRepository;
  tags: Tags;
  /** Parsed lifecycle policy (or its text when not JSON); null when none. */
  lifecyclePolicy: JsonValue;
}

export function desiredRepository(spec: StackSpec): RepositoryDesired {
  const { registry } = spec.config;
  return {
    name: registry.name,
    scanOnPush: registry.scanOnPush,
    encryptionType: registry.encryption,
    ...(registry.kmsKey ? { kmsKey: registry.kmsKey } : {}),
    lifecyclePolicy: lifecyclePolicy(registry.keepImages),
    tags: { ...spec.tags, ...registry.tags },
  };
}

export async function readRepository(
  ecr: EcrApi,
  name: string,
): Promise<RepositoryActual | undefined> {
  const repository = await ecr.describeRepository(name);
  if (!repository) return undefined;
  const [tags, policy] = await Promise.all([
    ecr.listTags(repository.arn),
    ecr.getLifecyclePolicy(name),
  ]);
  return { repository, tags, lifecyclePolicy: parsePolicy(policy) };
}

const IMMUTABLE =
  'ECR cannot change encryption in place: delete and recreate the repository (berth down, then up) to change it';

export function diffRepository(
  actual: RepositoryActual | undefined,
  desired: RepositoryDesired,
  app: string,
  adopt: boolean,
): ResourcePlan {
  const r = actual?.repository;
  const changes = [
    ...fieldChange('scanOnPush', r?.scanOnPush, desired.scanOnPush),
    ...fieldChange(
      'encryption',
      r ? r.encryptionType : undefined,
      desired.encryptionType,
      r ? { note: IMMUTABLE, immutable: true } : {},
    ),
    ...(desired.kmsKey || r?.kmsKey
      ? fieldChange(
          'kmsKey',
          r?.kmsKey,
          desired.kmsKey,
          r ? { note: IMMUTABLE, immutable: true } : {},
        )
      : []),
    ...fieldChange(
      'lifecyclePolicy',
      actual?.lifecyclePolicy,
      desired.lifecyclePolicy as unknown as JsonValue,
    ),
    ...tagChanges(actual?.tags ?? {}, desired.tags),
  ];
  return decide(
    'ecr-repository',
    desired.name,
    { exists: Boolean(actual), owned: actual ? isOwned(actual.tags, app) : false, adopt },
    changes,
  );
}

export async function applyRepository(
  ecr: EcrApi,
  plan: ResourcePlan,
  actual: RepositoryActual | undefined,
  desired: RepositoryDesired,
  log: (text: string) => void,
): Promise<EcrRepository> {
  const policyText = JSON.stringify(desired.lifecyclePolicy);
  if (plan.action === 'create' || !actual) {
    log(`creating ECR repository ${desired.name}`);
    const repository = await ecr.createRepository({
      name: desired.name,
      scanOnPush: desired.scanOnPush,
      encryptionType: desired.encryptionType,
      ...(desired.kmsKey ? { kmsKey: desired.kmsKey } : {}),
      tags: desired.tags,
    });
    await ecr.putLifecyclePolicy(desired.name, policyText);
    return repository;
  }
  if (has(plan, 'scanOnPush')) {
    log(`ECR repository ${desired.name}: scan on push ${desired.scanOnPush ? 'on' : 'off'}`);
    await ecr.putImageScanningConfiguration(desired.name, desired.scanOnPush);
  }
  if (has(plan, 'lifecyclePolicy')) {
    log(
      `ECR repository ${desired.name}: lifecycle policy keeps the last ${desired.lifecyclePolicy.rules[0]?.selection.countNumber} images`,
    );
    await ecr.putLifecyclePolicy(desired.name, policyText);
  }
  const tags = tagsToSet(plan.changes, desired.tags);
  if (Object.keys(tags).length > 0) {
    log(`ECR repository ${desired.name}: tagging (${Object.keys(tags).join(', ')})`);
    await ecr.tagResource(actual.repository.arn, tags);
  }
  return actual.repository;
}

function outputs(repository: EcrRepository | undefined): StackOutputs {
  return repository
    ? {
        ECR_REPOSITORY_NAME: repository.name,
        ECR_REPOSITORY_URI: repository.uri,
        ECR_REPOSITORY_ARN: repository.arn,
      }
    : {};
}

export const ecrRepository: ResourceDefinition = {
  kind: 'ecr-repository',
  title: 'ECR repository',
  step: 'ecr',
  dependsOn: [],
  name: (config) => config.registry.name,
  async load(env): Promise<ResourceState> {
    const name = env.config.registry.name;
    const actual = await readRepository(env.clients.ecr, name);
    const { ecr } = env.clients;
    return {
      kind: 'ecr-repository',
      name,
      exists: Boolean(actual),
      owned: actual ? isOwned(actual.tags, env.config.app) : false,
      plan: (spec, _upstream, adopt) =>
        diffRepository(actual, desiredRepository(spec), spec.config.app, adopt),
      async apply(plan, spec, _upstream, log) {
        return outputs(await applyRepository(ecr, plan, actual, desiredRepository(spec), log));
      },
      outputs: () => outputs(actual?.repository),
      async destroy(log) {
        log(`deleting ECR repository ${name} and its images`);
        await ecr.deleteRepository(name, true);
        return undefined;
      },
      async details() {
        if (!actual) return null;
        const policy = actual.lifecyclePolicy as {
          rules?: { selection?: { countNumber?: number } }[];
        } | null;
        return {
          name: actual.repository.name,
          uri: actual.repository.uri,
          arn: actual.repository.arn,
          scanOnPush: actual.repository.scanOnPush,
          encryption: actual.repository.encryptionType,
          keepImages: policy?.rules?.[0]?.selection?.countNumber ?? null,
          imageCount: await ecr.countImages(name),
        };
      },
    };
  },
};
