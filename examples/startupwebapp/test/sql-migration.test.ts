// Static checks on the migration files: node-pg-migrate's SQL format, and Down sections that
// drop exactly what the Up sections create (the database-level proof is in migrate.test.ts).
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MIGRATIONS_DIR } from '../src/migrations.js';
import { parseSqlMigration } from '../src/sql-migration.js';

describe('parseSqlMigration', () => {
  it('splits the Up and Down sections and ignores a header', () => {
    const parsed = parseSqlMigration(
      '-- header\n-- Up Migration\nCREATE TABLE a ();\n-- Down Migration\nDROP TABLE a;\n',
      'x.sql',
    );
    expect(parsed.up).toBe('-- Up Migration\nCREATE TABLE a ();\n');
    expect(parsed.down).toBe('-- Down Migration\nDROP TABLE a;\n');
  });

  it('accepts a migration without a Down section (irreversible)', () => {
    expect(parseSqlMigration('-- Up Migration\nSELECT 1;', 'x.sql').down).toBeUndefined();
  });

  it('rejects files without an Up section or with Down first', () => {
    expect(() => parseSqlMigration('CREATE TABLE a ();', 'x.sql')).toThrow(/x\.sql: missing/);
    expect(() => parseSqlMigration('-- Down Migration\n-- Up Migration\n', 'x.sql')).toThrow(
      /must come after/,
    );
  });
});

describe('the StartupWebApp migrations', async () => {
  const files = (await readdir(DEFAULT_MIGRATIONS_DIR))
    .filter((file) => file.endsWith('.sql'))
    .sort();
  const tablesIn = (sql: string, verb: 'CREATE' | 'DROP') =>
    [...sql.matchAll(new RegExp(`^${verb} TABLE (\\w+)`, 'gm'))].map((match) => match[1]);

  it('are numbered 0001.. without gaps', () => {
    expect(files.map((file) => file.slice(0, 4))).toEqual(
      files.map((_, index) => String(index + 1).padStart(4, '0')),
    );
  });

  it('create 56 application tables in total', async () => {
    let count = 0;
    for (const file of files) {
      const { up } = parseSqlMigration(
        await readFile(join(DEFAULT_MIGRATIONS_DIR, file), 'utf8'),
        file,
      );
      count += tablesIn(up, 'CREATE').length;
    }
    expect(count).toBe(56);
  });

  it.each(files)('%s drops what it creates, in reverse order', async (file) => {
    const { up, down } = parseSqlMigration(
      await readFile(join(DEFAULT_MIGRATIONS_DIR, file), 'utf8'),
      file,
    );
    expect(down).toBeDefined();
    expect(tablesIn(down ?? '', 'DROP')).toEqual(tablesIn(up, 'CREATE').reverse());
  });
});
