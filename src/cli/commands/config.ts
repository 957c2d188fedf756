import { configJsonSchema } from '../../config/json-schema.js';
import { ExitCode } from '../../core/exit-codes.js';
import { assertMigrationsSetup, migrationsSetupNotes } from '../../migrations/setup.js';
import type { Context } from '../context.js';

export async function configValidateCommand(ctx: Context): Promise<number> {
  const loaded = await ctx.config();
  // Every path any command would use, and with --provider aws the aws-only fields.
  await (await ctx.open()).checkConfig('validate');
  await assertMigrationsSetup(loaded);
  const notes = migrationsSetupNotes(loaded.config);
  if (ctx.out.json) ctx.out.data({ ok: true, file: loaded.file, config: loaded.config, notes });
  else {
    for (const note of notes) ctx.out.note(`note: ${note}`);
    ctx.out.result(
      `${loaded.file} is valid (stack ${loaded.config.app}, ${Array.isArray(loaded.config.database.tenants) ? `${loaded.config.database.tenants.length} tenant database(s)` : 'tenants discovered at run time'})`,
    );
  }
  return ExitCode.ok;
}

export function configSchemaCommand(ctx: Context): Promise<number> {
  ctx.out.data(configJsonSchema());
  return Promise.resolve(ExitCode.ok);
}
