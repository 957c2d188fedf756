/**
 * The workflow `berth ci init` writes: pinned as a file snapshot, and its triggers, inputs,
 * permissions, concurrency, environments and job graph asserted one by one, so a change to
 * any of them is a deliberate test change rather than a snapshot update.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ACTIONS, uses } from '../../src/ci/actions.js';
import { renderRunMigrations, runMigrationsWorkflow } from '../../src/ci/run-migrations.js';
import type { Job, RunStep, UsesStep } from '../../src/ci/workflow-types.js';
import { parseConfig } from '../../src/config/load-config.js';
import { PACKAGE_NAME, PACKAGE_VERSION } from '../../src/core/package-info.js';
import { ROOT, TENANTS } from '../support/project.js';

const config = parseConfig(await readFile(path.join(ROOT, 'berth.yaml'), 'utf8'));
const generated = runMigrationsWorkflow(config, { tenants: TENANTS, configPath: 'berth.yaml' });
const { workflow } = generated;
/** The pinned berth every job runs. */
const B = `npx --yes --package=${PACKAGE_NAME}@${PACKAGE_VERSION} -- berth`;
const text = renderRunMigrations(generated);
const jobs = workflow.jobs as Record<'test' | 'build-push' | 'migrate' | 'summary', Job>;
const runs = (job: Job) => job.steps.filter((s): s is RunStep => 'run' in s).map((s) => s.run);

