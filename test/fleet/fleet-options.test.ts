import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import { isBerthError } from '../../src/core/errors.js';
import { parseFailureLimit } from '../../src/fleet/failure-budget.js';
import { failureLimit } from '../../src/fleet/fleet-options.js';

const MINIMAL = `app: shop
registry: { name: shop }
cluster: { name: shop }
logs: { group: /ecs/shop }
roles: { execution: exec, task: task }
task: { family: shop, command: [migrate] }
database:
  secret: { name: shop/db }
  tenants: [a, b]
migrations: { directory: m }
`;

describe('the failure budget from flags and berth.yaml', () => {
  it('parses a count or a percentage, and names the flag or field on anything else', () => {
    expect(parseFailureLimit('2')).toEqual({ count: 2 });
    expect(parseFailureLimit('10%')).toEqual({ percent: 10 });
    expect(parseFailureLimit(0)).toEqual({ count: 0 });
    for (const bad of ['-1', 'two', '150%', '2.5', ''])
      expect(() => parseFailureLimit(bad)).toThrow(/--max-failures must be a whole number/);
  });

  it('--max-failures, then --on-error, then fleet.maxFailures, then fleet.onError', () => {
    const plain = parseConfig(MINIMAL);
    expect(failureLimit(plain, {})).toEqual({ count: 0 });
    const budgeted = parseConfig(`${MINIMAL}fleet: { maxFailures: '25%', onError: stop }\n`);
    expect(failureLimit(budgeted, {})).toEqual({ percent: 25 });
    expect(failureLimit(budgeted, { onError: 'continue' })).toBe('unlimited');
    expect(failureLimit(budgeted, { maxFailures: { count: 3 } })).toEqual({ count: 3 });
    const continuing = parseConfig(`${MINIMAL}fleet: { onError: continue }\n`);
    expect(failureLimit(continuing, {})).toBe('unlimited');
    expect(failureLimit(continuing, { onError: 'stop' })).toEqual({ count: 0 });
  });

  it('--max-failures with --on-error is a usage error', () => {
    const config = parseConfig(MINIMAL);
    try {
      failureLimit(config, { onError: 'stop', maxFailures: { count: 1 } });
      expect.unreachable();
    } catch (error) {
      expect(isBerthError(error) && error.code).toBe('USAGE');
    }
  });

  it('berth.yaml refuses a budget that is neither a count nor a percentage', () => {
    expect(() => parseConfig(`${MINIMAL}fleet: { maxFailures: lots }\n`)).toThrow(
      /fleet.maxFailures/,
    );
  });
});
