/**
 * The exact requests berth sends, through the real SDK adapters with every client mocked
 * (aws-sdk-client-mock): lifecycle policy, trust and inline policies, tags, rules, the task
 * definition. A fresh stack: every describe says "not found", so `up` creates everything.
 */
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  DescribeLogGroupsCommand,
  PutRetentionPolicyCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import {
  CreateRepositoryCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  PutLifecyclePolicyCommand,
  RepositoryNotFoundException,
  type CreateRepositoryCommandInput,
} from '@aws-sdk/client-ecr';
import {
  ClientException,
  CreateClusterCommand,
  DescribeClustersCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  type CreateClusterCommandInput,
  type RegisterTaskDefinitionCommandInput,
} from '@aws-sdk/client-ecs';
import {
  AttachRolePolicyCommand,
  CreateRoleCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  NoSuchEntityException,
  PutRolePolicyCommand,
  type CreateRoleCommandInput,
} from '@aws-sdk/client-iam';
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../../../src/providers/aws/api/clients.js';
import { sampleConfig } from '../../../../src/providers/aws/fake/sample-stack.js';
import { upStack } from '../../../../src/providers/aws/stack/stack.js';
import { SDK_TEST_SETTINGS, useFakeAwsEnvironment } from '../../../support/aws-sdk-env.js';

const ACCOUNT = '123456789012';
const SECRET_ARN = `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:rds/startupwebapp/multi-tenant/master-AbCdEf`;
const BACKEND = 'sg-0backend0000000001';
const DATABASE = 'sg-0database000000002';
const meta = { $metadata: {} };

const ecr = mockClient(ECRClient);
const ecs = mockClient(ECSClient);
const iam = mockClient(IAMClient);
const logs = mockClient(CloudWatchLogsClient);
const ec2 = mockClient(EC2Client);
const secrets = mockClient(SecretsManagerClient);

let restore: () => void;
beforeAll(() => {
  restore = useFakeAwsEnvironment();
});
afterAll(() => {
  for (const m of [ecr, ecs, iam, logs, ec2, secrets]) m.restore();
  restore();
});

