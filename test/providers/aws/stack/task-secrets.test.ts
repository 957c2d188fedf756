/**
 * task.secrets on AWS, against the in-memory fake: each secret or Parameter Store parameter is
 * described (never read), the task definition references it by full ARN (with the JSON key
 * when one is named), the execution role may read exactly those (and decrypt with their
 * customer keys), and the CI principal may describe them. A secret or parameter that does not
 * exist stops plan before any write.
 */
import { describe, expect, it } from 'vitest';
import { isBerthError } from '../../../../src/core/errors.js';
import { exitCodeForError } from '../../../../src/core/exit-codes.js';
import { createAwsFake } from '../../../../src/providers/aws/fake/aws-fake.js';
import {
  sampleConfig,
  seedPrerequisites,
} from '../../../../src/providers/aws/fake/sample-stack.js';
import { desiredExecutionRole } from '../../../../src/providers/aws/stack/execution-role.js';
import { ciPolicy } from '../../../../src/providers/aws/stack/policies.js';
import {
  parameterArn,
  parameterName,
  resolveReferences,
} from '../../../../src/providers/aws/stack/references.js';
import { planStack, showStack, upStack } from '../../../../src/providers/aws/stack/stack.js';
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

const TOKEN_ARN = 'arn:aws:ssm:us-east-1:123456789012:parameter/startupwebapp/api-token';
const FLAGS_ARN = 'arn:aws:ssm:us-east-1:123456789012:parameter/feature-flags';
const PARAMETER_KEY = 'arn:aws:kms:us-east-1:123456789012:key/params';

const WITH_PARAMETERS = (yaml: string) =>
  yaml.replace(
    '  environment:\n    NODE_ENV: production',
    [
      '  secrets:',
      '    API_TOKEN: { parameter: /startupwebapp/api-token }',
      `    FEATURE_FLAGS: { parameter: "${FLAGS_ARN}" }`,
      `    PARTNER_KEY: { parameter: /startupwebapp/partner-key, kmsKey: "${PARAMETER_KEY}" }`,
      '    DJANGO_SECRET_KEY: startupwebapp/django',
      '  environment:',
      '    NODE_ENV: production',
    ].join('\n'),
  );

/** The sample stack with WITH_PARAMETERS' parameters (those in `parameters`) and secret. */
async function withParameters(
  parameters = ['/startupwebapp/api-token', 'feature-flags', '/startupwebapp/partner-key'],
  patch = WITH_PARAMETERS,
) {
  const fake = createAwsFake();
  const config = sampleConfig(patch);
  seedPrerequisites(fake, config);
  const django = fake.addSecret('startupwebapp/django').arn;
  for (const name of parameters)
    fake.addParameter(name, {
      type: name === 'feature-flags' ? 'String' : 'SecureString',
      ...(name === '/startupwebapp/partner-key' ? { kmsKeyId: PARAMETER_KEY } : {}),
    });
  const references = await resolveReferences(fake.clients, config, 'us-east-1');
  return { fake, config, django, references };
}

function specOf(config: ReturnType<typeof sampleConfig>, refs: StackSpec['refs'] | undefined) {
  if (!refs) throw new Error('no refs');
  return { config, region: 'us-east-1', refs, tags: stackTags(config) } satisfies StackSpec;
}

