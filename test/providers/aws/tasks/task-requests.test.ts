/**
 * The exact requests `berth migrate --provider aws` sends through the real SDK adapters, with
 * every client mocked (aws-sdk-client-mock): RegisterTaskDefinition with the image to run,
 * RunTask (Fargate, awsvpc network, DATABASE_NAME override, startedBy, tags), DescribeTasks
 * and FilterLogEvents (by prefix until the stream exists, then by name, deduped by eventId).
 * Fake credentials, an endpoint nobody listens on.
 */
import {
  CloudWatchLogsClient,
  FilterLogEventsCommand,
  GetLogEventsCommand,
  ResourceNotFoundException,
  type FilterLogEventsCommandInput,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import {
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  type RegisterTaskDefinitionCommandInput,
  type RunTaskCommandInput,
  type Task,
} from '@aws-sdk/client-ecs';
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DescribeImagesCommand, ECRClient, ImageNotFoundException } from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CommandDeps as AwsFleetDeps } from '../../../../src/cli/context.js';
import { migrateCommand } from '../../../../src/cli/commands/migrate.js';
import { ExitCode } from '../../../../src/core/exit-codes.js';
import { createAwsClients } from '../../../../src/providers/aws/api/clients.js';
import { createSdkEcrApi } from '../../../../src/providers/aws/api/sdk/ecr.js';
import { sampleConfig } from '../../../../src/providers/aws/fake/sample-stack.js';
import { awsCliHarness, type AwsCliHarness } from '../../../support/aws-cli.js';
import {
  SDK_TEST_SETTINGS,
  UNREACHABLE_ENDPOINT,
  useFakeAwsEnvironment,
} from '../../../support/aws-sdk-env.js';

const ACCOUNT = '123456789012';
const SECRET_ARN = `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:rds/startupwebapp/multi-tenant/master-AbCdEf`;
const BACKEND = 'sg-0b1a2c3d4e5f60001';
const DATABASE = 'sg-0d1a2b3c4d5e60002';
const FAMILY_ARN = `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/startupwebapp-migration-task`;
const TASK_ID = '0123456789abcdef0123456789abcdef';
const TASK_ARN = `arn:aws:ecs:us-east-1:${ACCOUNT}:task/startupwebapp-cluster/${TASK_ID}`;
const IMAGE = `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/startupwebapp-backend:abc1234`;
const STREAM = `migration/migration/${TASK_ID}`;
const meta = { $metadata: {} };

const ecs = mockClient(ECSClient);
const logs = mockClient(CloudWatchLogsClient);
const ec2 = mockClient(EC2Client);
const secrets = mockClient(SecretsManagerClient);
const ecr = mockClient(ECRClient);

let restore: () => void;
let h: AwsCliHarness;
beforeAll(() => {
  restore = useFakeAwsEnvironment();
});
afterAll(() => {
  for (const m of [ecs, logs, ec2, secrets, ecr]) m.restore();
  restore();
});
afterEach(async () => {
  await h.cleanup();
});

function task(status: string, extra: Partial<Task> = {}): Task {
  return {
    taskArn: TASK_ARN,
    clusterArn: `arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/startupwebapp-cluster`,
    taskDefinitionArn: `${FAMILY_ARN}:8`,
    lastStatus: status,
    desiredStatus: status === 'STOPPED' ? 'STOPPED' : 'RUNNING',
    containers: [{ name: 'migration', lastStatus: status }],
    ...extra,
  };
}

