import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  findInstalledDjangoSnippet,
  installDjangoSnippet,
  readSnippet,
  snippetPath,
} from '../../src/migrations/snippets.js';
import { migrationsSetupIssues, migrationsSetupNotes } from '../../src/migrations/setup.js';
import { parseConfig } from '../../src/config/load-config.js';
import { VALID } from '../config/valid-config.js';
import { CATALOG_SQL } from '../../src/migrations/fingerprint.js';

describe('the Django probe snippet', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'berth-snippet-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("is shipped with the package, speaks the probe protocol and runs berth's catalog query unchanged", async () => {
    expect(snippetPath('django-probe')).toMatch(/snippets[/\\]django[/\\]berth_probe\.py$/);
    const text = await readSnippet('django-probe');
    expect(text).toContain('"::berth-probe"');
    expect(text).toContain('"::berth-schema"');
    expect(text).toContain('BERTH_PROBE_SCHEMA');
    // The AWS probe must read what berth's own probe reads, or every schema "differs".
    expect(/^CATALOG_SQL = """([^"]*)"""$/m.exec(text)?.[1]).toBe(CATALOG_SQL);
  });

  it("is the Django example's probe, byte for byte", async () => {
    const example = await readFile(
      path.join(
        import.meta.dirname,
        '../../examples/startupwebapp-django/apps/fleet/management/commands/berth_probe.py',
      ),
      'utf8',
    );
    expect(example).toBe(await readSnippet('django-probe'));
  });

  it('installs as management/commands/berth_probe.py beside the batch command', async () => {
    const app = path.join(dir, 'shop');
    await mkdir(app);
    await writeFile(path.join(app, 'apps.py'), '');
    await installDjangoSnippet(app);
    const probe = await installDjangoSnippet(app, { name: 'django-probe' });
    expect(probe.written.map((f) => path.relative(app, f))).toEqual([
      path.join('management', 'commands', 'berth_probe.py'),
    ]);
    expect(await readFile(probe.file, 'utf8')).toBe(await readSnippet('django-probe'));
    expect(await readFile(path.join(app, 'management/commands/berth_migrate.py'), 'utf8')).toBe(
      await readSnippet('django'),
    );
  });
});

describe('the Django batch-command snippet', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'berth-snippet-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('is shipped with the package and speaks the batch protocol and the lock key', async () => {
    expect(snippetPath('django')).toMatch(/snippets[/\\]django[/\\]berth_migrate\.py$/);
    const text = await readSnippet('django');
    expect(text).toContain('::berth-begin');
    expect(text).toContain('::berth-end');
    expect(text).toContain('::berth-locked');
    expect(text).toContain('pg_try_advisory_lock');
    expect(text).toContain('0x62657274, 1');
  });

  it('installs into an app as management/commands/berth_migrate.py with the package files', async () => {
    const app = path.join(dir, 'shop');
    await mkdir(app);
    await writeFile(path.join(app, 'apps.py'), '');
    const result = await installDjangoSnippet(app);
    expect(result.written.map((f) => path.relative(app, f))).toEqual([
      path.join('management', '__init__.py'),
      path.join('management', 'commands', '__init__.py'),
      path.join('management', 'commands', 'berth_migrate.py'),
    ]);
    expect(await findInstalledDjangoSnippet(dir)).toBe(result.file);
    expect(await installDjangoSnippet(app)).toMatchObject({ unchanged: true, written: [] });
  });

  it('refuses a directory that is not a Django app, and an edited copy unless forced', async () => {
    await expect(installDjangoSnippet(dir)).rejects.toMatchObject({ code: 'USAGE' });
    const app = path.join(dir, 'shop');
    await mkdir(app);
    await writeFile(path.join(app, 'models.py'), '');
    const { file } = await installDjangoSnippet(app);
    await writeFile(file, '# edited\n');
    await expect(installDjangoSnippet(app)).rejects.toMatchObject({ code: 'CONFIG_EXISTS' });
    expect(await readFile(file, 'utf8')).toBe('# edited\n');
    await installDjangoSnippet(app, { force: true });
    expect(await readFile(file, 'utf8')).toBe(await readSnippet('django'));
  });

  it('config validate: a batchCommand running berth_migrate in a Django project without it is an issue', async () => {
    await writeFile(path.join(dir, 'manage.py'), '');
    await mkdir(path.join(dir, 'migrations'));
    const config = parseConfig(VALID);
    config.task.batchCommand = ['python', 'manage.py', 'berth_migrate'];
    const issues = await migrationsSetupIssues(config, dir);
    expect(issues).toEqual([
      expect.objectContaining({
        path: 'task.batchCommand',
        message: expect.stringContaining('berth snippet django --app APP') as string,
      }),
    ]);
    const app = path.join(dir, 'shop');
    await mkdir(app);
    await writeFile(path.join(app, 'apps.py'), '');
    await installDjangoSnippet(app);
    expect(await migrationsSetupIssues(config, dir)).toEqual([]);
  });

  it('config validate: a probeCommand running berth_probe in a Django project without it is an issue; an app two levels down has it', async () => {
    await writeFile(path.join(dir, 'manage.py'), '');
    await mkdir(path.join(dir, 'migrations'));
    const config = parseConfig(VALID);
    config.task.probeCommand = ['python3', 'manage.py', 'berth_probe'];
    expect(await migrationsSetupIssues(config, dir)).toEqual([
      expect.objectContaining({
        path: 'task.probeCommand',
        message: expect.stringContaining('berth snippet django-probe --app APP') as string,
      }),
    ]);
    // apps/fleet, as the Django example lays its apps out.
    const app = path.join(dir, 'apps', 'fleet');
    await mkdir(app, { recursive: true });
    await writeFile(path.join(app, 'apps.py'), '');
    await installDjangoSnippet(app, { name: 'django-probe' });
    expect(await migrationsSetupIssues(config, dir)).toEqual([]);
    // The batch command is another file: still missing, and said so.
    config.task.batchCommand = ['python3', 'manage.py', 'berth_migrate'];
    expect((await migrationsSetupIssues(config, dir)).map((i) => i.path)).toEqual([
      'task.batchCommand',
    ]);
  });

  it('config validate notes a batched Django fleet without the batch command (advice, not an error)', () => {
    const config = parseConfig(VALID);
    config.migrations.tool = 'django';
    expect(migrationsSetupNotes(config)).toEqual([]); // batchSize 1: nothing to batch
    config.fleet.batchSize = 25;
    expect(migrationsSetupNotes(config)).toEqual([
      expect.stringContaining('each tenant of a batch still starts Python'),
    ]);
    config.task.batchCommand = ['python', 'manage.py', 'berth_migrate'];
    expect(migrationsSetupNotes(config)).toEqual([]);
  });
});
