/**
 * berth's stack commands (plan, up, status, show, down, iam) against the AWS emulator (moto),
 * through the built CLI, unmodified except for the endpoint. A recording proxy counts every
 * API call of each command, so "plan writes nothing" and "a second up makes zero writes" are
 * measured, not assumed.
 *
 * What moto does not do, and where those paths are covered instead (the in-memory fake,
 * src/providers/aws/fake/, with its own tests, and aws-sdk-client-mock for request shapes):
 *  - Security-group rules that reference a group keep no description in moto (a CIDR rule
 *    keeps it): `show` prints `null` for them here. berth finds its rules by tags, so nothing
 *    else depends on it; descriptions are pinned in test/unit/aws-requests.test.ts.
 *  - A cluster's running-task count stays 0 for Fargate tasks, so `down` refusing while
 *    tasks run is covered by test/unit/aws-flow.test.ts against the fake.
 *  - ECR has no registry behind it (`docker push` cannot reach it): images are put with
 *    ECR's API here; pushes are tested with the container lab's registry
 *    (test/integration/container-pipeline.test.ts) and test/unit/image-push.test.ts.
 *  - IAM checks a policy document's grammar only; least privilege (every call of
 *    migrate/verify/tasks allowed by `iam ci-policy`) is checked in test/unit/aws-iam.test.ts.
 *  - A deleted log group's tags survive in moto and go to the next group of that name, so
 *    the adoption test starts from a reset account (see its describe block).
 */
import {
  AttachRolePolicyCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  DeleteRolePolicyCommand,
  GetRolePolicyCommand,
  IAMClient,
} from '@aws-sdk/client-iam';
import {
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  EC2Client,
  RevokeSecurityGroupEgressCommand,
} from '@aws-sdk/client-ec2';
import {
  CreateRepositoryCommand,
  ECRClient,
  PutImageCommand,
  PutImageScanningConfigurationCommand,
} from '@aws-sdk/client-ecr';
import {
  DescribeTaskDefinitionCommand,
  ECSClient,
  PutClusterCapacityProvidersCommand,
  RegisterTaskDefinitionCommand,
} from '@aws-sdk/client-ecs';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  PutRetentionPolicyCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  DownResult,
  StackDetails,
  StackPlan,
  StackStatus,
  UpResult,
} from '../../src/providers/aws/stack/stack.js';
import {
  BACKEND_GROUP,
  DATABASE_GROUP,
  SECRET_NAME,
  emulatorConfigYaml,
  emulatorProject,
  lastJson,
  requireEmulator,
  resetEmulator,
  sdkSettings,
  seedEmulatorPrerequisites,
  expectNoWrites,
  writes,
  type EmulatorPrerequisites,
  type EmulatorProject,
} from '../support/aws-emulator.js';

const endpoint = await requireEmulator();

const KINDS = [
  'ecr-repository',
  'ecs-cluster',
  'log-group',
  'execution-role',
  'task-role',
  'security-group-rules',
  'task-definition',
];
const STACK = {
  repository: 'startupwebapp-backend',
  cluster: 'startupwebapp-cluster',
  logGroup: '/ecs/startupwebapp-migrations',
  executionRole: 'ecsTaskExecutionRole-startupwebapp',
  taskRole: 'ecsTaskRole-startupwebapp',
  family: 'startupwebapp-migration-task',
};

type Action = [kind: string, action: string];
const actions = (plan: StackPlan): Action[] => plan.resources.map((r) => [r.kind, r.action]);
const all = (action: string): Action[] => KINDS.map((k) => [k, action]);