describe('run-migrations.yml', () => {
  it('matches the snapshot', async () => {
    await expect(text).toMatchFileSnapshot('./__snapshots__/run-migrations.yml');
  });

  it('parses back to exactly the typed workflow', () => {
    expect(parse(text)).toEqual(JSON.parse(JSON.stringify(workflow)));
  });

  it('is triggered by hand only, with a free-text tenant input and a boolean skip_tests', () => {
    expect(Object.keys(workflow.on)).toEqual(['workflow_dispatch']);
    const inputs = workflow.on.workflow_dispatch?.inputs;
    // Free text, not a choice of every tenant: 200 tenants made 201 options.
    expect(inputs?.database).toEqual({
      description:
        'Tenants to migrate: all, or names separated by commas (e.g. healthtech_experiment,fintech_experiment)',
      type: 'string',
      required: true,
      default: 'healthtech_experiment',
    });
    expect(inputs?.skip_tests).toMatchObject({ type: 'boolean', default: false });
    // all → --all; anything else goes to --database as typed, and berth validates the list.
    expect(runs(jobs.migrate).find((r) => r.startsWith('case'))).toBe(
      [
        'case "$DATABASE" in',
        '  all) set -- --all ;;',
        '  *) set -- --database "$DATABASE" ;;',
        'esac',
        `${B} --config berth.yaml migrate --provider aws --image "$IMAGE" "$@"`,
      ].join('\n'),
    );
  });

  it('offers canary when rollout.canary names tenants, and guards it when it holds production', () => {
    const withCanary = runMigrationsWorkflow(
      { ...config, rollout: { canary: ['healthtech_experiment'] } },
      { tenants: TENANTS, configPath: 'berth.yaml' },
    );
    expect(withCanary.workflow.on.workflow_dispatch?.inputs.database?.description).toBe(
      'Tenants to migrate: all, canary (healthtech_experiment), or names separated by commas (e.g. healthtech_experiment,fintech_experiment)',
    );
    const script = (withCanary.workflow.jobs.migrate?.steps ?? [])
      .filter((s): s is RunStep => 'run' in s && s.run.startsWith('case'))
      .map((s) => s.run);
    expect(script).toHaveLength(2);
    for (const run of script)
      expect(run).toContain('  canary) set -- --database healthtech_experiment ;;');
    expect(withCanary.workflow.jobs.migrate?.environment).not.toContain("'canary'");
    const prodCanary = runMigrationsWorkflow(config, {
      tenants: TENANTS,
      canary: ['startupwebapp_prod'],
      configPath: 'berth.yaml',
    });
    expect(prodCanary.workflow.jobs.migrate?.environment).toContain("inputs.database == 'canary'");
    // Without rollout.canary (waves alone name no tenant) there is no canary choice.
    expect(workflow.on.workflow_dispatch?.inputs.database?.description).not.toContain('canary');
    expect(runs(jobs.migrate).join('\n')).not.toContain('canary');
  });

  it('uploads .berth/logs and .berth/runs as an artifact whatever the outcome, from both jobs', () => {
    for (const name of ['test', 'migrate'] as const) {
      const upload = jobs[name].steps.at(-1) as UsesStep;
      expect(upload).toEqual({
        name: 'Upload berth task logs and run journals',
        if: '${{ always() }}',
        uses: 'actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02',
        with: {
          name: `berth-${name}-\${{ github.run_attempt }}`,
          path: '.berth/logs\n.berth/runs\n',
          'if-no-files-found': 'ignore',
          'retention-days': 14,
        },
      });
    }
    expect(text).toContain(
      'uses: actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02 # v4.6.2',
    );
    // The state directory follows berth.yaml's place and local.dataDir.
    const nested = runMigrationsWorkflow(
      { ...config, local: { ...config.local, dataDir: 'state' } },
      { tenants: TENANTS, configPath: 'deploy/berth.yaml' },
    );
    const upload = nested.workflow.jobs.migrate?.steps.at(-1) as UsesStep;
    expect(upload.with?.path).toBe('deploy/state/logs\ndeploy/state/runs\n');
  });

  it('tests skip_tests as a boolean, never as a string (the seed bug)', () => {
    expect(jobs.test.if).toBe('${{ !inputs.skip_tests }}');
    expect(jobs['build-push'].if).toContain('inputs.skip_tests &&');
    const code = text
      .split('\n')
      .filter((line) => !line.trim().startsWith('#'))
      .join('\n');
    expect(code).not.toMatch(/skip_tests\s*[!=]=\s*'(true|false)'/);
    expect(code).not.toContain('github.event.inputs');
    expect(text).toContain('compared it as a string (Phase 5.14, Step 6, fix 1');
  });

  it('chains test → build-push → migrate → summary, the summary always running', () => {
    expect(Object.keys(jobs)).toEqual(['test', 'build-push', 'migrate', 'summary']);
    expect(jobs.test.needs).toBeUndefined();
    expect(jobs['build-push'].needs).toEqual(['test']);
    expect(jobs.migrate.needs).toEqual(['build-push']);
    expect(jobs.summary.needs).toEqual(['test', 'build-push', 'migrate']);
    expect(jobs.summary.if).toBe('${{ always() }}');
    expect(jobs.migrate.if).toBe("${{ !cancelled() && needs.build-push.result == 'success' }}");
    // The summary fails the run unless the migration succeeded.
    expect(runs(jobs.summary)[0]).toContain('if [ "$MIGRATE" != success ]');
  });

  it('uses GitHub OIDC with least privilege, never access keys', () => {
    expect(workflow.permissions).toEqual({ contents: 'read' });
    for (const name of ['build-push', 'migrate'] as const) {
      expect(jobs[name].permissions).toEqual({ contents: 'read', 'id-token': 'write' });
      const aws = jobs[name].steps.find(
        (s): s is UsesStep => 'uses' in s && s.uses === uses(ACTIONS.configureAwsCredentials),
      );
      expect(aws?.with).toEqual({
        'role-to-assume': '${{ vars.AWS_ROLE_ARN }}',
        'role-session-name': 'berth-${{ github.run_id }}',
        'aws-region': 'us-east-1',
      });
    }
    expect(jobs.test.permissions).toBeUndefined();
    expect(jobs.summary.permissions).toBeUndefined();
    expect(text).not.toMatch(/aws-access-key-id|aws-secret-access-key|AWS_SECRET_ACCESS_KEY/);
  });

  it('never runs two migrations of one database at once, and never cancels one', () => {
    expect(workflow.concurrency).toEqual({
      group: 'migrate-${{ inputs.database }}',
      'cancel-in-progress': false,
    });
  });

  it('puts the production database (and all) behind the production environment', () => {
    // A comma-separated list naming the production database anywhere is guarded too.
    expect(jobs.migrate.environment).toBe(
      "${{ (inputs.database == 'all' || contains(inputs.database, 'startupwebapp_prod')) && 'production' || 'staging' }}",
    );
    expect(generated.productionDatabases).toEqual(['startupwebapp_prod']);
  });

  it('runs this exact berth package, never a bare `npx berth` (that name is not ours)', () => {
    expect(PACKAGE_NAME).toBe('berth-cli');
    expect(B).toBe(`npx --yes --package=berth-cli@${PACKAGE_VERSION} -- berth`);
    const code = text
      .split('\n')
      .filter((line) => !line.trim().startsWith('#'))
      .join('\n');
    expect(code).not.toMatch(/npx berth\b/);
    expect(code.match(/npx /g)).toHaveLength(
      code.match(/npx --yes --package=berth-cli@\d+\.\d+\.\d+ -- berth /g)?.length ?? -1,
    );
  });

  it('has berth do the work in every job', () => {
    expect(runs(jobs.test)).toContain(`${B} --config berth.yaml pipeline --all --strict`);
    expect(runs(jobs['build-push'])).toContain(
      `${B} --config berth.yaml build --target production`,
    );
    expect(runs(jobs['build-push']).join('\n')).toContain(
      `${B} --config berth.yaml push --provider aws --json`,
    );
    const migrate = runs(jobs.migrate).join('\n');
    expect(migrate).toContain(
      `${B} --config berth.yaml migrate --provider aws --image "$IMAGE" "$@"`,
    );
    expect(migrate).toContain(
      `${B} --config berth.yaml verify --provider aws --image "$IMAGE" "$@"`,
    );
    // The database name reaches the script through the environment, not by interpolation.
    expect(migrate).not.toContain('${{');
    expect(jobs.migrate.env).toEqual({
      DATABASE: '${{ inputs.database }}',
      IMAGE: '${{ needs.build-push.outputs.image }}',
    });
    expect(jobs['build-push'].outputs).toEqual({ image: '${{ steps.push.outputs.image }}' });
  });

  it('pins every action by full commit SHA, with the release as a comment', () => {
    const used = Object.values(jobs).flatMap((j) =>
      j.steps.filter((s): s is UsesStep => 'uses' in s).map((s) => s.uses),
    );
    expect(used.length).toBeGreaterThan(0);
    for (const value of used) expect(value).toMatch(/^[\w-]+\/[\w-]+@[0-9a-f]{40}$/);
    for (const action of Object.values(ACTIONS)) {
      if (used.includes(uses(action)))
        expect(text).toContain(`uses: ${uses(action)} # ${action.version}`);
    }
  });

  it('runs a registry service for the local rehearsal when registry.local is set', () => {
    expect(jobs.test.services).toEqual({
      registry: { image: 'registry:2.8.3', ports: ['5000:5000'] },
    });
    const without = runMigrationsWorkflow(
      parseConfig(stringify({ ...parse(stringify(config)), registry: { name: 'r' } })),
      { tenants: TENANTS, configPath: 'berth.yaml' },
    );
    expect(without.workflow.jobs.test?.services).toBeUndefined();
  });

  it('falls back to a free-text database and a production environment for every run', () => {
    const query = runMigrationsWorkflow(config, { configPath: 'deploy/berth.yaml' });
    expect(query.workflow.on.workflow_dispatch?.inputs.database).toMatchObject({
      type: 'string',
      default: 'all',
    });
    expect(query.workflow.jobs.migrate?.environment).toBe('production');
    const noProd = runMigrationsWorkflow(config, { tenants: ['a', 'b'], configPath: 'berth.yaml' });
    expect(noProd.workflow.jobs.migrate?.environment).toBe('production');
    expect(renderRunMigrations(query)).toContain('--config deploy/berth.yaml');
  });
});
