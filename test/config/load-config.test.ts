/**
 * YAML problems in berth.yaml: line, column and key for syntax errors, tabs and duplicate
 * keys; an alias bomb or an oversize file is a config error (exit 3), not a crash and not a
 * gigabyte of memory.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MAX_CONFIG_BYTES,
  assertAwsReady,
  loadConfig,
  parseConfig,
  parseConfigDocument,
} from '../../src/config/load-config.js';
import type { ConfigIssue } from '../../src/config/rules.js';
import { starterConfig } from '../../src/config/starter.js';
import { isBerthError, type BerthError } from '../../src/core/errors.js';
import { exitCodeForError } from '../../src/core/exit-codes.js';
import { VALID } from './valid-config.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'berth-load-config-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

function parseError(text: string): BerthError {
  try {
    parseConfig(text, 'berth.yaml');
  } catch (error) {
    if (isBerthError(error)) return error;
    throw error;
  }
  throw new Error('the config parsed');
}

const issuesOf = (error: BerthError) => error.details?.issues as ConfigIssue[];

describe('YAML problems', () => {
  it('a syntax error gives the line, the column and the key', () => {
    const error = parseError(VALID.replace('family: startupwebapp', 'family: "startupwebapp'));
    expect(error.code).toBe('CONFIG_INVALID');
    const [issue] = issuesOf(error);
    expect(issue).toMatchObject({ path: 'task.family', line: 8, column: 11 });
    expect(issue?.message).toMatch(/quote/);
    expect(error.message).toContain('task.family (line 8, column 11)');
  });

  it('a tab used for indentation says so, with line and column', () => {
    const error = parseError(VALID.replace('  family:', '\tfamily:'));
    // One problem per line: the parser's follow-on errors on that line are left out.
    expect(issuesOf(error)).toHaveLength(1);
    const [issue] = issuesOf(error);
    expect(issue).toMatchObject({ path: 'task', line: 8, column: 1 });
    expect(issue?.message).toMatch(/tab is used for indentation/);
  });

  it('a duplicate key names the key and where the second one is', () => {
    const error = parseError(
      VALID.replace('  expectedTables: 57', '  expectedTables: 57\n  expectedTables: 58'),
    );
    const [issue] = issuesOf(error);
    expect(issue).toMatchObject({ path: 'database.expectedTables', line: 14, column: 3 });
    expect(issue?.message).toContain('duplicate key "expectedTables"');
  });

  it('an alias bomb is a config error that stays small in memory', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (let level = 1; level < 9; level++) {
      const prev = String.fromCharCode(96 + level);
      const name = String.fromCharCode(97 + level);
      lines.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(', ')}]`);
    }
    const before = process.memoryUsage().heapUsed;
    const error = parseError(`${lines.join('\n')}\n`);
    const grown = process.memoryUsage().heapUsed - before;
    expect(error.code).toBe('CONFIG_INVALID');
    expect(exitCodeForError(error.code)).toBe(3);
    expect(error.message).toMatch(/aliases .* expand past 100/);
    // Expanded, it would be 9^9 strings: gigabytes.
    expect(grown).toBeLessThan(64 * 1024 * 1024);
  });

  it('a few aliases (sharing a tag map) still work', () => {
    const config = parseConfig(
      VALID.replace('version: 1\n', 'version: 1\ntags: &tags { Team: core }\n').replace(
        'registry: { name: startupwebapp-backend }',
        'registry: { name: startupwebapp-backend, tags: *tags }',
      ),
    );
    expect(config.registry.tags).toEqual({ Team: 'core' });
    expect(config.tags).toEqual({ Team: 'core' });
  });

  it('deep nesting is a config error with a short list of problems, not a crash', () => {
    const error = parseError(`app: ${'{a: '.repeat(50_000)}`);
    expect(error.code).toBe('CONFIG_INVALID');
    const issues = issuesOf(error);
    expect(issues.length).toBeGreaterThan(0);
    expect(issues.length).toBeLessThanOrEqual(10);
    expect(issues.map((i) => i.message)).toContain(
      'nested too deeply to read; a berth config is a few levels deep',
    );
    // Key paths in messages are cut, not 800 levels long.
    expect(Math.max(...issues.map((i) => i.path.length))).toBeLessThan(60);
  });

  it('an oversize file is refused before it is read (exit 3)', async () => {
    const file = path.join(dir, 'huge.yaml');
    await writeFile(file, `${VALID}${'# padding\n'.repeat(MAX_CONFIG_BYTES / 10 + 1)}`);
    const error = await loadConfig(file).catch((e: unknown) => e);
    expect(isBerthError(error)).toBe(true);
    expect((error as BerthError).code).toBe('CONFIG_INVALID');
    expect((error as BerthError).message).toContain('at most 1048576 bytes (1 MiB)');
    // parseConfig, for callers that read the text themselves, has the same limit.
    expect(parseError(`${VALID}${'#'.repeat(MAX_CONFIG_BYTES)}`).code).toBe('CONFIG_INVALID');
  });

  it('a directory passed as the config file is a config error', async () => {
    const error = await loadConfig(dir).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CONFIG_INVALID' });
    expect((error as Error).message).toContain('is a directory');
  });
});

describe('schema errors name the line of the key', () => {
  it('a wrong value gives its line', () => {
    const error = parseError(VALID.replace('retentionDays: 7', 'retentionDays: 8'));
    expect(issuesOf(error)[0]).toMatchObject({ path: 'logs.retentionDays', line: 5 });
    expect(error.message).toContain('logs.retentionDays (line 5)');
    // --json output carries the file beside the issues: file:line for editors and CI.
    expect(error.details?.file).toBe('berth.yaml');
  });

  it('a bad list element gives the line of that element', () => {
    const error = parseError(
      VALID.replace(
        '  tenants: [startupwebapp_prod, healthtech_experiment, fintech_experiment]',
        '  tenants:\n    - startupwebapp_prod\n    - template1\n    - fintech_experiment',
      ),
    );
    expect(issuesOf(error)[0]).toMatchObject({ path: 'database.tenants.1', line: 14 });
    expect(error.message).toContain('system database');
  });

  it('a malformed name is quoted, at the line of its own list element', () => {
    const error = parseError(
      VALID.replace(
        '  tenants: [startupwebapp_prod, healthtech_experiment, fintech_experiment]',
        '  tenants:\n    - startupwebapp_prod\n    - Bad-Name\n    - fintech_experiment',
      ),
    );
    expect(issuesOf(error)).toEqual([
      expect.objectContaining({ path: 'database.tenants.1', line: 14 }),
    ]);
    expect(error.message).toContain(
      'database.tenants.1 (line 14): "Bad-Name" must be a lowercase PostgreSQL identifier',
    );
    // In a flow list the element is on the list's line; a long or odd value is escaped and cut.
    const flow = parseError(
      VALID.replace('fintech_experiment]', `"x\\"y", ${'a'.repeat(100)}]`),
    ).message;
    expect(flow).toContain('database.tenants.2 (line 12): "x\\"y" must be');
    expect(flow).toContain(`database.tenants.3 (line 12): "${'a'.repeat(77)}…" must be`);
  });

  it('the loaded config can find the line of any field (for later checks)', () => {
    const { locate } = parseConfigDocument(VALID);
    expect(locate('migrations.directory')).toEqual({ line: 14 });
    expect(locate('database.tenants.2')).toEqual({ line: 12 });
    // A field that is not in the file has no line of its own (line 1 is `version: 1`): where
    // it would go is its nearest section that is there, or none.
    expect(locate('task.timeoutSeconds')).toEqual({ unset: { section: 'task', line: 7 } });
    expect(locate('local.workdir')).toEqual({ unset: {} });
  });
});

describe('a field that is not in the file is never given another line', () => {
  /** The starter `berth init` writes: comments first, no network section. */
  const starter = starterConfig('myapp');
  const awsError = (text: string): BerthError => {
    const { config, locate } = parseConfigDocument(text);
    try {
      assertAwsReady({ config, file: 'berth.yaml', dir: '.', locate });
    } catch (error) {
      if (isBerthError(error)) return error;
      throw error;
    }
    throw new Error('the aws fields passed');
  };

  it('no network section: says to add one, with no line (line 7 is `version: 1`)', () => {
    expect(starter.split('\n')[6]).toBe('version: 1');
    const error = awsError(starter);
    expect(error.message).toContain(
      'network.subnets (not set; add a network: section): list the private subnets',
    );
    expect(error.message).toContain(
      'network.backendSecurityGroup (not set; add a network: section)',
    );
    expect(error.message).not.toMatch(/\(line \d+\)/);
    expect(issuesOf(error)[0]).toEqual({
      path: 'network.subnets',
      message: 'list the private subnets the tasks run in (subnet-...)',
      unset: {},
    });
  });

  it('a local config reaching an infra command says those commands work on AWS only', () => {
    const local = awsError(starter);
    expect(local.hint).toContain('work on the AWS stack only');
    expect(local.hint).toContain('for the local server and databases, run `berth status`');
  });

  it('a network section without the key: names the section and its line', () => {
    const text = `${starter}network:\n  assignPublicIp: false\n  subnets: []\n`;
    const networkLine = text.split('\n').indexOf('network:') + 1;
    const error = awsError(text);
    // subnets is there (empty): its own line.
    expect(error.message).toContain(`network.subnets (line ${networkLine + 2}): list the private`);
    expect(error.message).toContain(
      `network.backendSecurityGroup (not set; add backendSecurityGroup: under network, line ${networkLine}): name the tasks'`,
    );
    expect(issuesOf(error)[1]).toMatchObject({
      path: 'network.backendSecurityGroup',
      unset: { section: 'network', line: networkLine },
    });
    expect(issuesOf(error)[1]).not.toHaveProperty('line');
  });

  it('a required field left out is placed under its section, or at the top level', () => {
    const family = parseError(VALID.replace('  family: startupwebapp-migration-task\n', ''));
    expect(family.message).toContain(
      'task.family (not set; add family: under task, line 7): required',
    );
    const app = parseError(VALID.replace('app: startupwebapp\n', ''));
    expect(app.message).toContain('  app (not set; add it at the top level): required');
    const migrations = parseError(VALID.replace('migrations: { directory: migrations }\n', ''));
    expect(migrations.message).toContain(
      'migrations.directory (not set; add a migrations: section): berth needs a way',
    );
  });
});

