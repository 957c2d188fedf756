/**
 * The SDK adapters' reading side and their error mapping, with the SDK clients mocked:
 * not-found → undefined, AccessDenied → AWS_ACCESS_DENIED naming the action and resource,
 * no credentials → AWS_CREDENTIALS_MISSING with how to provide them.
 */
import { CloudWatchLogsClient, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import {
  CreateRepositoryCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
} from '@aws-sdk/client-ecr';
import {
  ClientException,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ListTaskDefinitionsCommand,
} from '@aws-sdk/client-ecs';
import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import {
  DescribeSecretCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import {
  DescribeParametersCommand,
  GetParameterCommand,
  GetParametersCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isBerthError, type BerthError } from '../../../../src/core/errors.js';
import { MASK, redactor } from '../../../../src/core/redact.js';
import { ExitCode, exitCodeForError } from '../../../../src/core/exit-codes.js';
import { createAwsClients } from '../../../../src/providers/aws/api/clients.js';
import { toBerthError } from '../../../../src/providers/aws/api/errors.js';
import { createSdkEcrApi } from '../../../../src/providers/aws/api/sdk/ecr.js';
import { createAwsFake } from '../../../../src/providers/aws/fake/aws-fake.js';
import {
  SDK_TEST_SETTINGS,
  UNREACHABLE_ENDPOINT,
  useFakeAwsEnvironment,
} from '../../../support/aws-sdk-env.js';

const meta = { $metadata: {} };
const mocks = {
  ecr: mockClient(ECRClient),
  ecs: mockClient(ECSClient),
  iam: mockClient(IAMClient),
  logs: mockClient(CloudWatchLogsClient),
  ec2: mockClient(EC2Client),
  secrets: mockClient(SecretsManagerClient),
  ssm: mockClient(SSMClient),
  sts: mockClient(STSClient),
};
let restore: () => void;
beforeAll(() => {
  restore = useFakeAwsEnvironment();
});
beforeEach(() => {
  for (const m of Object.values(mocks)) m.reset();
});
afterAll(() => {
  for (const m of Object.values(mocks)) m.restore();
  restore();
});

async function caught(promise: Promise<unknown>): Promise<BerthError> {
  try {
    await promise;
  } catch (error) {
    if (isBerthError(error)) return error;
    throw error;
  }
  throw new Error('expected an error');
}

const clients = () => createAwsClients(SDK_TEST_SETTINGS);

describe('SDK adapters: reads', () => {
  it('decodes the URL-encoded trust policy IAM returns and maps the tags', async () => {
    const doc =
      '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}';
    mocks.iam.on(GetRoleCommand).resolves({
      Role: {
        RoleName: 'r',
        Arn: 'arn:aws:iam::1:role/r',
        Path: '/',
        RoleId: 'x',
        CreateDate: new Date(0),
        AssumeRolePolicyDocument: encodeURIComponent(doc),
        Tags: [{ Key: 'stack', Value: 'a' }],
      },
    });
    expect(await clients().iam.getRole('r')).toEqual({
      name: 'r',
      arn: 'arn:aws:iam::1:role/r',
      assumeRolePolicy: doc,
      tags: { stack: 'a' },
    });
  });

  it('finds the log group with that exact name among the prefix matches', async () => {
    mocks.logs.on(DescribeLogGroupsCommand).resolves({
      logGroups: [
        {
          logGroupName: '/ecs/app',
          logGroupArn: 'arn:aws:logs:us-east-1:1:log-group:/ecs/app',
          retentionInDays: 7,
          storedBytes: 42,
        },
        {
          logGroupName: '/ecs/app-other',
          logGroupArn: 'arn:aws:logs:us-east-1:1:log-group:/ecs/app-other',
        },
      ],
    });
    expect(await clients().logs.describeLogGroup('/ecs/app')).toEqual({
      name: '/ecs/app',
      arn: 'arn:aws:logs:us-east-1:1:log-group:/ecs/app',
      retentionDays: 7,
      storedBytes: 42,
    });
    mocks.logs
      .on(DescribeLogGroupsCommand)
      .resolves({ logGroups: [{ logGroupName: '/ecs/app-other' }] });
    expect(await clients().logs.describeLogGroup('/ecs/app')).toBeUndefined();
  });

  it('keeps only the exact family from ListTaskDefinitions (familyPrefix is a prefix)', async () => {
    mocks.ecs.on(ListTaskDefinitionsCommand).resolves({
      taskDefinitionArns: [
        'arn:aws:ecs:us-east-1:1:task-definition/fam:2',
        'arn:aws:ecs:us-east-1:1:task-definition/fam-other:1',
        'arn:aws:ecs:us-east-1:1:task-definition/fam:1',
      ],
    });
    expect(await clients().ecs.listTaskDefinitionArns('fam')).toEqual([
      'arn:aws:ecs:us-east-1:1:task-definition/fam:2',
      'arn:aws:ecs:us-east-1:1:task-definition/fam:1',
    ]);
    expect(mocks.ecs.commandCalls(ListTaskDefinitionsCommand)[0]?.args[0].input).toEqual({
      familyPrefix: 'fam',
      status: 'ACTIVE',
      sort: 'DESC',
    });
  });

  it('reads a family without ACTIVE revisions as absent', async () => {
    mocks.ecs
      .on(DescribeTaskDefinitionCommand)
      .rejects(new ClientException({ message: 'Unable to describe task definition.', ...meta }));
    expect(await clients().ecs.describeTaskDefinition('fam')).toBeUndefined();
  });

  it('counts images across pages', async () => {
    mocks.ecr
      .on(DescribeImagesCommand)
      .resolvesOnce({ imageDetails: [{}, {}], nextToken: 't' })
      .resolves({ imageDetails: [{}] });
    expect(await clients().ecr.countImages('repo')).toBe(3);
  });

  it('queries security-group rules with group and tag filters', async () => {
    mocks.ec2.on(DescribeSecurityGroupRulesCommand).resolves({
      SecurityGroupRules: [
        {
          SecurityGroupRuleId: 'sgr-1',
          GroupId: 'sg-1',
          IsEgress: true,
          IpProtocol: 'tcp',
          FromPort: 443,
          ToPort: 443,
          CidrIpv4: '0.0.0.0/0',
          Tags: [{ Key: 'stack', Value: 'a' }],
        },
      ],
    });
    const rules = await clients().ec2.describeSecurityGroupRules({
      groupIds: ['sg-1'],
      tags: { stack: 'a', 'managed-by': 'berth' },
    });
    expect(rules).toEqual([
      {
        id: 'sgr-1',
        groupId: 'sg-1',
        direction: 'egress',
        protocol: 'tcp',
        fromPort: 443,
        toPort: 443,
        cidrIpv4: '0.0.0.0/0',
        tags: { stack: 'a' },
      },
    ]);
    expect(mocks.ec2.commandCalls(DescribeSecurityGroupRulesCommand)[0]?.args[0].input).toEqual({
      Filters: [
        { Name: 'group-id', Values: ['sg-1'] },
        { Name: 'tag:managed-by', Values: ['berth'] },
        { Name: 'tag:stack', Values: ['a'] },
      ],
      MaxResults: 1000,
    });
  });

  it('looks security groups up by ID with a filter, so a missing ID is "no match", not an error', async () => {
    mocks.ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [] });
    expect(await clients().ec2.describeSecurityGroups({ ids: ['sg-0nope'] })).toEqual([]);
    expect(mocks.ec2.commandCalls(DescribeSecurityGroupsCommand)[0]?.args[0].input).toEqual({
      Filters: [{ Name: 'group-id', Values: ['sg-0nope'] }],
    });
  });

  it('reads a missing secret as undefined and returns only metadata', async () => {
    mocks.secrets.on(DescribeSecretCommand).rejects(
      new ResourceNotFoundException({
        message: "Secrets Manager can't find the specified secret.",
        ...meta,
      }),
    );
    expect(await clients().secrets.describeSecret('nope')).toBeUndefined();
  });

  it('describes parameters by exact name, 50 names a call, following NextToken, never reading a value', async () => {
    const names = Array.from({ length: 51 }, (_, i) => `/app/p${i}`);
    const arn = (name: string) => `arn:aws:ssm:us-east-1:1:parameter${name}`;
    mocks.ssm
      .on(DescribeParametersCommand)
      .resolvesOnce({
        Parameters: [
          {
            Name: '/app/p0',
            ARN: arn('/app/p0'),
            Type: 'SecureString',
            KeyId: 'alias/aws/ssm',
          },
        ],
        NextToken: 'page-2',
      })
      .resolvesOnce({ Parameters: [{ Name: '/app/p7', Type: 'String' }] })
      .resolvesOnce({ Parameters: [] });
    expect(await clients().ssm.describeParameters(names)).toEqual([
      { name: '/app/p0', arn: arn('/app/p0'), type: 'SecureString', kmsKeyId: 'alias/aws/ssm' },
      { name: '/app/p7', type: 'String' },
    ]);
    const inputs = mocks.ssm.commandCalls(DescribeParametersCommand).map((c) => c.args[0].input);
    expect(inputs).toEqual([
      {
        ParameterFilters: [{ Key: 'Name', Option: 'Equals', Values: names.slice(0, 50) }],
        MaxResults: 50,
      },
      {
        ParameterFilters: [{ Key: 'Name', Option: 'Equals', Values: names.slice(0, 50) }],
        MaxResults: 50,
        NextToken: 'page-2',
      },
      {
        ParameterFilters: [{ Key: 'Name', Option: 'Equals', Values: ['/app/p50'] }],
        MaxResults: 50,
      },
    ]);
    expect(mocks.ssm.commandCalls(GetParameterCommand)).toEqual([]);
    expect(mocks.ssm.commandCalls(GetParametersCommand)).toEqual([]);
  });

  it('maps a refused DescribeParameters to AWS_ACCESS_DENIED naming ssm:DescribeParameters', async () => {
    mocks.ssm.on(DescribeParametersCommand).rejects(
      Object.assign(new Error('not authorized to perform: ssm:DescribeParameters'), {
        name: 'AccessDeniedException',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    const error = await caught(clients().ssm.describeParameters(['/app/token']));
    expect(error.code).toBe('AWS_ACCESS_DENIED');
    expect(error.message).toContain('ssm:DescribeParameters on /app/token');
    expect(exitCodeForError(error.code)).toBe(ExitCode.provider);
  });

  it('gets the caller identity', async () => {
    mocks.sts.on(GetCallerIdentityCommand).resolves({
      Account: '123456789012',
      Arn: 'arn:aws:iam::123456789012:user/ci',
      UserId: 'AIDA',
    });
    expect(await clients().sts.getCallerIdentity()).toEqual({
      account: '123456789012',
      arn: 'arn:aws:iam::123456789012:user/ci',
      userId: 'AIDA',
    });
  });
});

describe('SDK adapters: ECR login token', () => {
  it('returns the token and registers it with the redactor at once', async () => {
    const token = Buffer.from('AWS:very-secret-ecr-password').toString('base64');
    mocks.ecr.on(GetAuthorizationTokenCommand).resolves({
      authorizationData: [
        {
          authorizationToken: token,
          proxyEndpoint: 'https://123456789012.dkr.ecr.us-east-1.amazonaws.com',
        },
      ],
    });
    const auth = await clients().ecr.getAuthorizationToken();
    expect(auth).toEqual({
      token,
      proxyEndpoint: 'https://123456789012.dkr.ecr.us-east-1.amazonaws.com',
    });
    expect(redactor.redact(`token ${token}`)).toBe(`token ${MASK}`);
  });
});

describe('SDK adapters: errors', () => {
  it('maps AccessDenied to AWS_ACCESS_DENIED naming the action and the resource', async () => {
    mocks.ecr
      .on(CreateRepositoryCommand)
      .rejects(
        Object.assign(
          new Error(
            'User: arn:aws:iam::1:user/ci is not authorized to perform: ecr:CreateRepository',
          ),
          { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400, requestId: 'req-1' } },
        ),
      );
    const error = await caught(
      clients().ecr.createRepository({
        name: 'repo',
        scanOnPush: true,
        encryptionType: 'AES256',
        tags: {},
      }),
    );
    expect(error.code).toBe('AWS_ACCESS_DENIED');
    expect(error.message).toContain('ecr:CreateRepository on repo');
    expect(error.hint).toContain('allow ecr:CreateRepository on repo');
    expect(error.details).toEqual({
      action: 'ecr:CreateRepository',
      resource: 'repo',
      awsCode: 'AccessDeniedException',
      requestId: 'req-1',
    });
    expect(exitCodeForError(error.code)).toBe(ExitCode.provider);
  });

  it("maps IAM's query-protocol AccessDenied too", () => {
    const error = toBerthError(
      Object.assign(new Error('not authorized'), { name: 'AccessDenied' }),
      { service: 'iam', action: 'CreateRole', resource: 'r' },
    );
    expect(error.code).toBe('AWS_ACCESS_DENIED');
  });

  it('maps a failing credential chain to AWS_CREDENTIALS_MISSING with how to provide credentials (no network involved)', async () => {
    const client = new ECRClient({
      region: 'us-east-1',
      endpoint: UNREACHABLE_ENDPOINT,
      credentials: () =>
        Promise.reject(
          Object.assign(new Error('Could not load credentials from any providers'), {
            name: 'CredentialsProviderError',
          }),
        ),
    });
    mocks.ecr.restore();
    try {
      const error = await caught(
        createSdkEcrApi(SDK_TEST_SETTINGS, client).describeRepository('repo'),
      );
      expect(error.code).toBe('AWS_CREDENTIALS_MISSING');
      expect(error.hint).toMatch(/--profile/);
      expect(error.hint).toMatch(/AWS_ACCESS_KEY_ID/);
      expect(error.hint).toMatch(/sso login/);
      expect(error.hint).toMatch(/OIDC/);
      expect(exitCodeForError(error.code)).toBe(ExitCode.environment);
    } finally {
      mocks.ecr = mockClient(ECRClient);
    }
  });

  it('maps expired or rejected credentials to AWS_CREDENTIALS_MISSING', () => {
    for (const name of [
      'ExpiredTokenException',
      'InvalidClientTokenId',
      'UnrecognizedClientException',
    ]) {
      expect(
        toBerthError(Object.assign(new Error('x'), { name }), {
          service: 'sts',
          action: 'GetCallerIdentity',
        }).code,
      ).toBe('AWS_CREDENTIALS_MISSING');
    }
  });

  it('maps a cluster that does not exist to AWS_REFERENCE_INVALID saying to run berth up', () => {
    const error = toBerthError(
      Object.assign(new Error('Cluster not found.'), { name: 'ClusterNotFoundException' }),
      { service: 'ecs', action: 'ListTasks', resource: 'startupwebapp-cluster' },
    );
    expect(error.code).toBe('AWS_REFERENCE_INVALID');
    expect(error.message).toBe(
      'the ECS cluster does not exist (ecs:ListTasks on startupwebapp-cluster: Cluster not found.)',
    );
    expect(error.hint).toMatch(/berth up/);
    expect(exitCodeForError(error.code)).toBe(ExitCode.provider);
  });

  it('gives the same error from the fake for a missing cluster', async () => {
    const fake = createAwsFake();
    const error = await caught(
      fake.clients.ecs.listTaskArns('startupwebapp-cluster', { desiredStatus: 'RUNNING' }),
    );
    expect(error.code).toBe('AWS_REFERENCE_INVALID');
    expect(error.message).toMatch(/^the ECS cluster does not exist \(ecs:listTaskArns/);
    expect(error.details?.awsCode).toBe('ClusterNotFoundException');
  });

  it('maps anything else to AWS_ERROR with the AWS code', async () => {
    mocks.ecr
      .on(DescribeRepositoriesCommand)
      .rejects(
        Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: {} }),
      );
    const error = await caught(clients().ecr.describeRepository('repo'));
    expect(error.code).toBe('AWS_ERROR');
    expect(error.message).toBe(
      'ecr:DescribeRepositories on repo failed: ThrottlingException: Rate exceeded',
    );
  });

  it('hints at the endpoint when AWS cannot be reached', () => {
    const error = toBerthError(
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }),
      { service: 'ecs', action: 'DescribeClusters' },
    );
    expect(error.code).toBe('AWS_ERROR');
    expect(error.hint).toContain('--endpoint-url');
  });

  it('passes BerthErrors through unchanged', () => {
    const error = toBerthError(toBerthError(new Error('x'), { service: 'ecs', action: 'A' }), {
      service: 'ecs',
      action: 'B',
    });
    expect(error.message).toContain('ecs:A');
  });
});
