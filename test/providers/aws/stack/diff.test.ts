/** The pure side: desired state, diffs, policy normalisation, the dependency graph, outputs. */
import { describe, expect, it } from 'vitest';
import { sampleConfig } from '../../../../src/providers/aws/fake/sample-stack.js';
import { decide, jsonEqual, tagChanges } from '../../../../src/providers/aws/stack/diff.js';
import {
  diffRepository,
  lifecyclePolicy,
  type RepositoryActual,
} from '../../../../src/providers/aws/stack/ecr-repository.js';
import { diffCluster } from '../../../../src/providers/aws/stack/ecs-cluster.js';
import { diffLogGroup } from '../../../../src/providers/aws/stack/log-group.js';
import { diffRole, type RoleActual } from '../../../../src/providers/aws/stack/iam-role.js';
import { desiredExecutionRole } from '../../../../src/providers/aws/stack/execution-role.js';
import { outputsEnvText, shellValue } from '../../../../src/providers/aws/stack/outputs.js';
import {
  reverseTopologicalOrder,
  topologicalOrder,
} from '../../../../src/providers/aws/stack/plan-engine.js';
import { normalizePolicy, samePolicy } from '../../../../src/providers/aws/stack/policies.js';
import { arnParts } from '../../../../src/providers/aws/stack/references.js';
import {
  analyseRules,
  desiredRules,
} from '../../../../src/providers/aws/stack/security-group-rules.js';
import { STACK_RESOURCES } from '../../../../src/providers/aws/stack/stack.js';
import { stackTags } from '../../../../src/providers/aws/stack/tags.js';
import {
  desiredTaskDefinition,
  diffTaskDefinition,
  imageRepository,
  type TaskDefinitionActual,
} from '../../../../src/providers/aws/stack/task-definition.js';
import type { StackSpec } from '../../../../src/providers/aws/stack/types.js';

const config = sampleConfig();
const SECRET =
  'arn:aws:secretsmanager:us-east-1:123456789012:secret:rds/startupwebapp/multi-tenant/master-AbCdEf';
const spec: StackSpec = {
  config,
  region: 'us-east-1',
  tags: stackTags(config),
  refs: {
    account: '123456789012',
    partition: 'aws',
    secret: { arn: SECRET, name: config.database.secret.name },
    taskSecrets: new Map(),
    taskParameters: new Map(),
    backendGroup: { id: 'sg-b', groupName: 'b', vpcId: 'vpc-1', tags: {} },
    databaseGroup: { id: 'sg-d', groupName: 'd', vpcId: 'vpc-1', tags: {} },
  },
};
const owned = {
  'managed-by': 'berth',
  stack: 'startupwebapp',
  Environment: 'Production',
  Application: 'StartupWebApp',
};

describe('ECR repository', () => {
  it("builds the seed's lifecycle policy from keepImages", () => {
    expect(lifecyclePolicy(25)).toEqual({
      rules: [
        {
          rulePriority: 1,
          description: 'Keep last 25 images',
          selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 25 },
          action: { type: 'expire' },
        },
      ],
    });
  });

  const actual = (
    over: Partial<RepositoryActual['repository']> = {},
    policy = lifecyclePolicy(10),
  ): RepositoryActual => ({
    repository: {
      name: 'startupwebapp-backend',
      arn: 'arn',
      uri: 'uri',
      registryId: '1',
      scanOnPush: true,
      encryptionType: 'AES256',
      ...over,
    },
    tags: { ...owned, Name: 'startupwebapp-backend' },
    lifecyclePolicy: policy as unknown as RepositoryActual['lifecyclePolicy'],
  });
  const desired = {
    name: 'startupwebapp-backend',
    scanOnPush: true,
    encryptionType: 'AES256' as const,
    lifecyclePolicy: lifecyclePolicy(10),
    tags: { ...owned, Name: 'startupwebapp-backend' },
  };

  it('has no change when everything matches', () => {
    expect(diffRepository(actual(), desired, 'startupwebapp', false)).toEqual({
      kind: 'ecr-repository',
      name: 'startupwebapp-backend',
      action: 'no-change',
      changes: [],
    });
  });

  it('lists scan, lifecycle and tag differences; encryption is flagged immutable', () => {
    const plan = diffRepository(
      actual({ scanOnPush: false, encryptionType: 'KMS' }, lifecyclePolicy(30)),
      desired,
      'startupwebapp',
      false,
    );
    expect(plan.action).toBe('update');
    expect(plan.changes.map((c) => c.field)).toEqual([
      'scanOnPush',
      'encryption',
      'lifecyclePolicy',
    ]);
    expect(plan.changes[1]).toMatchObject({ actual: 'KMS', desired: 'AES256', immutable: true });
  });

  it('creates when absent, without listing tags', () => {
    const plan = diffRepository(undefined, desired, 'startupwebapp', false);
    expect(plan.action).toBe('create');
    expect(plan.changes.some((c) => c.field.startsWith('tags.'))).toBe(false);
  });
});