describe.skipIf(!endpoint)('the AWS stack against the emulator', () => {
  const url = endpoint ?? '';
  let prereqs: EmulatorPrerequisites;
  let p: EmulatorProject;
  const clients = {
    ec2: () => new EC2Client(sdkSettings(url)),
    ecr: () => new ECRClient(sdkSettings(url)),
    ecs: () => new ECSClient(sdkSettings(url)),
    logs: () => new CloudWatchLogsClient(sdkSettings(url)),
    iam: () => new IAMClient(sdkSettings(url)),
    secrets: () => new SecretsManagerClient(sdkSettings(url)),
  };
  /** Everything berth printed in this file, to check that the secret never shows. */
  let printed = '';
  async function berth(...args: string[]) {
    const result = await p.berth(args);
    printed += result.stdout + result.stderr;
    return result;
  }

  beforeAll(async () => {
    await resetEmulator(url);
    prereqs = await seedEmulatorPrerequisites(url);
    p = await emulatorProject(url, emulatorConfigYaml(prereqs));
  });
  afterAll(async () => {
    await p?.cleanup();
  });

  it('plans seven creates on an empty account and writes nothing', async () => {
    const text = await berth('plan');
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('Plan: 7 to create, 0 to update, 0 unchanged.');
    expect(text.stderr).not.toContain('NodeVersionSupportWarning');

    const json = await berth('plan', '--json', '--detailed-exitcode');
    expect(json.code).toBe(9);
    const plan = lastJson<StackPlan>(json.stdout);
    expect(plan).toMatchObject({ stack: 'startupwebapp', region: 'us-east-1', pending: true });
    expect(actions(plan)).toEqual(all('create'));
    expectNoWrites([...text.calls, ...json.calls]);
    expect(json.calls.length).toBeGreaterThan(0);
  });

  it('goes up in dependency order, then a second up makes zero writes', async () => {
    const first = await berth('up', '--json');
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const up = lastJson<UpResult>(first.stdout);
    expect(up.summary).toMatchObject({ create: 7, update: 0, unchanged: 0 });
    // Every write of a fresh `up`, in order: one resource after the other.
    expect(writes(first.calls)).toEqual([
      'ecr:CreateRepository',
      'ecr:PutLifecyclePolicy',
      'ecs:CreateCluster',
      'logs:CreateLogGroup',
      'logs:PutRetentionPolicy',
      'iam:CreateRole',
      'iam:AttachRolePolicy',
      'iam:PutRolePolicy',
      'iam:CreateRole',
      'ec2:AuthorizeSecurityGroupEgress',
      'ec2:AuthorizeSecurityGroupIngress',
      'ec2:AuthorizeSecurityGroupEgress',
      'ecs:RegisterTaskDefinition',
    ]);
    // The seed's aws-resources.env names, with what was created and what was looked up.
    const env = await readFile(path.join(p.dir, '.berth/outputs.env'), 'utf8');
    expect(env).toContain(`VPC_ID=${prereqs.vpcId}\n`);
    expect(env).toContain(`PRIVATE_SUBNET_IDS=${prereqs.subnetIds.join(',')}\n`);
    expect(env).toContain(`BACKEND_SECURITY_GROUP_ID=${prereqs.backendGroupId}\n`);
    expect(env).toContain(`DB_SECRET_ARN=${prereqs.secretArn}\n`);
    expect(env).toContain(
      'ECS_TASK_DEFINITION_ARN=arn:aws:ecs:us-east-1:123456789012:task-definition/startupwebapp-migration-task:1\n',
    );

    const second = await berth('up', '--json');
    expect(second.code).toBe(0);
    expect(lastJson<UpResult>(second.stdout).summary).toMatchObject({
      create: 0,
      update: 0,
      unchanged: 7,
    });
    expectNoWrites(second.calls);

    const plan = await berth('plan', '--detailed-exitcode');
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('No changes: 0 to create, 0 to update, 7 unchanged.');
    expectNoWrites(plan.calls);
    // The read budget docs/aws.md states for a plan of the whole stack (19 today).
    expect(plan.calls.length).toBeLessThanOrEqual(19);
  });

  it('shows status and details, as text and JSON, from reads only', async () => {
    const status = await berth('status', '--provider', 'aws');
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/ECR repository\s+COMPLETED\s+startupwebapp-backend/);
    expect(status.stdout).toMatch(/Task definition\s+COMPLETED\s+startupwebapp-migration-task/);
    const statusJson = await berth('status', '--provider', 'aws', '--json');
    expect(statusJson.code).toBe(0);
    const s = lastJson<StackStatus>(statusJson.stdout);
    expect(s.drifted).toBe(false);
    expect(s.steps.map((step) => step.status)).toEqual(Array(5).fill('COMPLETED'));

    const show = await berth('show');
    expect(show.code).toBe(0);
    expect(show.stdout).toContain(
      '123456789012.dkr.ecr.us-east-1.amazonaws.com/startupwebapp-backend',
    );
    expect(show.stdout).toContain(`${STACK.family}:1`);
    const showJson = await berth('show', '--json');
    expect(showJson.code).toBe(0);
    const details = lastJson<StackDetails>(showJson.stdout);
    expect(details.prerequisites).toMatchObject({
      secret: { name: SECRET_NAME, arn: prereqs.secretArn },
      backendSecurityGroup: { id: prereqs.backendGroupId, vpcId: prereqs.vpcId },
      databaseSecurityGroup: { id: prereqs.databaseGroupId },
      subnets: prereqs.subnetIds,
      problems: [],
    });
    expect(details.resources.map((r) => [r.kind, r.exists, r.owned])).toEqual(
      KINDS.map((k) => [k, true, true]),
    );
    expectNoWrites([...status.calls, ...statusJson.calls, ...show.calls, ...showJson.calls]);
  });

  // One change behind berth's back per resource kind, made with the SDK straight to the
  // emulator: `plan` shows it (exit 9 with --detailed-exitcode), `status` says DRIFTED, `up`
  // fixes it with writes to that resource's service only, and the next plan is clean.
  const drifts: {
    kind: string;
    field: RegExp;
    service: string;
    drift: () => Promise<unknown>;
  }[] = [
    {
      kind: 'ecr-repository',
      field: /^scanOnPush$/,
      service: 'ecr',
      drift: () =>
        clients.ecr().send(
          new PutImageScanningConfigurationCommand({
            repositoryName: STACK.repository,
            imageScanningConfiguration: { scanOnPush: false },
          }),
        ),
    },
    {
      kind: 'ecs-cluster',
      field: /^capacityProviders$/,
      service: 'ecs',
      drift: () =>
        clients.ecs().send(
          new PutClusterCapacityProvidersCommand({
            cluster: STACK.cluster,
            capacityProviders: ['FARGATE'],
            defaultCapacityProviderStrategy: [{ capacityProvider: 'FARGATE', weight: 1 }],
          }),
        ),
    },
    {
      kind: 'log-group',
      field: /^retentionDays$/,
      service: 'logs',
      drift: () =>
        clients
          .logs()
          .send(
            new PutRetentionPolicyCommand({ logGroupName: STACK.logGroup, retentionInDays: 14 }),
          ),
    },
    {
      kind: 'execution-role',
      field: /^inlinePolicies\.berth-read-database-secret$/,
      service: 'iam',
      drift: () =>
        clients.iam().send(
          new DeleteRolePolicyCommand({
            RoleName: STACK.executionRole,
            PolicyName: 'berth-read-database-secret',
          }),
        ),
    },
    {
      kind: 'task-role',
      field: /^managedPolicies$/,
      service: 'iam',
      drift: () =>
        clients.iam().send(
          new AttachRolePolicyCommand({
            RoleName: STACK.taskRole,
            PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess',
          }),
        ),
    },
    {
      kind: 'security-group-rules',
      field: /tcp\/443 to 0\.0\.0\.0\/0$/,
      service: 'ec2',
      drift: async () => {
        const ec2 = clients.ec2();
        const rules = await ec2.send(
          new DescribeSecurityGroupRulesCommand({
            Filters: [{ Name: 'group-id', Values: [prereqs.backendGroupId] }],
          }),
        );
        const rule = rules.SecurityGroupRules?.find(
          (r) => r.IsEgress && r.FromPort === 443 && r.CidrIpv4 === '0.0.0.0/0',
        );
        if (!rule?.SecurityGroupRuleId) throw new Error('berth’s 443 rule is not there');
        await ec2.send(
          new RevokeSecurityGroupEgressCommand({
            GroupId: prereqs.backendGroupId,
            SecurityGroupRuleIds: [rule.SecurityGroupRuleId],
          }),
        );
      },
    },
    {
      kind: 'task-definition',
      field: /^memory$/,
      service: 'ecs',
      // A new revision of the family, as someone editing it in the console would register.
      drift: async () => {
        const ecs = clients.ecs();
        const current = await ecs.send(
          new DescribeTaskDefinitionCommand({ taskDefinition: STACK.family, include: ['TAGS'] }),
        );
        const td = current.taskDefinition;
        if (!td) throw new Error('no task definition');
        await ecs.send(
          new RegisterTaskDefinitionCommand({
            family: STACK.family,
            taskRoleArn: td.taskRoleArn,
            executionRoleArn: td.executionRoleArn,
            networkMode: td.networkMode,
            requiresCompatibilities: td.requiresCompatibilities,
            cpu: td.cpu,
            memory: '1024',
            volumes: td.volumes,
            containerDefinitions: td.containerDefinitions,
            tags: current.tags,
          }),
        );
      },
    },
  ];

  it.each(drifts)('shows drift of the $kind with plan and fixes it with up', async (d) => {
    await d.drift();

    const plan = await berth('plan', '--json', '--detailed-exitcode');
    expect(plan.code).toBe(9);
    const drifted = lastJson<StackPlan>(plan.stdout);
    expect(actions(drifted)).toEqual(KINDS.map((k) => [k, k === d.kind ? 'update' : 'no-change']));
    const entry = drifted.resources.find((r) => r.kind === d.kind);
    expect(entry?.changes.map((c) => c.field)).toEqual([expect.stringMatching(d.field)]);
    const status = await berth('status', '--provider', 'aws', '--json');
    expect(status.code).toBe(9);
    expect(lastJson<StackStatus>(status.stdout).drifted).toBe(true);
    expectNoWrites([...plan.calls, ...status.calls]);

    const up = await berth('up', '--json');
    expect(up.code, up.stdout + up.stderr).toBe(0);
    expect(lastJson<UpResult>(up.stdout).summary).toMatchObject({ update: 1, unchanged: 6 });
    const fixes = writes(up.calls);
    expect(fixes.length).toBeGreaterThan(0);
    expect(
      fixes.every((w) => w.startsWith(`${d.service}:`)),
      fixes.join(', '),
    ).toBe(true);

    const after = await berth('plan', '--detailed-exitcode');
    expect(after.code, after.stdout).toBe(0);
    expectNoWrites(after.calls);
  });

  it('prints a ci-policy that IAM CreatePolicy accepts, and a trust policy CreateRole accepts', async () => {
    const policy = await berth('iam', 'ci-policy');
    expect(policy.code).toBe(0);
    const document = JSON.parse(policy.stdout) as { Statement: unknown[] };
    expect(document.Statement.length).toBeGreaterThan(0);
    const created = await clients.iam().send(
      new CreatePolicyCommand({
        PolicyName: 'berth-ci-startupwebapp',
        PolicyDocument: policy.stdout,
      }),
    );
    expect(created.Policy?.Arn).toBe('arn:aws:iam::123456789012:policy/berth-ci-startupwebapp');

    const trust = await berth(
      'iam',
      'github-oidc',
      '--repo',
      'octo-org/startup_web_app',
      '--branch',
      'main',
    );
    expect(trust.code).toBe(0);
    const role = await clients.iam().send(
      new CreateRoleCommand({
        RoleName: 'startupwebapp-ci',
        AssumeRolePolicyDocument: trust.stdout,
      }),
    );
    expect(role.Role?.Arn).toBe('arn:aws:iam::123456789012:role/startupwebapp-ci');
    expectNoWrites([...policy.calls, ...trust.calls]);
  });

  it('comes down leaving every prerequisite as it was, comes down again, and goes up again', async () => {
    const ec2 = clients.ec2();
    const prerequisiteState = async () => ({
      vpcs: (await ec2.send(new DescribeVpcsCommand({ VpcIds: [prereqs.vpcId] }))).Vpcs?.length,
      subnets: (await ec2.send(new DescribeSubnetsCommand({ SubnetIds: prereqs.subnetIds })))
        .Subnets?.length,
      groups: (
        await ec2.send(
          new DescribeSecurityGroupsCommand({
            GroupIds: [prereqs.backendGroupId, prereqs.databaseGroupId],
          }),
        )
      ).SecurityGroups?.map((g) => g.GroupName).sort(),
      // The rules that are not berth's (the groups' default egress) stay.
      otherRules: (
        await ec2.send(
          new DescribeSecurityGroupRulesCommand({
            Filters: [
              { Name: 'group-id', Values: [prereqs.backendGroupId, prereqs.databaseGroupId] },
            ],
          }),
        )
      ).SecurityGroupRules?.filter((r) => !r.Tags?.some((t) => t.Key === 'managed-by'))
        .map((r) => r.SecurityGroupRuleId)
        .sort(),
      secret: (await clients.secrets().send(new DescribeSecretCommand({ SecretId: SECRET_NAME })))
        .ARN,
    });
    const before = await prerequisiteState();
    expect(before).toMatchObject({
      vpcs: 1,
      subnets: 2,
      groups: [BACKEND_GROUP, DATABASE_GROUP].sort(),
    });
    expect(before.otherRules?.length).toBeGreaterThan(0);

    // An image in the repository (ECR's API only: moto has no registry to push to).
    await clients.ecr().send(
      new PutImageCommand({
        repositoryName: STACK.repository,
        imageTag: 'abc1234',
        imageManifest: JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
          config: {
            mediaType: 'application/vnd.docker.container.image.v1+json',
            size: 2,
            digest: `sha256:${'a'.repeat(64)}`,
          },
          layers: [],
        }),
      }),
    );
    const shown = lastJson<StackDetails>((await berth('show', '--json')).stdout);
    expect(shown.resources.find((r) => r.kind === 'ecr-repository')?.details).toMatchObject({
      imageCount: 1,
    });

    const down = await berth('down', '--yes', '--json');
    expect(down.code, down.stdout + down.stderr).toBe(0);
    const result = lastJson<DownResult>(down.stdout);
    expect(result.deleted).toBe(7);
    expect(result.resources.find((r) => r.kind === 'ecr-repository')?.note).toBe(
      '1 image(s) deleted with it',
    );
    expect(result.resources.map((r) => [r.kind, r.result])).toEqual(
      [...KINDS].reverse().map((k) => [k, 'deleted']),
    );
    // Only deletions of berth's own resources: nothing that touches a prerequisite.
    for (const w of writes(down.calls))
      expect(w).toMatch(
        /^(ecs:DeregisterTaskDefinition|ec2:RevokeSecurityGroup(Egress|Ingress)|iam:(DetachRolePolicy|DeleteRolePolicy|DeleteRole)|logs:DeleteLogGroup|ecs:DeleteCluster|ecr:DeleteRepository)$/,
      );
    expect(await prerequisiteState()).toEqual(before);
    expect(existsSync(path.join(p.dir, '.berth/outputs.env'))).toBe(false);

    const again = await berth('down', '--yes', '--json');
    expect(again.code).toBe(0);
    expect(lastJson<DownResult>(again.stdout).deleted).toBe(0);
    expectNoWrites(again.calls);

    const plan = await berth('plan', '--json');
    expect(actions(lastJson<StackPlan>(plan.stdout))).toEqual(all('create'));
    const up = await berth('up', '--json');
    expect(up.code, up.stdout + up.stderr).toBe(0);
    expect(lastJson<UpResult>(up.stdout).summary).toMatchObject({ create: 7 });
    const clean = await berth('plan', '--detailed-exitcode');
    expect(clean.code, clean.stdout).toBe(0);
  });

  it('never prints the database secret', () => {
    expect(printed).not.toContain('emulator-secret-password');
  });
});