beforeEach(() => {
  for (const m of [ecs, logs, ec2, secrets, ecr]) m.reset();
  secrets
    .on(DescribeSecretCommand)
    .resolves({ ARN: SECRET_ARN, Name: 'rds/startupwebapp/multi-tenant/master' });
  ec2.on(DescribeSubnetsCommand).resolves({
    Subnets: [
      { SubnetId: 'subnet-0aaa1111', VpcId: 'vpc-1' },
      { SubnetId: 'subnet-0bbb2222', VpcId: 'vpc-1' },
    ],
  });
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
  // The revision `berth up` registered (berth's tags), with the :latest image.
  ecs.on(DescribeTaskDefinitionCommand).resolves({
    taskDefinition: {
      taskDefinitionArn: `${FAMILY_ARN}:7`,
      family: 'startupwebapp-migration-task',
      revision: 7,
      status: 'ACTIVE',
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '256',
      memory: '512',
      containerDefinitions: [
        { name: 'migration', image: IMAGE.replace(/:abc1234$/, ':latest'), essential: true },
      ],
    },
    tags: [
      { key: 'managed-by', value: 'berth' },
      { key: 'stack', value: 'startupwebapp' },
    ],
  });
  ecs.on(RegisterTaskDefinitionCommand).callsFake((input: RegisterTaskDefinitionCommandInput) => ({
    taskDefinition: {
      ...input,
      taskDefinitionArn: `${FAMILY_ARN}:8`,
      revision: 8,
      status: 'ACTIVE',
    },
    tags: input.tags,
  }));
  ecs.on(ListTasksCommand).resolves({ taskArns: [] });
  ecs.on(RunTaskCommand).resolves({ tasks: [task('PROVISIONING')], failures: [] });
  ecs
    .on(DescribeTasksCommand)
    .resolvesOnce({ tasks: [task('PENDING')] })
    .resolvesOnce({ tasks: [task('RUNNING', { startedAt: new Date() })] })
    .resolves({
      tasks: [
        task('STOPPED', {
          stopCode: 'EssentialContainerExited',
          stoppedReason: 'Essential container in task exited',
          startedAt: new Date(),
          stoppedAt: new Date(),
          containers: [{ name: 'migration', lastStatus: 'STOPPED', exitCode: 0 }],
        }),
      ],
    });
  // No stream yet; then two lines; then a line that arrived after STOPPED. Every answer
  // repeats what the previous one had (the reader reads an overlap window again).
  let filterCalls = 0;
  logs.on(FilterLogEventsCommand).callsFake((input: FilterLogEventsCommandInput) => {
    filterCalls++;
    const shown = filterCalls === 1 ? 0 : filterCalls === 2 ? 2 : 3;
    if (input.logStreamNames && shown === 0)
      throw new ResourceNotFoundException({
        message: 'The specified log stream does not exist.',
        ...meta,
      });
    return { events: LOG_EVENTS.slice(0, shown), searchedLogStreams: [] };
  });
});

const T0 = Date.UTC(2026, 0, 2);
const LOG_EVENTS = [
  'Applying 0001_auth',
  'Applying 0002_sessions_admin',
  'Applied 2 migration(s) to fintech_experiment',
].map((message, i) => ({
  timestamp: T0 + 6_000 + i * 1_000,
  message,
  eventId: `event-${i}`,
  logStreamName: STREAM,
}));

function deps(base: AwsCliHarness): AwsFleetDeps {
  let now = T0;
  return {
    ...base.deps,
    // Real SDK clients (mocked above), pointed at an endpoint nobody listens on.
    createClients: (settings) => createAwsClients({ ...settings, endpoint: UNREACHABLE_ENDPOINT }),
    clock: () => now,
    sleep: (ms) => {
      now += ms;
      return Promise.resolve();
    },
  };
}

async function migrateOne(config = sampleConfig()): Promise<number> {
  h = await awsCliHarness({ config });
  await mkdir(path.join(h.dir, 'migrations'));
  await writeFile(path.join(h.dir, 'migrations', '0001_auth.sql'), '-- fake\n');
  await writeFile(path.join(h.dir, 'migrations', '0002_sessions_admin.sql'), '-- fake\n');
  return migrateCommand(h.ctx(), { database: ['fintech_experiment'], image: IMAGE }, deps(h));
}

