/**
 * `berth ci init`: writes the migrations workflow (src/ci/run-migrations.ts) for the stack in
 * berth.yaml into the repository, never over an existing file without --force. With --check
 * it writes nothing and exits 9 when the committed file differs from what it would write now.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  firstDifference,
  testSetupSummary,
  renderRunMigrations,
  runMigrationsWorkflow,
} from '../../ci/run-migrations.js';
import { BerthError } from '../../core/errors.js';
import { ExitCode } from '../../core/exit-codes.js';
import { discoverAppProject } from '../../ci/app-setup.js';
import { discoverTenants } from '../../fleet/tenants.js';
import type { Context } from '../context.js';

export const ciInitCommand = async (
  ctx: Context,
  o: { force?: boolean; check?: boolean; output: string },
): Promise<number> => {
  const loaded = await ctx.config();
  const { config, dir } = loaded;
  if (o.check && o.force) throw new BerthError('USAGE', 'use either --check or --force, not both');
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
  // The test job sets up the app's language (its tests run there); every job sets up Node for berth.
  const app = await discoverAppProject(config.migrations.tool, dir, repoRoot);
  const generated = runMigrationsWorkflow(config, {
    ...(tenants ? { tenants } : {}),
    configPath: configPath || 'berth.yaml',
    app,
  });
  const text = renderRunMigrations(generated);
  if (o.check) return check(ctx, file, text);
  await mkdir(path.dirname(file), { recursive: true });
  try {
    await writeFile(file, text, { flag: o.force ? 'w' : 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new BerthError('CONFIG_EXISTS', `${file} already exists; nothing was changed`, {
        hint: 'pass --force to overwrite it, or --check to see whether it is up to date',
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
      app: { language: app.language, reason: app.reason, directory: app.dir || '.' },
      productionDatabases: generated.productionDatabases,
    });
  } else {
    ctx.out.result(`wrote ${file}`);
    ctx.out.result(`  jobs: ${jobs.join(' → ')}`);
    ctx.out.result(
      `  app: ${app.language} (${app.reason}); test job set-up: ${testSetupSummary(generated.workflow)}`,
    );
    ctx.out.result(
      `  tenant input: free text (all${text.includes('  canary)') ? ', canary' : ''}, or names separated by commas)`,
    );
    ctx.out.result(
      `  production environment: ${generated.productionDatabases.length ? `all and any list naming ${generated.productionDatabases.join(', ')}` : 'every run'}`,
    );
    ctx.out.result(
      '  next: set the AWS_ROLE_ARN variable (see `berth iam github-oidc --repo OWNER/NAME`) and create the production and staging environments',
    );
  }
  return ExitCode.ok;
};

/** --check: 0 when the file is what `ci init` would write now, else 9 with the first difference. */
async function check(ctx: Context, file: string, expected: string): Promise<number> {
  let actual: string | undefined;
  try {
    actual = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const difference = actual === undefined ? undefined : firstDifference(actual, expected);
  const upToDate = actual !== undefined && difference === undefined;
  if (ctx.out.json) {
    ctx.out.data({ file, upToDate, exists: actual !== undefined, difference: difference ?? null });
  } else if (upToDate) {
    ctx.out.result(`${file} is up to date`);
  } else {
    ctx.out.result(
      actual === undefined
        ? `${file} does not exist`
        : `${file} differs from what \`berth ci init\` generates now (line ${difference?.line}):\n  committed: ${difference?.actual ?? '(end of file)'}\n  generated: ${difference?.expected ?? '(end of file)'}`,
    );
    ctx.out.note('  hint: run `berth ci init --force` and commit the result');
  }
  return upToDate ? ExitCode.ok : ExitCode.changesPending;
}