function freshAccount(): void {
  for (const m of [ecr, ecs, iam, logs, ec2, secrets]) m.reset();
  secrets
    .on(DescribeSecretCommand)
    .resolves({ ARN: SECRET_ARN, Name: 'rds/startupwebapp/multi-tenant/master' });
  ec2.on(DescribeSecurityGroupsCommand).resolves({
    SecurityGroups: [
      {
        GroupId: BACKEND,
        GroupName: 'backend',
        VpcId: 'vpc-1',
        Tags: [{ Key: 'Name', Value: 'startupwebapp-backend-sg' }],
      },
      {
        GroupId: DATABASE,
        GroupName: 'rds',
        VpcId: 'vpc-1',
        Tags: [{ Key: 'Name', Value: 'startupwebapp-rds-sg' }],
      },
    ],
  });
  ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [] });
  ec2.on(DescribeSubnetsCommand).resolves({
    Subnets: [
      { SubnetId: 'subnet-0aaa1111', VpcId: 'vpc-1' },
      { SubnetId: 'subnet-0bbb2222', VpcId: 'vpc-1' },
    ],
  });
  ec2.on(AuthorizeSecurityGroupEgressCommand).resolves({
    Return: true,
    SecurityGroupRules: [{ SecurityGroupRuleId: 'sgr-1', GroupId: BACKEND, IsEgress: true }],
  });
  ec2.on(AuthorizeSecurityGroupIngressCommand).resolves({
    Return: true,
    SecurityGroupRules: [{ SecurityGroupRuleId: 'sgr-2', GroupId: DATABASE, IsEgress: false }],
  });

  ecr
    .on(DescribeRepositoriesCommand)
    .rejects(new RepositoryNotFoundException({ message: 'not found', ...meta }));
  ecr.on(CreateRepositoryCommand).callsFake((input: CreateRepositoryCommandInput) => ({
    repository: {
      repositoryName: input.repositoryName,
      repositoryArn: `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/${input.repositoryName}`,
      repositoryUri: `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/${input.repositoryName}`,
      registryId: ACCOUNT,
    },
  }));
  ecr.on(PutLifecyclePolicyCommand).resolves({});

  ecs
    .on(DescribeClustersCommand)
    .resolves({ clusters: [], failures: [{ arn: 'x', reason: 'MISSING' }] });
  ecs.on(CreateClusterCommand).callsFake((input: CreateClusterCommandInput) => ({
    cluster: {
      clusterName: input.clusterName,
      clusterArn: `arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/${input.clusterName}`,
      status: 'ACTIVE',
    },
  }));
  ecs
    .on(DescribeTaskDefinitionCommand)
    .rejects(new ClientException({ message: 'Unable to describe task definition.', ...meta }));
  ecs.on(RegisterTaskDefinitionCommand).callsFake((input: RegisterTaskDefinitionCommandInput) => ({
    taskDefinition: {
      ...input,
      taskDefinitionArn: `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/${input.family}:1`,
      revision: 1,
      status: 'ACTIVE',
    },
    tags: input.tags,
  }));

  const noRole = () => new NoSuchEntityException({ message: 'The role cannot be found.', ...meta });
  iam.on(GetRoleCommand).rejects(noRole());
  iam.on(ListAttachedRolePoliciesCommand).rejects(noRole());
  iam.on(ListRolePoliciesCommand).rejects(noRole());
  iam.on(GetRolePolicyCommand).rejects(noRole());
  iam.on(CreateRoleCommand).callsFake((input: CreateRoleCommandInput) => ({
    Role: {
      RoleName: input.RoleName,
      Arn: `arn:aws:iam::${ACCOUNT}:role/${input.RoleName}`,
      Path: '/',
      RoleId: 'AROA',
      CreateDate: new Date(0),
    },
  }));
  iam.on(AttachRolePolicyCommand).resolves({});
  iam.on(PutRolePolicyCommand).resolves({});

  logs
    .on(DescribeLogGroupsCommand)
    .resolvesOnce({ logGroups: [] })
    .resolves({
      logGroups: [
        {
          logGroupName: '/ecs/startupwebapp-migrations',
          logGroupArn: `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/ecs/startupwebapp-migrations`,
          retentionInDays: 7,
        },
      ],
    });
  logs.on(CreateLogGroupCommand).resolves({});
  logs.on(PutRetentionPolicyCommand).resolves({});
}

const TAGS = [
  { Key: 'Application', Value: 'StartupWebApp' },
  { Key: 'Environment', Value: 'Production' },
  { Key: 'managed-by', Value: 'berth' },
  { Key: 'stack', Value: 'startupwebapp' },
];

async function upFresh() {
  freshAccount();
  const config = sampleConfig();
  return upStack({ clients: createAwsClients(SDK_TEST_SETTINGS), config, region: 'us-east-1' });
}

const inputs = <I>(calls: { args: [{ input: I }] }[]): I[] => calls.map((c) => c.args[0].input);

