/**
 * berth's block in pg_hba.conf and pg_ident.conf (socket-auth.ts): written in front of
 * initdb's lines, replaced (never repeated) on every start, and not written at all for a
 * name PostgreSQL's files cannot carry, which leaves berth on SCRAM.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  socketAuthLines,
  withBlock,
  writeSocketAuth,
} from '../../../src/providers/local/socket-auth.js';
import { tempDir } from '../../support/temp-dir.js';

const INITDB =
  'local   all   all   scram-sha-256\nhost    all   all   127.0.0.1/32   scram-sha-256\n';

describe('socket auth block', () => {
  it("maps berth's user and root to the role, quoted", () => {
    expect(socketAuthLines('berth', ['alice', 'root'])).toEqual({
      hba: ['local all "berth" peer map=berth'],
      ident: ['berth "alice" "berth"', 'berth "root" "berth"'],
    });
  });

  it.each([['a b'], ['a"b'], ['/regex'], ['+group'], ['@file'], ['']])(
    'writes nothing for a user named %j',
    (name) => {
      expect(socketAuthLines('berth', [name, 'root'])).toBeUndefined();
    },
  );

  it('writes nothing without a user (a bare uid)', () => {
    expect(socketAuthLines('berth', [])).toBeUndefined();
  });

  it('puts the block first, replaces it on the next write and removes it when asked', () => {
    const once = withBlock(INITDB, ['line one']);
    expect(once.indexOf('line one')).toBeLessThan(once.indexOf('scram-sha-256'));
    expect(once.endsWith(INITDB)).toBe(true);
    const twice = withBlock(once, ['line two']);
    expect(twice).not.toContain('line one');
    expect(twice.match(/berth: begin/g)).toHaveLength(1);
    expect(withBlock(twice, undefined)).toBe(INITDB);
  });

  it('rewrites both files and leaves them untouched when nothing changed', async () => {
    const pgdata = await tempDir('berth-unit-socket-auth-');
    await mkdir(pgdata, { recursive: true });
    await writeFile(path.join(pgdata, 'pg_hba.conf'), INITDB);
    await writeFile(path.join(pgdata, 'pg_ident.conf'), '# MAPNAME SYSTEM-USERNAME PG-USERNAME\n');
    expect(await writeSocketAuth(pgdata, 'berth', undefined, ['alice'])).toBe(true);
    const hba = await readFile(path.join(pgdata, 'pg_hba.conf'), 'utf8');
    const ident = await readFile(path.join(pgdata, 'pg_ident.conf'), 'utf8');
    expect(hba).toContain('local all "berth" peer map=berth\n# berth: end\n' + INITDB);
    expect(ident).toContain('berth "alice" "berth"');
    expect(await writeSocketAuth(pgdata, 'berth', undefined, ['alice'])).toBe(true);
    expect(await readFile(path.join(pgdata, 'pg_hba.conf'), 'utf8')).toBe(hba);
    // A user berth cannot name: the block goes, initdb's SCRAM line applies again.
    expect(await writeSocketAuth(pgdata, 'berth', undefined, [])).toBe(false);
    expect(await readFile(path.join(pgdata, 'pg_hba.conf'), 'utf8')).toBe(INITDB);
  });
});
