/**
 * Checks of the migrations setup that need the file system: what `migrate` would reject when
 * it reads the code's migrations, found by `berth config validate` first.
 */
import { access } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config/schema.js';
import type { ConfigIssue } from '../config/rules.js';
import { resolvePreset } from './presets.js';
import { SNIPPETS, findInstalledDjangoSnippet } from './snippets.js';

export async function migrationsSetupIssues(
  config: Config,
  configDir: string,
  exists: (file: string) => Promise<boolean> = (file) =>
    access(file).then(
      () => true,
      () => false,
    ),
): Promise<ConfigIssue[]> {
  return [
    ...(await directoryIssues(config, configDir, exists)),
    ...(await djangoBatchIssues(config, configDir, exists)),
  ];
}

async function directoryIssues(
  config: Config,
  configDir: string,
  exists: (file: string) => Promise<boolean>,
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

/**
 * task.batchCommand runs Django's `berth_migrate`, or task.probeCommand its `berth_probe` (the
 * snippets berth ships), in a Django project (local.workdir holds manage.py) where no app has
 * it: every batch, or every probe on AWS, would fail with "Unknown command". Said before a
 * run, with the command that installs it.
 */
async function djangoBatchIssues(
  config: Config,
  configDir: string,
  exists: (file: string) => Promise<boolean>,
): Promise<ConfigIssue[]> {
  const uses = [
    { field: 'batchCommand', name: 'django', what: 'batch command' },
    { field: 'probeCommand', name: 'django-probe', what: 'probe' },
  ] as const;
  const wanted = uses.filter((u) => config.task[u.field]?.includes(SNIPPETS[u.name].command));
  if (wanted.length === 0) return [];
  const project = path.resolve(configDir, config.local.workdir);
  if (!(await exists(path.join(project, 'manage.py')))) return [];
  const issues: ConfigIssue[] = [];
  for (const { field, name, what } of wanted) {
    if (await findInstalledDjangoSnippet(project, name)) continue;
    const { command } = SNIPPETS[name];
    issues.push({
      path: `task.${field}`,
      message: `runs \`manage.py ${command}\`, but no app in ${project} has management/commands/${command}.py; install berth's ${what} with \`berth snippet ${name} --app APP\` (APP: one of your INSTALLED_APPS), or remove task.${field}`,
    });
  }
  return issues;
}

/**
 * Advice `berth config validate` prints without failing: a Django fleet batched with no batch
 * command still starts Python once per tenant of every batch.
 */
export function migrationsSetupNotes(config: Config): string[] {
  if (config.migrations.tool !== 'django' || config.task.batchCommand) return [];
  if (config.fleet.batchSize <= 1) return [];
  return [
    `fleet.batchSize is ${config.fleet.batchSize} but task.batchCommand is not set: each tenant of a batch still starts Python (manage.py migrate). Install berth's batch command with \`berth snippet django --app APP\` and set task.batchCommand: [python3, manage.py, ${SNIPPETS.django.command}] to migrate a batch in one process`,
  ];
}
