/**
 * What `berth init` sets up around berth.yaml in a user's project: an editor schema reference
 * that resolves there (the installed package's JSON Schema, as a path relative to the config),
 * and `.berth/` in .gitignore (local state: the embedded server's data, logs, journals).
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SCHEMA = path.join('schema', 'berth.schema.json');

/** The JSON Schema shipped with this berth (found upward from this module: src/ or dist/). */
export function installedSchema(from: string = fileURLToPath(import.meta.url)): string | undefined {
  for (let dir = path.dirname(from), i = 0; i < 5; i++, dir = path.dirname(dir)) {
    const candidate = path.join(dir, SCHEMA);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** `schema` relative to `configDir`, with forward slashes, as yaml-language-server wants it. */
export function schemaReference(configDir: string, schema: string): string {
  const relative = path.relative(configDir, schema).split(path.sep).join('/');
  return relative.startsWith('.') ? relative : `./${relative}`;
}

/**
 * Adds `entry` to `<dir>/.gitignore` unless a line already ignores it; creates the file when
 * there is none. Returns whether it changed anything.
 */
export async function ensureGitignored(dir: string, entry = '.berth/'): Promise<boolean> {
  const file = path.join(dir, '.gitignore');
  let text = '';
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const bare = entry.replace(/^\/|\/$/g, '');
  const covered = text
    .split('\n')
    .map((l) => l.trim().replace(/^\/|\/$/g, ''))
    .includes(bare);
  if (covered) return false;
  const sep = text === '' || text.endsWith('\n') ? '' : '\n';
  await writeFile(
    file,
    `${text}${sep}# berth's local state (embedded PostgreSQL, task logs, run journals)\n${entry}\n`,
  );
  return true;
}
