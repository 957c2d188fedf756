/** `berth iam ci-policy` and `berth iam github-oidc`: least privilege instead of the seed's keys and full-access policies. */
import { afterEach, describe, expect, it } from 'vitest';
import { iamCiPolicyCommand, iamGithubOidcCommand } from '../../../../src/cli/commands/infra.js';
import { isBerthError } from '../../../../src/core/errors.js';
import { ExitCode } from '../../../../src/core/exit-codes.js';
import type { PolicyDocument } from '../../../../src/providers/aws/stack/policies.js';
import type { AwsFake } from '../../../../src/providers/aws/fake/aws-fake.js';
import { migrateCommand } from '../../../../src/cli/commands/migrate.js';
import { tasksListCommand, tasksStopCommand } from '../../../../src/cli/commands/tasks.js';
import { verifyCommand } from '../../../../src/cli/commands/verify.js';
import { awsCliHarness, type AwsCliHarness } from '../../../support/aws-cli.js';
import { awsFleetHarness } from '../../../support/aws-fleet.js';

let h: AwsCliHarness;
afterEach(async () => {
  await h.cleanup();
});

async function usageError(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (isBerthError(error) && error.code === 'USAGE') return error.message;
    throw error;
  }
  throw new Error('expected a USAGE error');
}

describe('berth iam ci-policy', () => {
  it('grants push/pull on this repository, RunTask on this family and cluster, PassRole on the two roles, reads on this log group', async () => {
    h = await awsCliHarness();
    expect(await iamCiPolicyCommand(h.ctx(), {}, h.deps)).toBe(ExitCode.ok);
    const { policy, account, policyName } = h.json<{
      policy: PolicyDocument;
      account: string;
      policyName: string;
    }>();
    expect(account).toBe('123456789012');
    expect(policyName).toBe('berth-ci-startupwebapp');
    expect(h.fake.calls.map((c) => `${c.service}.${c.method}`)).toEqual(['sts.getCallerIdentity']);
    const bySid: Record<string, PolicyDocument['Statement'][number]> = Object.fromEntries(
      policy.Statement.map((s) => [s.Sid ?? '', s]),
    );
    expect(bySid.EcrLogin).toEqual({
      Sid: 'EcrLogin',
      Effect: 'Allow',
      Action: 'ecr:GetAuthorizationToken',
      Resource: '*',
    });
    expect(bySid.EcrPushPullThisRepository?.Resource).toBe(
      'arn:aws:ecr:us-east-1:123456789012:repository/startupwebapp-backend',
    );
    expect(bySid.EcrPushPullThisRepository?.Action).toContain('ecr:PutImage');
    expect(bySid.EcsRunThisFamilyOnThisCluster).toEqual({
      Sid: 'EcsRunThisFamilyOnThisCluster',
      Effect: 'Allow',
      Action: 'ecs:RunTask',
      Resource: 'arn:aws:ecs:us-east-1:123456789012:task-definition/startupwebapp-migration-task:*',
      Condition: {
        ArnEquals: {
          'ecs:cluster': 'arn:aws:ecs:us-east-1:123456789012:cluster/startupwebapp-cluster',
        },
      },
    });
    expect(bySid.EcsWatchAndStopTasksOnThisCluster?.Resource).toBe(
      'arn:aws:ecs:us-east-1:123456789012:task/startupwebapp-cluster/*',
    );
    expect(bySid.EcsListTasksOnThisCluster?.Condition).toEqual({
      ArnEquals: {
        'ecs:cluster': 'arn:aws:ecs:us-east-1:123456789012:cluster/startupwebapp-cluster',
      },
    });
    expect(bySid.PassOnlyTheTaskRolesToEcs).toEqual({
      Sid: 'PassOnlyTheTaskRolesToEcs',
      Effect: 'Allow',
      Action: 'iam:PassRole',
      Resource: [
        'arn:aws:iam::123456789012:role/ecsTaskExecutionRole-startupwebapp',
        'arn:aws:iam::123456789012:role/ecsTaskRole-startupwebapp',
      ],
      Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
    });
    expect(bySid.ReadThisLogGroup).toEqual({
      Sid: 'ReadThisLogGroup',
      Effect: 'Allow',
      Action: ['logs:DescribeLogStreams', 'logs:FilterLogEvents', 'logs:GetLogEvents'],
      Resource: [
        'arn:aws:logs:us-east-1:123456789012:log-group:/ecs/startupwebapp-migrations',
        'arn:aws:logs:us-east-1:123456789012:log-group:/ecs/startupwebapp-migrations:*',
      ],
    });
    // Tags on create (RegisterTaskDefinition, RunTask), on berth's family and cluster only.
    expect(bySid.EcsTagWhatBerthCreates).toEqual({
      Sid: 'EcsTagWhatBerthCreates',
      Effect: 'Allow',
      Action: 'ecs:TagResource',
      Resource: [
        'arn:aws:ecs:us-east-1:123456789012:task-definition/startupwebapp-migration-task:*',
        'arn:aws:ecs:us-east-1:123456789012:task/startupwebapp-cluster/*',
      ],
      Condition: { StringEquals: { 'ecs:CreateAction': ['RegisterTaskDefinition', 'RunTask'] } },
    });
    expect(bySid.DescribeTheDatabaseSecret).toEqual({
      Sid: 'DescribeTheDatabaseSecret',
      Effect: 'Allow',
      Action: 'secretsmanager:DescribeSecret',
      Resource:
        'arn:aws:secretsmanager:us-east-1:123456789012:secret:rds/startupwebapp/multi-tenant/master-??????',
    });
    // Never the secret's value: that is the execution role's business.
    expect(JSON.stringify(policy)).not.toContain('GetSecretValue');
    // Nothing broader than needed: the only "*" resources are those IAM cannot scope.
    const star = policy.Statement.filter((s) => s.Resource === '*').map((s) => s.Action);
    expect(star).toEqual([
      'ecr:GetAuthorizationToken',
      ['ecs:DescribeTaskDefinition', 'ecs:ListTaskDefinitions', 'ecs:RegisterTaskDefinition'],
      'ecs:ListTasks',
      ['ec2:DescribeSecurityGroups', 'ec2:DescribeSubnets'],
    ]);
    expect(JSON.stringify(policy)).not.toMatch(/"(ecr|ecs|iam|logs):\*"|"\*:\*"/);
  });

  it('takes --account instead of calling STS, and prints the bare policy for humans', async () => {
    h = await awsCliHarness({ json: false });
    expect(await iamCiPolicyCommand(h.ctx(), { account: '210987654321' }, h.deps)).toBe(
      ExitCode.ok,
    );
    expect(h.fake.calls).toEqual([]);
    const policy = JSON.parse(h.stdout.text()) as PolicyDocument;
    expect(JSON.stringify(policy)).toContain(
      'arn:aws:ecr:us-east-1:210987654321:repository/startupwebapp-backend',
    );
    expect(h.stderr.text()).toContain('put-role-policy');
    expect(await usageError(iamCiPolicyCommand(h.ctx(), { account: '12345' }, h.deps))).toContain(
      '12-digit',
    );
  });
});

