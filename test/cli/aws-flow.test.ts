import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { downCommand, planCommand, showCommand, upCommand } from '../../src/cli/commands/infra.js';
import { statusCommand } from '../../src/cli/commands/status.js';
import { ExitCode } from '../../src/core/exit-codes.js';
import { isBerthError } from '../../src/core/errors.js';
import { sampleConfig } from '../../src/providers/aws/fake/sample-stack.js';
import type {
  StackPlan,
  StackStatus,
  UpResult,
  DownResult,
  StackDetails,
} from '../../src/providers/aws/stack/stack.js';
import { awsCliHarness, type AwsCliHarness } from '../support/aws-cli.js';

let h: AwsCliHarness;
afterEach(async () => {
  await h.cleanup();
});

async function expectBerthError(
  promise: Promise<unknown>,
  code: string,
): Promise<Record<string, unknown> | undefined> {
  try {
    await promise;
  } catch (error) {
    expect(isBerthError(error)).toBe(true);
    if (isBerthError(error)) {
      expect(error.code).toBe(code);
      return error.details;
    }
  }
  throw new Error(`expected ${code}`);
}

const statuses = (s: StackStatus) => s.steps.map((step) => step.status);

describe('berth plan/up/status/down against the AWS fake', () => {
  it('goes up, stays idempotent, detects and fixes drift, and comes down twice without touching prerequisites', async () => {
    h = await awsCliHarness();
    const before = h.fake.prerequisites();

    // A fresh stack: everything to create.
    expect(await planCommand(h.ctx(), { detailedExitcode: true }, h.deps)).toBe(
      ExitCode.changesPending,
    );
    const fresh = h.json<StackPlan>();
    expect(fresh.resources.map((r) => [r.kind, r.action])).toEqual([
      ['ecr-repository', 'create'],
      ['ecs-cluster', 'create'],
      ['log-group', 'create'],
      ['execution-role', 'create'],
      ['task-role', 'create'],
      ['security-group-rules', 'create'],
      ['task-definition', 'create'],
    ]);
    expect(h.fake.writes()).toEqual([]);

    // up, in dependency order.
    h.fake.resetCalls();
    expect(await upCommand(h.ctx(), {}, h.deps)).toBe(ExitCode.ok);
    const up = h.json<UpResult>();
    expect(up.summary).toMatchObject({ create: 7, update: 0, unchanged: 0 });
    const writes = h.fake.writes().map((c) => `${c.service}.${c.method}`);
    expect(writes.indexOf('ecr.createRepository')).toBeLessThan(
      writes.indexOf('ecs.registerTaskDefinition'),
    );
    expect(writes.indexOf('iam.createRole')).toBeLessThan(
      writes.indexOf('ecs.registerTaskDefinition'),
    );
    expect(writes.indexOf('logs.createLogGroup')).toBeLessThan(
      writes.indexOf('ecs.registerTaskDefinition'),
    );
    expect(writes[writes.length - 1]).toBe('ecs.registerTaskDefinition');
    expect(up.outputs).toMatchObject({
      AWS_REGION: 'us-east-1',
      AWS_ACCOUNT_ID: '123456789012',
      ECR_REPOSITORY_NAME: 'startupwebapp-backend',
      ECR_REPOSITORY_URI: '123456789012.dkr.ecr.us-east-1.amazonaws.com/startupwebapp-backend',
      ECS_CLUSTER_NAME: 'startupwebapp-cluster',
      ECS_CLUSTER_ARN: 'arn:aws:ecs:us-east-1:123456789012:cluster/startupwebapp-cluster',
      ECS_TASK_EXECUTION_ROLE_ARN:
        'arn:aws:iam::123456789012:role/ecsTaskExecutionRole-startupwebapp',
      ECS_TASK_ROLE_ARN: 'arn:aws:iam::123456789012:role/ecsTaskRole-startupwebapp',
      ECS_TASK_DEFINITION_ARN:
        'arn:aws:ecs:us-east-1:123456789012:task-definition/startupwebapp-migration-task:1',
      ECS_TASK_DEFINITION_REVISION: '1',
      LOG_GROUP_NAME: '/ecs/startupwebapp-migrations',
      BACKEND_SECURITY_GROUP_ID: h.prerequisites.backendGroup.id,
      DATABASE_SECURITY_GROUP_ID: h.prerequisites.databaseGroup.id,
      DB_SECRET_ARN: h.prerequisites.secret.arn,
      PRIVATE_SUBNET_IDS: 'subnet-0aaa1111,subnet-0bbb2222',
    });

    // outputs.env / outputs.json in local.dataDir, atomically written.
    const env = await readFile(path.join(h.dir, '.berth', 'outputs.env'), 'utf8');
    expect(env).toContain(
      'ECR_REPOSITORY_URI=123456789012.dkr.ecr.us-east-1.amazonaws.com/startupwebapp-backend\n',
    );
    expect(env).toContain('ECS_TASK_DEFINITION_REVISION=1\n');
    expect(env).toContain('LOG_GROUP_NAME=/ecs/startupwebapp-migrations\n');
    const json = JSON.parse(await readFile(path.join(h.dir, '.berth', 'outputs.json'), 'utf8')) as {
      stack: string;
      outputs: Record<string, string>;
    };
    expect(json.stack).toBe('startupwebapp');
    expect(json.outputs).toEqual(up.outputs);

    // status: every seed step COMPLETED.
    expect(await statusCommand(h.ctx(), h.deps)).toBe(ExitCode.ok);
    const done = h.json<StackStatus>();
    expect(statuses(done)).toEqual([
      'COMPLETED',
      'COMPLETED',
      'COMPLETED',
      'COMPLETED',
      'COMPLETED',
    ]);
    expect(done.steps.map((s) => s.step)).toEqual([
      'ecr',
      'ecs-cluster',
      'iam-roles',
      'security-group-rules',
      'task-definition',
    ]);

    // A second up makes zero write calls.
    h.fake.resetCalls();
    expect(await upCommand(h.ctx(), {}, h.deps)).toBe(ExitCode.ok);
    expect(h.json<UpResult>().pending).toBe(false);
    expect(h.fake.writes()).toEqual([]);
    expect(h.fake.reads().length).toBeGreaterThan(0);

    // Someone changes the log retention by hand.
    await h.fake.clients.logs.putRetentionPolicy('/ecs/startupwebapp-migrations', 14);
    expect(await statusCommand(h.ctx(), h.deps)).toBe(ExitCode.changesPending);
    expect(statuses(h.json<StackStatus>())).toEqual([
      'COMPLETED',
      'DRIFTED',
      'COMPLETED',
      'COMPLETED',
      'COMPLETED',
    ]);
    expect(await planCommand(h.ctx(), { detailedExitcode: true }, h.deps)).toBe(
      ExitCode.changesPending,
    );
    const drift = h.json<StackPlan>();
    expect(drift.resources.filter((r) => r.action !== 'no-change')).toEqual([
      {
        kind: 'log-group',
        name: '/ecs/startupwebapp-migrations',
        action: 'update',
        changes: [{ field: 'retentionDays', actual: 14, desired: 7 }],
      },
    ]);

    // up fixes exactly that.
    h.fake.resetCalls();
    expect(await upCommand(h.ctx(), {}, h.deps)).toBe(ExitCode.ok);
    h.json();
    expect(h.fake.writes().map((c) => `${c.service}.${c.method}`)).toEqual([
      'logs.putRetentionPolicy',
    ]);
    expect(await planCommand(h.ctx(), { detailedExitcode: true }, h.deps)).toBe(ExitCode.ok);
    expect(h.json<StackPlan>().pending).toBe(false);

    // down --yes: reverse order, everything berth made.
    h.fake.pushImage('startupwebapp-backend', 'latest');
    h.fake.resetCalls();
    expect(
      await downCommand(h.ctx(), { yes: true }, { ...h.deps, confirm: () => Promise.resolve() }),
    ).toBe(ExitCode.ok);
    const down = h.json<DownResult>();
    expect(down.resources.map((r) => [r.kind, r.result])).toEqual([
      ['task-definition', 'deleted'],
      ['security-group-rules', 'deleted'],
      ['task-role', 'deleted'],
      ['execution-role', 'deleted'],
      ['log-group', 'deleted'],
      ['ecs-cluster', 'deleted'],
      ['ecr-repository', 'deleted'],
    ]);
    expect(down.resources.find((r) => r.kind === 'ecr-repository')?.note).toContain('1 image(s)');
    const downWrites = h.fake.writes().map((c) => `${c.service}.${c.method}`);
    expect(downWrites[0]).toBe('ecs.deregisterTaskDefinition');
    expect(downWrites[downWrites.length - 1]).toBe('ecr.deleteRepository');
    await expect(readFile(path.join(h.dir, '.berth', 'outputs.env'), 'utf8')).rejects.toThrow();

    // status: every step NOT STARTED.
    expect(await statusCommand(h.ctx(), h.deps)).toBe(ExitCode.ok);
    expect(statuses(h.json<StackStatus>())).toEqual([
      'NOT STARTED',
      'NOT STARTED',
      'NOT STARTED',
      'NOT STARTED',
      'NOT STARTED',
    ]);

    // down again on the torn-down stack: succeeds, deletes nothing, asks nothing.
    h.fake.resetCalls();
    expect(await downCommand(h.ctx(), { yes: true }, h.deps)).toBe(ExitCode.ok);
    const again = h.json<DownResult>();
    expect(again.deleted).toBe(0);
    expect(again.resources.every((r) => r.result === 'absent')).toBe(true);
    expect(h.fake.writes()).toEqual([]);

    // The VPC's security groups, their other rules and the secret never changed.
    expect(h.fake.prerequisites()).toEqual(before);
  });

  it('comes back up after down (revision numbers keep counting, as in ECS)', async () => {
    h = await awsCliHarness();
    await upCommand(h.ctx(), {}, h.deps);
    await downCommand(h.ctx(), { yes: true }, { ...h.deps, confirm: () => Promise.resolve() });
    h.stdout.clear();
    expect(await upCommand(h.ctx(), {}, h.deps)).toBe(ExitCode.ok);
    const up = h.json<UpResult>();
    expect(up.summary.create).toBe(7);
    expect(up.outputs.ECS_TASK_DEFINITION_REVISION).toBe('2');
  });

  it('prints human output on stdout and progress on stderr', async () => {
    h = await awsCliHarness({ json: false });
    await planCommand(h.ctx(), {}, h.deps);
    // Secret references are shown whole, not garbled by the redactor (nothing secret is in them).
    expect(h.stdout.text()).toContain(
      `container.secrets[DATABASE_PASSWORD]: (none) → {"secretArn":"${h.prerequisites.secret.arn}","jsonKey":"password"}`,
    );
    expect(h.stdout.text()).not.toContain('***');
    h.stdout.clear();
    await upCommand(h.ctx(), {}, h.deps);
    expect(h.stdout.text()).toContain('+ create');
    expect(h.stdout.text()).toMatch(/\+ create\s+ECR repository\s+startupwebapp-backend/);
    expect(h.stdout.text()).toContain('Done: 7 created, 0 updated, 0 unchanged.');
    expect(h.stdout.text()).toMatch(/Outputs: .*outputs\.env/);
    expect(h.stderr.text()).toContain('creating ECR repository startupwebapp-backend');
    h.stdout.clear();
    await h.fake.clients.logs.putRetentionPolicy('/ecs/startupwebapp-migrations', 30);
    await planCommand(h.ctx(), {}, h.deps);
    expect(h.stdout.text()).toContain('retentionDays: 30 → 7');
    expect(h.stdout.text()).toContain('Plan: 0 to create, 1 to update, 6 unchanged.');
    h.stdout.clear();
    await statusCommand(h.ctx(), h.deps);
    expect(h.stdout.text()).toMatch(/ECS cluster and log group\s+DRIFTED/);
    h.stdout.clear();
    await showCommand(h.ctx(), h.deps);
    expect(h.stdout.text()).toContain('retentionDays      30');
  });

  it('keeps --json stdout to exactly one JSON document per command', async () => {
    h = await awsCliHarness();
    await upCommand(h.ctx(), {}, h.deps);
    const lines = h.stdout.text().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(() => JSON.parse(lines[0] ?? '') as unknown).not.toThrow();
  });
});

