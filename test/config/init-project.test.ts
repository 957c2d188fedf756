/**
 * What `berth init` sets up around berth.yaml: the project's migration tool, recognised from its
 * files; a starter from the tool's preset with nothing of the seed; a resolving schema
 * reference; .gitignore.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ensureGitignored,
  installedSchema,
  schemaReference,
} from '../../src/config/init-project.js';
import { parseConfig } from '../../src/config/load-config.js';
import { MIGRATION_TOOLS } from '../../src/config/schema.js';
import {
  detectProject,
  starterConfig,
  yamlCommand,
  type PresetTool,
} from '../../src/config/starter.js';
import { PRESETS, starterTool } from '../../src/migrations/presets.js';
import { tempDir } from '../support/temp-dir.js';

/** A project directory holding the given files (a trailing / makes a directory). */
async function projectWith(files: Record<string, string>): Promise<string> {
  const dir = await tempDir('berth-detect-');
  for (const [name, content] of Object.entries(files)) {
    const target = path.join(dir, name);
    if (name.endsWith('/')) {
      await mkdir(target, { recursive: true });
      continue;
    }
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, content);
  }
  return dir;
}

const pkg = (dep: string) => JSON.stringify({ name: 'app', devDependencies: { [dep]: '1.0.0' } });

describe('detectProject', () => {
  it.each<[string, Record<string, string>, PresetTool, string]>([
    ['Django', { 'manage.py': '' }, 'django', 'manage.py'],
    ['Alembic', { 'alembic.ini': '[alembic]\n' }, 'alembic', 'alembic.ini'],
    ['Prisma', { 'prisma/schema.prisma': '' }, 'prisma', 'prisma/schema.prisma'],
    ['Flyway', { 'flyway.conf': 'flyway.url=jdbc:x\n' }, 'flyway', 'flyway.conf'],
    ['Flyway 10', { 'flyway.toml': '[flyway]\n' }, 'flyway', 'flyway.toml'],
    ['Rails', { 'db/migrate/': '', Gemfile: '' }, 'rails', 'db/migrate'],
    ['knex', { 'knexfile.js': '', 'migrations/': '' }, 'knex', 'knexfile.js'],
    ['knex (TypeScript)', { 'knexfile.ts': '' }, 'knex', 'knexfile.ts'],
    ['Sequelize', { '.sequelizerc': '' }, 'sequelize', '.sequelizerc'],
    [
      'sequelize-cli',
      { 'package.json': pkg('sequelize-cli') },
      'sequelize',
      'package.json (sequelize-cli)',
    ],
    [
      'node-pg-migrate',
      { 'package.json': pkg('node-pg-migrate'), 'migrations/1700000000000_init.js': '' },
      'node-pg-migrate',
      'package.json (node-pg-migrate)',
    ],
    ['knex (dependency)', { 'package.json': pkg('knex') }, 'knex', 'package.json (knex)'],
    ['TypeORM', { 'package.json': pkg('typeorm') }, 'typeorm', 'package.json (typeorm)'],
    ['Prisma (dependency)', { 'package.json': pkg('prisma') }, 'prisma', 'package.json (prisma)'],
    [
      'dbmate',
      { 'db/migrations/20240101000000_init.sql': '-- migrate:up\nCREATE TABLE t ();\n' },
      'dbmate',
      'db/migrations',
    ],
    ['dbmate (dependency)', { 'package.json': pkg('dbmate') }, 'dbmate', 'package.json (dbmate)'],
    [
      'golang-migrate (go.mod)',
      { 'go.mod': 'module x\nrequire github.com/golang-migrate/migrate/v4 v4.17.0\n' },
      'golang-migrate',
      'go.mod (golang-migrate)',
    ],
    [
      'golang-migrate (files)',
      { 'migrations/000001_init.up.sql': '', 'migrations/000001_init.down.sql': '' },
      'golang-migrate',
      'migrations/*.up.sql',
    ],
  ])('recognises %s', async (_name, files, tool, evidence) => {
    expect(await detectProject(await projectWith(files))).toEqual({ tool, evidence });
  });

  it("takes Flyway's filesystem location as the migrations directory", async () => {
    const conf = await projectWith({ 'flyway.conf': 'flyway.locations=filesystem:db/migration\n' });
    expect(await detectProject(conf)).toEqual({
      tool: 'flyway',
      evidence: 'flyway.conf',
      directory: 'db/migration',
    });
    const toml = await projectWith({
      'flyway.toml': '[flyway]\nlocations = ["filesystem:./sql/pg/"]\n',
    });
    expect(await detectProject(toml)).toMatchObject({ directory: 'sql/pg' });
  });

  it('recognises nothing in an empty project, a package.json without a migration tool, or plain SQL in db/migrations', async () => {
    expect(await detectProject(await projectWith({}))).toBeUndefined();
    expect(
      await detectProject(await projectWith({ 'package.json': pkg('express'), 'migrations/': '' })),
    ).toBeUndefined();
    expect(
      await detectProject(await projectWith({ 'db/migrations/001.sql': 'CREATE TABLE t ();' })),
    ).toBeUndefined();
    expect(
      await detectProject(await projectWith({ 'package.json': '{ not json' })),
    ).toBeUndefined();
  });
});

