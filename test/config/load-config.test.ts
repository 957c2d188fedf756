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
  loadConfig,
  parseConfig,
  parseConfigDocument,
} from '../../src/config/load-config.js';
import type { ConfigIssue } from '../../src/config/rules.js';
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
    const { lineOf } = parseConfigDocument(VALID);
    expect(lineOf('migrations.directory')).toBe(14);
    expect(lineOf('database.tenants.2')).toBe(12);
    // A field that is not in the file: its nearest parent.
    expect(lineOf('local.workdir')).toBe(1);
    expect(lineOf('task.timeoutSeconds')).toBe(7);
  });
});