describe('berth show', () => {
  it('reports URIs, ARNs, revision, CPU/memory, image count and retention', async () => {
    h = await awsCliHarness();
    await upCommand(h.ctx(), {}, h.deps);
    h.fake.pushImage('startupwebapp-backend', 'abc123');
    h.fake.pushImage('startupwebapp-backend', 'latest');
    h.stdout.clear();
    expect(await showCommand(h.ctx(), h.deps)).toBe(ExitCode.ok);
    const show = h.json<StackDetails>();
    const byKind = Object.fromEntries(show.resources.map((r) => [r.kind, r.details]));
    expect(byKind['ecr-repository']).toMatchObject({
      uri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/startupwebapp-backend',
      imageCount: 2,
      keepImages: 10,
      scanOnPush: true,
      encryption: 'AES256',
    });
    expect(byKind['task-definition']).toMatchObject({
      revision: 1,
      cpu: '256',
      memory: '512',
      containerName: 'migration',
    });
    expect(byKind['log-group']).toMatchObject({ retentionDays: 7 });
    expect(byKind['ecs-cluster']).toMatchObject({
      arn: 'arn:aws:ecs:us-east-1:123456789012:cluster/startupwebapp-cluster',
    });
    expect(show.prerequisites.secret.arn).toBe(h.prerequisites.secret.arn);
    expect(show.account).toBe('123456789012');
  });

  it('shows an absent stack and missing prerequisites without failing', async () => {
    h = await awsCliHarness();
    h.setConfig(
      sampleConfig((y) =>
        y.replace('name: rds/startupwebapp/multi-tenant/master', 'name: does/not/exist'),
      ),
    );
    expect(await showCommand(h.ctx(), h.deps)).toBe(ExitCode.ok);
    const show = h.json<StackDetails>();
    expect(show.resources.every((r) => !r.exists && r.details === null)).toBe(true);
    expect(show.prerequisites.problems).toEqual([
      {
        path: 'database.secret.name',
        message: 'no Secrets Manager secret named "does/not/exist" in us-east-1',
      },
    ]);
  });
});

