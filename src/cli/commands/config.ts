import { configJsonSchema } from '../../config/json-schema.js';
import { invalidConfig } from '../../config/load-config.js';
import { combineProblems, isBerthError, type BerthError } from '../../core/errors.js';
import { ExitCode, exitCodeForError } from '../../core/exit-codes.js';
import { knownFleet } from '../../fleet/tenants.js';
import { migrationsSetupIssues, migrationsSetupNotes } from '../../migrations/setup.js';
import type { Context } from '../context.js';

export async function configValidateCommand(ctx: Context): Promise<number> {
  const loaded = await ctx.config();
  const provider = await ctx.open();
  // The checks below are independent: each one's problems are reported, not only the first's.
  const problems: BerthError[] = [];
  const check = async <T>(run: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await run();
    } catch (error) {
      if (!isBerthError(error) || exitCodeForError(error.code) !== ExitCode.config) throw error;
      problems.push(error);
      return undefined;
    }
  };
  // Every path any command would use, and with --provider aws the aws-only fields.
  await check(() => provider.checkConfig('validate'));
  // A tenants file is read and checked as migrate reads it (TENANT_DISCOVERY_FAILED, exit 3,
  // each bad line as file:line); a tenant query's fleet is known only when it runs.
  // A field the path check already found wrong is not read again: it would be said twice.
  const flagged = (field: string) =>
    problems.some((p) =>
      (p.details?.issues as { path: string }[] | undefined)?.some((i) => i.path === field),
    );
  const fleet = flagged('database.tenants.file')
    ? undefined
    : await check(() => knownFleet(loaded.config, loaded.dir));
  // The tool's set-up, less any field the path check already reported.
  await check(async () => {
    const issues = (await migrationsSetupIssues(loaded.config, loaded.dir)).filter(
      (issue) => !flagged(issue.path),
    );
    if (issues.length > 0) throw invalidConfig(loaded.file, issues);
  });
  if (problems.length > 0) throw combineProblems(problems, 'CONFIG_INVALID');
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