describe('an unknown setting suggests the one it is close to', () => {
  it('a misspelled key: did you mean, from the keys allowed at that level', () => {
    const error = parseError(VALID.replace('  command:', '  timeoutSecond: 900\n  command:'));
    expect(issuesOf(error)).toEqual([
      {
        path: 'task.timeoutSecond',
        message: 'unknown setting; did you mean timeoutSeconds?',
        line: 9,
      },
    ]);
    expect(error.message).toContain(
      'task.timeoutSecond (line 9): unknown setting; did you mean timeoutSeconds?',
    );
  });

  it('at the top level, in a section with a default, and two neighbouring letters swapped', () => {
    expect(parseError(`${VALID}netwrok: { subnets: [] }\n`).message).toContain(
      'netwrok (line 15): unknown setting; did you mean network?',
    );
    expect(parseError(`${VALID}fleet: { concurency: 4 }\n`).message).toContain(
      'fleet.concurency (line 15): unknown setting; did you mean concurrency?',
    );
    expect(
      parseError(
        VALID.replace('secret: { name:', 'secret: { keys: { DATABASE_PASWORD: pw }, name:'),
      ).message,
    ).toContain(
      'database.secret.keys.DATABASE_PASWORD (line 11): unknown setting; did you mean DATABASE_PASSWORD?',
    );
  });

  it('a key like none of them keeps the plain message', () => {
    expect(issuesOf(parseError(`${VALID}colour: blue\n`))[0]?.message).toBe(
      'unknown setting (check the spelling; see the config reference in the README)',
    );
  });
});