describe('task.secrets from Parameter Store on AWS', () => {
  it("references each parameter by its ARN, the name's leading slash not doubled", async () => {
    const { config, django, references } = await withParameters();
    expect(references.problems).toEqual([]);
    expect(references.warnings).toEqual([]);
    const container = desiredTaskDefinition(specOf(config, references.refs), {}).spec
      .containerDefinitions[0];
    const app = container?.secrets.filter((s) => !s.name.startsWith('DATABASE_'));
    expect(app).toEqual([
      { name: 'API_TOKEN', valueFrom: TOKEN_ARN },
      { name: 'DJANGO_SECRET_KEY', valueFrom: django },
      { name: 'FEATURE_FLAGS', valueFrom: FLAGS_ARN },
      {
        name: 'PARTNER_KEY',
        valueFrom: 'arn:aws:ssm:us-east-1:123456789012:parameter/startupwebapp/partner-key',
      },
    ]);
    expect(JSON.stringify(container)).not.toContain('parameter//');
  });

  it('builds the ARN in the stack’s partition, region and account when the answer has none', async () => {
    const fake = createAwsFake();
    const config = sampleConfig(WITH_PARAMETERS);
    seedPrerequisites(fake, config);
    fake.addSecret('startupwebapp/django');
    for (const name of ['/startupwebapp/api-token', 'feature-flags', '/startupwebapp/partner-key'])
      fake.addParameter(name, { type: 'String' });
    // As moto answers DescribeParameters: no ARN in ParameterMetadata.
    for (const p of fake.parameters.values()) delete p.arn;
    const references = await resolveReferences(fake.clients, config, 'us-east-1');
    expect(references.problems).toEqual([]);
    expect(references.refs?.taskParameters.get('/startupwebapp/api-token')?.arn).toBe(TOKEN_ARN);
    expect(references.refs?.taskParameters.get(FLAGS_ARN)?.arn).toBe(FLAGS_ARN);
  });

  it('lets the execution role GetParameters on exactly those ARNs, and decrypt with kmsKey', async () => {
    const { config, django, references } = await withParameters();
    const spec = specOf(config, references.refs);
    const statements = Object.values(desiredExecutionRole(spec).inlinePolicies)[0]?.Statement;
    expect(statements).toEqual([
      {
        Sid: 'ReadDatabaseSecret',
        Effect: 'Allow',
        Action: 'secretsmanager:GetSecretValue',
        Resource: spec.refs.secret.arn,
      },
      {
        Sid: 'ReadTaskSecrets',
        Effect: 'Allow',
        Action: 'secretsmanager:GetSecretValue',
        Resource: django,
      },
      {
        Sid: 'ReadTaskParameters',
        Effect: 'Allow',
        Action: 'ssm:GetParameters',
        Resource: [
          FLAGS_ARN,
          TOKEN_ARN,
          'arn:aws:ssm:us-east-1:123456789012:parameter/startupwebapp/partner-key',
        ],
      },
      {
        Sid: 'DecryptTaskSecrets',
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: PARAMETER_KEY,
      },
    ]);
    // The value is never berth's: no GetParameter (singular) nor a wildcard.
    expect(JSON.stringify(statements)).not.toMatch(/ssm:GetParameter"|parameter\/\*/);
  });

  it('names the task.secrets entry whose parameter does not exist, and writes nothing (exit 8)', async () => {
    const { fake, config, references } = await withParameters(['feature-flags']);
    expect(references.refs).toBeUndefined();
    expect(references.problems).toEqual([
      {
        path: 'task.secrets.API_TOKEN',
        message: 'no Parameter Store parameter named "/startupwebapp/api-token" in us-east-1',
      },
      {
        path: 'task.secrets.PARTNER_KEY',
        message: 'no Parameter Store parameter named "/startupwebapp/partner-key" in us-east-1',
      },
    ]);
    let error: unknown;
    try {
      await planStack({ clients: fake.clients, config, region: 'us-east-1' });
    } catch (e) {
      error = e;
    }
    expect(isBerthError(error) && error.code).toBe('AWS_REFERENCE_INVALID');
    expect(isBerthError(error) && exitCodeForError(error.code)).toBe(8);
    expect((error as Error).message).toContain(
      'task.secrets.API_TOKEN: no Parameter Store parameter named "/startupwebapp/api-token"',
    );
    expect(fake.writes()).toEqual([]);
  });

  it('warns when a SecureString uses a customer KMS key that task.secrets does not name', async () => {
    const fake = createAwsFake();
    const config = sampleConfig(WITH_PARAMETERS);
    seedPrerequisites(fake, config);
    fake.addSecret('startupwebapp/django');
    fake.addParameter('/startupwebapp/api-token', {
      kmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/token',
    });
    fake.addParameter('feature-flags'); // SecureString with alias/aws/ssm: nothing to grant
    fake.addParameter('/startupwebapp/partner-key', { kmsKeyId: PARAMETER_KEY }); // named
    const references = await resolveReferences(fake.clients, config, 'us-east-1');
    expect(references.problems).toEqual([]);
    expect(references.warnings).toEqual([
      'the parameter "/startupwebapp/api-token" is encrypted with KMS key arn:aws:kms:us-east-1:123456789012:key/token; set task.secrets.API_TOKEN.kmsKey to its ARN so the execution role may decrypt it',
    ]);
  });

  it('refuses a parameter ARN of another region, which berth cannot describe', async () => {
    const other = 'arn:aws:ssm:eu-west-1:123456789012:parameter/startupwebapp/api-token';
    const { references } = await withParameters(['/startupwebapp/api-token'], (yaml) =>
      yaml.replace(
        '  environment:\n    NODE_ENV: production',
        `  secrets:\n    API_TOKEN: { parameter: "${other}" }\n  environment:\n    NODE_ENV: production`,
      ),
    );
    expect(references.problems).toEqual([
      {
        path: 'task.secrets.API_TOKEN',
        message: `${other} is not in this stack's region and account (the parameter of that name here is ${TOKEN_ARN}); berth describes parameters in us-east-1 only: name one there`,
      },
    ]);
  });

  it('describes every parameter in one call, and calls Parameter Store not at all without one', async () => {
    const { fake } = await withParameters();
    const ssm = fake.calls.filter((c) => c.service === 'ssm');
    expect(ssm).toEqual([{ service: 'ssm', method: 'describeParameters', write: false }]);
    const plain = await resolved();
    expect(plain.fake.calls.filter((c) => c.service === 'ssm')).toEqual([]);
  });

  it('reads back what it registered: a second plan changes nothing, and show names the sources', async () => {
    const { fake, config } = await withParameters();
    const options = { clients: fake.clients, config, region: 'us-east-1' };
    const up = await upStack(options);
    expect(up.resources.find((r) => r.kind === 'task-definition')?.action).toBe('create');
    fake.resetCalls();
    const plan = await planStack(options);
    expect(plan.resources.filter((r) => r.action !== 'no-change')).toEqual([]);
    expect(fake.writes()).toEqual([]);
    const shown = await showStack(options);
    expect(shown.prerequisites.taskSecrets.filter((t) => t.source === 'ssm')).toEqual([
      { name: 'API_TOKEN', source: 'ssm', ref: '/startupwebapp/api-token', arn: TOKEN_ARN },
      { name: 'FEATURE_FLAGS', source: 'ssm', ref: FLAGS_ARN, arn: FLAGS_ARN },
      {
        name: 'PARTNER_KEY',
        source: 'ssm',
        ref: '/startupwebapp/partner-key',
        arn: 'arn:aws:ssm:us-east-1:123456789012:parameter/startupwebapp/partner-key',
      },
    ]);
  });

  it('lets the CI principal DescribeParameters (it takes no resource), only when one is named', () => {
    const policy = (patch: (y: string) => string) =>
      ciPolicy({
        config: sampleConfig(patch),
        account: '123456789012',
        partition: 'aws',
        region: 'us-east-1',
      });
    const withThem = policy(WITH_PARAMETERS);
    expect(withThem.Statement.find((s) => s.Sid === 'DescribeTheTaskParameters')).toEqual({
      Sid: 'DescribeTheTaskParameters',
      Effect: 'Allow',
      Action: 'ssm:DescribeParameters',
      Resource: '*',
    });
    // The parameters' values stay with the execution role.
    expect(JSON.stringify(withThem)).not.toContain('ssm:GetParameter');
    // The Secrets Manager entry is still described by its own statement.
    expect(withThem.Statement.find((s) => s.Sid === 'DescribeTheTaskSecrets')?.Resource).toBe(
      'arn:aws:secretsmanager:us-east-1:123456789012:secret:startupwebapp/django-??????',
    );
    expect(JSON.stringify(policy(WITH_SECRETS))).not.toContain('ssm:');
  });

  it('turns a parameter name into its ARN and back', () => {
    for (const [name, arn] of [
      ['/startupwebapp/api-token', TOKEN_ARN],
      ['feature-flags', FLAGS_ARN],
      ['/top', 'arn:aws:ssm:us-east-1:123456789012:parameter/top'],
    ] as const) {
      expect(parameterArn('aws', 'us-east-1', '123456789012', name)).toBe(arn);
      expect(parameterName(arn)).toBe(name === '/top' ? 'top' : name);
      expect(parameterName(name)).toBe(name);
    }
    expect(parameterArn('aws-cn', 'cn-north-1', '1', '/a/b')).toBe(
      'arn:aws-cn:ssm:cn-north-1:1:parameter/a/b',
    );
  });
});
