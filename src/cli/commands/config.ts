import { configJsonSchema } from '../../config/json-schema.js';
import { ExitCode } from '../../core/exit-codes.js';
import { knownFleet } from '../../fleet/tenants.js';
import { assertMigrationsSetup, migrationsSetupNotes } from '../../migrations/setup.js';
import type { Context } from '../context.js';

export async function configValidateCommand(ctx: Context): Promise<number> {
  const loaded = await ctx.config();
  // Every path any command would use, and with --provider aws the aws-only fields.
  await (await ctx.open()).checkConfig('validate');
  // A tenants file is read and checked as migrate reads it (TENANT_DISCOVERY_FAILED, exit 3,
  // each bad line as file:line); a tenant query's fleet is known only when it runs.
  const fleet = await knownFleet(loaded.config, loaded.dir);
  await assertMigrationsSetup(loaded);
  const notes = migrationsSetupNotes(loaded.config);
  if (ctx.out.json) ctx.out.data({ ok: true, file: loaded.file, config: loaded.config, notes });
  else {
    for (const note of notes) ctx.out.note(`note: ${note}`);
    const described = fleet
      ? `${fleet.names.length} tenant database(s)${fleet.file === undefined ? '' : ` in ${fleet.file}`}`
      : 'tenants discovered at run time';
    ctx.out.result(`${loaded.file} is valid (stack ${loaded.config.app}, ${described})`);
  }
  return ExitCode.ok;
}

export function configSchemaCommand(ctx: Context): Promise<number> {
  ctx.out.data(configJsonSchema());
  return Promise.resolve(ExitCode.ok);
}