// A fresh account: moto keeps a deleted log group's tags and gives them to the next group of
// that name (AWS does not), so a stack that was up and down here would look berth's already.
describe.skipIf(!endpoint)('resources berth did not create, against the emulator', () => {
  const url = endpoint ?? '';
  let p: EmulatorProject;
  const clients = {
    ecr: () => new ECRClient(sdkSettings(url)),
    logs: () => new CloudWatchLogsClient(sdkSettings(url)),
  };
  const berth = (...args: string[]) => p.berth(args);
  beforeAll(async () => {
    await resetEmulator(url);
    p = await emulatorProject(url, emulatorConfigYaml(await seedEmulatorPrerequisites(url)));
  });
  afterAll(async () => {
    await p?.cleanup();
  });

  it('stops at resources it does not own, writing nothing, and takes them over with --adopt', async () => {
    // The seed's scripts made these: same names, none of berth's tags.
    await clients.ecr().send(new CreateRepositoryCommand({ repositoryName: STACK.repository }));
    await clients.logs().send(new CreateLogGroupCommand({ logGroupName: STACK.logGroup }));

    const plan = await berth('plan', '--json');
    const owned = lastJson<StackPlan>(plan.stdout);
    expect(actions(owned).filter(([, a]) => a !== 'create')).toEqual([
      ['ecr-repository', 'not-owned'],
      ['log-group', 'not-owned'],
    ]);
    const refused = await berth('up', '--json');
    expect(refused.code).toBe(8);
    expect(lastJson<{ error: { code: string } }>(refused.stdout).error.code).toBe(
      'AWS_RESOURCE_NOT_OWNED',
    );
    expectNoWrites(refused.calls);

    const adoptPlan = await berth('plan', '--adopt', '--json');
    expect(
      actions(lastJson<StackPlan>(adoptPlan.stdout)).filter(([, a]) => a !== 'create'),
    ).toEqual([
      ['ecr-repository', 'adopt'],
      ['log-group', 'adopt'],
    ]);
    expectNoWrites(adoptPlan.calls);
    const adopted = await berth('up', '--adopt', '--json');
    expect(adopted.code, adopted.stdout + adopted.stderr).toBe(0);
    expect(lastJson<UpResult>(adopted.stdout).summary).toMatchObject({ adopt: 2, create: 5 });
    const clean = await berth('plan', '--detailed-exitcode');
    expect(clean.code, clean.stdout).toBe(0);
    // And they are berth's now: `down` deletes them.
    const down = await berth('down', '--yes', '--json');
    expect(lastJson<DownResult>(down.stdout).deleted).toBe(7);
  });
});

