/**
 * task.secrets on AWS, against the in-memory fake: each secret is described (never read), the
 * task definition references it by full ARN (with the JSON key when one is named), the
 * execution role may read exactly those secrets (and decrypt with their customer keys), and the
 * CI principal may describe them. A secret that does not exist stops plan before any write.
 */
import { describe, expect, it } from 'vitest';
import { createAwsFake } from '../../../../src/providers/aws/fake/aws-fake.js';
import {
  sampleConfig,
  seedPrerequisites,
} from '../../../../src/providers/aws/fake/sample-stack.js';
import { desiredExecutionRole } from '../../../../src/providers/aws/stack/execution-role.js';
import { ciPolicy } from '../../../../src/providers/aws/stack/policies.js';
import { resolveReferences } from '../../../../src/providers/aws/stack/references.js';
import { planStack } from '../../../../src/providers/aws/stack/stack.js';
import { stackTags } from '../../../../src/providers/aws/stack/tags.js';
import { desiredTaskDefinition } from '../../../../src/providers/aws/stack/task-definition.js';
import type { StackSpec } from '../../../../src/providers/aws/stack/types.js';

const WITH_SECRETS = (yaml: string) =>
  yaml.replace(
    '  environment:\n    NODE_ENV: production',
    [
      '  secrets:',
      '    DJANGO_SECRET_KEY: startupwebapp/django',
      '    STRIPE_API_KEY: { secret: startupwebapp/payments, key: stripe, kmsKey: "arn:aws:kms:us-east-1:123456789012:key/pay" }',
      '    STRIPE_WEBHOOK_SECRET: { secret: startupwebapp/payments, key: webhook }',
      '  environment:',
      '    NODE_ENV: production',
    ].join('\n'),
  );

async function resolved(
  patch = WITH_SECRETS,
  secrets = ['startupwebapp/django', 'startupwebapp/payments'],
) {
  const fake = createAwsFake();
  const config = sampleConfig(patch);
  seedPrerequisites(fake, config);
  const arns = Object.fromEntries(secrets.map((name) => [name, fake.addSecret(name).arn]));
  const references = await resolveReferences(fake.clients, config, 'us-east-1');
  return { fake, config, arns, references };
}

describe('task.secrets on AWS', () => {
  it('references each secret by its full ARN in the task definition, with the JSON key', async () => {
    const { config, arns, references } = await resolved();
    expect(references.problems).toEqual([]);
    const refs = references.refs;
    if (!refs) throw new Error('no refs');
    const spec: StackSpec = { config, region: 'us-east-1', refs, tags: stackTags(config) };
    const container = desiredTaskDefinition(spec, {}).spec.containerDefinitions[0];
    const django = arns['startupwebapp/django'];
    const payments = arns['startupwebapp/payments'];
    expect(container?.secrets.map((s) => [s.name, s.valueFrom])).toEqual([
      ['DATABASE_HOST', `${refs.secret.arn}:host::`],
      ['DATABASE_PASSWORD', `${refs.secret.arn}:password::`],
      ['DATABASE_PORT', `${refs.secret.arn}:port::`],
      ['DATABASE_USER', `${refs.secret.arn}:username::`],
      ['DJANGO_SECRET_KEY', django],
      ['STRIPE_API_KEY', `${payments}:stripe::`],
      ['STRIPE_WEBHOOK_SECRET', `${payments}:webhook::`],
    ]);
    // Plain environment holds none of them.
    expect(container?.environment.map((e) => e.name)).not.toContain('DJANGO_SECRET_KEY');

    const policy = desiredExecutionRole(spec).inlinePolicies;
    expect(Object.values(policy)[0]?.Statement).toEqual([
      {
        Sid: 'ReadDatabaseSecret',
        Effect: 'Allow',
        Action: 'secretsmanager:GetSecretValue',
        Resource: refs.secret.arn,
      },
      {
        Sid: 'ReadTaskSecrets',
        Effect: 'Allow',
        Action: 'secretsmanager:GetSecretValue',
        Resource: [django, payments].sort(),
      },
      {
        Sid: 'DecryptTaskSecrets',
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: 'arn:aws:kms:us-east-1:123456789012:key/pay',
      },
    ]);
  });

  it('leaves the execution policy as it was without task.secrets (no drift on existing stacks)', async () => {
    const { config, references } = await resolved((y) => y, []);
    const refs = references.refs;
    if (!refs) throw new Error('no refs');
    const spec: StackSpec = { config, region: 'us-east-1', refs, tags: stackTags(config) };
    const statements = Object.values(desiredExecutionRole(spec).inlinePolicies)[0]?.Statement;
    expect(statements?.map((s) => s.Sid)).toEqual(['ReadDatabaseSecret']);
  });

  it('names the task.secrets entry whose secret does not exist, and writes nothing', async () => {
    const { fake, config, references } = await resolved(WITH_SECRETS, ['startupwebapp/django']);
    expect(references.refs).toBeUndefined();
    expect(references.problems).toEqual([
      {
        path: 'task.secrets.STRIPE_API_KEY',
        message: 'no Secrets Manager secret named "startupwebapp/payments" in us-east-1',
      },
      {
        path: 'task.secrets.STRIPE_WEBHOOK_SECRET',
        message: 'no Secrets Manager secret named "startupwebapp/payments" in us-east-1',
      },
    ]);
    await expect(planStack({ clients: fake.clients, config, region: 'us-east-1' })).rejects.toThrow(
      /task\.secrets\.STRIPE_API_KEY: no Secrets Manager secret named "startupwebapp\/payments"/,
    );
    expect(fake.writes()).toEqual([]);
  });

  it('describes each secret once, however many variables read it', async () => {
    const { fake } = await resolved();
    const described = fake.calls.filter((c) => c.method === 'describeSecret');
    // The database secret, startupwebapp/django and startupwebapp/payments.
    expect(described).toHaveLength(3);
  });

  it('warns when a secret uses a customer KMS key that task.secrets does not name', async () => {
    const fake = createAwsFake();
    const config = sampleConfig(WITH_SECRETS);
    seedPrerequisites(fake, config);
    fake.addSecret('startupwebapp/django', {
      kmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/dj',
    });
    fake.addSecret('startupwebapp/payments');
    const references = await resolveReferences(fake.clients, config, 'us-east-1');
    expect(references.problems).toEqual([]);
    expect(references.warnings).toEqual([
      'the secret "startupwebapp/django" is encrypted with KMS key arn:aws:kms:us-east-1:123456789012:key/dj; set task.secrets.DJANGO_SECRET_KEY.kmsKey to its ARN so the execution role may decrypt it',
    ]);
  });

  it('lets the CI principal describe the task secrets (never read them)', () => {
    const config = sampleConfig(WITH_SECRETS);
    const policy = ciPolicy({
      config,
      account: '123456789012',
      partition: 'aws',
      region: 'us-east-1',
    });
    const statement = policy.Statement.find((s) => s.Sid === 'DescribeTheTaskSecrets');
    expect(statement).toEqual({
      Sid: 'DescribeTheTaskSecrets',
      Effect: 'Allow',
      Action: 'secretsmanager:DescribeSecret',
      Resource: [
        'arn:aws:secretsmanager:us-east-1:123456789012:secret:startupwebapp/django-??????',
        'arn:aws:secretsmanager:us-east-1:123456789012:secret:startupwebapp/payments-??????',
      ],
    });
    expect(JSON.stringify(policy)).not.toContain('GetSecretValue');
  });
});
