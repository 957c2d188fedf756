/**
 * checkConfigPaths: every path a command uses is checked before it creates anything, and
 * every problem is listed with its field path and line.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkConfigPaths,
  configPathIssues,
  isMigrationFile,
  type PathCheckOptions,
} from '../../src/config/check-paths.js';
import { loadConfig, type LoadedConfig } from '../../src/config/load-config.js';
import { isBerthError, type BerthError } from '../../src/core/errors.js';
import { exitCodeForError } from '../../src/core/exit-codes.js';
import { VALID } from './valid-config.js';

// What each provider passes (see providers/*/...-provider.ts checkConfig).
const LOCAL = { tasksRunHere: true, imageRequired: false, awsFields: false };
const AWS = { tasksRunHere: false, imageRequired: true, awsFields: true };

let root: string;
let n = 0;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'berth-paths-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

/** A project folder with berth.yaml (VALID plus `extra` lines) and a filled migrations dir. */
async function project(
  edit: (text: string) => string = (t) => t,
  files: Record<string, string> = { 'migrations/001_init.sql': 'SELECT 1;' },
): Promise<LoadedConfig> {
  const dir = path.join(root, `p${++n}`);
  await mkdir(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), text);
  }
  await writeFile(path.join(dir, 'berth.yaml'), edit(VALID));
  return loadConfig(path.join(dir, 'berth.yaml'));
}

async function failure(loaded: LoadedConfig, options: PathCheckOptions): Promise<BerthError> {
  try {
    await checkConfigPaths(loaded, options);
  } catch (error) {
    if (isBerthError(error)) return error;
    throw error;
  }
  throw new Error('the paths passed');
}

const MIGRATE: PathCheckOptions = { for: 'migrate', ...LOCAL };

describe('checkConfigPaths', () => {
  it('passes a project whose paths all exist', async () => {
    const loaded = await project();
    await expect(checkConfigPaths(loaded, MIGRATE)).resolves.toBeUndefined();
    await expect(checkConfigPaths(loaded, { for: 'validate', ...LOCAL })).resolves.toBeUndefined();
  });

  it('a missing migrations directory is exit 3 naming the field, its line and the path', async () => {
    const loaded = await project((t) => t, {});
    const error = await failure(loaded, MIGRATE);
    expect(error.code).toBe('CONFIG_INVALID');
    expect(exitCodeForError(error.code)).toBe(3);
    expect(error.message).toContain('migrations.directory (line 14)');
    expect(error.message).toContain(`${path.join(loaded.dir, 'migrations')} does not exist`);
  });

  it('an empty migrations directory is refused (a fresh database would look up to date)', async () => {
    const loaded = await project((t) => t, {
      'migrations/README.md': 'docs only',
      'migrations/__init__.py': '',
    });
    const error = await failure(loaded, { for: 'verify', ...LOCAL });
    expect(error.message).toMatch(/migrations\.directory.*holds no migration files/);
  });

  it('a missing local.workdir is named (not "spawn node ENOENT")', async () => {
    const loaded = await project((t) => `${t}local: { workdir: app }\n`);
    const error = await failure(loaded, MIGRATE);
    expect(error.message).toContain('local.workdir (line 15)');
    expect(error.message).toContain(`${path.join(loaded.dir, 'app')} does not exist`);
  });

  it('a workdir that is a file is not a directory', async () => {
    const loaded = await project((t) => `${t}local: { workdir: berth.yaml }\n`);
    const error = await failure(loaded, MIGRATE);
    expect(error.message).toMatch(/local\.workdir.*is not a directory/);
  });

  it('the aws provider does not need local.workdir but does need its network fields', async () => {
    const loaded = await project((t) => `${t}local: { workdir: app }\n`);
    const issues = await configPathIssues(loaded, { for: 'migrate', ...AWS });
    expect(issues.map((i) => i.path)).toEqual([
      'network.subnets',
      'network.backendSecurityGroup',
      'network.databaseSecurityGroup',
    ]);
  });

  it('a missing tenants file is named with its line', async () => {
    const loaded = await project((t) =>
      t.replace(
        '[startupwebapp_prod, healthtech_experiment, fintech_experiment]',
        '{ file: tenants.txt }',
      ),
    );
    const error = await failure(loaded, MIGRATE);
    expect(error.message).toContain('database.tenants.file (line 12)');
    expect(error.message).toContain('tenants.txt does not exist');
  });

  it('lists every problem at once', async () => {
    const loaded = await project(
      (t) =>
        `${t.replace(
          '[startupwebapp_prod, healthtech_experiment, fintech_experiment]',
          '{ file: tenants.txt }',
        )}local: { workdir: app }\n`,
      {},
    );
    const error = await failure(loaded, MIGRATE);
    const paths = (error.details?.issues as { path: string }[]).map((i) => i.path);
    expect(paths).toEqual(['migrations.directory', 'local.workdir', 'database.tenants.file']);
    expect(error.hint).toContain('nothing was changed');
  });

  it('build needs the image context and the Dockerfile, not the migrations', async () => {
    const loaded = await project((t) => `${t}image: { context: app }\n`, {});
    const error = await failure(loaded, { for: 'build', ...LOCAL });
    const paths = (error.details?.issues as { path: string }[]).map((i) => i.path);
    expect(paths).toEqual(['image.context']);

    const noDockerfile = await project((t) => `${t}image: { context: app }\n`, {
      'migrations/001.sql': '',
      'app/package.json': '{}',
    });
    const second = await failure(noDockerfile, { for: 'build', ...LOCAL });
    expect(second.message).toMatch(/image\.dockerfile.*app\/Dockerfile does not exist/);
    // The local pipeline builds only when there is a Dockerfile: its absence is fine there.
    await expect(
      checkConfigPaths(noDockerfile, { for: 'pipeline', ...LOCAL }),
    ).resolves.toBeUndefined();
  });

  it('validate checks every path, and the aws fields with the aws provider', async () => {
    const loaded = await project(
      (t) => `${t}image: { context: app }\npipeline: { testDirectory: tests }\n`,
    );
    const local = await failure(loaded, { for: 'validate', ...LOCAL });
    expect((local.details?.issues as { path: string }[]).map((i) => i.path)).toEqual([
      'pipeline.testDirectory',
      'image.context',
    ]);
    const aws = await failure(loaded, { for: 'validate', ...AWS });
    expect((aws.details?.issues as { path: string }[]).map((i) => i.path)).toEqual([
      'pipeline.testDirectory',
      'image.context',
      'network.subnets',
      'network.backendSecurityGroup',
      'network.databaseSecurityGroup',
    ]);
    // VALID has no network section: no line (line 1 is `version: 1`), but where they would go.
    expect(aws.message).toContain('network.subnets (not set; add a network: section): list');
    expect(aws.message).toContain('image.context (line 15):');
  });

  it('a default path that is missing: where its field would go, not another line', async () => {
    const build = { for: 'build', ...AWS } as const;
    const error = await failure(await project(), build);
    expect(error.message).toContain('image.dockerfile (not set; add an image: section): ');
    const inImage = await failure(await project((t) => `${t}image: { context: . }\n`), build);
    expect(inImage.message).toContain(
      'image.dockerfile (not set; add dockerfile: under image, line 15): ',
    );
  });
});