describe('requests berth sends to create a stack', () => {
  beforeEach(async () => {
    await upFresh();
  });

  it('creates the ECR repository with scan on push, AES256 and the tags', () => {
    expect(inputs(ecr.commandCalls(CreateRepositoryCommand))).toEqual([
      {
        repositoryName: 'startupwebapp-backend',
        imageScanningConfiguration: { scanOnPush: true },
        encryptionConfiguration: { encryptionType: 'AES256' },
        tags: [
          ...TAGS.slice(0, 2),
          { Key: 'Name', Value: 'startupwebapp-backend' },
          ...TAGS.slice(2),
        ],
      },
    ]);
  });

  it("sets the seed's lifecycle policy: keep the last registry.keepImages images", () => {
    const [call] = inputs(ecr.commandCalls(PutLifecyclePolicyCommand));
    expect(call?.repositoryName).toBe('startupwebapp-backend');
    expect(call?.lifecyclePolicyText).toBe(
      '{"rules":[{"rulePriority":1,"description":"Keep last 10 images","selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":10},"action":{"type":"expire"}}]}',
    );
  });

  it('creates the cluster with FARGATE and FARGATE_SPOT, on-demand Fargate by default', () => {
    expect(inputs(ecs.commandCalls(CreateClusterCommand))).toEqual([
      {
        clusterName: 'startupwebapp-cluster',
        capacityProviders: ['FARGATE', 'FARGATE_SPOT'],
        defaultCapacityProviderStrategy: [{ capacityProvider: 'FARGATE', weight: 1, base: 0 }],
        tags: TAGS.map((t) => ({ key: t.Key, value: t.Value })),
      },
    ]);
  });

  it('creates the log group with its tags, then sets the retention', () => {
    expect(inputs(logs.commandCalls(CreateLogGroupCommand))).toEqual([
      {
        logGroupName: '/ecs/startupwebapp-migrations',
        tags: {
          Application: 'StartupWebApp',
          Environment: 'Production',
          'managed-by': 'berth',
          stack: 'startupwebapp',
        },
      },
    ]);
    expect(inputs(logs.commandCalls(PutRetentionPolicyCommand))).toEqual([
      { logGroupName: '/ecs/startupwebapp-migrations', retentionInDays: 7 },
    ]);
  });

  it('creates both roles trusting ecs-tasks.amazonaws.com', () => {
    const roles = inputs(iam.commandCalls(CreateRoleCommand));
    expect(roles.map((r) => r.RoleName)).toEqual([
      'ecsTaskExecutionRole-startupwebapp',
      'ecsTaskRole-startupwebapp',
    ]);
    expect(roles.every((r) => JSON.stringify(r.Tags) === JSON.stringify(TAGS))).toBe(true);
    expect(JSON.parse(roles[0]?.AssumeRolePolicyDocument ?? '')).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Service: 'ecs-tasks.amazonaws.com' },
          Action: 'sts:AssumeRole',
        },
      ],
    });
    expect(JSON.parse(roles[1]?.AssumeRolePolicyDocument ?? '')).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Service: 'ecs-tasks.amazonaws.com' },
          Action: 'sts:AssumeRole',
          Condition: {
            ArnLike: { 'aws:SourceArn': `arn:aws:ecs:us-east-1:${ACCOUNT}:*` },
            StringEquals: { 'aws:SourceAccount': ACCOUNT },
          },
        },
      ],
    });
  });

  it('gives the execution role the managed policy and GetSecretValue on exactly the secret; the task role nothing', () => {
    expect(inputs(iam.commandCalls(AttachRolePolicyCommand))).toEqual([
      {
        RoleName: 'ecsTaskExecutionRole-startupwebapp',
        PolicyArn: 'arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy',
      },
    ]);
    const inline = inputs(iam.commandCalls(PutRolePolicyCommand));
    expect(inline.map((p) => [p.RoleName, p.PolicyName])).toEqual([
      ['ecsTaskExecutionRole-startupwebapp', 'berth-read-database-secret'],
    ]);
    expect(JSON.parse(inline[0]?.PolicyDocument ?? '')).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'ReadDatabaseSecret',
          Effect: 'Allow',
          Action: 'secretsmanager:GetSecretValue',
          Resource: SECRET_ARN,
        },
      ],
    });
  });

  it("adds the three security-group rules, described and tagged as berth's", () => {
    const tagSpecifications = [{ ResourceType: 'security-group-rule', Tags: TAGS }];
    const description = 'managed-by berth startupwebapp';
    expect(inputs(ec2.commandCalls(AuthorizeSecurityGroupEgressCommand))).toEqual([
      {
        GroupId: BACKEND,
        IpPermissions: [
          {
            IpProtocol: 'tcp',
            FromPort: 5432,
            ToPort: 5432,
            UserIdGroupPairs: [{ GroupId: DATABASE, Description: description }],
          },
        ],
        TagSpecifications: tagSpecifications,
      },
      {
        GroupId: BACKEND,
        IpPermissions: [
          {
            IpProtocol: 'tcp',
            FromPort: 443,
            ToPort: 443,
            IpRanges: [{ CidrIp: '0.0.0.0/0', Description: description }],
          },
        ],
        TagSpecifications: tagSpecifications,
      },
    ]);
    expect(inputs(ec2.commandCalls(AuthorizeSecurityGroupIngressCommand))).toEqual([
      {
        GroupId: DATABASE,
        IpPermissions: [
          {
            IpProtocol: 'tcp',
            FromPort: 5432,
            ToPort: 5432,
            UserIdGroupPairs: [{ GroupId: BACKEND, Description: description }],
          },
        ],
        TagSpecifications: tagSpecifications,
      },
    ]);
  });

  it('finds the security groups by Name tag in one call, with filters', () => {
    expect(inputs(ec2.commandCalls(DescribeSecurityGroupsCommand))).toEqual([
      {
        Filters: [
          { Name: 'tag:Name', Values: ['startupwebapp-backend-sg', 'startupwebapp-rds-sg'] },
        ],
      },
    ]);
  });

  it('checks the subnets with a subnet-id filter, so a missing one is no match rather than an error', () => {
    expect(inputs(ec2.commandCalls(DescribeSubnetsCommand))).toEqual([
      { Filters: [{ Name: 'subnet-id', Values: ['subnet-0aaa1111', 'subnet-0bbb2222'] }] },
    ]);
  });

  it('registers the migration task definition', () => {
    expect(inputs(ecs.commandCalls(RegisterTaskDefinitionCommand))).toEqual([
      {
        family: 'startupwebapp-migration-task',
        taskRoleArn: `arn:aws:iam::${ACCOUNT}:role/ecsTaskRole-startupwebapp`,
        executionRoleArn: `arn:aws:iam::${ACCOUNT}:role/ecsTaskExecutionRole-startupwebapp`,
        networkMode: 'awsvpc',
        requiresCompatibilities: ['FARGATE'],
        cpu: '256',
        memory: '512',
        volumes: [{ name: 'tmp' }],
        containerDefinitions: [
          {
            name: 'migration',
            image: `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/startupwebapp-backend:latest`,
            essential: true,
            command: ['node', 'dist/migrate.js'],
            environment: [
              { name: 'AWS_REGION', value: 'us-east-1' },
              { name: 'DB_SECRET_NAME', value: 'rds/startupwebapp/multi-tenant/master' },
              { name: 'NODE_ENV', value: 'production' },
            ],
            secrets: [
              { name: 'DATABASE_HOST', valueFrom: `${SECRET_ARN}:host::` },
              { name: 'DATABASE_PASSWORD', valueFrom: `${SECRET_ARN}:password::` },
              { name: 'DATABASE_PORT', valueFrom: `${SECRET_ARN}:port::` },
              { name: 'DATABASE_USER', valueFrom: `${SECRET_ARN}:username::` },
            ],
            mountPoints: [{ sourceVolume: 'tmp', containerPath: '/tmp', readOnly: false }],
            logConfiguration: {
              logDriver: 'awslogs',
              options: {
                'awslogs-group': '/ecs/startupwebapp-migrations',
                'awslogs-region': 'us-east-1',
                'awslogs-stream-prefix': 'migration',
              },
            },
            user: '1000',
            readonlyRootFilesystem: true,
          },
        ],
        tags: TAGS.map((t) => ({ key: t.Key, value: t.Value })),
      },
    ]);
  });

  it('never asks Secrets Manager for the secret value', () => {
    expect(
      secrets.calls().map((c) => (c.args[0] as { constructor: { name: string } }).constructor.name),
    ).toEqual(['DescribeSecretCommand']);
  });
});

describe('kms:Decrypt', () => {
  it('is added to the inline policy for a configured customer key', async () => {
    freshAccount();
    const kmsKey = `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
    const config = sampleConfig((y) =>
      y.replace(
        '    name: rds/startupwebapp/multi-tenant/master\n  tenants',
        `    name: rds/startupwebapp/multi-tenant/master\n    kmsKey: ${kmsKey}\n  tenants`,
      ),
    );
    await upStack({ clients: createAwsClients(SDK_TEST_SETTINGS), config, region: 'us-east-1' });
    const [inline] = inputs(iam.commandCalls(PutRolePolicyCommand));
    expect(JSON.parse(inline?.PolicyDocument ?? '')).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'ReadDatabaseSecret',
          Effect: 'Allow',
          Action: 'secretsmanager:GetSecretValue',
          Resource: SECRET_ARN,
        },
        { Sid: 'DecryptDatabaseSecret', Effect: 'Allow', Action: 'kms:Decrypt', Resource: kmsKey },
      ],
    });
  });
});
