/**
 * Debian's python3 with Django and psycopg2 (installed by .ci/run), for the tests that run a
 * real Django: it lives under /usr/bin/python3, whatever python3 comes first on PATH.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ROOT, type TestProject } from './project.js';

export const PYTHON = '/usr/bin/python3';

/** The two-app Django project the preset, batch and fleet tests copy. */
export const DJANGO_FIXTURE = path.join(ROOT, 'test/fixtures/django-tenants');

/** Whether /usr/bin/python3 imports every module named. */
export function pythonHas(...modules: string[]): boolean {
  return (
    existsSync(PYTHON) &&
    spawnSync(PYTHON, ['-c', `import ${modules.join(', ')}`], { stdio: 'ignore' }).status === 0
  );
}

export const hasDjango = pythonHas('django', 'psycopg2');

/** Skip the Django tests where Django is missing, except in CI: there it is a failure. */
export const skipWithoutDjango = !hasDjango && !process.env.CI;

/**
 * Puts a `python3` without Django first on PATH for every `project.berth` run: a pyenv shim,
 * or a system Python beside the project's virtualenv. berth must use task.command's
 * interpreter, never the `python3` it happens to find.
 */
export async function withPythonWithoutDjango(project: TestProject): Promise<void> {
  const shims = path.join(project.dir, 'shims');
  await mkdir(shims);
  await writeFile(
    path.join(shims, 'python3'),
    `#!/bin/sh\necho "ImportError: Couldn't import Django." >&2\nexit 1\n`,
    { mode: 0o755 },
  );
  const run = project.berth.bind(project);
  project.berth = (args, options = {}) =>
    run(args, { env: { PATH: `${shims}:${process.env.PATH ?? ''}`, ...options.env } });
}