const SEED = /StartupWebApp|startupwebapp|\b57\b|Production|manage\.py/;
const TOOLS = MIGRATION_TOOLS.filter((t): t is PresetTool => t !== 'custom');

describe('the starter', () => {
  it.each(TOOLS)("%s: the preset's commands and history, nothing of the seed", (tool) => {
    const text = starterConfig('shop', starterTool({ tool, evidence: 'x' }));
    const config = parseConfig(text);
    expect(config.migrations.tool).toBe(tool);
    expect(config.migrations.table).toBeUndefined();
    expect(config.task.command).toEqual(PRESETS[tool].migrateCommand);
    expect(config.task.checkCommand).toEqual(PRESETS[tool].checkCommand);
    expect(config.database.expectedTables).toBeUndefined();
    expect(text).toContain(`history in ${PRESETS[tool].history.table}`);
    expect(text.replace(tool === 'django' ? /manage\.py/g : /^$/, '')).not.toMatch(SEED);
    // node-pg-migrate's own table appears only for node-pg-migrate.
    if (tool !== 'node-pg-migrate') expect(text).not.toContain('pgmigrations');
    // A Python tool's output reaches the log in the order it was printed (stdout unbuffered).
    expect(config.task.environment.PYTHONUNBUFFERED).toBe(
      tool === 'django' || tool === 'alembic' ? '1' : undefined,
    );
  });

  it("writes a directory the project's config names (Flyway), and a listing tool's command", () => {
    const flyway = parseConfig(
      starterConfig(
        'shop',
        starterTool({ tool: 'flyway', evidence: 'flyway.conf', directory: 'db/migration' }),
      ),
    );
    expect(flyway.migrations.directory).toBe('db/migration');
    const alembic = starterConfig(
      'shop',
      starterTool({ tool: 'alembic', evidence: 'alembic.ini' }),
    );
    expect(alembic).toContain('`alembic history` once per');
    expect(alembic).toContain('branches or merges');
  });

  it('without a recognised tool: custom, marked lines to fill in, nothing of the seed', () => {
    const text = starterConfig('shop');
    const config = parseConfig(text);
    expect(config.migrations).toMatchObject({
      tool: 'custom',
      directory: 'migrations',
      table: 'schema_migrations',
      nameColumns: ['version'],
    });
    expect(config.task.command).toEqual(['./migrate']);
    expect(text).not.toMatch(SEED);
    expect(text).not.toContain('pgmigrations');
    expect(text).toContain('No migration tool was recognised');
  });

  it('quotes command words YAML would not read as plain strings', () => {
    expect(yamlCommand(['bin/rails', 'db:migrate', '--noinput'])).toBe(
      '[bin/rails, db:migrate, --noinput]',
    );
    expect(yamlCommand(['sh', '-c', 'a && b', 'true', '1.5', 'x: y'])).toBe(
      '[sh, -c, "a && b", "true", "1.5", "x: y"]',
    );
  });
});

describe('init-project', () => {
  it('finds the JSON Schema shipped with this berth', () => {
    const schema = installedSchema();
    expect(schema).toBeDefined();
    expect(existsSync(schema ?? '')).toBe(true);
    expect(schema).toMatch(/schema[/\\]berth\.schema\.json$/);
  });

  it('writes the schema reference relative to berth.yaml, with forward slashes', () => {
    expect(schemaReference('/app', '/app/node_modules/berth-cli/schema/berth.schema.json')).toBe(
      './node_modules/berth-cli/schema/berth.schema.json',
    );
    expect(schemaReference('/app/deploy', '/app/node_modules/x/schema/berth.schema.json')).toBe(
      '../node_modules/x/schema/berth.schema.json',
    );
  });

  it('adds .berth/ to .gitignore once, creating it or appending after a missing newline', async () => {
    const dir = await tempDir('berth-init-');
    expect(await ensureGitignored(dir)).toBe(true);
    expect(await readFile(path.join(dir, '.gitignore'), 'utf8')).toMatch(/^\.berth\/$/m);
    expect(await ensureGitignored(dir)).toBe(false);

    const other = await tempDir('berth-init-');
    await writeFile(path.join(other, '.gitignore'), 'node_modules');
    expect(await ensureGitignored(other)).toBe(true);
    expect(await readFile(path.join(other, '.gitignore'), 'utf8')).toMatch(
      /^node_modules\n#[^\n]*\n\.berth\/\n$/,
    );

    const covered = await tempDir('berth-init-');
    await writeFile(path.join(covered, '.gitignore'), '/.berth\n');
    expect(await ensureGitignored(covered)).toBe(false);
  });
});
