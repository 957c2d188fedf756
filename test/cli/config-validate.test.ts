/**
 * `berth config validate` checks what migrate would refuse: a tenants file is read and
 * checked by the same reader (every bad line as file:line, exit 3); a tenant query's fleet is
 * known only at run time.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configValidateCommand } from '../../src/cli/commands/config.js';
import { contextOf } from '../../src/cli/context.js';
import { reportError } from '../../src/cli/main.js';
import { createOutput } from '../../src/cli/output.js';
import { createReporter } from '../../src/cli/progress.js';
import { loadConfig } from '../../src/config/load-config.js';
import { captureStream } from '../support/aws-cli.js';
import { VALID } from '../config/valid-config.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'berth-config-validate-'));
  await mkdir(path.join(dir, 'migrations'));
  await writeFile(path.join(dir, 'migrations', '001_init.sql'), 'SELECT 1;\n');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const INLINE = '[startupwebapp_prod, healthtech_experiment, fintech_experiment]';

/** `berth config validate [--json]` on berth.yaml in `dir`: exit code and output, as the CLI gives them. */
async function validate(tenants: string, json = false, edit = (yaml: string) => yaml) {
  await writeFile(path.join(dir, 'berth.yaml'), edit(VALID.replace(INLINE, tenants)));
  const stdout = captureStream();
  const stderr = captureStream();
  const out = createOutput(json, stdout, stderr, {});
  const ctx = contextOf({ json }, out, createReporter(out), new AbortController().signal, () =>
    loadConfig(path.join(dir, 'berth.yaml')),
  );
  const code = await configValidateCommand(ctx).catch((error: unknown) => reportError(error, out));
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

describe('berth config validate: database.tenants', () => {
  it('reports every bad line of a tenants file as migrate does (exit 3)', async () => {
    await writeFile(
      path.join(dir, 'bad-tenants.txt'),
      'djapp\ntemplate1\nBad-Name\n  tenant_01  \ntenant_01\n',
    );
    const run = await validate('{ file: bad-tenants.txt }');
    expect(run.code).toBe(3);
    expect(run.stdout).not.toContain('is valid');
    expect(run.stderr).toContain(
      [
        'database.tenants.file (bad-tenants.txt) has invalid entries:',
        '  bad-tenants.txt:2: "template1" is a PostgreSQL system database, never a tenant (berth refuses postgres, template0, template1)',
        '  bad-tenants.txt:3: "Bad-Name" is not a valid database name',
        '  bad-tenants.txt:5: "tenant_01" is listed twice (first on line 4)',
      ].join('\n'),
    );
  });

  it('--json: the error, not "ok": true', async () => {
    const run = await validate('{ file: bad-tenants.txt }', true);
    expect(run.code).toBe(3);
    const { error } = JSON.parse(run.stdout) as { error: { code: string; message: string } };
    expect(error.code).toBe('TENANT_DISCOVERY_FAILED');
    expect(error.message).toContain('bad-tenants.txt:5: "tenant_01" is listed twice');
  });

  it('an empty tenants file is an error, as for migrate', async () => {
    await writeFile(path.join(dir, 'empty.txt'), '# nobody yet\n');
    const run = await validate('{ file: empty.txt }');
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('database.tenants.file (empty.txt) found no tenant databases');
  });

  it('a good tenants file passes, with its count', async () => {
    await writeFile(path.join(dir, 'tenants.txt'), '# fleet\ntenant_a\ntenant_b  # pro\n');
    const run = await validate('{ file: tenants.txt }');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      'is valid (stack startupwebapp, 2 tenant database(s) in tenants.txt)',
    );
  });

  it('a missing tenants file is a path problem with its line', async () => {
    const run = await validate('{ file: nowhere.txt }');
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('database.tenants.file (line 12)');
    expect(run.stderr).toContain('nowhere.txt does not exist');
  });

  it("reports a bad tenants file beside the config's other problems, all at once (exit 3)", async () => {
    await writeFile(path.join(dir, 'two-bad.txt'), 'tenant_a\ntemplate1\n');
    const run = await validate('{ file: two-bad.txt }', false, (yaml) =>
      yaml.replace(
        'migrations: { directory: migrations }',
        'migrations: { directory: no-such-dir }',
      ),
    );
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('migrations.directory (line 14)');
    // Said once: the tool's set-up check does not repeat what the path check found.
    expect(run.stderr.match(/no-such-dir does not exist/g)).toHaveLength(1);
    expect(run.stderr).toContain(
      'two-bad.txt:2: "template1" is a PostgreSQL system database, never a tenant',
    );
    // A missing file is said once, by the path check (the test above), not again by the reader.
    const missing = await validate('{ file: nowhere.txt }');
    expect(missing.stderr.match(/nowhere\.txt/g)).toHaveLength(1);
  });

  it('a tenant query is still resolved only at run time', async () => {
    const run = await validate(
      `{ query: "SELECT datname FROM pg_database WHERE datname LIKE 'tenant_%'" }`,
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('tenants discovered at run time');
  });

  it('an inline list: its count, and a bad name quoted at its own line', async () => {
    expect((await validate(INLINE)).stdout).toContain('3 tenant database(s)');
    const run = await validate('\n    - startupwebapp_prod\n    - Bad-Name');
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(
      'database.tenants.1 (line 14): "Bad-Name" must be a lowercase PostgreSQL identifier',
    );
  });
});
