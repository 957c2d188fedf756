/**
 * `berth show`'s prerequisites block: every value starts in the same column; task.secrets
 * say where each variable comes from (Secrets Manager or Parameter Store) and what it resolved to.
 */
import { describe, expect, it } from 'vitest';
import { createOutput } from '../../src/cli/output.js';
import { renderShow } from '../../src/cli/render/stack.js';
import { captureStream } from '../support/aws-cli.js';

describe('renderShow', () => {
  it('lines up the prerequisites, the longest label included', () => {
    const stdout = captureStream();
    renderShow(createOutput(false, stdout, captureStream(), {}), {
      stack: 'shop',
      region: 'us-east-1',
      account: '123456789012',
      prerequisites: {
        secret: { name: 'rds/shop/master', arn: 'arn:aws:secretsmanager:us-east-1:1:secret:x' },
        backendSecurityGroup: { ref: 'shop-backend-sg', id: 'sg-0aaa', vpcId: 'vpc-0bbb' },
        databaseSecurityGroup: { ref: 'shop-rds-sg', id: 'sg-0ccc', vpcId: 'vpc-0bbb' },
        subnets: ['subnet-0ddd'],
        taskSecrets: [],
        problems: [],
      },
      resources: [],
    });
    const lines = stdout.text().split('\n');
    const column = (label: string, value: string) => {
      const line = lines.find((l) => l.startsWith(`  ${label} `)) ?? '';
      return line.indexOf(value);
    };
    const columns = [
      column('secret', 'rds/shop/master'),
      column('backend security group', 'shop-backend-sg'),
      column('database security group', 'shop-rds-sg'),
      column('subnets', 'subnet-0ddd'),
    ];
    expect(columns[0]).toBeGreaterThan(0);
    expect(new Set(columns).size).toBe(1);
  });

  it('names the source of each task secret, its ARN, or why it was not found', () => {
    const stdout = captureStream();
    const parameterArn = 'arn:aws:ssm:us-east-1:123456789012:parameter/shop/api-token';
    const secretArn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:shop/pay-AbCdEf';
    renderShow(createOutput(false, stdout, captureStream(), {}), {
      stack: 'shop',
      region: 'us-east-1',
      account: '123456789012',
      prerequisites: {
        secret: { name: 'rds/shop/master', arn: 'arn:aws:secretsmanager:us-east-1:1:secret:x' },
        backendSecurityGroup: { ref: 'shop-backend-sg', id: 'sg-0aaa', vpcId: 'vpc-0bbb' },
        databaseSecurityGroup: { ref: 'shop-rds-sg', id: 'sg-0ccc', vpcId: 'vpc-0bbb' },
        subnets: ['subnet-0ddd'],
        taskSecrets: [
          { name: 'API_TOKEN', source: 'ssm', ref: '/shop/api-token', arn: parameterArn },
          { name: 'MISSING', source: 'ssm', ref: '/shop/missing', arn: null },
          {
            name: 'STRIPE_API_KEY',
            source: 'secretsmanager',
            ref: 'shop/pay',
            key: 'stripe',
            arn: secretArn,
          },
        ],
        problems: [
          {
            path: 'task.secrets.MISSING',
            message: 'no Parameter Store parameter named "/shop/missing" in us-east-1',
          },
        ],
      },
      resources: [],
    });
    const lines = stdout.text().split('\n');
    const line = (name: string) => lines.find((l) => l.includes(` ${name}: `));
    // The prerequisites' column: as wide as the longest label and a space.
    const label = `  ${'task secret'.padEnd('database security group '.length)}`;
    expect(line('API_TOKEN')).toBe(
      `${label}API_TOKEN: Parameter Store /shop/api-token  ${parameterArn}`,
    );
    expect(line('MISSING')).toBe(
      `${label}MISSING: Parameter Store /shop/missing  (no Parameter Store parameter named "/shop/missing" in us-east-1)`,
    );
    expect(line('STRIPE_API_KEY')).toBe(
      `${label}STRIPE_API_KEY: Secrets Manager shop/pay (key stripe)  ${secretArn}`,
    );
  });
});
