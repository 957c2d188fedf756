/**
 * Checks of the migrations setup that need the file system: what `migrate` would reject when
 * it reads the code's migrations, found by `berth config validate` first.
 */
import { access } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config/schema.js';
import { invalidConfig, type LoadedConfig } from '../config/load-config.js';
import type { ConfigIssue } from '../config/rules.js';
import { resolvePreset } from './presets.js';

export async function migrationsSetupIssues(
  config: Config,
  configDir: string,
  exists: (file: string) => Promise<boolean> = (file) =>
    access(file).then(
      () => true,
      () => false,
    ),
): Promise<ConfigIssue[]> {
  const preset = resolvePreset(config.migrations);
  if (preset.known.kind !== 'directory') return [];
  const dir = path.resolve(configDir, preset.known.directory);
  if (await exists(dir)) return [];
  const configured = config.migrations.directory !== undefined;
  return [
    {
      path: 'migrations.directory',
      message: configured
        ? `${dir} does not exist; point migrations.directory at the folder holding the migration files (relative to berth.yaml)`
        : `${dir} does not exist (the ${preset.label} preset's default); create it, or set migrations.directory`,
    },
  ];
}

/** Throws CONFIG_INVALID (exit 3) naming every problem; `berth config validate` calls it. */
export async function assertMigrationsSetup(loaded: LoadedConfig): Promise<void> {
  const issues = await migrationsSetupIssues(loaded.config, loaded.dir);
  if (issues.length > 0) throw invalidConfig(loaded.file, issues);
}
