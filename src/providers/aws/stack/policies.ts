/**
 * The IAM documents berth writes or prints, as pure functions of the config and the
 * resolved account: the two roles' trust policies, the execution role's inline policy, the
 * CI principal's least-privilege policy and the GitHub OIDC trust policy. Plus the
 * normalisation that decides whether a policy read back from IAM is "the same".
 */
import { taskSecrets, type Config, type TaskSecretSource } from '../../../config/schema.js';
import { BerthError } from '../../../core/errors.js';
import type { JsonValue } from './types.js';

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: Record<string, string | string[]>;
  Action: string | string[];
  Resource?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

export const ECS_TASKS_PRINCIPAL = 'ecs-tasks.amazonaws.com';
export const EXECUTION_ROLE_INLINE_POLICY = 'berth-read-database-secret';
export const GITHUB_OIDC_HOST = 'token.actions.githubusercontent.com';

export function executionRoleManagedPolicy(partition: string): string {
  return `arn:${partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy`;
}

/** The execution role is assumed by ECS itself to pull the image, read the secret and ship logs. */
export function executionTrustPolicy(): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Principal: { Service: ECS_TASKS_PRINCIPAL }, Action: 'sts:AssumeRole' },
    ],
  };
}

/**
 * The task role is what the application's code runs as. The conditions are AWS's
 * confused-deputy protection for task roles: only ECS acting for this account may assume it.
 */
export function taskTrustPolicy(
  account: string,
  partition: string,
  region: string,
): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Service: ECS_TASKS_PRINCIPAL },
        Action: 'sts:AssumeRole',
        Condition: {
          ArnLike: { 'aws:SourceArn': `arn:${partition}:ecs:${region}:${account}:*` },
          StringEquals: { 'aws:SourceAccount': account },
        },
      },
    ],
  };
}

/**
 * Exactly the configured secrets: the database secret and task.secrets' Secrets Manager
 * secrets (GetSecretValue) and Parameter Store parameters (GetParameters, the action ECS uses
 * for container secrets), and their customer KMS keys, when configured. With task.secrets
 * empty, the document is the one berth wrote before task.secrets existed, so an existing
 * stack's plan shows no change.
 */
export function executionInlinePolicy(
  secretArn: string,
  kmsKey: string | undefined,
  appSecrets: { source: TaskSecretSource; arn: string; kmsKey?: string | undefined }[] = [],
): PolicyDocument {
  const statements: PolicyStatement[] = [
    {
      Sid: 'ReadDatabaseSecret',
      Effect: 'Allow',
      Action: 'secretsmanager:GetSecretValue',
      Resource: secretArn,
    },
  ];
  const arnsFrom = (source: TaskSecretSource) =>
    appSecrets.filter((s) => s.source === source).map((s) => s.arn);
  statements.push(
    ...allowOn(
      'ReadTaskSecrets',
      'secretsmanager:GetSecretValue',
      arnsFrom('secretsmanager').filter((a) => a !== secretArn),
    ),
    ...allowOn('ReadTaskParameters', 'ssm:GetParameters', arnsFrom('ssm')),
  );
  if (kmsKey)
    statements.push({
      Sid: 'DecryptDatabaseSecret',
      Effect: 'Allow',
      Action: 'kms:Decrypt',
      Resource: kmsKey,
    });
  statements.push(
    ...allowOn(
      'DecryptTaskSecrets',
      'kms:Decrypt',
      appSecrets.flatMap((s) => (s.kmsKey && s.kmsKey !== kmsKey ? [s.kmsKey] : [])),
    ),
  );
  return { Version: '2012-10-17', Statement: statements };
}

/**
 * One Allow statement on these resources (deduplicated and sorted; one is written as a plain
 * string), or none when there are none.
 */
function allowOn(sid: string, action: string, resources: string[]): PolicyStatement[] {
  const unique = [...new Set(resources)].sort();
  if (unique.length === 0) return [];
  return [
    {
      Sid: sid,
      Effect: 'Allow',
      Action: action,
      Resource: unique.length === 1 ? unique[0] : unique,
    },
  ];
}

export interface CiPolicyInput {
  config: Config;
  account: string;
  partition: string;
  region: string;
}

/**
 * What the CI principal needs to push the image and run migration tasks — and no more.
 * Replaces the seed's AmazonEC2ContainerRegistryPowerUser + AmazonECS_FullAccess +
 * CloudWatchLogsReadOnlyAccess on a long-lived IAM user. Each statement matches calls
 * berth makes in `push`, `migrate`, `verify`, `logs`, `tasks` and `pipeline` (aws):
 * GetAuthorizationToken and the push; DescribeImages for the commit's tag; DescribeSecret,
 * DescribeParameters (when task.secrets names parameters) and DescribeSecurityGroups to build
 * the revision and the network (metadata only, never a secret's value); Register/DescribeTaskDefinition; RunTask with tags (TagResource on
 * create); DescribeTasks/StopTask/ListTasks; PassRole for the two task roles; GetLogEvents.
 */
