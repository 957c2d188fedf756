import { describe, expect, it } from 'vitest';
import { MASK, Redactor } from '../../src/core/redact.js';

describe('Redactor', () => {
  it('masks registered secret values wherever they appear', () => {
    const r = new Redactor();
    r.add('s3cr3t-Pa55');
    expect(r.redact('connecting with s3cr3t-Pa55 to db')).toBe(`connecting with ${MASK} to db`);
  });

  it('masks passwords in connection URLs and assignments without knowing them', () => {
    const r = new Redactor();
    expect(r.redact('postgres://berth:abc123@127.0.0.1:5432/db')).toBe(
      `postgres://berth:${MASK}@127.0.0.1:5432/db`,
    );
    expect(r.redact('DATABASE_PASSWORD=hunter22 next')).toBe(`DATABASE_PASSWORD=${MASK} next`);
    expect(r.redact('{"password": "x1y2z3"}')).toBe(`{"password": "${MASK}"}`);
  });

  it('redacts deeply inside JSON values and ignores too-short secrets', () => {
    const r = new Redactor();
    r.add('abc');
    r.add('topsecretvalue');
    expect(r.redactDeep({ a: ['topsecretvalue', 1], b: { c: 'abc' } })).toEqual({
      a: [MASK, 1],
      b: { c: 'abc' },
    });
  });
});
