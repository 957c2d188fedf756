import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lintMigrations, sqlMigrations, type LintOptions } from '../../src/migrations/lint.js';
import { PRESETS, resolvePreset } from '../../src/migrations/presets.js';
import { tempDir } from '../support/temp-dir.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const EXAMPLE_MIGRATIONS = path.join(ROOT, 'examples/startupwebapp/migrations');

const RISKY = {
  '0100_required.sql': `-- Up Migration
ALTER TABLE orders ADD COLUMN note text NOT NULL;
-- Down Migration
ALTER TABLE orders DROP COLUMN note;
`,
  '0101_index.sql': `-- Up Migration
CREATE INDEX orders_created ON orders (created_at);
`,
  '0102_type.sql': `-- Up Migration
ALTER TABLE orders ALTER COLUMN total TYPE numeric(12, 2);
`,
  '0103_fk.sql': `-- Up Migration
ALTER TABLE orders ADD CONSTRAINT orders_member_fk FOREIGN KEY (member_id) REFERENCES members (id);
`,
  '0104_drop.sql': `-- Up Migration

ALTER TABLE orders DROP COLUMN legacy_code;
`,
};

async function dirWith(files: Record<string, string>): Promise<string> {
  const dir = await tempDir('berth-lint-');
  for (const [name, sql] of Object.entries(files)) await writeFile(path.join(dir, name), sql);
  return dir;
}

const custom = (directory: string) =>
  resolvePreset({ tool: 'custom', directory } as Parameters<typeof resolvePreset>[0]);

const settings = (extra: Partial<LintOptions> = {}) => ({
  tool: 'custom' as const,
  lockTimeoutSet: true,
  statementTimeoutSet: false,
  exclude: [],
  errors: [],
  warnings: [],
  ignore: {},
  ...extra,
});