describe('ownership', () => {
  it('refuses same-named resources berth did not create, and --adopt takes them over', async () => {
    h = await awsCliHarness();
    // The seed's scripts made the log group and the ECS → RDS rule before berth.
    await h.fake.clients.logs.createLogGroup('/ecs/startupwebapp-migrations', {
      Environment: 'Production',
    });
    await h.fake.clients.logs.putRetentionPolicy('/ecs/startupwebapp-migrations', 7);
    h.fake.addRule({
      groupId: h.prerequisites.databaseGroup.id,
      direction: 'ingress',
      protocol: 'tcp',
      fromPort: 5432,
      toPort: 5432,
      referencedGroupId: h.prerequisites.backendGroup.id,
    });
    h.fake.resetCalls();

    expect(await planCommand(h.ctx(), {}, h.deps)).toBe(ExitCode.ok);
    const plan = h.json<StackPlan>();
    expect(plan.resources.find((r) => r.kind === 'log-group')?.action).toBe('not-owned');
    expect(plan.resources.find((r) => r.kind === 'security-group-rules')?.action).toBe('not-owned');
    expect(plan.summary.notOwned).toBe(2);

    const details = await expectBerthError(
      upCommand(h.ctx(), {}, h.deps),
      'AWS_RESOURCE_NOT_OWNED',
    );
    expect(details).toEqual({
      resources: [
        { kind: 'log-group', name: '/ecs/startupwebapp-migrations' },
        { kind: 'security-group-rules', name: 'startupwebapp-backend-sg → startupwebapp-rds-sg' },
      ],
    });
    expect(h.fake.writes()).toEqual([]);

    expect(await planCommand(h.ctx(), { adopt: true }, h.deps)).toBe(ExitCode.ok);
    const adoptPlan = h.json<StackPlan>();
    expect(adoptPlan.resources.find((r) => r.kind === 'log-group')).toEqual({
      kind: 'log-group',
      name: '/ecs/startupwebapp-migrations',
      action: 'adopt',
      changes: [
        { field: 'tags.Application', actual: null, desired: 'StartupWebApp' },
        { field: 'tags.managed-by', actual: null, desired: 'berth' },
        { field: 'tags.stack', actual: null, desired: 'startupwebapp' },
      ],
    });

    expect(await upCommand(h.ctx(), { adopt: true }, h.deps)).toBe(ExitCode.ok);
    h.json();
    expect(h.fake.writes().filter((c) => c.method === 'createLogGroup')).toEqual([]);
    expect(h.fake.writes().some((c) => c.method === 'tagRules')).toBe(true);
    await statusCommand(h.ctx(), h.deps);
    expect(statuses(h.json<StackStatus>())).toEqual([
      'COMPLETED',
      'COMPLETED',
      'COMPLETED',
      'COMPLETED',
      'COMPLETED',
    ]);
  });

  it("down leaves resources that are not berth's and revokes only berth's rules", async () => {
    h = await awsCliHarness();
    await upCommand(h.ctx(), {}, h.deps);
    // Another team's role with the task role's name appears (tags differ: another stack).
    const role = h.fake.roles.get('ecsTaskRole-startupwebapp');
    if (role) role.role.tags.stack = 'someone-else';
    const foreign = h.fake.addRule({
      groupId: h.prerequisites.backendGroup.id,
      direction: 'egress',
      protocol: 'tcp',
      fromPort: 6379,
      toPort: 6379,
      cidrIpv4: '10.0.0.0/16',
    });
    h.stdout.clear();
    await downCommand(h.ctx(), { yes: true }, { ...h.deps, confirm: () => Promise.resolve() });
    const down = h.json<DownResult>();
    expect(down.resources.find((r) => r.kind === 'task-role')).toMatchObject({
      result: 'left',
      action: 'not-owned',
    });
    expect(h.fake.roles.has('ecsTaskRole-startupwebapp')).toBe(true);
    expect(h.fake.roles.has('ecsTaskExecutionRole-startupwebapp')).toBe(false);
    expect(h.fake.rules.has(foreign.id)).toBe(true);
    expect([...h.fake.rules.values()].filter((r) => r.tags['managed-by'] === 'berth')).toEqual([]);
  });

  it("treats revisions CI registered from berth's family as berth's, ignoring the image tag", async () => {
    h = await awsCliHarness();
    await upCommand(h.ctx(), {}, h.deps);
    // CI: describe, swap the image for the git SHA, register (without tags).
    const current = await h.fake.clients.ecs.describeTaskDefinition('startupwebapp-migration-task');
    if (!current) throw new Error('no task definition');
    const { arn: _arn, revision: _revision, status: _status, tags: _tags, ...spec } = current;
    const container = spec.containerDefinitions[0];
    if (container) container.image = container.image.replace(':latest', ':3f2a9c1');
    await h.fake.clients.ecs.registerTaskDefinition(spec, {});
    h.stdout.clear();
    expect(await planCommand(h.ctx(), { detailedExitcode: true }, h.deps)).toBe(ExitCode.ok);
    h.json();

    // A real change registers a new revision that keeps CI's image tag.
    h.setConfig(sampleConfig((y) => y.replace('memory: 512', 'memory: 1024')));
    h.fake.resetCalls();
    await upCommand(h.ctx(), {}, h.deps);
    const up = h.json<UpResult>();
    expect(up.resources.find((r) => r.kind === 'task-definition')?.changes).toEqual([
      { field: 'memory', actual: '512', desired: '1024' },
    ]);
    const latest = await h.fake.clients.ecs.describeTaskDefinition('startupwebapp-migration-task');
    expect(latest?.revision).toBe(3);
    expect(latest?.memory).toBe('1024');
    expect(latest?.containerDefinitions[0]?.image).toBe(
      '123456789012.dkr.ecr.us-east-1.amazonaws.com/startupwebapp-backend:3f2a9c1',
    );

    // down deregisters every ACTIVE revision of the family, CI's included.
    await downCommand(h.ctx(), { yes: true }, { ...h.deps, confirm: () => Promise.resolve() });
    expect(h.fake.taskDefinitions.filter((t) => t.status === 'ACTIVE')).toEqual([]);
  });
});

