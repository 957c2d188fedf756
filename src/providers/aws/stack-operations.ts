/**
 * The stack's operations bound to one config, region and set of clients: what `berth plan`,
 * `up`, `down`, `status`, `show` and `iam ci-policy` call, and what a library caller gets as
 * `provider.stack`. Every operation checks first that the config names the prerequisites
 * (VPC subnets, security groups, secret): a stack without them is a config error, not a
 * half-made stack.
 */
import { assertAwsReady, type LoadedConfig } from '../../config/load-config.js';
import { BerthError } from '../../core/errors.js';
import type { Reporter } from '../../core/events.js';
import type { AwsClients } from './api/clients.js';
import { ciPolicy, githubOidcTrustPolicy, partitionOf } from './stack/policies.js';
import { arnParts } from './stack/references.js';
import {
  downStack,
  planStack,
  showStack,
  stackStatus,
  upStack,
  type DownOptions,
  type DownResult,
  type StackDetails,
  type StackOptions,
  type StackPlan,
  type StackStatus,
  type UpResult,
} from './stack/stack.js';

export interface AwsAccount {
  account: string;
  partition: string;
}

export interface StackOperations {
  readonly name: string;
  readonly region: string;
  plan(options?: { adopt?: boolean }): Promise<StackPlan>;
  up(options?: { adopt?: boolean }): Promise<UpResult>;
  down(options?: DownOptions): Promise<DownResult>;
  status(): Promise<StackStatus>;
  show(): Promise<StackDetails>;
  /** The caller's account (STS), or `account` when given (then no AWS call is made). */
  account(account?: string): Promise<AwsAccount>;
  /** The least-privilege policy the CI principal needs. */
  ciPolicy(account?: string): Promise<{ policyName: string; account: string; policy: unknown }>;
  /** The trust policy for a role GitHub Actions assumes through OIDC. */
  githubOidcTrust(options: {
    repo: string;
    branch?: string;
    environment?: string;
    account?: string;
  }): Promise<{ account: string; trustPolicy: unknown }>;
}

export interface StackOperationsOptions {
  loaded: LoadedConfig;
  clients: () => AwsClients;
  region: string;
  outputsDir: string;
  reporter: Reporter;
  now?: () => Date;
}

export function stackOperations(o: StackOperationsOptions): StackOperations {
  const { loaded } = o;
  const options = (): StackOptions => {
    assertAwsReady(loaded);
    return {
      clients: o.clients(),
      config: loaded.config,
      region: o.region,
      configFile: loaded.file,
      reporter: o.reporter,
      outputsDir: o.outputsDir,
      ...(o.now ? { now: o.now } : {}),
    };
  };
  const account = async (given?: string): Promise<AwsAccount> => {
    if (given !== undefined) {
      if (!/^\d{12}$/.test(given))
        throw new BerthError(
          'USAGE',
          `--account must be a 12-digit AWS account ID, got "${given}"`,
        );
      return { account: given, partition: partitionOf(o.region) };
    }
    const identity = await o.clients().sts.getCallerIdentity();
    return {
      account: identity.account,
      partition: arnParts(identity.arn)?.partition ?? partitionOf(o.region),
    };
  };
  return {
    name: loaded.config.app,
    region: o.region,
    plan: (p = {}) => planStack(options(), { adopt: Boolean(p.adopt) }),
    up: (p = {}) => upStack(options(), { adopt: Boolean(p.adopt) }),
    down: (p = {}) => downStack(options(), p),
    status: () => stackStatus(options()),
    show: () => showStack(options()),
    account,
    async ciPolicy(given) {
      if (given === undefined) assertAwsReady(loaded);
      const { account: id, partition } = await account(given);
      return {
        policyName: `berth-ci-${loaded.config.app}`,
        account: id,
        policy: ciPolicy({ config: loaded.config, account: id, partition, region: o.region }),
      };
    },
    async githubOidcTrust(p) {
      const rest = {
        repo: p.repo,
        ...(p.branch !== undefined ? { branch: p.branch } : {}),
        ...(p.environment !== undefined ? { environment: p.environment } : {}),
      };
      // The arguments are checked before any AWS call.
      githubOidcTrustPolicy({ ...rest, account: '000000000000', partition: 'aws' });
      if (p.account === undefined) assertAwsReady(loaded);
      const { account: id, partition } = await account(p.account);
      return {
        account: id,
        trustPolicy: githubOidcTrustPolicy({ ...rest, account: id, partition }),
      };
    },
  };
}
