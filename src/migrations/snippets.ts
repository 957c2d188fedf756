/**
 * Code berth ships for apps to install, as Django management commands: the batch command
 * (snippets/django/berth_migrate.py), which migrates every database of a batch in one Python
 * process and prints berth's batch markers (fleet/batch-script.ts), and the probe
 * (snippets/django/berth_probe.py), which reads many databases in one process and prints
 * berth's probe lines, with the schema's catalog when verify asks (fleet/probe-protocol.ts).
 * `berth snippet NAME` prints one, or writes it into an app.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BerthError } from '../core/errors.js';

export const SNIPPETS = {
  django: {
    file: path.join('snippets', 'django', 'berth_migrate.py'),
    /** Where it goes inside a Django app, so `manage.py berth_migrate` finds it. */
    target: path.join('management', 'commands', 'berth_migrate.py'),
    command: 'berth_migrate',
  },
  'django-probe': {
    file: path.join('snippets', 'django', 'berth_probe.py'),
    target: path.join('management', 'commands', 'berth_probe.py'),
    command: 'berth_probe',
  },
} as const;
export type SnippetName = keyof typeof SNIPPETS;

/** The snippet shipped with this berth (found upward from this module: src/ or dist/). */
export function snippetPath(
  name: SnippetName,
  from: string = fileURLToPath(import.meta.url),
): string {
  for (let dir = path.dirname(from), i = 0; i < 5; i++, dir = path.dirname(dir)) {
    const candidate = path.join(dir, SNIPPETS[name].file);
    if (existsSync(candidate)) return candidate;
  }
  throw new BerthError('INTERNAL', `${SNIPPETS[name].file} is missing from this berth install`, {
    hint: 'reinstall berth (the package ships snippets/)',
  });
}

export function readSnippet(name: SnippetName): Promise<string> {
  return readFile(snippetPath(name), 'utf8');
}

/**
 * Writes a Django snippet (the batch command unless `name` says otherwise) into `appDir` (a
 * Django app: a directory with models.py or apps.py) as management/commands/<command>.py,
 * with the packages' __init__.py files. Refuses to overwrite a different file unless `force`.
 * Returns the files written.
 */
export async function installDjangoSnippet(
  appDir: string,
  options: { force?: boolean; name?: SnippetName } = {},
): Promise<{ file: string; written: string[]; unchanged: boolean }> {
  const name = options.name ?? 'django';
  const isApp = ['apps.py', 'models.py', '__init__.py'].some((f) =>
    existsSync(path.join(appDir, f)),
  );
  if (!isApp)
    throw new BerthError(
      'USAGE',
      `${appDir} is not a Django app (no apps.py, models.py or __init__.py)`,
      {
        hint: 'pass --app with the directory of one of your INSTALLED_APPS, e.g. --app shop',
      },
    );
  const text = await readSnippet(name);
  const file = path.join(appDir, SNIPPETS[name].target);
  const existing = await readFile(file, 'utf8').catch(() => undefined);
  if (existing === text) return { file, written: [], unchanged: true };
  if (existing !== undefined && !options.force)
    throw new BerthError(
      'CONFIG_EXISTS',
      `${file} already exists and differs; nothing was changed`,
      {
        hint: `pass --force to replace it with this berth version (\`berth snippet ${name}\` prints it)`,
      },
    );
  const written: string[] = [];
  for (const pkg of [path.join(appDir, 'management'), path.dirname(file)]) {
    await mkdir(pkg, { recursive: true });
    const init = path.join(pkg, '__init__.py');
    if (!existsSync(init)) {
      await writeFile(init, '');
      written.push(init);
    }
  }
  await writeFile(file, text);
  written.push(file);
  return { file, written, unchanged: false };
}

/** Directories no Django app lives in: skipped when looking for an installed snippet. */
const NOT_APPS = new Set(['node_modules', '__pycache__', 'venv', 'env', 'site-packages', 'dist']);

/**
 * Whether some app under `projectDir` has the snippet (the batch command unless `name` says
 * otherwise) installed: an app one level down, as Django's startapp lays them out, or up to
 * three (apps/fleet, src/project/apps/fleet).
 */
export async function findInstalledDjangoSnippet(
  projectDir: string,
  name: SnippetName = 'django',
): Promise<string | undefined> {
  let level = [projectDir];
  for (let depth = 1; depth <= 3 && level.length > 0; depth++) {
    const next: string[] = [];
    for (const dir of level) {
      let entries: string[];
      try {
        entries = (await readdir(dir, { withFileTypes: true }))
          .filter((e) => e.isDirectory() && !e.name.startsWith('.') && !NOT_APPS.has(e.name))
          .map((e) => e.name)
          .sort();
      } catch {
        continue;
      }
      for (const entry of entries) {
        const file = path.join(dir, entry, SNIPPETS[name].target);
        if (existsSync(file)) return file;
        next.push(path.join(dir, entry));
      }
    }
    level = next;
  }
  return undefined;
}
