import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BERTH, collect } from '../support/project.js';

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