describe('berth iam ci-policy covers what the pipeline calls', () => {
  /** berth's service methods → the IAM actions they need (sts:GetCallerIdentity needs none). */
  const ACTIONS: Record<string, string[]> = {
    'ecr.describeRepository': ['ecr:DescribeRepositories'],
    'ecr.describeImageTag': ['ecr:DescribeImages'],
    'ecr.getAuthorizationToken': ['ecr:GetAuthorizationToken'],
    'ecs.describeTaskDefinition': ['ecs:DescribeTaskDefinition'],
    'ecs.listTaskDefinitionArns': ['ecs:ListTaskDefinitions'],
    'ecs.registerTaskDefinition': ['ecs:RegisterTaskDefinition', 'ecs:TagResource', 'iam:PassRole'],
    'ecs.runTask': ['ecs:RunTask', 'ecs:TagResource', 'iam:PassRole'],
    'ecs.describeTasks': ['ecs:DescribeTasks'],
    'ecs.stopTask': ['ecs:StopTask'],
    'ecs.listTaskArns': ['ecs:ListTasks'],
    'logs.getLogEvents': ['logs:GetLogEvents'],
    'logs.filterLogEvents': ['logs:FilterLogEvents'],
    'secrets.describeSecret': ['secretsmanager:DescribeSecret'],
    'ssm.describeParameters': ['ssm:DescribeParameters'],
    'ec2.describeSecurityGroups': ['ec2:DescribeSecurityGroups'],
    'ec2.describeSubnets': ['ec2:DescribeSubnets'],
    'sts.getCallerIdentity': [],
  };

  it.each([
    ['', {}],
    [
      ' (with task.secrets from both sources)',
      {
        patch: (yaml: string) =>
          yaml.replace(
            '  environment:\n',
            '  secrets:\n    API_TOKEN: { parameter: /startupwebapp/api-token }\n    SIGNING_KEY: startupwebapp/signing\n  environment:\n',
          ),
        seed: (fake: AwsFake) => {
          fake.addParameter('/startupwebapp/api-token');
          fake.addSecret('startupwebapp/signing');
        },
      },
    ],
  ])('allows every call migrate, verify, logs and tasks make on AWS%s', async (label, extra) => {
    const f = await awsFleetHarness({ checkCommand: true, ...extra });
    h = f;
    await migrateCommand(f.ctx(), { all: true }, f.fleetDeps);
    await verifyCommand(f.ctx(), { all: true }, f.fleetDeps);
    await tasksListCommand(f.ctx(), {}, f.fleetDeps);
    await tasksStopCommand(f.ctx(), [], { all: true, yes: true }, f.fleetDeps);
    const methods = [...new Set(f.fake.calls.map((c) => `${c.service}.${c.method}`))].sort();
    f.fake.resetCalls();
    expect(await iamCiPolicyCommand(f.ctx(), {}, f.deps)).toBe(ExitCode.ok);
    const { policy } = f.json<{ policy: PolicyDocument }>();
    const allowed = new Set(
      policy.Statement.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])),
    );
    for (const method of methods) {
      const needed = ACTIONS[method];
      expect(needed, `no IAM mapping for ${method}`).toBeDefined();
      for (const action of needed ?? [])
        expect(allowed, `${method} needs ${action}`).toContain(action);
    }
    expect(methods).toEqual(expect.arrayContaining(['ecs.runTask', 'logs.filterLogEvents']));
    if (label) expect(methods).toContain('ssm.describeParameters');
  });
});

