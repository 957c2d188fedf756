import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { spawn, spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BERTH, ROOT, collect } from '../support/project.js';

const berth = (cwd: string, args: string[]) =>
  collect(
    spawn(process.execPath, [BERTH, ...args], {
      cwd,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );

describe('berth init', () => {
  let dir: string;
  beforeAll(async () => {
    dir = path.join(await mkdtemp(path.join(os.tmpdir(), 'berth-init-')), 'my-shop');
    await (await import('node:fs/promises')).mkdir(dir);
  });
  afterAll(() => rm(path.dirname(dir), { recursive: true, force: true }));

  it('writes a commented starter berth.yaml named after the directory that validates once its migrations directory exists', async () => {
    const run = await berth(dir, ['init']);
    expect(run.code).toBe(0);
    const text = await readFile(path.join(dir, 'berth.yaml'), 'utf8');
    expect(text).toContain('app: my-shop');
    expect(text).toMatch(/^# berth.yaml/);
    // An editor schema reference that resolves from here, and local state kept out of git.
    const schema = /# yaml-language-server: \$schema=(\S+)/.exec(text)?.[1] ?? '';
    await expect(readFile(path.resolve(dir, schema), 'utf8')).resolves.toContain('"$schema"');
    expect(await readFile(path.join(dir, '.gitignore'), 'utf8')).toMatch(/^\.berth\/$/m);
    // No tool detected: the starter names a migrations/ directory, which validate (like
    // migrate) requires to exist.
    const missing = await berth(dir, ['config', 'validate']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('migrations.directory');
    const fs = await import('node:fs/promises');
    await fs.mkdir(path.join(dir, 'migrations'));
    // Not empty: a directory with no migration would make a fresh database look up to date.
    await fs.writeFile(path.join(dir, 'migrations', '0001_init.sql'), 'CREATE TABLE t (id int);\n');
    const validate = await berth(dir, ['config', 'validate', '--json']);
    expect(validate.code).toBe(0);
    expect(JSON.parse(validate.stdout)).toMatchObject({
      ok: true,
      config: { app: 'my-shop', registry: { name: 'my-shop-backend' } },
    });
  });

  it('refuses to overwrite an existing file (exit 2) unless --force', async () => {
    const again = await berth(dir, ['init']);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already exists; nothing was changed');
    expect((await berth(dir, ['init', '--force'])).code).toBe(0);
  });

  it('prints the JSON Schema for editors', async () => {
    const run = await berth(dir, ['config', 'schema']);
    expect(run.code).toBe(0);
    const schema = JSON.parse(run.stdout) as { properties: Record<string, unknown> };
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(['app', 'registry', 'database', 'fleet']),
    );
  });

  it('status before anything ran: the server is not initialised and nothing is started', async () => {
    const run = await berth(dir, ['status', '--json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      provider: 'local',
      postgres: { state: 'not initialised' },
    });
    const { existsSync } = await import('node:fs');
    expect(existsSync(path.join(dir, '.berth', 'postgres'))).toBe(false);
  });
});

const PYTHON = '/usr/bin/python3';
const hasDjango =
  spawnSync(PYTHON, ['-c', 'import django, psycopg2, alembic'], { stdio: 'ignore' }).status === 0;

interface DetectCase {
  tool: string;
  /** Files of the project (or a fixture to copy). */
  files?: Record<string, string>;
  fixture?: string;
  /** The tenant's pending migrations `migrate --plan` must list (a fresh database). */
  pending: string[] | ((ids: string[]) => void);
  /** The project runs Python (a listing tool): skipped without it, except in CI. */
  python?: boolean;
}

const pkg = (dep: string) =>
  JSON.stringify({ name: 'app', private: true, devDependencies: { [dep]: '1.0.0' } });

const DETECT_CASES: DetectCase[] = [
  {
    tool: 'django',
    fixture: path.join(ROOT, 'test/fixtures/django-tenants'),
    pending: (ids) => expect(ids).toEqual(expect.arrayContaining(['shop.0001_initial'])),
    python: true,
  },
  {
    tool: 'alembic',
    fixture: path.join(ROOT, 'test/fixtures/tools/alembic'),
    pending: ['1a2b3c4d5e6f', '2b3c4d5e6f7a'],
    python: true,
  },
  {
    tool: 'rails',
    fixture: path.join(ROOT, 'test/fixtures/tools/rails'),
    pending: ['20240101000000', '20240201000000'],
  },
  {
    tool: 'knex',
    fixture: path.join(ROOT, 'test/fixtures/tools/knex'),
    pending: ['20240101000000_create_orders.js', '20240201000000_add_orders_created.js'],
  },
  {
    tool: 'dbmate',
    fixture: path.join(ROOT, 'test/fixtures/tools/dbmate'),
    pending: ['20240101000000', '20240201000000'],
  },
  {
    tool: 'prisma',
    files: {
      'prisma/schema.prisma':
        'datasource db {\n  provider = "postgresql"\n  url = env("DATABASE_URL")\n}\n',
      'prisma/migrations/20240101000000_init/migration.sql': 'CREATE TABLE t (id int);\n',
      'prisma/migrations/migration_lock.toml': 'provider = "postgresql"\n',
    },
    pending: ['20240101000000_init'],
  },
  {
    tool: 'flyway',
    files: {
      'flyway.conf': 'flyway.locations=filesystem:db/migration\n',
      'db/migration/V1__init.sql': 'CREATE TABLE t (id int);\n',
      'db/migration/V1_1__more.sql': 'CREATE TABLE u (id int);\n',
    },
    pending: ['1', '1.1'],
  },
  {
    tool: 'golang-migrate',
    files: {
      'migrations/000001_init.up.sql': 'CREATE TABLE t (id int);\n',
      'migrations/000001_init.down.sql': 'DROP TABLE t;\n',
    },
    pending: ['1'],
  },
  {
    tool: 'sequelize',
    files: {
      '.sequelizerc': 'module.exports = {};\n',
      'migrations/20240101000000-create-t.js': 'module.exports = {};\n',
    },
    pending: ['20240101000000-create-t.js'],
  },
  {
    tool: 'typeorm',
    files: {
      'package.json': pkg('typeorm'),
      'src/migrations/1700000000000-Init.ts': 'export class Init1700000000000 {}\n',
    },
    pending: ['Init1700000000000'],
  },
  {
    tool: 'node-pg-migrate',
    files: {
      'package.json': pkg('node-pg-migrate'),
      'migrations/1700000000000_init.js': 'exports.up = () => {};\n',
    },
    pending: ['1700000000000_init'],
  },
];

describe.each(DETECT_CASES)(
  'berth init in a $tool project, then config validate, then migrate --plan',
  (c) => {
    const skip = c.python === true && !hasDjango && !process.env.CI;
    let root: string;
    let dir: string;
    // `python3` and `alembic` as a user's machine has them (here: Debian's, through wrappers:
    // another python3 may come first on PATH, without Django).
    let env: Record<string, string>;
    const run = (args: string[]) =>
      collect(
        spawn(process.execPath, [BERTH, ...args], {
          cwd: dir,
          env: { ...process.env, ...env, NO_COLOR: '1' },
          stdio: ['ignore', 'pipe', 'pipe'],
        }),
      );

    beforeAll(async () => {
      root = await mkdtemp(path.join(os.tmpdir(), 'berth-init-tool-'));
      dir = path.join(root, `${c.tool}-app`);
      if (c.fixture) await cp(c.fixture, dir, { recursive: true });
      for (const [name, text] of Object.entries(c.files ?? {})) {
        await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
        await writeFile(path.join(dir, name), text);
      }
      const bin = path.join(root, 'bin');
      await mkdir(bin);
      await writeFile(path.join(bin, 'python3'), `#!/bin/sh\nexec ${PYTHON} "$@"\n`, {
        mode: 0o755,
      });
      await writeFile(path.join(bin, 'alembic'), `#!/bin/sh\nexec ${PYTHON} -m alembic "$@"\n`, {
        mode: 0o755,
      });
      env = { PATH: `${bin}:${process.env.PATH ?? ''}`, PYTHONDONTWRITEBYTECODE: '1' };
    });
    afterAll(async () => {
      await run(['local', 'stop']);
      await rm(root, { recursive: true, force: true });
    });

    it.skipIf(skip)(`init recognises ${c.tool}`, async () => {
      const init = await run(['init', '--json']);
      expect(init.stderr).toBe('');
      expect(init.code).toBe(0);
      expect(JSON.parse(init.stdout)).toMatchObject({ tool: c.tool, gitignore: true });
      const text = await readFile(path.join(dir, 'berth.yaml'), 'utf8');
      expect(text).toContain(`tool: ${c.tool}`);
      expect(text).not.toMatch(/StartupWebApp|startupwebapp|expectedTables: \d/);
    });

    it.skipIf(skip)('config validate passes the starter', async () => {
      const validate = await run(['config', 'validate']);
      expect(validate.stderr).toBe('');
      expect(validate.code).toBe(0);
    });

    it.skipIf(skip)(
      'migrate --plan accepts it and lists the fresh tenant’s migrations (exit 9)',
      async () => {
        const plan = await run(['migrate', '--all', '--plan', '--json']);
        expect(plan.stderr).not.toMatch(/error/);
        const [doc] = plan.stdout
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as { databases: { database: string; pending: string[] }[] });
        const tenant = `${c.tool.replace(/-/g, '_')}_app`;
        expect(doc?.databases.map((d) => d.database)).toEqual([tenant]);
        const pending = doc?.databases[0]?.pending ?? [];
        if (typeof c.pending === 'function') c.pending(pending);
        else expect(pending).toEqual(c.pending);
        expect(plan.code).toBe(9);
      },
    );
  },
);
