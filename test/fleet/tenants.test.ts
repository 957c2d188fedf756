/** Tenants from a file: every name is validated, and system databases are never tenants. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import { closeMatches } from '../../src/core/close-matches.js';
import { discoverTenants, selectDatabases } from '../../src/fleet/tenants.js';
import { exitCodeForError } from '../../src/core/exit-codes.js';
import type { BerthError } from '../../src/core/errors.js';
import { VALID } from '../config/valid-config.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'berth-tenants-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const fromFile = parseConfig(
  VALID.replace(
    '[startupwebapp_prod, healthtech_experiment, fintech_experiment]',
    '{ file: tenants.txt }',
  ),
);

describe('database.tenants.file', () => {
  it('reads one name per line, with comments', async () => {
    await writeFile(path.join(dir, 'tenants.txt'), '# fleet\ntenant_a\n\ntenant_b  # pro\n');
    await expect(discoverTenants(fromFile, dir)).resolves.toEqual(['tenant_a', 'tenant_b']);
  });

  it('refuses system databases with their line (exit 3)', async () => {
    await writeFile(
      path.join(dir, 'tenants.txt'),
      'tenant_a\r\ntemplate1\r\npostgres\r\ntemplate0\r\n',
    );
    const error = (await discoverTenants(fromFile, dir).catch((e: unknown) => e)) as BerthError;
    expect(error.code).toBe('TENANT_DISCOVERY_FAILED');
    expect(exitCodeForError(error.code)).toBe(3);
    expect(error.message).toContain('tenants.txt:2: "template1" is a PostgreSQL system database');
    expect(error.message).toContain('tenants.txt:3: "postgres"');
    expect(error.message).toContain('tenants.txt:4: "template0"');
  });

  it('names the file and both lines of a repeated name, every problem in line order', async () => {
    await writeFile(
      path.join(dir, 'tenants.txt'),
      'djapp\ntemplate1\nBad-Name\n  tenant_01  \ntenant_01\ntenant_01 # again\n',
    );
    const error = (await discoverTenants(fromFile, dir).catch((e: unknown) => e)) as BerthError;
    expect(error.code).toBe('TENANT_DISCOVERY_FAILED');
    expect(error.message).toBe(
      [
        'database.tenants.file (tenants.txt) has invalid entries:',
        '  tenants.txt:2: "template1" is a PostgreSQL system database, never a tenant (berth refuses postgres, template0, template1)',
        '  tenants.txt:3: "Bad-Name" is not a valid database name',
        '  tenants.txt:5: "tenant_01" is listed twice (first on line 4)',
        '  tenants.txt:6: "tenant_01" is listed 3 times (first on line 4)',
      ].join('\n'),
    );
  });
});

describe('--database selection', () => {
  const fleet = ['startupwebapp_prod', 'healthtech_experiment', 'fintech_experiment'];

  it('splits comma-separated lists, ignores spaces and empty entries, and drops repeats', () => {
    expect(
      selectDatabases(fleet, {
        databases: ['fintech_experiment, healthtech_experiment,', 'fintech_experiment'],
      }),
    ).toEqual(['fintech_experiment', 'healthtech_experiment']);
  });

  /** The error selectDatabases throws for these --database values. */
  const refused = (databases: string[]): BerthError | undefined => {
    try {
      selectDatabases(fleet, { databases });
    } catch (e) {
      return e as BerthError;
    }
    return undefined;
  };

  it('rejects a name not in the fleet with exit 2 and the close matches', () => {
    const error = refused(['fintech_experiment,helthtech_experiment,zzz']);
    expect(error?.code).toBe('DATABASE_UNKNOWN');
    expect(exitCodeForError(error!.code)).toBe(2);
    expect(error?.message).toBe(
      'not in the fleet: helthtech_experiment (did you mean healthtech_experiment?); zzz',
    );
    expect(error?.details).toEqual({
      unknown: ['helthtech_experiment', 'zzz'],
      suggestions: { helthtech_experiment: ['healthtech_experiment'], zzz: [] },
    });
  });

  it('says a system database is never a tenant, instead of "add it to database.tenants"', () => {
    const error = refused(['template1']);
    expect(error?.code).toBe('DATABASE_UNKNOWN');
    expect(error?.message).toBe(
      'not in the fleet: template1 (a PostgreSQL system database, never a tenant)',
    );
    expect(error?.hint).toMatch(
      /^"template1" is a PostgreSQL system database, never a tenant .*; pick one of: /,
    );
    expect(error?.hint).not.toMatch(/add it to database\.tenants/);
  });

  it('an empty list (only commas) is a usage error, not the whole fleet', () => {
    expect(() => selectDatabases(fleet, { databases: [' , '] })).toThrow(/say which databases/);
  });
});

describe('closeMatches', () => {
  const fleet = ['tenant_001', 'tenant_002', 'tenant_010', 'acme', 'acme_eu', 'globex'];

  it('orders by edit distance, then by name, at most 3', () => {
    expect(closeMatches('tenant_00', fleet)).toEqual(['tenant_001', 'tenant_002', 'tenant_010']);
  });

  it('finds the names holding a part of a name', () => {
    expect(closeMatches('globe', fleet)).toEqual(['globex']);
    expect(closeMatches('acme_', fleet)).toEqual(['acme', 'acme_eu']);
  });

  it('suggests nothing for a short name far from every member', () => {
    expect(closeMatches('xy', fleet)).toEqual([]);
    expect(closeMatches('zzzzzzzzzz', fleet)).toEqual([]);
  });
});