describe('log group and cluster', () => {
  it('shows a retention change and a log group that never expires', () => {
    const desired = { name: '/g', retentionDays: 7, tags: owned };
    expect(
      diffLogGroup(
        { group: { name: '/g', arn: 'a', retentionDays: 14, storedBytes: 0 }, tags: owned },
        desired,
        'startupwebapp',
        false,
      ).changes,
    ).toEqual([{ field: 'retentionDays', actual: 14, desired: 7 }]);
    expect(
      diffLogGroup(
        { group: { name: '/g', arn: 'a', storedBytes: 0 }, tags: owned },
        desired,
        'startupwebapp',
        false,
      ).changes,
    ).toEqual([{ field: 'retentionDays', actual: null, desired: 7 }]);
  });

  it('compares capacity providers as a set and ignores an INACTIVE-looking order', () => {
    const desired = {
      name: 'c',
      capacityProviders: ['FARGATE', 'FARGATE_SPOT'],
      defaultCapacityProviderStrategy: [{ capacityProvider: 'FARGATE', weight: 1, base: 0 }],
      tags: owned,
    };
    const cluster = {
      name: 'c',
      arn: 'a',
      status: 'ACTIVE',
      capacityProviders: ['FARGATE_SPOT', 'FARGATE'],
      defaultCapacityProviderStrategy: [{ capacityProvider: 'FARGATE', weight: 1, base: 0 }],
      tags: owned,
      runningTasksCount: 0,
      pendingTasksCount: 0,
    };
    expect(diffCluster(cluster, desired, 'startupwebapp', false).action).toBe('no-change');
    expect(
      diffCluster({ ...cluster, capacityProviders: [] }, desired, 'startupwebapp', false).changes[0]
        ?.field,
    ).toBe('capacityProviders');
  });
});

describe('ownership decisions', () => {
  it("not-owned without --adopt, adopt with it; another stack's tags are not ours", () => {
    expect(decide('log-group', 'g', { exists: true, owned: false, adopt: false }, []).action).toBe(
      'not-owned',
    );
    expect(decide('log-group', 'g', { exists: true, owned: false, adopt: true }, []).action).toBe(
      'adopt',
    );
    expect(
      tagChanges(
        { 'managed-by': 'berth', stack: 'other' },
        { 'managed-by': 'berth', stack: 'startupwebapp' },
      ),
    ).toEqual([{ field: 'tags.stack', actual: 'other', desired: 'startupwebapp' }]);
  });
});