describe('berth iam github-oidc', () => {
  const sub = 'token.actions.githubusercontent.com:sub';
  const aud = 'token.actions.githubusercontent.com:aud';

  it('trusts GitHub OIDC for one branch of one repository', async () => {
    h = await awsCliHarness();
    expect(
      await iamGithubOidcCommand(
        h.ctx(),
        { repo: 'octo-org/startup_web_app_server_side', branch: 'main' },
        h.deps,
      ),
    ).toBe(ExitCode.ok);
    const { trustPolicy } = h.json<{ trustPolicy: PolicyDocument }>();
    expect(trustPolicy).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'GitHubActionsOidc',
          Effect: 'Allow',
          Principal: {
            Federated:
              'arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com',
          },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: {
            StringEquals: {
              [aud]: 'sts.amazonaws.com',
              [sub]: 'repo:octo-org/startup_web_app_server_side:ref:refs/heads/main',
            },
          },
        },
      ],
    });
  });

  it('restricts to a GitHub environment, or any ref of the repository with StringLike', async () => {
    h = await awsCliHarness();
    await iamGithubOidcCommand(
      h.ctx(),
      { repo: 'o/r', environment: 'production', account: '123456789012' },
      h.deps,
    );
    expect(h.json<{ trustPolicy: PolicyDocument }>().trustPolicy.Statement[0]?.Condition).toEqual({
      StringEquals: { [aud]: 'sts.amazonaws.com', [sub]: 'repo:o/r:environment:production' },
    });
    await iamGithubOidcCommand(h.ctx(), { repo: 'o/r', account: '123456789012' }, h.deps);
    expect(h.json<{ trustPolicy: PolicyDocument }>().trustPolicy.Statement[0]?.Condition).toEqual({
      StringEquals: { [aud]: 'sts.amazonaws.com' },
      StringLike: { [sub]: 'repo:o/r:*' },
    });
    expect(h.fake.calls).toEqual([]);
  });

  it('validates --repo (and the rest) before any AWS call', async () => {
    h = await awsCliHarness();
    for (const repo of ['startup_web_app', 'o/r/x', '/r', 'o/', 'o r/x', 'o/r;rm']) {
      expect(await usageError(iamGithubOidcCommand(h.ctx(), { repo }, h.deps))).toContain(
        '--repo must be OWNER/NAME',
      );
    }
    expect(
      await usageError(
        iamGithubOidcCommand(h.ctx(), { repo: 'o/r', branch: 'main', environment: 'prod' }, h.deps),
      ),
    ).toContain('not both');
    expect(
      await usageError(iamGithubOidcCommand(h.ctx(), { repo: 'o/r', branch: 'a b' }, h.deps)),
    ).toContain('--branch');
    expect(h.fake.calls).toEqual([]);
  });
});
