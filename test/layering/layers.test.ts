/**
 * The layering check (`npm run lint:layers`, part of `npm run check`) is itself tested: on a
 * small tree with a new cycle and an upward import it must fail and name both, and on the
 * real src/ it must pass.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DEPCRUISE = path.join(ROOT, 'node_modules/.bin/depcruise');

function cruise(cwd: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) =>
    execFile(
      DEPCRUISE,
      ['src', '--config', '.dependency-cruiser.cjs', '--output-type', 'err'],
      { cwd },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, out: `${stdout}${stderr}` }),
    ),
  );
}

let tmp: string | undefined;
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('layering check', { timeout: 120_000 }, () => {
  it('passes on src/', async () => {
    const { code, out } = await cruise(ROOT);
    expect(out).toContain('no dependency violations');
    expect(code).toBe(0);
  });

  it('fails on a new file cycle and on an import that points up', async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'berth-layers-'));
    await cp(path.join(ROOT, '.dependency-cruiser.cjs'), path.join(tmp, '.dependency-cruiser.cjs'));
    await writeFile(
      path.join(tmp, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext' } }),
    );
    for (const dir of ['core', 'fleet', 'cli'])
      await mkdir(path.join(tmp, 'src', dir), { recursive: true });
    await writeFile(
      path.join(tmp, 'src/core/a.ts'),
      "import { b } from './b.js';\nexport const a = () => b;\n",
    );
    await writeFile(
      path.join(tmp, 'src/core/b.ts'),
      "import { a } from './a.js';\nexport const b = () => a;\n",
    );
    await writeFile(
      path.join(tmp, 'src/fleet/run.ts'),
      "import { render } from '../cli/render.js';\nexport const run = render;\n",
    );
    await writeFile(path.join(tmp, 'src/cli/render.ts'), 'export const render = () => 1;\n');
    const { code, out } = await cruise(tmp);
    expect(code).not.toBe(0);
    expect(out).toMatch(/no-circular: src\/core\/(a|b)\.ts/);
    expect(out).toMatch(/fleet-imports-only-below: src\/fleet\/run\.ts → src\/cli\/render\.ts/);
    expect(out).toMatch(/cli-is-the-top/);
  });
});
