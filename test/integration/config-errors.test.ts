import { existsSync } from 'node:fs';
import { VALID } from '../config/valid-config.js';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BERTH, collect } from '../support/project.js';
import { spawn } from 'node:child_process';

/**
 * A few end-to-end cases: the CLI stops at a bad config with exit 3 and creates nothing.
 * The full table of malformed configs runs in-process in test/config/config-errors.test.ts.
 */
const CASES: [string, string, string][] = [
  [
    'unknown nested key (typo)',
    VALID.replace('retentionDays: 7', 'retentionDay: 7'),
    'logs.retentionDay',
  ],
  [
    'template1 as a tenant',
    VALID.replace('fintech_experiment]', 'template1]'),
    'database.tenants.2',
  ],
  [
    'duplicate YAML key',
    VALID.replace('app: startupwebapp', 'app: startupwebapp\napp: other'),
    'app',
  ],
  [
    'an alias bomb (exit 3, not a crash)',
    `${VALID}x-a: &a [x, x, x, x, x, x, x, x, x]\nx-b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nx-c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nx-d: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n`,
    '(yaml)',
  ],
];

describe('malformed berth.yaml', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'berth-config-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it.each(CASES)('%s: names the field, exits 3 and touches nothing', async (name, text, field) => {
    const caseDir = path.join(dir, name.replace(/\W+/g, '-'));
    const { mkdir } = await import('node:fs/promises');
    await mkdir(caseDir, { recursive: true });
    await writeFile(path.join(caseDir, 'berth.yaml'), text);
    const run = await collect(
      spawn(process.execPath, [BERTH, 'migrate', '--all', '--json'], {
        cwd: caseDir,
        env: { ...process.env, NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    expect(run.code).toBe(3);
    const { error } = JSON.parse(run.stdout) as {
      error: {
        code: string;
        message: string;
        details?: { issues: { path: string; line?: number }[] };
      };
    };
    expect(error.code).toBe('CONFIG_INVALID');
    const paths = error.details?.issues.map((i) => i.path) ?? [];
    expect(paths).toContain(field);
    expect(error.message).toContain(field);
    // Nothing was created: no state directory, no database server.
    expect(existsSync(path.join(caseDir, '.berth'))).toBe(false);
  });

  /** `berth config validate` on `yaml`, in a directory of its own. */
  async function validate(name: string, yaml: string) {
    const caseDir = path.join(dir, name);
    const { mkdir } = await import('node:fs/promises');
    await mkdir(caseDir, { recursive: true });
    await writeFile(path.join(caseDir, 'berth.yaml'), yaml);
    return collect(
      spawn(process.execPath, [BERTH, 'config', 'validate'], {
        cwd: caseDir,
        env: { ...process.env, NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
  }

  it('reports the line of the offending field', async () => {
    const run = await validate('line', VALID.replace('retentionDays: 7', 'retentionDays: 8'));
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('logs.retentionDays (line 5)');
    expect(run.stderr).toContain('hint: fix the fields above; nothing was changed');
  });

  it('a misspelled key says which setting it meant (exit 3)', async () => {
    const run = await validate(
      'did-you-mean',
      VALID.replace('  command:', '  timeoutSecond: 900\n  command:'),
    );
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(
      'task.timeoutSecond (line 9): unknown setting; did you mean timeoutSeconds?',
    );
  });

  it('a missing config file says how to create one (exit 3)', async () => {
    const run = await collect(
      spawn(process.execPath, [BERTH, 'status'], {
        cwd: dir,
        env: process.env,
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('berth init');
  });

  it('config validate checks the paths, and the aws fields with --provider aws', async () => {
    const caseDir = path.join(dir, 'paths');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(caseDir, { recursive: true });
    await writeFile(path.join(caseDir, 'berth.yaml'), `${VALID}local: { workdir: app }\n`);
    const validate = (...extra: string[]) =>
      collect(
        spawn(process.execPath, [BERTH, ...extra, 'config', 'validate', '--json'], {
          cwd: caseDir,
          env: { ...process.env, NO_COLOR: '1' },
          stdio: ['ignore', 'pipe', 'pipe'],
        }),
      );
    const issuePaths = (stdout: string) =>
      (
        JSON.parse(stdout) as { error: { details: { issues: { path: string }[] } } }
      ).error.details.issues.map((i) => i.path);

    const local = await validate();
    expect(local.code).toBe(3);
    expect(issuePaths(local.stdout)).toEqual(['migrations.directory', 'local.workdir']);

    await mkdir(path.join(caseDir, 'migrations'));
    await writeFile(path.join(caseDir, 'migrations', '001_init.sql'), 'SELECT 1;');
    await mkdir(path.join(caseDir, 'app'));
    expect((await validate()).code).toBe(0);

    const aws = await validate('--provider', 'aws');
    expect(aws.code).toBe(3);
    expect(issuePaths(aws.stdout)).toEqual([
      'network.subnets',
      'network.backendSecurityGroup',
      'network.databaseSecurityGroup',
    ]);
    // No network section: where the fields would go, never another key's line.
    const { message } = (JSON.parse(aws.stdout) as { error: { message: string } }).error;
    expect(message).toContain('network.subnets (not set; add a network: section): ');
    expect(message).not.toMatch(/network\.\w+ \(line/);
    expect(existsSync(path.join(caseDir, '.berth'))).toBe(false);
  });

  it('a command-line number out of the config bounds is a usage error (exit 2)', async () => {
    const run = await collect(
      spawn(process.execPath, [BERTH, 'migrate', '--all', '--batch-size', '501'], {
        cwd: dir,
        env: { ...process.env, NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--batch-size must be a whole number from 1 to 500');
  });
});
