/**
 * The one injection point for AWS: commands and the library take an `AwsClientsFactory`.
 * The default builds each service's SDK adapter lazily — the SDK module is imported on the
 * first call to that service — so `berth --version`, `berth iam ci-policy --account` and
 * every local command never load it, and `plan` never loads a client it does not use.
 * Tests pass the in-memory fake (./fake/aws-fake.ts) or mock the SDK clients.
 */
import type { Config } from '../../../config/schema.js';
import type { Ec2Api } from './ec2-api.js';
import type { EcrApi } from './ecr-api.js';
import type { EcsApi } from './ecs-api.js';
import type { IamApi } from './iam-api.js';
import type { LogsApi } from './logs-api.js';
import { silenceSdkNodeVersionWarning } from './node-warning.js';
import { profileRegion } from './profile-region.js';
import type { SecretsApi } from './secrets-api.js';
import type { SsmApi } from './ssm-api.js';
import type { StsApi } from './sts-api.js';
import type { AwsSettings } from './types.js';

export type { AwsSettings } from './types.js';

export interface AwsClients {
  ecr: EcrApi;
  ecs: EcsApi;
  iam: IamApi;
  logs: LogsApi;
  ec2: Ec2Api;
  secrets: SecretsApi;
  ssm: SsmApi;
  sts: StsApi;
}

export type AwsClientsFactory = (settings: AwsSettings) => AwsClients;

export interface AwsOverrides {
  region?: string;
  profile?: string;
  endpointUrl?: string;
}

/**
 * Precedence: command line (--region, --profile, --endpoint-url) → the environment → berth.yaml
 * `aws.*`. The region: --region, then AWS_REGION / AWS_DEFAULT_REGION, then the `region` of
 * the profile in use (--profile, aws.profile, AWS_PROFILE, else `default`) in the shared
 * config file, then aws.region. The endpoint: --endpoint-url, AWS_ENDPOINT_URL, aws.endpoint.
 * An unset profile leaves the SDK's default chain in charge of credentials (AWS_PROFILE,
 * environment keys, SSO, web identity in CI, instance roles).
 */
export function resolveAwsSettings(
  config: Config,
  overrides: AwsOverrides = {},
  env: NodeJS.ProcessEnv = process.env,
): AwsSettings {
  const profile = overrides.profile ?? config.aws.profile;
  const endpoint = overrides.endpointUrl ?? nonEmpty(env.AWS_ENDPOINT_URL) ?? config.aws.endpoint;
  const region =
    nonEmpty(overrides.region) ??
    nonEmpty(env.AWS_REGION) ??
    nonEmpty(env.AWS_DEFAULT_REGION) ??
    profileRegion(profile ?? nonEmpty(env.AWS_PROFILE) ?? 'default', env) ??
    config.aws.region;
  return {
    region,
    ...(profile ? { profile } : {}),
    ...(endpoint ? { endpoint } : {}),
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value && value.trim() !== '' ? value.trim() : undefined;
}

/** The default factory: SDK v3 clients, loaded on first use. */
export const createAwsClients: AwsClientsFactory = (settings) => {
  silenceSdkNodeVersionWarning();
  return {
    ecr: lazy(async () => (await import('./sdk/ecr.js')).createSdkEcrApi(settings)),
    ecs: lazy(async () => (await import('./sdk/ecs.js')).createSdkEcsApi(settings)),
    iam: lazy(async () => (await import('./sdk/iam.js')).createSdkIamApi(settings)),
    logs: lazy(async () => (await import('./sdk/logs.js')).createSdkLogsApi(settings)),
    ec2: lazy(async () => (await import('./sdk/ec2.js')).createSdkEc2Api(settings)),
    secrets: lazy(async () => (await import('./sdk/secrets.js')).createSdkSecretsApi(settings)),
    ssm: lazy(async () => (await import('./sdk/ssm.js')).createSdkSsmApi(settings)),
    sts: lazy(async () => (await import('./sdk/sts.js')).createSdkStsApi(settings)),
  };
};

/**
 * An object whose every method loads the real implementation once, then delegates to it.
 * Every method of the service interfaces returns a promise, so the delay is invisible.
 */
function lazy<T extends object>(load: () => Promise<T>): T {
  let loaded: Promise<T> | undefined;
  return new Proxy({} as T, {
    get(_target, property) {
      // Not a thenable: `await api` must not try to call a method named "then".
      if (property === 'then' || typeof property === 'symbol') return undefined;
      return (...args: unknown[]) =>
        (loaded ??= load()).then((api) => {
          const method: unknown = Reflect.get(api, property);
          if (typeof method !== 'function')
            throw new TypeError(`AWS client has no method ${property}`);
          return Reflect.apply(method, api, args) as unknown;
        });
    },
  });
}