describe('berth migrate --provider aws: the requests', () => {
  it('registers a revision with the image, runs it on Fargate in the private subnets, and follows its log', async () => {
    // The sample config names no migrations.directory files here: no probe command, so the
    // task always runs (the probe's requests are the same RunTask with DATABASE_NAMES).
    expect(await migrateOne()).toBe(ExitCode.ok);

    const registered = ecs.commandCalls(RegisterTaskDefinitionCommand);
    expect(registered).toHaveLength(1);
    expect(registered[0]?.args[0].input).toMatchObject({
      family: 'startupwebapp-migration-task',
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '256',
      memory: '512',
      executionRoleArn: `arn:aws:iam::${ACCOUNT}:role/ecsTaskExecutionRole-startupwebapp`,
      taskRoleArn: `arn:aws:iam::${ACCOUNT}:role/ecsTaskRole-startupwebapp`,
      containerDefinitions: [
        {
          name: 'migration',
          image: IMAGE,
          essential: true,
          command: ['node', 'dist/migrate.js'],
          secrets: expect.arrayContaining([
            { name: 'DATABASE_PASSWORD', valueFrom: `${SECRET_ARN}:password::` },
          ]) as unknown,
          logConfiguration: {
            logDriver: 'awslogs',
            options: {
              'awslogs-group': '/ecs/startupwebapp-migrations',
              'awslogs-region': 'us-east-1',
              'awslogs-stream-prefix': 'migration',
            },
          },
        },
      ],
      tags: expect.arrayContaining([
        { key: 'managed-by', value: 'berth' },
        { key: 'stack', value: 'startupwebapp' },
      ]) as unknown,
    } satisfies Partial<RegisterTaskDefinitionCommandInput> | Record<string, unknown>);

    const runs = ecs.commandCalls(RunTaskCommand);
    expect(runs).toHaveLength(1);
    const run = runs[0]?.args[0].input as RunTaskCommandInput;
    expect(run).toMatchObject({
      cluster: 'startupwebapp-cluster',
      taskDefinition: `${FAMILY_ARN}:8`,
      launchType: 'FARGATE',
      count: 1,
      networkConfiguration: {
        awsvpcConfiguration: {
          subnets: ['subnet-0aaa1111', 'subnet-0bbb2222'],
          securityGroups: [BACKEND],
          assignPublicIp: 'DISABLED',
        },
      },
      overrides: {
        containerOverrides: [
          {
            name: 'migration',
            command: ['node', 'dist/migrate.js'],
            // PGOPTIONS: migrations.lockTimeout (default 5s) for lock-safe DDL.
            environment: [
              { name: 'DATABASE_NAME', value: 'fintech_experiment' },
              { name: 'PGOPTIONS', value: '-c lock_timeout=5s' },
            ],
          },
        ],
      },
      startedBy: 'berth/migrate/fintech_experiment',
    });
    expect(run.tags).toEqual(
      expect.arrayContaining([
        { key: 'managed-by', value: 'berth' },
        { key: 'stack', value: 'startupwebapp' },
        { key: 'berth:kind', value: 'migrate' },
        { key: 'berth:databases', value: 'fintech_experiment' },
        {
          key: 'berth:task',
          value: expect.stringMatching(/^migrate-\d{8}T\d{6}-[0-9a-f]{6}$/) as unknown,
        },
      ]),
    );

    for (const call of ecs.commandCalls(DescribeTasksCommand))
      expect(call.args[0].input).toEqual({
        cluster: 'startupwebapp-cluster',
        tasks: [TASK_ARN],
        include: ['TAGS'],
      });
    expect(ecs.commandCalls(StopTaskCommand)).toHaveLength(0);

    const reads = logs.commandCalls(FilterLogEventsCommand).map((c) => c.args[0].input);
    // Until the stream has been seen: by prefix, from the task's creation (the clock's T0).
    expect(reads[0]).toEqual({
      logGroupName: '/ecs/startupwebapp-migrations',
      logStreamNamePrefix: 'migration/migration/',
      startTime: T0 - 1_000,
    } satisfies FilterLogEventsCommandInput);
    // Then by name, from the last event seen less the overlap window.
    expect(reads[1]?.logStreamNamePrefix).toBe('migration/migration/');
    expect(reads.slice(2).length).toBeGreaterThan(0);
    expect(reads[2]).toEqual({
      logGroupName: '/ecs/startupwebapp-migrations',
      logStreamNames: [STREAM],
      startTime: T0 + 7_000 - 60_000,
    } satisfies FilterLogEventsCommandInput);
    // Exit 0 and a stream that settled: no GetLogEvents backfill.
    expect(logs.commandCalls(GetLogEventsCommand)).toHaveLength(0);

    const summary = h.json<{ databases: { status: string; exitCode: number; taskId: string }[] }>();
    expect(summary.databases).toEqual([
      expect.objectContaining({ status: 'applied', exitCode: 0 }),
    ]);
    const log = await readFile(
      path.join(h.dir, '.berth', 'logs', `${summary.databases[0]?.taskId ?? ''}.log`),
      'utf8',
    );
    expect(log).toBe(
      'Applying 0001_auth\nApplying 0002_sessions_admin\nApplied 2 migration(s) to fintech_experiment\n',
    );
  });

  it('assigns a public IP only when network.assignPublicIp says so, and takes a group ID as is', async () => {
    const config = sampleConfig((y) =>
      y
        .replace(
          'backendSecurityGroup: startupwebapp-backend-sg',
          `backendSecurityGroup: ${BACKEND}`,
        )
        .replace(
          '  databaseSecurityGroup: startupwebapp-rds-sg',
          `  databaseSecurityGroup: ${DATABASE}\n  assignPublicIp: true`,
        ),
    );
    expect(await migrateOne(config)).toBe(ExitCode.ok);
    const run = ecs.commandCalls(RunTaskCommand)[0]?.args[0].input as RunTaskCommandInput;
    expect(run.networkConfiguration?.awsvpcConfiguration).toEqual({
      subnets: ['subnet-0aaa1111', 'subnet-0bbb2222'],
      securityGroups: [BACKEND],
      assignPublicIp: 'ENABLED',
    });
    // Looked up by ID (a group-id filter), never by Name tag.
    expect(
      ec2.commandCalls(DescribeSecurityGroupsCommand).map((c) => c.args[0].input.Filters),
    ).toEqual([[{ Name: 'group-id', Values: [BACKEND, DATABASE] }]]);
  });

  it('sends StopTask for a task that outlives task.timeoutSeconds', async () => {
    ecs.on(DescribeTasksCommand).resolves({ tasks: [task('RUNNING', { startedAt: new Date() })] });
    ecs.on(StopTaskCommand).callsFake(() => {
      ecs.on(DescribeTasksCommand).resolves({
        tasks: [
          task('STOPPED', {
            stopCode: 'UserInitiated',
            stoppedReason: 'berth: timed out',
            startedAt: new Date(),
            containers: [{ name: 'migration', exitCode: 143 }],
          }),
        ],
      });
      return { task: task('DEPROVISIONING') };
    });
    expect(await migrateOne()).toBe(ExitCode.migrationFailed);
    const stops = ecs.commandCalls(StopTaskCommand);
    expect(stops).toHaveLength(1);
    expect(stops[0]?.args[0].input).toMatchObject({
      cluster: 'startupwebapp-cluster',
      task: TASK_ARN,
      reason: expect.stringMatching(/^berth: timed out after 600s/) as unknown,
    });
  });
});

describe('the image a migration runs', () => {
  it("asks DescribeImages for the commit's tag; a missing tag is undefined, not an error", async () => {
    h = await awsCliHarness();
    ecr
      .on(DescribeImagesCommand, { imageIds: [{ imageTag: 'abc1234' }] })
      .resolves({
        imageDetails: [{ imageDigest: 'sha256:1', imageTags: ['abc1234', 'latest'] }],
      })
      .on(DescribeImagesCommand, { imageIds: [{ imageTag: 'nope' }] })
      .rejects(new ImageNotFoundException({ message: 'not found', ...meta }));
    const api = createSdkEcrApi(SDK_TEST_SETTINGS);
    expect(await api.describeImageTag('startupwebapp-backend', 'abc1234')).toEqual({
      digest: 'sha256:1',
      tags: ['abc1234', 'latest'],
    });
    expect(await api.describeImageTag('startupwebapp-backend', 'nope')).toBeUndefined();
    expect(ecr.commandCalls(DescribeImagesCommand)[0]?.args[0].input).toEqual({
      repositoryName: 'startupwebapp-backend',
      imageIds: [{ imageTag: 'abc1234' }],
    });
  });
});
