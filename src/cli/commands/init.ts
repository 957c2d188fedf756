import { access, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { configAbove, initTarget } from '../../config/find-config.js';
import { parseConfig } from '../../config/load-config.js';
import { ensureGitignored, installedSchema, schemaReference } from '../../config/init-project.js';
import { detectProject, starterConfig } from '../../config/starter.js';
import { BerthError } from '../../core/errors.js';
import { starterTool } from '../../migrations/presets.js';
import { ExitCode } from '../../core/exit-codes.js';
import type { Context } from '../context.js';

export async function initCommand(ctx: Context, options: { force?: boolean }): Promise<number> {
  const file = initTarget({ explicit: ctx.globals.config });
  const above = await configAbove({ explicit: ctx.globals.config });
  if (above && !options.force) {
    throw new BerthError(
      'CONFIG_EXISTS',
      `${above} is already the config here; nothing was changed`,
      {
        hint: `berth finds it from this directory; edit it, or pass --force to write a second one at ${file}`,
      },
    );
  }
  const exists = await access(file).then(
    () => true,
    () => false,
  );
  if (exists && !options.force) {
    throw new BerthError('CONFIG_EXISTS', `${file} already exists; nothing was changed`, {
      hint: 'pass --force to overwrite it',
    });
  }
  const app =
    path
      .basename(path.dirname(file))
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, '-')
      .replace(/^[^a-z]+/, '') || 'app';
  const dir = path.dirname(file);
  const schema = installedSchema();
  const project = await detectProject(dir);
  const text = starterConfig(
    app.slice(0, 31),
    project && starterTool(project),
    schema ? schemaReference(dir, schema) : undefined,
  );
  parseConfig(text, file); // the starter must always be valid
  await writeFile(file, text, { flag: options.force ? 'w' : 'wx' });
  const ignored = await ensureGitignored(dir);
  if (ctx.out.json)
    ctx.out.data({ written: file, tool: project?.tool ?? 'custom', gitignore: ignored });
  else {
    const found = project
      ? ` for ${starterTool(project).label} (found ${project.evidence})`
      : ' (no migration tool recognised: fill in the marked lines)';
    ctx.out.result(
      `wrote ${file}${found}${ignored ? '; added .berth/ to .gitignore' : ''}; edit it, then run \`berth config validate\``,
    );
  }
  return ExitCode.ok;
}