describe('database.tenants in a form berth does not know', () => {
  const tenants = (value: string) =>
    parseError(
      VALID.replace('[startupwebapp_prod, healthtech_experiment, fintech_experiment]', value),
    );
  const FORMS =
    'must be a list of database names, { file: PATH } or { query: SQL, database: NAME }';

  it('a mapping with a misspelled key: the forms it may take, and the key it meant', () => {
    const error = tenants('{ fiel: tenants.txt }');
    expect(issuesOf(error)).toEqual([
      { path: 'database.tenants', message: `${FORMS}; fiel: did you mean file?`, line: 12 },
    ]);
    expect(error.message).not.toContain('expected array');
  });

  it('a mapping or a value of neither form: the forms it may take', () => {
    expect(issuesOf(tenants('{ names: [a, b] }'))).toEqual([
      { path: 'database.tenants', message: FORMS, line: 12 },
    ]);
    expect(issuesOf(tenants('tenants.txt'))).toEqual([
      { path: 'database.tenants', message: FORMS, line: 12 },
    ]);
    expect(issuesOf(tenants('{ file: a.txt, query: SELECT 1 }'))).toEqual([
      { path: 'database.tenants', message: `${FORMS}; set file or query, not both`, line: 12 },
    ]);
    // A query's field without the query: the forms, no "did you mean database?".
    expect(issuesOf(tenants('{ database: ops }'))).toEqual([
      { path: 'database.tenants', message: FORMS, line: 12 },
    ]);
    expect(issuesOf(tenants('{ file: a.txt, database: ops }'))).toEqual([
      {
        path: 'database.tenants.database',
        message: `does not go with the other settings here: database.tenants ${FORMS}`,
        line: 12,
      },
    ]);
  });

  it('the form it takes: the problem inside it', () => {
    expect(issuesOf(tenants('{ query: 5 }'))).toEqual([
      expect.objectContaining({ path: 'database.tenants.query', line: 12 }),
    ]);
    expect(issuesOf(tenants('{ query: SELECT 1, databse: ops }'))).toEqual([
      {
        path: 'database.tenants.databse',
        message: 'unknown setting; did you mean database?',
        line: 12,
      },
    ]);
    // Every bad element of a list, each quoted.
    expect(issuesOf(tenants('[Bad, 3]')).map((i) => [i.path, i.message])).toEqual([
      ['database.tenants.0', expect.stringMatching(/^"Bad" must be a lowercase/)],
      ['database.tenants.1', expect.stringContaining('expected string')],
    ]);
  });
});