describe.skipIf(!endpoint)('bad references against the emulator', () => {
  const url = endpoint ?? '';
  let prereqs: EmulatorPrerequisites;
  let p: EmulatorProject;
  beforeAll(async () => {
    await resetEmulator(url);
    prereqs = await seedEmulatorPrerequisites(url);
    p = await emulatorProject(url, emulatorConfigYaml(prereqs));
  });
  afterAll(async () => {
    await p?.cleanup();
  });

  const cases: { what: string; field: string; patch: (yaml: string) => string }[] = [
    {
      what: 'a secret that does not exist',
      field: 'database.secret.name',
      patch: (y) => y.replace('name: rds/startupwebapp/multi-tenant/master', 'name: rds/nope'),
    },
    {
      what: 'a security group that does not exist',
      field: 'network.backendSecurityGroup',
      patch: (y) =>
        y.replace(
          'backendSecurityGroup: startupwebapp-backend-sg',
          'backendSecurityGroup: no-such-sg',
        ),
    },
    {
      what: 'a security group ID that does not exist',
      field: 'network.databaseSecurityGroup',
      patch: (y) =>
        y.replace(
          'databaseSecurityGroup: startupwebapp-rds-sg',
          'databaseSecurityGroup: sg-0123456789abcdef0',
        ),
    },
    {
      what: 'a subnet that does not exist',
      field: 'network.subnets[1]',
      patch: (y) =>
        y.replace(
          /subnets: \[(subnet-\w+), subnet-\w+\]/,
          'subnets: [$1, subnet-0123456789abcdef0]',
        ),
    },
  ];

  it('says the cluster does not exist when tasks list runs before the stack is up', async () => {
    const tasks = await p.berth(['tasks', 'list', '--provider', 'aws', '--json']);
    expect(tasks.code).toBe(8);
    const { error } = lastJson<{ error: { code: string; message: string; hint: string } }>(
      tasks.stdout,
    );
    expect(error.code).toBe('AWS_REFERENCE_INVALID');
    expect(error.message).toContain('the ECS cluster does not exist');
    expect(error.hint).toContain('berth up');
    expectNoWrites(tasks.calls);
  });

  it.each(cases)('refuses $what, naming the field, and writes nothing', async (c) => {
    await p.writeConfig(emulatorConfigYaml(prereqs, c.patch));
    for (const command of [['plan'], ['up']]) {
      const result = await p.berth([...command, '--json']);
      expect(result.code, `${command[0]}: ${result.stdout}`).toBe(8);
      const { error } = lastJson<{ error: { code: string; message: string } }>(result.stdout);
      expect(error.code).toBe('AWS_REFERENCE_INVALID');
      expect(error.message).toContain(c.field);
      expectNoWrites(result.calls);
    }
  });
});

