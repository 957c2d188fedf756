/** combineProblems: independent checks' problems as one error (config validate's). */
import { describe, expect, it } from 'vitest';
import { BerthError, combineProblems } from '../../src/core/errors.js';

describe('combineProblems', () => {
  const paths = new BerthError('CONFIG_INVALID', 'invalid config in berth.yaml:\n  a (line 1): x', {
    hint: 'fix the fields above; nothing was changed',
  });
  const tenants = new BerthError('TENANT_DISCOVERY_FAILED', 'tenants.txt:2: bad', {
    hint: 'fix the fields above; nothing was changed',
  });

  it('returns a lone problem as it is', () => {
    expect(combineProblems([tenants], 'CONFIG_INVALID')).toBe(tenants);
  });

  it('puts every message on its own line, with the hints once, under the fallback code when they differ', () => {
    const combined = combineProblems([paths, tenants], 'CONFIG_INVALID');
    expect(combined.code).toBe('CONFIG_INVALID');
    expect(combined.message).toBe(`${paths.message}\n${tenants.message}`);
    expect(combined.hint).toBe('fix the fields above; nothing was changed');
    expect(combineProblems([tenants, tenants], 'CONFIG_INVALID').code).toBe(
      'TENANT_DISCOVERY_FAILED',
    );
  });

  it('refuses an empty list', () => {
    expect(() => combineProblems([], 'CONFIG_INVALID')).toThrow(/at least one/);
  });
});
