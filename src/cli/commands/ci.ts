/**
 * `berth ci init`: writes the migrations workflow (src/ci/run-migrations.ts) for the stack in
 * berth.yaml into the repository, never over an existing file without --force.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { renderRunMigrations, runMigrationsWorkflow } from '../../ci/run-migrations.js';
import { BerthError } from '../../core/errors.js';
import { ExitCode } from '../../core/exit-codes.js';
import { discoverTenants } from '../../fleet/tenants.js';
import type { Context } from '../context.js';

export const ciInitCommand = async (
  ctx: Context,
  o: { force?: boolean; output: string },
): Promise<number> => {
  const loaded = await ctx.config();
  const { config, dir } = loaded;
  // A SQL-discovered fleet has no list to offer: the input becomes free text.
  const tenants =
    Array.isArray(config.database.tenants) || 'file' in config.database.tenants
      ? await discoverTenants(config, dir)
      : undefined;
  const file = path.resolve(o.output);
  // Jobs run at the repository root: the one holding .github/workflows, else the cwd.
  const workflows = path.dirname(file);
  const repoRoot =
    path.basename(workflows) === 'workflows' && path.basename(path.dirname(workflows)) === '.github'
      ? path.dirname(path.dirname(workflows))
      : process.cwd();
  const configPath = path.relative(repoRoot, loaded.file).split(path.sep).join('/');
  const generated = runMigrationsWorkflow(config, {
    ...(tenants ? { tenants } : {}),
    configPath: configPath || 'berth.yaml',
  });
  const text = renderRunMigrations(generated);
  await mkdir(path.dirname(file), { recursive: true });
  try {
    await writeFile(file, text, { flag: o.force ? 'w' : 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new BerthError('CONFIG_EXISTS', `${file} already exists; nothing was changed`, {
        hint: 'pass --force to overwrite it',
      });
    }
    throw error;
  }
  const jobs = Object.keys(generated.workflow.jobs);
  if (ctx.out.json) {
    ctx.out.data({
      written: file,
      jobs,
      databases: tenants ?? null,
      productionDatabases: generated.productionDatabases,
    });
  } else {
    ctx.out.result(`wrote ${file}`);
    ctx.out.result(`  jobs: ${jobs.join(' → ')}`);
    ctx.out.result(
      `  databases: ${tenants ? [...tenants, 'all'].join(', ') : 'free text (tenants come from a SQL query)'}`,
    );
    ctx.out.result(
      `  production environment: ${generated.productionDatabases.length ? `${generated.productionDatabases.join(', ')} and all` : 'every run'}`,
    );
    ctx.out.result(
      '  next: set the AWS_ROLE_ARN variable (see `berth iam github-oidc --repo OWNER/NAME`) and create the production and staging environments',
    );
  }
  return ExitCode.ok;
};