describe('IAM policies', () => {
  it('treats reordered keys, one-element lists and an object Statement as the same policy', () => {
    const a = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 'sts:AssumeRole',
          Principal: { Service: 'ecs-tasks.amazonaws.com' },
        },
      ],
    };
    const b = {
      Statement: {
        Principal: { Service: ['ecs-tasks.amazonaws.com'] },
        Action: ['sts:AssumeRole'],
        Effect: 'Allow',
      },
      Version: '2012-10-17',
    };
    expect(samePolicy(a, b)).toBe(true);
    expect(normalizePolicy(a)).toEqual(normalizePolicy(b));
    expect(
      samePolicy(a, { ...a, Statement: [{ ...a.Statement[0], Action: 'sts:TagSession' }] }),
    ).toBe(false);
  });

  it("sees an extra managed policy and a foreign inline policy on berth's role as drift", () => {
    const desired = desiredExecutionRole(spec);
    const actual: RoleActual = {
      role: {
        name: desired.name,
        arn: 'arn',
        assumeRolePolicy: JSON.stringify(desired.trustPolicy),
        tags: owned,
      },
      managedPolicyArns: [
        ...desired.managedPolicyArns,
        'arn:aws:iam::aws:policy/AdministratorAccess',
      ],
      inlinePolicyNames: ['berth-read-database-secret', 'added-by-hand'],
      inlinePolicies: {
        'berth-read-database-secret': desired.inlinePolicies[
          'berth-read-database-secret'
        ] as unknown as RoleActual['inlinePolicies'][string],
      },
    };
    const plan = diffRole('execution-role', actual, desired, 'startupwebapp', false);
    expect(plan.action).toBe('update');
    expect(plan.changes.map((c) => c.field)).toEqual([
      'managedPolicies',
      'inlinePolicies.added-by-hand',
    ]);
  });
});

describe('task definition', () => {
  it('compares the image repository, not the tag a deployment chose', () => {
    expect(imageRepository('123.dkr.ecr.us-east-1.amazonaws.com/app:3f2a9c1')).toBe(
      '123.dkr.ecr.us-east-1.amazonaws.com/app',
    );
    expect(imageRepository('localhost:5000/app@sha256:abcdef')).toBe('localhost:5000/app');
    expect(imageRepository('localhost:5000/app')).toBe('localhost:5000/app');
  });

  it('shows per-variable environment and secret differences', () => {
    const desired = desiredTaskDefinition(spec, {});
    const latest = {
      ...structuredClone(desired.spec),
      arn: 'arn',
      revision: 4,
      status: 'ACTIVE',
      tags: owned,
    };
    const container = latest.containerDefinitions[0];
    if (!container) throw new Error('no container');
    container.image = container.image.replace(':latest', ':abc');
    // PGPASSWORD: set outside berth (berth.yaml refuses it); its change is shown masked.
    container.environment = container.environment
      .filter((e) => e.name !== 'NODE_ENV')
      .concat({ name: 'DEBUG', value: '1' }, { name: 'PGPASSWORD', value: 'hunter2pw' });
    container.secrets = container.secrets.map((s) =>
      s.name === 'DATABASE_PASSWORD' ? { ...s, valueFrom: `${SECRET}:pw::` } : s,
    );
    const actual: TaskDefinitionActual = { latest, owned: true };
    expect(diffTaskDefinition(actual, desired, false).changes).toEqual([
      { field: 'container.environment[DEBUG]', actual: '1', desired: null },
      { field: 'container.environment[NODE_ENV]', actual: null, desired: 'production' },
      {
        field: 'container.environment[PGPASSWORD]',
        actual: '***',
        desired: null,
        note: 'value masked: the name says it is a secret',
      },
      {
        field: 'container.secrets[DATABASE_PASSWORD]',
        actual: { secretArn: SECRET, jsonKey: 'pw' },
        desired: { secretArn: SECRET, jsonKey: 'password' },
      },
    ]);
  });

  it('uses the actual repository URI when there is one (emulators use other hosts)', () => {
    const desired = desiredTaskDefinition(spec, {
      ECR_REPOSITORY_URI: 'localhost.localstack.cloud:4510/startupwebapp-backend',
    });
    expect(desired.spec.containerDefinitions[0]?.image).toBe(
      'localhost.localstack.cloud:4510/startupwebapp-backend:latest',
    );
  });

  it('drops the /tmp volume when the root filesystem is writable', () => {
    const writable = sampleConfig((y) =>
      y.replace('  cpu: 256', '  readonlyRootFilesystem: false\n  cpu: 256'),
    );
    const d = desiredTaskDefinition({ ...spec, config: writable }, {});
    expect(d.spec.volumes).toEqual([]);
    expect(d.spec.containerDefinitions[0]?.mountPoints).toEqual([]);
    expect(d.spec.containerDefinitions[0]?.readonlyRootFilesystem).toBe(false);
  });
});