describe('errors before writes', () => {
  it('reports unknown security groups and a missing secret as AWS_REFERENCE_INVALID with no write call', async () => {
    h = await awsCliHarness();
    h.setConfig(
      sampleConfig((y) =>
        y
          .replace(
            'backendSecurityGroup: startupwebapp-backend-sg',
            'backendSecurityGroup: sg-0deadbeef',
          )
          .replace('name: rds/startupwebapp/multi-tenant/master', 'name: rds/typo'),
      ),
    );
    const details = await expectBerthError(upCommand(h.ctx(), {}, h.deps), 'AWS_REFERENCE_INVALID');
    expect(details).toEqual({
      problems: [
        {
          path: 'database.secret.name',
          message: 'no Secrets Manager secret named "rds/typo" in us-east-1',
        },
        {
          path: 'network.backendSecurityGroup',
          message: 'no security group with ID "sg-0deadbeef" in us-east-1',
        },
      ],
    });
    expect(h.fake.writes()).toEqual([]);
  });

  it('finds a security group by its group name when no Name tag matches, and refuses an ambiguous Name tag', async () => {
    h = await awsCliHarness({
      config: sampleConfig((y) =>
        y.replace(
          'databaseSecurityGroup: startupwebapp-rds-sg',
          'databaseSecurityGroup: rds-by-group-name',
        ),
      ),
    });
    h.fake.addSecurityGroup({ name: 'rds-by-group-name', vpcId: 'vpc-0seed' });
    expect(await planCommand(h.ctx(), {}, h.deps)).toBe(ExitCode.ok);
    h.json();
    h.fake.addSecurityGroup({
      name: 'copy',
      nameTag: 'startupwebapp-backend-sg',
      vpcId: 'vpc-0seed',
    });
    const details = await expectBerthError(
      planCommand(h.ctx(), {}, h.deps),
      'AWS_REFERENCE_INVALID',
    );
    expect(JSON.stringify(details)).toContain('matches 2 security groups');
  });

  it('checks the config with assertAwsReady before any AWS call', async () => {
    h = await awsCliHarness({
      config: sampleConfig((y) =>
        y.replace('subnets: [subnet-0aaa1111, subnet-0bbb2222]', 'subnets: []'),
      ),
    });
    await expectBerthError(planCommand(h.ctx(), {}, h.deps), 'CONFIG_INVALID');
    expect(h.fake.calls).toEqual([]);
  });

  it('says infra commands are aws-only under --provider local', async () => {
    h = await awsCliHarness();
    await expectBerthError(upCommand(h.ctx({ provider: 'local' }), {}, h.deps), 'USAGE');
    expect(h.fake.calls).toEqual([]);
  });

  it('passes an AccessDenied through as AWS_ACCESS_DENIED and stops there', async () => {
    h = await awsCliHarness();
    h.fake.deny('iam.createRole');
    await expectBerthError(upCommand(h.ctx(), {}, h.deps), 'AWS_ACCESS_DENIED');
    expect(h.fake.writes().some((c) => c.method === 'registerTaskDefinition')).toBe(false);
  });

  it('refuses down without --yes when there is no terminal, before deleting anything', async () => {
    h = await awsCliHarness();
    await upCommand(h.ctx(), {}, h.deps);
    h.fake.resetCalls();
    const { confirm: _confirm, ...deps } = h.deps;
    await expectBerthError(downCommand(h.ctx(), { yes: false }, deps), 'CONFIRMATION_REQUIRED');
    expect(h.fake.writes()).toEqual([]);
  });

  it('refuses down while migration tasks run on the cluster, before deleting anything', async () => {
    h = await awsCliHarness();
    await upCommand(h.ctx(), {}, h.deps);
    const cluster = h.fake.clusters.get('startupwebapp-cluster');
    if (cluster) cluster.runningTasksCount = 2;
    h.fake.resetCalls();
    await expectBerthError(
      downCommand(h.ctx(), { yes: true }, { ...h.deps, confirm: () => Promise.resolve() }),
      'AWS_ERROR',
    );
    expect(h.fake.writes()).toEqual([]);
  });

  it('asks for the stack name with the list of what down deletes', async () => {
    h = await awsCliHarness({ json: false });
    await planCommand(h.ctx(), {}, h.deps);
    // Secret references are shown whole, not garbled by the redactor (nothing secret is in them).
    expect(h.stdout.text()).toContain(
      `container.secrets[DATABASE_PASSWORD]: (none) → {"secretArn":"${h.prerequisites.secret.arn}","jsonKey":"password"}`,
    );
    expect(h.stdout.text()).not.toContain('***');
    h.stdout.clear();
    await upCommand(h.ctx(), {}, h.deps);
    h.stderr.clear();
    const asked: [string, string, boolean][] = [];
    await downCommand(
      h.ctx(),
      { yes: false },
      {
        ...h.deps,
        confirm: (what, expected, yes) => (asked.push([what, expected, yes]), Promise.resolve()),
      },
    );
    expect(asked).toEqual([
      ['Delete 7 resource(s) of stack startupwebapp in us-east-1?', 'startupwebapp', false],
    ]);
    expect(h.stderr.text()).toContain('- delete  ECR repository  startupwebapp-backend');
  });
});