export function ciPolicy({ config, account, partition, region }: CiPolicyInput): PolicyDocument {
  const arn = (service: string, resource: string) =>
    `arn:${partition}:${service}:${region}:${account}:${resource}`;
  const clusterArn = arn('ecs', `cluster/${config.cluster.name}`);
  const roleArn = (name: string) => `arn:${partition}:iam::${account}:role/${name}`;
  return {
    Version: '2012-10-17',
    Statement: [
      { Sid: 'EcrLogin', Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
      {
        Sid: 'EcrPushPullThisRepository',
        Effect: 'Allow',
        Action: [
          'ecr:BatchCheckLayerAvailability',
          'ecr:BatchGetImage',
          'ecr:CompleteLayerUpload',
          'ecr:DescribeImages',
          'ecr:DescribeRepositories',
          'ecr:GetDownloadUrlForLayer',
          'ecr:InitiateLayerUpload',
          'ecr:PutImage',
          'ecr:UploadLayerPart',
        ],
        Resource: arn('ecr', `repository/${config.registry.name}`),
      },
      {
        // These actions do not support resource-level permissions in IAM.
        Sid: 'EcsTaskDefinitions',
        Effect: 'Allow',
        Action: [
          'ecs:DescribeTaskDefinition',
          'ecs:ListTaskDefinitions',
          'ecs:RegisterTaskDefinition',
        ],
        Resource: '*',
      },
      {
        // berth tags the revisions it registers and the tasks it starts (ownership, berth:task).
        Sid: 'EcsTagWhatBerthCreates',
        Effect: 'Allow',
        Action: 'ecs:TagResource',
        Resource: [
          arn('ecs', `task-definition/${config.task.family}:*`),
          arn('ecs', `task/${config.cluster.name}/*`),
        ],
        Condition: { StringEquals: { 'ecs:CreateAction': ['RegisterTaskDefinition', 'RunTask'] } },
      },
      {
        Sid: 'EcsRunThisFamilyOnThisCluster',
        Effect: 'Allow',
        Action: 'ecs:RunTask',
        Resource: arn('ecs', `task-definition/${config.task.family}:*`),
        Condition: { ArnEquals: { 'ecs:cluster': clusterArn } },
      },
      {
        Sid: 'EcsWatchAndStopTasksOnThisCluster',
        Effect: 'Allow',
        Action: ['ecs:DescribeTasks', 'ecs:StopTask'],
        Resource: arn('ecs', `task/${config.cluster.name}/*`),
      },
      {
        Sid: 'EcsListTasksOnThisCluster',
        Effect: 'Allow',
        Action: 'ecs:ListTasks',
        Resource: '*',
        Condition: { ArnEquals: { 'ecs:cluster': clusterArn } },
      },
      {
        Sid: 'PassOnlyTheTaskRolesToEcs',
        Effect: 'Allow',
        Action: 'iam:PassRole',
        Resource: [roleArn(config.roles.execution), roleArn(config.roles.task)],
        Condition: { StringEquals: { 'iam:PassedToService': ECS_TASKS_PRINCIPAL } },
      },
      {
        // The revision berth registers names the secret's ARN (the value is never read).
        Sid: 'DescribeTheDatabaseSecret',
        Effect: 'Allow',
        Action: 'secretsmanager:DescribeSecret',
        Resource: arn('secretsmanager', `secret:${config.database.secret.name}-??????`),
      },
      // task.secrets' secrets are described too, for their ARNs (never their values).
      ...allowOn(
        'DescribeTheTaskSecrets',
        'secretsmanager:DescribeSecret',
        taskSecrets(config).flatMap((s) =>
          s.source !== 'secretsmanager'
            ? []
            : s.secret.startsWith('arn:')
              ? [s.secret]
              : [arn('secretsmanager', `secret:${s.secret}-??????`)],
        ),
      ),
      // And its Parameter Store parameters, by metadata only (never GetParameter, which
      // returns the value). DescribeParameters cannot be scoped to a resource in IAM.
      ...(taskSecrets(config).some((s) => s.source === 'ssm')
        ? [
            {
              Sid: 'DescribeTheTaskParameters',
              Effect: 'Allow' as const,
              Action: 'ssm:DescribeParameters',
              Resource: '*',
            },
          ]
        : []),
      {
        // Tasks run in the configured subnets with the backend security group, looked up by ID
        // or Name tag and checked before any task starts (EC2 Describe* actions cannot be
        // scoped to a resource).
        Sid: 'FindTheTaskNetwork',
        Effect: 'Allow',
        Action: ['ec2:DescribeSecurityGroups', 'ec2:DescribeSubnets'],
        Resource: '*',
      },
      {
        Sid: 'ReadThisLogGroup',
        Effect: 'Allow',
        Action: ['logs:DescribeLogStreams', 'logs:FilterLogEvents', 'logs:GetLogEvents'],
        Resource: [
          arn('logs', `log-group:${config.logs.group}`),
          arn('logs', `log-group:${config.logs.group}:*`),
        ],
      },
    ],
  };
}

export const GITHUB_REPO_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}$/;
const REF_PATTERN = /^[A-Za-z0-9._/*-]{1,255}$/;

export interface GithubOidcInput {
  repo: string;
  branch?: string;
  environment?: string;
  account: string;
  partition: string;
}

/** Trust policy for a role GitHub Actions assumes with OIDC: no long-lived keys in GitHub secrets. */
export function githubOidcTrustPolicy({
  repo,
  branch,
  environment,
  account,
  partition,
}: GithubOidcInput): PolicyDocument {
  if (!GITHUB_REPO_PATTERN.test(repo) || repo.endsWith('.') || repo.includes('..')) {
    throw new BerthError(
      'USAGE',
      `--repo must be OWNER/NAME, e.g. octo-org/startup_web_app_server_side (got "${repo}")`,
    );
  }
  if (branch !== undefined && (!REF_PATTERN.test(branch) || branch.includes('..'))) {
    throw new BerthError('USAGE', `--branch is not a valid branch name: "${branch}"`);
  }
  if (environment !== undefined && !/^[^\s'"*:][^'"*:]{0,254}$/.test(environment)) {
    throw new BerthError(
      'USAGE',
      `--environment is not a valid GitHub environment name: "${environment}"`,
    );
  }
  if (branch !== undefined && environment !== undefined) {
    throw new BerthError('USAGE', 'use --branch or --environment, not both', {
      hint: "a job that uses an environment gets `repo:OWNER/NAME:environment:NAME` as its subject, without the branch; restrict the environment's deployment branches in GitHub instead",
    });
  }
  const subject =
    environment !== undefined
      ? `repo:${repo}:environment:${environment}`
      : branch !== undefined
        ? `repo:${repo}:ref:refs/heads/${branch}`
        : `repo:${repo}:*`;
  const wildcard = subject.includes('*');
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'GitHubActionsOidc',
        Effect: 'Allow',
        Principal: {
          Federated: `arn:${partition}:iam::${account}:oidc-provider/${GITHUB_OIDC_HOST}`,
        },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: {
            [`${GITHUB_OIDC_HOST}:aud`]: 'sts.amazonaws.com',
            ...(wildcard ? {} : { [`${GITHUB_OIDC_HOST}:sub`]: subject }),
          },
          ...(wildcard ? { StringLike: { [`${GITHUB_OIDC_HOST}:sub`]: subject } } : {}),
        },
      },
    ],
  };
}