describe('security-group rules', () => {
  it('finds missing, foreign-identical and stale rules', () => {
    const desired = desiredRules(spec);
    const ours = { 'managed-by': 'berth', stack: 'startupwebapp' };
    const analysis = analyseRules(
      {
        owned: [
          {
            id: 'sgr-1',
            groupId: 'sg-b',
            direction: 'egress',
            protocol: 'tcp',
            fromPort: 443,
            toPort: 443,
            cidrIpv4: '0.0.0.0/0',
            tags: ours,
          },
          {
            id: 'sgr-2',
            groupId: 'sg-b',
            direction: 'egress',
            protocol: 'tcp',
            fromPort: 5433,
            toPort: 5433,
            referencedGroupId: 'sg-d',
            tags: ours,
          },
        ],
        inGroups: [
          {
            id: 'sgr-3',
            groupId: 'sg-d',
            direction: 'ingress',
            protocol: 'tcp',
            fromPort: 5432,
            toPort: 5432,
            referencedGroupId: 'sg-b',
            tags: {},
          },
        ],
      },
      desired,
      'startupwebapp',
    );
    expect(analysis.missing.map((r) => [r.groupId, r.direction, r.fromPort])).toEqual([
      ['sg-b', 'egress', 5432],
    ]);
    expect(analysis.unowned.map((r) => r.id)).toEqual(['sgr-3']);
    expect(analysis.extra.map((r) => r.id)).toEqual(['sgr-2']);
  });
});

describe('dependency graph', () => {
  it('orders up as the seed did and down in reverse', () => {
    expect(topologicalOrder(STACK_RESOURCES).map((r) => r.kind)).toEqual([
      'ecr-repository',
      'ecs-cluster',
      'log-group',
      'execution-role',
      'task-role',
      'security-group-rules',
      'task-definition',
    ]);
    expect(reverseTopologicalOrder(STACK_RESOURCES)[0]?.kind).toBe('task-definition');
  });

  it('puts dependencies first whatever the declaration order, and rejects cycles', () => {
    const nodes = [
      { kind: 'c', dependsOn: ['a', 'b'] },
      { kind: 'b', dependsOn: ['a'] },
      { kind: 'a', dependsOn: [] },
    ];
    expect(topologicalOrder(nodes).map((n) => n.kind)).toEqual(['a', 'b', 'c']);
    expect(() =>
      topologicalOrder([
        { kind: 'a', dependsOn: ['b'] },
        { kind: 'b', dependsOn: ['a'] },
      ]),
    ).toThrow(/cycle/);
    expect(() => topologicalOrder([{ kind: 'a', dependsOn: ['zz'] }])).toThrow(/unknown/);
  });
});

describe('outputs and helpers', () => {
  it('writes a shell-sourceable env file in a stable key order', () => {
    expect(shellValue('/ecs/app')).toBe('/ecs/app');
    expect(shellValue("/ecs/a#b c'd")).toBe(`'/ecs/a#b c'\\''d'`);
    const text = outputsEnvText(
      's',
      { LOG_GROUP_NAME: '/g', AWS_REGION: 'us-east-1' },
      '2026-01-01T00:00:00.000Z',
    );
    expect(text.split('\n').filter((l) => !l.startsWith('#'))).toEqual([
      'AWS_REGION=us-east-1',
      'LOG_GROUP_NAME=/g',
      '',
    ]);
  });

  it('parses account and partition out of ARNs', () => {
    expect(arnParts(SECRET)).toEqual({ partition: 'aws', account: '123456789012' });
    expect(arnParts('arn:aws-cn:secretsmanager:cn-north-1:1:secret:x')).toEqual({
      partition: 'aws-cn',
      account: '1',
    });
    expect(arnParts('not-an-arn')).toBeUndefined();
  });

  it('compares JSON structurally', () => {
    expect(jsonEqual({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] })).toBe(true);
    expect(jsonEqual({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(jsonEqual([1, 2], [2, 1])).toBe(false);
  });
});
