/** `berth show`'s prerequisites block: every value starts in the same column. */
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
});
