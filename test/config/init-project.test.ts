/** What `berth init` sets up around berth.yaml: a resolving schema reference, .gitignore. */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ensureGitignored,
  installedSchema,
  schemaReference,
} from '../../src/config/init-project.js';

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
    const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-init-'));
    expect(await ensureGitignored(dir)).toBe(true);
    expect(await readFile(path.join(dir, '.gitignore'), 'utf8')).toMatch(/^\.berth\/$/m);
    expect(await ensureGitignored(dir)).toBe(false);

    const other = await mkdtemp(path.join(os.tmpdir(), 'berth-init-'));
    await writeFile(path.join(other, '.gitignore'), 'node_modules');
    expect(await ensureGitignored(other)).toBe(true);
    expect(await readFile(path.join(other, '.gitignore'), 'utf8')).toMatch(
      /^node_modules\n#[^\n]*\n\.berth\/\n$/,
    );

    const covered = await mkdtemp(path.join(os.tmpdir(), 'berth-init-'));
    await writeFile(path.join(covered, '.gitignore'), '/.berth\n');
    expect(await ensureGitignored(covered)).toBe(false);
  });
});
