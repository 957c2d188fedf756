/**
 * Debian's python3 with Django and psycopg2 (installed by .ci/run), for the tests that run a
 * real Django: it lives under /usr/bin/python3, whatever python3 comes first on PATH.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './project.js';

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