/** The partition a region belongs to (when no ARN says it). */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

const LIST_KEYS = new Set([
  'Action',
  'NotAction',
  'Resource',
  'NotResource',
  'Service',
  'AWS',
  'Federated',
  'CanonicalUser',
]);

/**
 * A canonical form for comparing policies: IAM may return a document with another key
 * order, one-element lists as strings (or the reverse) and the Statement as an object.
 */
export function normalizePolicy(value: unknown, key?: string, inCondition = false): unknown {
  if (Array.isArray(value)) {
    const items = value.map((v) => normalizePolicy(v, undefined, inCondition));
    // Statement order is meaningful to people reading it; every other list is a set.
    return key === 'Statement'
      ? items
      : [...items].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const raw = (value as Record<string, unknown>)[k];
      const v = k === 'Statement' && !Array.isArray(raw) ? [raw] : raw;
      out[k] = normalizePolicy(v, k, inCondition || k === 'Condition');
    }
    return out;
  }
  const listValued =
    key !== undefined && (LIST_KEYS.has(key) || (inCondition && key.includes(':')));
  return typeof value === 'string' && listValued ? [value] : value;
}

export function parsePolicy(text: string | undefined): JsonValue {
  if (text === undefined || text === '') return null;
  try {
    const parsed = JSON.parse(text) as JsonValue;
    if (
      parsed !== null &&
      typeof parsed === 'object' &&
      !Array.isArray(parsed) &&
      parsed.Statement &&
      !Array.isArray(parsed.Statement)
    ) {
      return { ...parsed, Statement: [parsed.Statement] };
    }
    return parsed;
  } catch {
    return text;
  }
}

export function samePolicy(actual: JsonValue, desired: PolicyDocument | JsonValue): boolean {
  return JSON.stringify(normalizePolicy(actual)) === JSON.stringify(normalizePolicy(desired));
}

export function policyText(doc: PolicyDocument): string {
  return JSON.stringify(doc);
}
