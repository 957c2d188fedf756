/** `berth ci init --check`: 0 when the committed workflow is what would be generated, else 9. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ciInitCommand } from '../../src/cli/commands/ci.js';
import { contextOf } from '../../src/cli/context.js';
import { createOutput } from '../../src/cli/output.js';
import { createReporter } from '../../src/cli/progress.js';
import { parseConfig } from '../../src/config/load-config.js';
import type { Config } from '../../src/config/schema.js';
import { ExitCode } from '../../src/core/exit-codes.js';
import { ROOT } from '../support/project.js';
import { captureStream } from '../support/aws-cli.js';

let dir: string;
let output: string;
let config: Config;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'berth-ci-init-'));
  output = path.join(dir, '.github/workflows/run-migrations.yml');
  config = parseConfig(await readFile(path.join(ROOT, 'berth.yaml'), 'utf8'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

function run(options: { force?: boolean; check?: boolean }, json = false, cfg = config) {
  const stdout = captureStream();
  const stderr = captureStream();
  const out = createOutput(json, stdout, stderr, {});
  const ctx = contextOf({ json }, out, createReporter(out), new AbortController().signal, () =>
    Promise.resolve({ config: cfg, file: path.join(dir, 'berth.yaml'), dir }),
  );
  return ciInitCommand(ctx, { ...options, output }).then((code) => ({
    code,
    stdout: stdout.text(),
    stderr: stderr.text(),
  }));
}

describe('berth ci init --check', () => {
  it('exits 9 when the workflow file does not exist, and writes nothing', async () => {
    const result = await run({ check: true }, true);
    expect(result.code).toBe(ExitCode.changesPending);
    expect(JSON.parse(result.stdout)).toEqual({
      file: output,
      upToDate: false,
      exists: false,
      difference: null,
    });
    await expect(readFile(output)).rejects.toThrow(/ENOENT/);
  });

  it('exits 0 right after `ci init`', async () => {
    expect((await run({})).code).toBe(0);
    const result = await run({ check: true });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('is up to date');
  });

  it('exits 9 with the first differing line when the fleet changed since', async () => {
    const changed = {
      ...config,
      database: { ...config.database, tenants: ['acme_prod', 'globex'] },
    } as Config;
    const result = await run({ check: true }, false, changed);
    expect(result.code).toBe(9);
    expect(result.stdout).toMatch(/differs from what `berth ci init` generates now \(line \d+\)/);
    expect(result.stdout).toContain('committed:');
    expect(result.stdout).toMatch(/generated: .*globex/);
    expect(result.stderr).toContain('berth ci init --force');
  });

  it('exits 9 when the committed file was edited by hand', async () => {
    const text = await readFile(output, 'utf8');
    await writeFile(output, text.replace('timeout-minutes: 60', 'timeout-minutes: 90'));
    const result = await run({ check: true }, true);
    expect(result.code).toBe(9);
    expect(JSON.parse(result.stdout)).toMatchObject({
      upToDate: false,
      exists: true,
      difference: { actual: '    timeout-minutes: 90', expected: '    timeout-minutes: 60' },
    });
  });

  it('writes a Python set-up for a Django app found next to berth.yaml, and says so', async () => {
    const app = await mkdtemp(path.join(os.tmpdir(), 'berth-ci-init-django-'));
    try {
      await writeFile(path.join(app, 'manage.py'), '');
      await writeFile(path.join(app, 'requirements.txt'), 'Django==4.2\n');
      const django = {
        ...config,
        migrations: { ...config.migrations, tool: 'django' },
      } as Config;
      const file = path.join(app, '.github/workflows/run-migrations.yml');
      const stdout = captureStream();
      const out = createOutput(false, stdout, captureStream(), {});
      const ctx = contextOf(
        { json: false },
        out,
        createReporter(out),
        new AbortController().signal,
        () => Promise.resolve({ config: django, file: path.join(app, 'berth.yaml'), dir: app }),
      );
      expect(await ciInitCommand(ctx, { output: file })).toBe(0);
      expect(stdout.text()).toContain(
        'app: python (migrations.tool: django); test job set-up: setup Python, pip install -r requirements.txt, setup Node (for berth)',
      );
      const text = await readFile(file, 'utf8');
      expect(text).toContain('uses: actions/setup-python@');
      expect(text).toContain('pip install -r requirements.txt');
      expect(text).not.toContain('npm ci');
      expect(text).toContain('pipeline --all --strict');
    } finally {
      await rm(app, { recursive: true, force: true });
    }
  });

  it('refuses --check with --force', async () => {
    await expect(run({ check: true, force: true })).rejects.toMatchObject({ code: 'USAGE' });
  });
});
