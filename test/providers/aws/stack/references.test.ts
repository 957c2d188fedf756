import { describe, expect, it } from 'vitest';
import { createAwsFake } from '../../../../src/providers/aws/fake/aws-fake.js';
import {
  sampleConfig,
  seedPrerequisites,
} from '../../../../src/providers/aws/fake/sample-stack.js';
import { planStack } from '../../../../src/providers/aws/stack/stack.js';
import {
  assertReferences,
  resolveReferences,
} from '../../../../src/providers/aws/stack/references.js';
import { isBerthError } from '../../../../src/core/errors.js';

/** The sample stack's prerequisites in a fake account, with berth.yaml edited by `patch`. */
function account(patch: (yaml: string) => string = (y) => y) {
  const fake = createAwsFake();
  const prereqs = seedPrerequisites(fake, sampleConfig());
  return { fake, prereqs, config: sampleConfig(patch) };
}

describe('the prerequisites berth.yaml names', () => {
  it('resolves the secret, both groups and every subnet when they exist', async () => {
    const { fake, config } = account();
    const resolved = await resolveReferences(fake.clients, config, 'us-east-1');
    expect(resolved.problems).toEqual([]);
    expect(resolved.refs?.backendGroup.vpcId).toBe('vpc-0seed');
    expect(fake.calls.map((c) => `${c.service}.${c.method}`).sort()).toEqual([
      'ec2.describeSecurityGroups',
      'ec2.describeSubnets',
      'secrets.describeSecret',
    ]);
  });

  it('warns when the database secret uses a customer KMS key that database.secret.kmsKey does not name', async () => {
    const fake = createAwsFake();
    const config = sampleConfig();
    seedPrerequisites(fake, config);
    // The same name again: the fake keeps the last secret of a name.
    fake.addSecret(config.database.secret.name, {
      kmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/db',
    });
    const resolved = await resolveReferences(fake.clients, config, 'us-east-1');
    expect(resolved.problems).toEqual([]);
    expect(resolved.warnings).toEqual([
      `the secret "${config.database.secret.name}" is encrypted with KMS key arn:aws:kms:us-east-1:123456789012:key/db; set database.secret.kmsKey to its ARN so the execution role may decrypt it`,
    ]);
  });

  it('names the subnet that does not exist, by its place in network.subnets', async () => {
    const { fake, config } = account((y) =>
      y.replace(
        'subnets: [subnet-0aaa1111, subnet-0bbb2222]',
        'subnets: [subnet-0aaa1111, subnet-0badbad]',
      ),
    );
    const resolved = await resolveReferences(fake.clients, config, 'us-east-1');
    expect(resolved.refs).toBeUndefined();
    expect(resolved.problems).toEqual([
      { path: 'network.subnets[1]', message: 'no subnet with ID "subnet-0badbad" in us-east-1' },
    ]);
  });

  it('refuses a subnet in another VPC than the backend group: the task could not start there', async () => {
    const { fake, config } = account((y) =>
      y.replace(
        'subnets: [subnet-0aaa1111, subnet-0bbb2222]',
        'subnets: [subnet-0aaa1111, subnet-0ccc3333]',
      ),
    );
    fake.addSubnet({ id: 'subnet-0ccc3333', vpcId: 'vpc-0eeeeeee' });
    const resolved = await resolveReferences(fake.clients, config, 'us-east-1');
    expect(resolved.problems).toEqual([
      {
        path: 'network.subnets[1]',
        message: expect.stringContaining(
          'subnet subnet-0ccc3333 is in vpc-0eeeeeee, but the backend security group',
        ) as string,
      },
    ]);
    let error: unknown;
    try {
      assertReferences(resolved, 'berth.yaml');
    } catch (e) {
      error = e;
    }
    expect(isBerthError(error) && error.code).toBe('AWS_REFERENCE_INVALID');
  });

  it('stops plan on a missing subnet before any write', async () => {
    const { fake, config } = account((y) => y.replace('subnet-0bbb2222', 'subnet-0dead'));
    await expect(planStack({ clients: fake.clients, config, region: 'us-east-1' })).rejects.toThrow(
      /network\.subnets\[1\]: no subnet with ID "subnet-0dead"/,
    );
    expect(fake.writes()).toEqual([]);
  });
});