describe('migrations.directory with a preset', () => {
  it("accepts the tool's own files (Rails' .rb, Prisma's directories), which custom would refuse", async () => {
    const rails = await project(
      (t) =>
        t.replace(
          'migrations: { directory: migrations }',
          'migrations: { tool: rails, directory: db/migrate }',
        ),
      {
        'db/migrate/20240101000000_create_orders.rb': 'class CreateOrders; end',
      },
    );
    expect(await configPathIssues(rails, MIGRATE)).toEqual([]);
    const prisma = await project(
      (t) =>
        t.replace(
          'migrations: { directory: migrations }',
          'migrations: { tool: prisma, directory: db/prisma }',
        ),
      { 'db/prisma/20240101000000_init/migration.sql': 'SELECT 1;' },
    );
    expect(await configPathIssues(prisma, MIGRATE)).toEqual([]);
    const custom = await project(
      (t) =>
        t.replace('migrations: { directory: migrations }', 'migrations: { directory: db/migrate }'),
      { 'db/migrate/20240101000000_create_orders.rb': 'class CreateOrders; end' },
    );
    expect((await configPathIssues(custom, MIGRATE)).map((i) => i.message)).toEqual([
      expect.stringContaining('holds no migration files'),
    ]);
  });

  it('still requires the directory to exist', async () => {
    const missing = await project(
      (t) =>
        t.replace(
          'migrations: { directory: migrations }',
          'migrations: { tool: rails, directory: db/migrate }',
        ),
      {},
    );
    expect((await configPathIssues(missing, MIGRATE)).map((i) => i.path)).toEqual([
      'migrations.directory',
    ]);
  });
});

describe('isMigrationFile', () => {
  it('counts migration sources and leaves out declarations and package markers', () => {
    expect(['001.sql', '002.js', '0001_initial.py', '3.ts'].every(isMigrationFile)).toBe(true);
    expect(['x.d.ts', '__init__.py', 'README.md', '.keep'].some(isMigrationFile)).toBe(false);
  });
});
