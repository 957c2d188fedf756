import { describe, expect, it } from 'vitest';
import { MASK, Redactor, encodedForms } from '../../src/core/redact.js';

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

  describe('common encodings of a registered secret', () => {
    const secret = 'p@ss/w:rd+"x\\ y=1&z';
    const r = new Redactor();
    r.add(secret);
    const b = Buffer.from(secret);

    it.each([
      ['base64', b.toString('base64')],
      ['base64 without padding', b.toString('base64').replace(/=+$/, '')],
      ['base64url', b.toString('base64url')],
      ['hex', b.toString('hex')],
      ['HEX', b.toString('hex').toUpperCase()],
      ['percent-encoded', encodeURIComponent(secret)],
      [
        'percent-encoded, lower-case hex',
        encodeURIComponent(secret).replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase()),
      ],
      ['form-encoded', new URLSearchParams({ s: secret }).toString().slice(2)],
      ['JSON-escaped', JSON.stringify(secret).slice(1, -1)],
    ])('masks the %s form', (_name, encoded) => {
      expect(encoded).not.toBe(secret);
      expect(r.redact(`before ${encoded} after`)).toBe(`before ${MASK} after`);
    });

    it.each([0, 1, 2, 3, 4, 5])(
      'masks it inside a longer base64 value (user name of %i characters)',
      (n) => {
        const user = 'u'.repeat(n);
        const basic = Buffer.from(`${user}:${secret}`).toString('base64');
        const out = r.redact(`Authorization: Basic ${basic}`);
        expect(out).toContain(MASK);
        // What is left of the value is at most the bytes around the secret: no run of the
        // secret's own base64 characters survives.
        const left = out.replace('Authorization: Basic ', '').split(MASK).join('');
        expect(left.length).toBeLessThanOrEqual(Math.ceil(((n + 1) * 8) / 6) + 4);
        for (const form of encodedForms(secret)) expect(out).not.toContain(form);
      },
    );

    it('masks a Docker auth entry (base64 of AWS:token) with a URL-safe token', () => {
      const token = 'eyJwYXlsb2FkIjoi+/abcDEF123456789';
      const t = new Redactor();
      t.add(token);
      const auth = Buffer.from(`AWS:${token}`).toString('base64');
      const out = t.redact(JSON.stringify({ auths: { 'x.dkr.ecr': { auth } } }));
      expect(out).toContain(MASK);
      expect(out).not.toContain(auth);
    });

    it('leaves unrelated base64 and hex alone', () => {
      const other = Buffer.from('an ordinary log line, nothing secret here').toString('base64');
      expect(r.redact(other)).toBe(other);
      expect(r.redact('deadbeef0123456789')).toBe('deadbeef0123456789');
    });
  });
});