// task.secrets: the app's own secrets, referenced by the task definition and readable by the
// execution role, never read by berth. A fresh account, as above.
describe.skipIf(!endpoint)('task.secrets against the emulator', () => {
  const url = endpoint ?? '';
  const VALUE = 'emulator-app-signing-value';
  let p: EmulatorProject;
  let prereqs: EmulatorPrerequisites;
  let arn = '';
  const withSecrets = (secret: string) => (yaml: string) =>
    yaml.replace(
      '  environment:\n',
      `  secrets:\n    APP_SIGNING_KEY: { secret: ${secret}, key: signing }\n  environment:\n`,
    );
  beforeAll(async () => {
    await resetEmulator(url);
    prereqs = await seedEmulatorPrerequisites(url);
    const created = await new SecretsManagerClient(sdkSettings(url)).send(
      new CreateSecretCommand({
        Name: 'startupwebapp/app',
        SecretString: JSON.stringify({ signing: VALUE }),
      }),
    );
    arn = created.ARN ?? '';
    p = await emulatorProject(url, emulatorConfigYaml(prereqs, withSecrets('startupwebapp/app')));
  });
  afterAll(async () => {
    await p?.cleanup();
  });

  it('references the secret in the task definition and lets only the execution role read it', async () => {
    const up = await p.berth(['up', '--json']);
    expect(up.code, up.stdout + up.stderr).toBe(0);
    const described = await new ECSClient(sdkSettings(url)).send(
      new DescribeTaskDefinitionCommand({ taskDefinition: STACK.family }),
    );
    const container = described.taskDefinition?.containerDefinitions?.[0];
    expect(container?.secrets).toContainEqual({
      name: 'APP_SIGNING_KEY',
      valueFrom: `${arn}:signing::`,
    });
    const policy = await new IAMClient(sdkSettings(url)).send(
      new GetRolePolicyCommand({
        RoleName: STACK.executionRole,
        PolicyName: 'berth-read-database-secret',
      }),
    );
    const document = JSON.parse(decodeURIComponent(policy.PolicyDocument ?? '{}')) as {
      Statement: { Sid?: string; Resource?: string | string[] }[];
    };
    expect(document.Statement.find((s) => s.Sid === 'ReadTaskSecrets')?.Resource).toBe(arn);

    // Read back, the stack has no drift: the second plan changes nothing.
    const plan = await p.berth(['plan', '--detailed-exitcode']);
    expect(plan.code, plan.stdout).toBe(0);
    expectNoWrites(plan.calls);
    const show = await p.berth(['show', '--json']);
    for (const output of [up, plan, show]) {
      expect(output.stdout + output.stderr).not.toContain(VALUE);
    }
    // berth described the secret; it never asked for its value.
    const secretCalls = up.calls.map((c) => `${c.service}:${c.action}`);
    expect(secretCalls).toContain('secretsmanager:DescribeSecret');
    expect(secretCalls).not.toContain('secretsmanager:GetSecretValue');
  });

  it('names the task.secrets entry whose secret does not exist, and writes nothing', async () => {
    await p.writeConfig(emulatorConfigYaml(prereqs, withSecrets('startupwebapp/missing')));
    const plan = await p.berth(['plan']);
    expect(plan.code).not.toBe(0);
    expect(plan.stderr).toContain(
      'task.secrets.APP_SIGNING_KEY: no Secrets Manager secret named "startupwebapp/missing"',
    );
    expectNoWrites(plan.calls);
  });
});

