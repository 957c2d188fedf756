/** The in-memory AWS fake is a test double other tests trust: its own behaviour is pinned here. */
import { describe, expect, it } from 'vitest';
import { isBerthError } from '../../../../src/core/errors.js';
import { createAwsFake } from '../../../../src/providers/aws/fake/aws-fake.js';

async function awsCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (isBerthError(error)) {
      const code = error.details?.awsCode;
      return typeof code === 'string' ? code : error.code;
    }
    throw error;
  }
  throw new Error('expected an error');
}

const policy = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 's3:ListBucket', Resource: '*' }],
});

describe('AwsFake', () => {
  it('records every call as a read or a write, and can be reset', async () => {
    const fake = createAwsFake();
    await fake.clients.ecr.describeRepository('r');
    await fake.clients.ecr.createRepository({
      name: 'r',
      scanOnPush: true,
      encryptionType: 'AES256',
      tags: {},
    });
    await fake.clients.ecr.countImages('r');
    expect(fake.calls).toEqual([
      { service: 'ecr', method: 'describeRepository', write: false },
      { service: 'ecr', method: 'createRepository', write: true },
      { service: 'ecr', method: 'countImages', write: false },
    ]);
    expect(fake.writes()).toHaveLength(1);
    fake.resetCalls();
    expect(fake.calls).toEqual([]);
  });

  it('returns copies, so callers cannot change its state by accident', async () => {
    const fake = createAwsFake();
    const repo = await fake.clients.ecr.createRepository({
      name: 'r',
      scanOnPush: true,
      encryptionType: 'AES256',
      tags: { a: '1' },
    });
    repo.scanOnPush = false;
    expect((await fake.clients.ecr.describeRepository('r'))?.scanOnPush).toBe(true);
  });

  it('ECR: rejects duplicates, needs force for a repository with images, counts images', async () => {
    const fake = createAwsFake({ account: '111111111111', region: 'eu-west-1' });
    const repo = await fake.clients.ecr.createRepository({
      name: 'r',
      scanOnPush: true,
      encryptionType: 'AES256',
      tags: { x: 'y' },
    });
    expect(repo.uri).toBe('111111111111.dkr.ecr.eu-west-1.amazonaws.com/r');
    expect(
      await awsCode(
        fake.clients.ecr.createRepository({
          name: 'r',
          scanOnPush: true,
          encryptionType: 'AES256',
          tags: {},
        }),
      ),
    ).toBe('RepositoryAlreadyExistsException');
    expect(await fake.clients.ecr.listTags(repo.arn)).toEqual({ x: 'y' });
    expect(await fake.clients.ecr.getLifecyclePolicy('r')).toBeUndefined();
    fake.pushImage('r');
    fake.pushImage('r', 'v2');
    expect(await fake.clients.ecr.countImages('r')).toBe(2);
    expect(await awsCode(fake.clients.ecr.deleteRepository('r', false))).toBe(
      'RepositoryNotEmptyException',
    );
    await fake.clients.ecr.deleteRepository('r', true);
    expect(await fake.clients.ecr.describeRepository('r')).toBeUndefined();
  });

  it('ECS: a deleted cluster stays INACTIVE and can be created again; a busy cluster cannot be deleted', async () => {
    const fake = createAwsFake();
    const input = {
      name: 'c',
      capacityProviders: ['FARGATE'],
      defaultCapacityProviderStrategy: [],
      tags: {},
    };
    await fake.clients.ecs.createCluster(input);
    await fake.clients.ecs.deleteCluster('c');
    expect((await fake.clients.ecs.describeCluster('c'))?.status).toBe('INACTIVE');
    expect(await awsCode(fake.clients.ecs.deleteCluster('c'))).toBe('ClusterNotFoundException');
    await fake.clients.ecs.createCluster(input);
    const cluster = fake.clusters.get('c');
    if (cluster) cluster.runningTasksCount = 1;
    expect(await awsCode(fake.clients.ecs.deleteCluster('c'))).toBe(
      'ClusterContainsTasksException',
    );
  });

  it('ECS: revisions keep counting after deregistration; the family resolves to its latest ACTIVE revision', async () => {
    const fake = createAwsFake();
    const spec = {
      family: 'f',
      requiresCompatibilities: ['FARGATE'],
      volumes: [],
      containerDefinitions: [
        {
          name: 'app',
          image: 'img:1',
          essential: true,
          environment: [],
          secrets: [],
          mountPoints: [],
        },
      ],
    };
    const r1 = await fake.clients.ecs.registerTaskDefinition(spec, { t: '1' });
    const r2 = await fake.clients.ecs.registerTaskDefinition(spec, {});
    expect([r1.revision, r2.revision]).toEqual([1, 2]);
    expect((await fake.clients.ecs.describeTaskDefinition('f'))?.revision).toBe(2);
    expect((await fake.clients.ecs.describeTaskDefinition('f:1'))?.tags).toEqual({ t: '1' });
    await fake.clients.ecs.deregisterTaskDefinition(r2.arn);
    expect((await fake.clients.ecs.describeTaskDefinition('f'))?.revision).toBe(1);
    expect(await fake.clients.ecs.listTaskDefinitionArns('f')).toEqual([r1.arn]);
    await fake.clients.ecs.deregisterTaskDefinition(r1.arn);
    expect(await fake.clients.ecs.describeTaskDefinition('f')).toBeUndefined();
    expect((await fake.clients.ecs.registerTaskDefinition(spec, {})).revision).toBe(3);
    expect(
      await awsCode(
        fake.clients.ecs.registerTaskDefinition({ ...spec, containerDefinitions: [] }, {}),
      ),
    ).toBe('ClientException');
  });

  it('IAM: refuses to delete a role that still has policies; list calls on a missing role are empty', async () => {
    const fake = createAwsFake();
    expect(await fake.clients.iam.listAttachedPolicyArns('nope')).toEqual([]);
    await fake.clients.iam.createRole({
      name: 'r',
      assumeRolePolicy: policy,
      description: 'd',
      tags: {},
    });
    expect(
      await awsCode(
        fake.clients.iam.createRole({
          name: 'r',
          assumeRolePolicy: policy,
          description: 'd',
          tags: {},
        }),
      ),
    ).toBe('EntityAlreadyExists');
    await fake.clients.iam.attachPolicy('r', 'arn:aws:iam::aws:policy/x');
    await fake.clients.iam.putInlinePolicy('r', 'p', policy);
    expect(await fake.clients.iam.getInlinePolicy('r', 'p')).toBe(policy);
    expect(await awsCode(fake.clients.iam.deleteRole('r'))).toBe('DeleteConflict');
    await fake.clients.iam.detachPolicy('r', 'arn:aws:iam::aws:policy/x');
    await fake.clients.iam.deleteInlinePolicy('r', 'p');
    await fake.clients.iam.deleteRole('r');
    expect(await fake.clients.iam.getRole('r')).toBeUndefined();
    expect(
      await awsCode(
        fake.clients.iam.createRole({
          name: 'bad',
          assumeRolePolicy: '{}',
          description: 'd',
          tags: {},
        }),
      ),
    ).toBe('MalformedPolicyDocument');
  });

  it('Logs: duplicate names fail; retention and tags are kept', async () => {
    const fake = createAwsFake();
    await fake.clients.logs.createLogGroup('/g', { a: '1' });
    expect(await awsCode(fake.clients.logs.createLogGroup('/g', {}))).toBe(
      'ResourceAlreadyExistsException',
    );
    await fake.clients.logs.putRetentionPolicy('/g', 14);
    const group = await fake.clients.logs.describeLogGroup('/g');
    expect(group).toMatchObject({ name: '/g', retentionDays: 14 });
    expect(await fake.clients.logs.listTags(group?.arn ?? '')).toEqual({ a: '1' });
  });

  it('EC2: groups by ID, Name tag or group name; duplicate rules fail; rules filter by group and tags', async () => {
    const fake = createAwsFake();
    const a = fake.addSecurityGroup({ name: 'a-name', nameTag: 'a-tag' });
    const b = fake.addSecurityGroup({ name: 'b-name' });
    expect(
      (await fake.clients.ec2.describeSecurityGroups({ nameTags: ['a-tag'] })).map((g) => g.id),
    ).toEqual([a.id]);
    expect(
      (await fake.clients.ec2.describeSecurityGroups({ groupNames: ['b-name'] })).map((g) => g.id),
    ).toEqual([b.id]);
    expect(
      (await fake.clients.ec2.describeSecurityGroups({ ids: [b.id, 'sg-missing'] })).map(
        (g) => g.id,
      ),
    ).toEqual([b.id]);
    // Each group starts with AWS's default allow-all egress rule.
    expect(await fake.clients.ec2.describeSecurityGroupRules({ groupIds: [a.id] })).toHaveLength(1);
    const spec = {
      groupId: a.id,
      direction: 'egress' as const,
      protocol: 'tcp' as const,
      fromPort: 5432,
      toPort: 5432,
      referencedGroupId: b.id,
      description: 'd',
    };
    const rule = await fake.clients.ec2.authorizeRule(spec, { stack: 's' });
    expect(await awsCode(fake.clients.ec2.authorizeRule(spec, {}))).toBe(
      'InvalidPermission.Duplicate',
    );
    expect(
      await awsCode(fake.clients.ec2.authorizeRule({ ...spec, groupId: 'sg-missing' }, {})),
    ).toBe('InvalidGroup.NotFound');
    expect(
      (await fake.clients.ec2.describeSecurityGroupRules({ tags: { stack: 's' } })).map(
        (r) => r.id,
      ),
    ).toEqual([rule.id]);
    await fake.clients.ec2.revokeRules(a.id, 'egress', [rule.id]);
    expect(await fake.clients.ec2.describeSecurityGroupRules({ tags: { stack: 's' } })).toEqual([]);
  });

  it('Secrets and STS: metadata by name or ARN, and the caller', async () => {
    const fake = createAwsFake({ account: '222222222222' });
    const secret = fake.addSecret('db/master');
    expect(secret.arn).toMatch(
      /^arn:aws:secretsmanager:us-east-1:222222222222:secret:db\/master-[0-9a-f]{6}$/,
    );
    expect(await fake.clients.secrets.describeSecret(secret.arn)).toEqual(secret);
    expect(await fake.clients.secrets.describeSecret('other')).toBeUndefined();
    expect((await fake.clients.sts.getCallerIdentity()).account).toBe('222222222222');
  });

  it('Parameter Store: metadata by exact name, AWS-style ARNs, the AWS-managed key by default', async () => {
    const fake = createAwsFake();
    const token = fake.addParameter('/app/api-token');
    const flags = fake.addParameter('flags', { type: 'String' });
    const cmk = fake.addParameter('/app/partner', {
      kmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/k',
    });
    expect(token).toEqual({
      name: '/app/api-token',
      arn: 'arn:aws:ssm:us-east-1:123456789012:parameter/app/api-token',
      type: 'SecureString',
      kmsKeyId: 'alias/aws/ssm',
    });
    expect(flags).toEqual({
      name: 'flags',
      arn: 'arn:aws:ssm:us-east-1:123456789012:parameter/flags',
      type: 'String',
    });
    fake.resetCalls();
    const found = await fake.clients.ssm.describeParameters([
      '/app/api-token',
      '/app/partner',
      '/app', // a path is not a parameter
      '/app/missing',
    ]);
    expect(found).toEqual([token, cmk]);
    expect(await fake.clients.ssm.describeParameters([])).toEqual([]);
    expect(fake.calls).toEqual([
      { service: 'ssm', method: 'describeParameters', write: false },
      { service: 'ssm', method: 'describeParameters', write: false },
    ]);
    fake.deny('ssm.describeParameters');
    expect(await awsCode(fake.clients.ssm.describeParameters(['flags']))).toBe('AWS_ACCESS_DENIED');
  });

  it('denies chosen calls with AWS_ACCESS_DENIED until allowed again', async () => {
    const fake = createAwsFake();
    fake.deny('logs.createLogGroup');
    await expect(fake.clients.logs.createLogGroup('/g', {})).rejects.toMatchObject({
      code: 'AWS_ACCESS_DENIED',
    });
    fake.allow('logs.createLogGroup');
    await fake.clients.logs.createLogGroup('/g', {});
  });

  it('measures concurrency when calls are delayed', async () => {
    const fake = createAwsFake({ latencyMs: 5 });
    await Promise.all([
      fake.clients.ecr.describeRepository('a'),
      fake.clients.logs.describeLogGroup('b'),
      fake.clients.iam.getRole('c'),
    ]);
    expect(fake.peakConcurrency).toBe(3);
  });

  it('snapshots the prerequisites, excluding rules berth owns', async () => {
    const fake = createAwsFake();
    const a = fake.addSecurityGroup({ name: 'a' });
    fake.addSecret('s');
    fake.addParameter('/p');
    const before = fake.prerequisites();
    expect(JSON.stringify(before)).toContain('parameter/p');
    await fake.clients.ec2.authorizeRule(
      {
        groupId: a.id,
        direction: 'egress',
        protocol: 'tcp',
        fromPort: 443,
        toPort: 443,
        cidrIpv4: '0.0.0.0/0',
        description: 'd',
      },
      { 'managed-by': 'berth' },
    );
    expect(fake.prerequisites()).toEqual(before);
    fake.addRule({
      groupId: a.id,
      direction: 'ingress',
      protocol: 'tcp',
      fromPort: 22,
      toPort: 22,
      cidrIpv4: '10.0.0.0/8',
    });
    expect(fake.prerequisites()).not.toEqual(before);
  });
});
