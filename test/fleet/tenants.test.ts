/** Tenants from a file: every name is validated, and system databases are never tenants. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import { discoverTenants } from '../../src/fleet/tenants.js';
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
});