describe('berth lint: squawk over the SQL of migrations', () => {
  it('catches NOT NULL without default, CREATE INDEX without CONCURRENTLY, ALTER TYPE, an FK without NOT VALID and DROP COLUMN, at their lines', async () => {
    const dir = await dirWith(RISKY);
    const { migrations } = await sqlMigrations('custom', custom(dir), dir);
    const result = await lintMigrations({ ...settings(), migrations });
    expect(result.ok).toBe(false);
    const errors = result.findings
      .filter((f) => f.level === 'error')
      .map((f) => [f.migration, f.line, f.rule]);
    expect(errors).toEqual(
      expect.arrayContaining([
        ['0100_required', 2, 'adding-required-field'],
        ['0101_index', 2, 'require-concurrent-index-creation'],
        ['0102_type', 2, 'changing-column-type'],
        ['0103_fk', 2, 'adding-foreign-key-constraint'],
        ['0104_drop', 3, 'ban-drop-column'],
      ]),
    );
    expect(result.findings.find((f) => f.migration === '0100_required')?.file).toBe(
      path.join(dir, '0100_required.sql'),
    );
    // Only the up part is linted: the down migration's DROP COLUMN is not a finding.
    expect(
      result.findings.filter(
        (f) => f.migration === '0100_required' && f.rule === 'ban-drop-column',
      ),
    ).toEqual([]);
    // berth sets lock_timeout itself, so squawk is not asked for it.
    expect(result.excluded).toContain('require-lock-timeout');
    expect(result.findings.some((f) => f.rule === 'require-lock-timeout')).toBe(false);
  });

  it("the example app's migrations pass: style findings are warnings only", async () => {
    const { migrations } = await sqlMigrations(
      'custom',
      custom(EXAMPLE_MIGRATIONS),
      EXAMPLE_MIGRATIONS,
    );
    expect(migrations).toHaveLength(
      (await readdir(EXAMPLE_MIGRATIONS)).filter((f) => f.endsWith('.sql')).length,
    );
    const result = await lintMigrations({ ...settings(), migrations });
    expect(result.findings.filter((f) => f.level === 'error')).toEqual([]);
    expect(result.ok).toBe(true);
  });

  it('rules are configurable: excluded, demoted, and ignored per migration', async () => {
    const dir = await dirWith(RISKY);
    const { migrations } = await sqlMigrations('custom', custom(dir), dir);
    const result = await lintMigrations({
      ...settings({
        exclude: ['ban-drop-column'],
        warnings: ['changing-column-type'],
        ignore: {
          '0100_required': ['adding-required-field'],
          '0101_index': ['require-concurrent-index-creation'],
          '0103_fk': ['adding-foreign-key-constraint', 'constraint-missing-not-valid'],
        },
      }),
      migrations,
    });
    expect(result.findings.filter((f) => f.level === 'error')).toEqual([]);
    expect(result.findings.find((f) => f.rule === 'changing-column-type')?.level).toBe('warning');
    expect(result.findings.some((f) => f.rule === 'ban-drop-column')).toBe(false);
  });

  it('lints only the IDs asked for (the pending ones)', async () => {
    const dir = await dirWith(RISKY);
    const { migrations } = await sqlMigrations('custom', custom(dir), dir, new Set(['0102_type']));
    expect(migrations.map((m) => m.id)).toEqual(['0102_type']);
  });

  it('says where the SQL cannot be had: Django without a task (--every), JavaScript and Ruby migrations', async () => {
    const django = await sqlMigrations('django', PRESETS.django, ROOT);
    expect(django.migrations).toEqual([]);
    expect(django.unsupported).toMatch(
      /sqlmigrate`, run in a task .* `berth lint --every` reads no tenant/,
    );
    const alembic = await sqlMigrations('alembic', PRESETS.alembic, ROOT);
    expect(alembic.unsupported).toMatch(/offline mode \(`upgrade --sql`\)/);
    const dir = await dirWith({});
    await mkdir(path.join(dir, 'migrations'));
    await writeFile(path.join(dir, 'migrations', '20240101_init.js'), 'exports.up = () => {};');
    const knex = await sqlMigrations('knex', PRESETS.knex, dir);
    expect(knex.unsupported).toBe(
      '1 migration(s) are not SQL files (knex: 20240101_init.js): knex builds their SQL at run time and has no dry run that prints it, so berth cannot lint them',
    );
    await mkdir(path.join(dir, 'db/migrate'), { recursive: true });
    await writeFile(path.join(dir, 'db/migrate', '20240101000000_init.rb'), 'class Init; end');
    const rails = await sqlMigrations('rails', PRESETS.rails, dir);
    expect(rails.unsupported).toMatch(
      /\(rails: 20240101000000_init.rb\): ActiveRecord prints no SQL/,
    );
  });
});

describe('berth lint when squawk cannot run', () => {
  it('a missing platform binary (exit 1, no output) is an environment error, never "no findings"', async () => {
    const dir = await dirWith({ '0001_a.sql': 'SELECT 1;\n' });
    const { migrations } = await sqlMigrations('custom', custom(dir), dir);
    const missing = () =>
      Promise.resolve({
        code: 1,
        stdout: '',
        stderr: 'squawk: the "@squawk-cli/darwin-arm64" optional dependency was not installed.',
      });
    await expect(
      lintMigrations({ ...settings(), migrations, exec: missing }),
    ).rejects.toMatchObject({
      code: 'LINTER_UNAVAILABLE',
      message: expect.stringMatching(/did not lint the migrations: exit 1: squawk: the/) as string,
    });
  });

  it('a syntax error is a finding at error level', async () => {
    const dir = await dirWith({ '0001_a.sql': 'ALTR TABLE x ADD COLUMN y int;\n' });
    const { migrations } = await sqlMigrations('custom', custom(dir), dir);
    const result = await lintMigrations({ ...settings(), migrations });
    expect(result.ok).toBe(false);
    expect(result.findings[0]).toMatchObject({ migration: '0001_a', line: 1, level: 'error' });
  });

  describe("a tenant's pending migrations are linted as one script", () => {
    const RUN = {
      '0200_create.sql': `-- Up Migration
CREATE TABLE invoices (id bigint PRIMARY KEY);
`,
      '0201_extend.sql': `-- Up Migration

ALTER TABLE invoices ADD COLUMN number text NOT NULL;
CREATE INDEX invoices_number ON invoices (number);
ALTER TABLE invoices ADD CONSTRAINT invoices_member_fk FOREIGN KEY (member_id) REFERENCES members (id);
`,
    };
    const errorsOf = (result: Awaited<ReturnType<typeof lintMigrations>>) =>
      result.findings.filter((f) => f.level === 'error').map((f) => [f.migration, f.line, f.rule]);

    it('a table created earlier in the same run is new to the later migrations (a fresh tenant): its NOT NULL column, index and foreign key to an existing table pass', async () => {
      const dir = await dirWith(RUN);
      const { migrations } = await sqlMigrations('custom', custom(dir), dir);
      const ids = migrations.map((m) => m.id);
      const result = await lintMigrations({ ...settings(), migrations, sequences: [ids] });
      expect(errorsOf(result)).toEqual([]);
      expect(result.ok).toBe(true);
    });

    it('on a tenant where the table already exists, the same migration is an error, at its own line, reported once', async () => {
      const dir = await dirWith(RUN);
      const { migrations } = await sqlMigrations('custom', custom(dir), dir);
      const ids = migrations.map((m) => m.id);
      const last = ids.slice(1);
      // One fresh tenant and one on which 0200 is applied: only the second sees the risk.
      const result = await lintMigrations({
        ...settings(),
        migrations,
        sequences: [ids, last, last],
      });
      expect(result.ok).toBe(false);
      expect(errorsOf(result)).toEqual([
        [last[0], 3, 'adding-required-field'],
        [last[0], 4, 'require-concurrent-index-creation'],
        [last[0], 5, 'constraint-missing-not-valid'],
        [last[0], 5, 'adding-foreign-key-constraint'],
      ]);
    });

    it('without tenants (every migration), each is linted alone, as if its tables existed', async () => {
      const dir = await dirWith(RUN);
      const { migrations } = await sqlMigrations('custom', custom(dir), dir);
      const result = await lintMigrations({ ...settings(), migrations });
      expect(errorsOf(result).map(([, line, rule]) => [line, rule])).toEqual([
        [3, 'adding-required-field'],
        [4, 'require-concurrent-index-creation'],
        [5, 'constraint-missing-not-valid'],
        [5, 'adding-foreign-key-constraint'],
      ]);
    });
  });
});