// task.secrets from Parameter Store: the parameter described (DescribeParameters, never
// GetParameter), referenced by its ARN in the task definition and readable by the execution
// role (ssm:GetParameters on that ARN). A fresh account, as above.
describe.skipIf(!endpoint)('task.secrets from Parameter Store against the emulator', () => {
  const url = endpoint ?? '';
  const VALUE = 'emulator-api-token-value';
  const NAME = '/startupwebapp/api-token';
  let p: EmulatorProject;
  let prereqs: EmulatorPrerequisites;
  let arn = '';
  const withParameter =
    (parameter: string, extra = '') =>
    (yaml: string) =>
      yaml.replace(
        '  environment:\n',
        `  secrets:\n    API_TOKEN: { parameter: ${parameter}${extra} }\n  environment:\n`,
      );
  const ssm = () => new SSMClient(sdkSettings(url));
  beforeAll(async () => {
    await resetEmulator(url);
    prereqs = await seedEmulatorPrerequisites(url);
    await ssm().send(new PutParameterCommand({ Name: NAME, Type: 'SecureString', Value: VALUE }));
    // The test's own read, straight to the emulator (not through berth or its proxy): the ARN
    // as the emulator spells it, to compare berth's with.
    arn = (await ssm().send(new GetParameterCommand({ Name: NAME }))).Parameter?.ARN ?? '';
    p = await emulatorProject(url, emulatorConfigYaml(prereqs, withParameter(NAME)));
  });
  afterAll(async () => {
    await p?.cleanup();
  });

  it('plans and puts the parameter ARN in the task definition, readable by the execution role alone', async () => {
    const account = prereqs.secretArn.split(':')[4] ?? '';
    expect(arn).toBe(`arn:aws:ssm:us-east-1:${account}:parameter/startupwebapp/api-token`);

    const plan = await p.berth(['plan', '--json']);
    expect(plan.code, plan.stdout + plan.stderr).toBe(0);
    expectNoWrites(plan.calls);
    const planned = lastJson<StackPlan>(plan.stdout).resources.find(
      (r) => r.kind === 'task-definition',
    );
    expect(planned?.changes).toContainEqual({
      field: 'container.secrets[API_TOKEN]',
      actual: null,
      desired: arn,
    });

    const up = await p.berth(['up', '--json']);
    expect(up.code, up.stdout + up.stderr).toBe(0);
    const described = await new ECSClient(sdkSettings(url)).send(
      new DescribeTaskDefinitionCommand({ taskDefinition: STACK.family }),
    );
    expect(described.taskDefinition?.containerDefinitions?.[0]?.secrets).toContainEqual({
      name: 'API_TOKEN',
      valueFrom: arn,
    });
    const policy = await new IAMClient(sdkSettings(url)).send(
      new GetRolePolicyCommand({
        RoleName: STACK.executionRole,
        PolicyName: 'berth-read-database-secret',
      }),
    );
    const document = JSON.parse(decodeURIComponent(policy.PolicyDocument ?? '{}')) as {
      Statement: { Sid?: string; Action?: string | string[]; Resource?: string | string[] }[];
    };
    expect(document.Statement.find((s) => s.Sid === 'ReadTaskParameters')).toEqual({
      Sid: 'ReadTaskParameters',
      Effect: 'Allow',
      Action: 'ssm:GetParameters',
      Resource: arn,
    });

    // Read back, the stack has no drift: the second plan changes nothing.
    const again = await p.berth(['plan', '--detailed-exitcode']);
    expect(again.code, again.stdout).toBe(0);
    expectNoWrites(again.calls);
    const show = await p.berth(['show']);
    expect(show.stdout).toContain(`API_TOKEN: Parameter Store ${NAME}  ${arn}`);
    for (const output of [plan, up, again, show])
      expect(output.stdout + output.stderr).not.toContain(VALUE);
    // berth described the parameter; it never asked for its value.
    const ssmCalls = [...plan.calls, ...up.calls, ...again.calls, ...show.calls]
      .filter((c) => c.service === 'ssm')
      .map((c) => c.action);
    expect(ssmCalls).toContain('DescribeParameters');
    expect(ssmCalls.filter((a) => a !== 'DescribeParameters')).toEqual([]);
  });

  it('warns when the parameter uses a customer KMS key that task.secrets does not name', async () => {
    const key = 'arn:aws:kms:us-east-1:123456789012:key/emulator-cmk';
    await ssm().send(
      new PutParameterCommand({
        Name: '/startupwebapp/partner-key',
        Type: 'SecureString',
        Value: VALUE,
        KeyId: key,
      }),
    );
    await p.writeConfig(emulatorConfigYaml(prereqs, withParameter('/startupwebapp/partner-key')));
    const plan = await p.berth(['plan']);
    expect(plan.code, plan.stdout + plan.stderr).toBe(0);
    expect(plan.stdout + plan.stderr).toContain(
      `the parameter "/startupwebapp/partner-key" is encrypted with KMS key ${key}; set task.secrets.API_TOKEN.kmsKey to its ARN`,
    );
    await p.writeConfig(
      emulatorConfigYaml(
        prereqs,
        withParameter('/startupwebapp/partner-key', `, kmsKey: "${key}"`),
      ),
    );
    const named = await p.berth(['plan']);
    expect(named.code, named.stdout + named.stderr).toBe(0);
    expect(named.stdout + named.stderr).not.toContain('is encrypted with KMS key');
    expectNoWrites([...plan.calls, ...named.calls]);
  });

  it('names the task.secrets entry whose parameter does not exist (exit 8), and writes nothing', async () => {
    await p.writeConfig(emulatorConfigYaml(prereqs, withParameter('/startupwebapp/missing')));
    const plan = await p.berth(['plan']);
    expect(plan.code).toBe(8);
    expect(plan.stderr).toContain(
      'task.secrets.API_TOKEN: no Parameter Store parameter named "/startupwebapp/missing" in us-east-1',
    );
    expectNoWrites(plan.calls);
  });
});
