/**
 * The SQL berth asks Django and Alembic for: the task's script, the parsing of its log into SQL
 * per migration (or why there is none), and the migration file each belongs to.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  migrationFiles,
  parseSqlLog,
  sqlTask,
  toSqlMigrations,
  toolPrefix,
  type ProjectFiles,
} from '../../src/migrations/tool-sql.js';

describe('the task that prints the SQL', () => {
  it("keeps the listing command's own prefix (interpreter, manage.py, alembic -c)", () => {
    expect(
      toolPrefix('django', ['/usr/bin/python3', 'manage.py', 'showmigrations', '--plan']),
    ).toEqual(['/usr/bin/python3', 'manage.py']);
    expect(toolPrefix('django', ['./run-showmigrations'])).toEqual(['python3', 'manage.py']);
    expect(toolPrefix('alembic', ['alembic', '-c', 'db/alembic.ini', 'history'])).toEqual([
      'alembic',
      '-c',
      'db/alembic.ini',
    ]);
  });

  it('django: one section per pending migration, sqlmigrate APP NAME, stderr only on failure', () => {
    const task = sqlTask(
      'django',
      ['python3', 'manage.py', 'showmigrations', '--plan'],
      ['shop.0003_x', 'auth.0012_y'],
      [],
    );
    expect(task.command[0]).toBe('sh');
    const script = task.command[2] ?? '';
    expect(script).toContain(
      "python3 manage.py sqlmigrate shop 0003_x 2>/dev/null || { printf '%s\\n' '@@berth-sql failed shop.0003_x'; python3 manage.py sqlmigrate shop 0003_x 2>&1; }",
    );
    expect(script).toContain('sqlmigrate auth 0012_y');
  });

  it('alembic: the pending range, from the revision before the first pending one', () => {
    const known = ['a1', 'b2', 'c3', 'd4'];
    expect(sqlTask('alembic', ['alembic', 'history'], ['c3', 'd4'], known).describe).toBe(
      'alembic upgrade b2:d4 --sql',
    );
    // A fresh tenant: everything is pending, from the base.
    expect(sqlTask('alembic', ['alembic', 'history'], known, known).describe).toBe(
      'alembic upgrade d4 --sql',
    );
  });

  it('the script runs in a POSIX shell and prints the markers berth parses', () => {
    const task = sqlTask('django', ['echo', 'manage.py', 'showmigrations'], ['shop.0001_a'], []);
    const run = spawnSync(task.command[0] ?? 'sh', task.command.slice(1), { encoding: 'utf8' });
    expect(run.status).toBe(0);
    const parsed = parseSqlLog('django', run.stdout, ['shop.0001_a']);
    expect(parsed.sql.get('shop.0001_a')).toBe('manage.py sqlmigrate shop 0001_a\n');
  });
});

describe('parseSqlLog', () => {
  it('django: SQL per section; a failed section or a missing one is a reason, not SQL', () => {
    const log = [
      'some runtime header',
      '@@berth-sql begin shop.0003_x',
      'BEGIN;',
      'ALTER TABLE "shop_product" ADD COLUMN "sku" varchar(20) NOT NULL;',
      'COMMIT;',
      '@@berth-sql end shop.0003_x',
      '@@berth-sql begin shop.0004_y',
      '@@berth-sql failed shop.0004_y',
      'Traceback (most recent call last):',
      "KeyError: \"Cannot find a migration matching '0004_y' from app 'shop'.\"",
      '@@berth-sql end shop.0004_y',
    ].join('\n');
    const parsed = parseSqlLog('django', log, ['shop.0003_x', 'shop.0004_y', 'shop.0005_z']);
    expect(parsed.sql.get('shop.0003_x')).toBe(
      'BEGIN;\nALTER TABLE "shop_product" ADD COLUMN "sku" varchar(20) NOT NULL;\nCOMMIT;\n',
    );
    expect(parsed.failed.get('shop.0004_y')).toMatch(/Cannot find a migration/);
    expect(parsed.failed.get('shop.0005_z')).toBe('the task printed nothing for it');
    expect(parsed.sql.has('shop.0004_y')).toBe(false);
  });

  it("alembic: one part per `Running upgrade`, without Alembic's own bookkeeping", () => {
    const log = [
      '@@berth-sql begin range',
      'BEGIN;',
      '',
      '-- Running upgrade a1 -> b2',
      '',
      'ALTER TABLE orders ADD COLUMN total INTEGER NOT NULL;',
      '',
      "UPDATE alembic_version SET version_num='b2' WHERE alembic_version.version_num = 'a1';",
      '',
      '-- Running upgrade b2 -> c3',
      '',
      'CREATE INDEX orders_created_idx ON orders (created_at);',
      "UPDATE alembic_version SET version_num='c3' WHERE alembic_version.version_num = 'b2';",
      '',
      'COMMIT;',
      '@@berth-sql end range',
    ].join('\n');
    const parsed = parseSqlLog('alembic', log, ['b2', 'c3']);
    expect(parsed.sql.get('b2')).toBe('ALTER TABLE orders ADD COLUMN total INTEGER NOT NULL;\n');
    expect(parsed.sql.get('c3')).toBe('CREATE INDEX orders_created_idx ON orders (created_at);\n');
    expect(parsed.failed.size).toBe(0);
  });

  it('alembic: a failed range leaves every pending revision without SQL, with the reason', () => {
    const log =
      '@@berth-sql begin range\n@@berth-sql failed range\nFAILED: No config file\n@@berth-sql end range\n';
    const parsed = parseSqlLog('alembic', log, ['b2', 'c3']);
    expect([...parsed.failed]).toEqual([
      ['b2', 'FAILED: No config file'],
      ['c3', 'FAILED: No config file'],
    ]);
    expect(parsed.sql.size).toBe(0);
  });
});

describe('migrationFiles', () => {
  const tree: Record<string, string[]> = {
    '/app': ['shop/', 'node_modules/', 'alembic/', 'manage.py'],
    '/app/shop': ['migrations/'],
    '/app/shop/migrations': ['0003_x.py', '__init__.py'],
    '/app/node_modules': ['shop/'],
    '/app/alembic': ['versions/'],
    '/app/alembic/versions': ['1f2e_add_total.py'],
  };
  const contents: Record<string, string> = {
    '/app/alembic/versions/1f2e_add_total.py': "revision: str = '1f2e'\ndown_revision = None\n",
  };
  const fs: ProjectFiles = {
    list: (dir) =>
      Promise.resolve(
        (tree[dir] ?? []).map((e) => ({
          name: e.replace(/\/$/, ''),
          isDirectory: () => e.endsWith('/'),
        })),
      ),
    read: (file) => Promise.resolve(contents[file] ?? ''),
  };

  it('django: APP/migrations/NAME.py, never inside node_modules', async () => {
    const files = await migrationFiles(
      'django',
      ['shop.0003_x', 'shop.0009_gone'],
      ['/app', '/app'],
      fs,
    );
    expect([...files]).toEqual([['shop.0003_x', path.join('/app/shop/migrations/0003_x.py')]]);
  });

  it('alembic: the file declaring the revision', async () => {
    const files = await migrationFiles('alembic', ['1f2e'], ['/app'], fs);
    expect(files.get('1f2e')).toBe('/app/alembic/versions/1f2e_add_total.py');
  });

  it('findings of SQL the tool printed point at the file, or at the ID when it is not found', () => {
    const parsed = {
      sql: new Map([
        ['a.1', 'SELECT 1;\n'],
        ['a.2', 'SELECT 2;\n'],
      ]),
      failed: new Map(),
    };
    expect(
      toSqlMigrations(parsed, new Map([['a.1', '/f.py']]), ['a.1', 'a.2'], 'sqlmigrate'),
    ).toEqual([
      { id: 'a.1', file: '/f.py', sql: 'SELECT 1;\n', generatedBy: 'sqlmigrate' },
      { id: 'a.2', file: 'a.2', sql: 'SELECT 2;\n', generatedBy: 'sqlmigrate' },
    ]);
  });
});
