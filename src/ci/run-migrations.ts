/**
 * The seed's `.github/workflows/run-migrations.yml` (Phase 5.14, Step 5) as a typed object,
 * with berth doing the work in every job and the seed's Step 6 lessons built in:
 *
 *   test ──▶ build-push ──▶ migrate ──▶ summary (always)
 *
 * - `workflow_dispatch` only: a free-text `database` input (`all`, `canary` when canary
 *   tenants are configured, or a comma-separated list that berth validates: a name not in the
 *   fleet is exit 2 with its close matches) and a `skip_tests` boolean tested as a boolean
 *   (the seed compared it as a string). A `choice` of every tenant froze the fleet into the
 *   file and grew to hundreds of options;
 * - `.berth/logs` and `.berth/runs` uploaded as an artifact whatever the outcome, and
 *   `.berth/listings` cached by image for the tools berth lists by running them;
 * - GitHub OIDC (`id-token: write`, configure-aws-credentials `role-to-assume`) instead of
 *   long-lived access keys; `contents: read` everywhere else;
 * - one run per database at a time (`concurrency`, never cancelling a running migration);
 * - a GitHub environment per run — `production` for the production database(s) and `all`,
 *   so approvals can be required there, `staging` for the rest;
 * - every action pinned by commit SHA, and berth itself by exact version (`npx --package=
 *   berth-cli@VERSION -- berth`: the registry name `berth` is another project's).
 */
import path from 'node:path';
import { DATABASE_NAME_PATTERN, LISTING_TOOLS, type Config } from '../config/schema.js';
import { pinnedBerthCommand } from '../core/package-info.js';
import { ACTIONS, REGISTRY_IMAGE, uses } from './actions.js';
import { DEFAULT_PROJECT, appSetupSteps, berthSetupSteps, type AppProject } from './app-setup.js';
import { renderWorkflow, type KeyComment } from './render.js';
import type { Job, Step, Workflow, WorkflowInput } from './workflow-types.js';

export interface RunMigrationsOptions {
  /** The fleet (inline list or file); undefined when discovered by a SQL query. */
  tenants?: string[];
  /** Tenants the `canary` choice migrates (default: `rollout.canary` in the config, if any). */
  canary?: string[];
  /** Tenants that are production (default: names containing "prod"). */
  productionDatabases?: string[];
  /** berth.yaml's path relative to the repository root. */
  configPath: string;
  /** The command that runs berth in the user's repository (default: this exact version). */
  berth?: string;
  nodeVersion?: string;
  runner?: string;
  /** The app's language and files (src/ci/app-setup.ts); default: a Node app at the root. */
  app?: AppProject;
}

export interface GeneratedWorkflow {
  workflow: Workflow;
  comments: KeyComment[];
  header: string;
  /** Databases the `production` environment guards. */
  productionDatabases: string[];
}

const SKIP_TESTS_NOTE = `skip_tests is declared \`type: boolean\`, so \`inputs.skip_tests\` is a real boolean: test it
as one. The seed's workflow compared it as a string (Phase 5.14, Step 6, fix 1 "boolean logic"):
\`github.event.inputs.*\` are always strings, and \`'false'\` is truthy, so tests were skipped
when they should have run.`;

// Fresh objects per job: a shared one would be written as a YAML anchor and alias.
const checkout = (): Step => ({
  name: 'Check out',
  uses: uses(ACTIONS.checkout),
  with: { 'persist-credentials': false },
});

/** The state directory (logs, run journals) as the repository sees it, for the artifact. */
function stateDir(config: Config, configPath: string): string {
  return path.posix.normalize(
    path.posix.join(path.posix.dirname(configPath), config.local.dataDir),
  );
}

function uploadState(config: Config, configPath: string, job: string): Step {
  const dir = stateDir(config, configPath);
  return {
    name: 'Upload berth task logs and run journals',
    if: '${{ always() }}',
    uses: uses(ACTIONS.uploadArtifact),
    with: {
      // Artifact names are unique per workflow run (upload-artifact v4): one per job and attempt.
      name: `berth-${job}-\${{ github.run_attempt }}`,
      path: `${dir}/logs\n${dir}/runs\n`,
      'if-no-files-found': 'ignore',
      'retention-days': 14,
    },
  };
}

/**
 * The migration listings berth recorded for the pushed image (`.berth/listings`, keyed inside
 * by the image's digest), kept between workflow runs: a second run for the same image (staging
 * first, then production; a retry) reads the listing instead of starting a listing task on
 * Fargate. Only for tools berth lists by running them (Django, Alembic, a listCommand); the
 * key is the image reference, which names the digest, so no run ever reads another image's.
 */
function cacheListings(config: Config, configPath: string): Step[] {
  const listed =
    LISTING_TOOLS.includes(config.migrations.tool) || config.migrations.listCommand !== undefined;
  if (!listed) return [];
  return [
    {
      name: "Keep the image's migration listing between runs",
      uses: uses(ACTIONS.cache),
      with: {
        path: `${stateDir(config, configPath)}/listings`,
        key: 'berth-listings-${{ needs.build-push.outputs.image }}',
      },
    },
  ];
}

/**
 * The canary tenants: `rollout.canary` when it names tenants. The key belongs to the rollout
 * settings (issue 13), read structurally so this file does not depend on their schema.
 * `rollout.waves` alone gives no names to put in the workflow: then there is no canary choice.
 */
export function configuredCanary(config: Config): string[] | undefined {
  const canary = (config as { rollout?: { canary?: unknown } }).rollout?.canary;
  return Array.isArray(canary) &&
    canary.length > 0 &&
    canary.every((t): t is string => typeof t === 'string' && DATABASE_NAME_PATTERN.test(t))
    ? canary
    : undefined;
}

function awsCredentials(region: string): Step {
  return {
    name: 'AWS credentials (GitHub OIDC, no access keys)',
    uses: uses(ACTIONS.configureAwsCredentials),
    with: {
      'role-to-assume': '${{ vars.AWS_ROLE_ARN }}',
      'role-session-name': 'berth-${{ github.run_id }}',
      'aws-region': region,
    },
  };
}

/**
 * `berth … --all`, the canary tenants, or `--database "$DATABASE"` (a comma-separated list
 * berth splits and validates), from $DATABASE: never interpolated into the script.
 */
function selectScript(canary: string[] | undefined): string {
  return [
    'case "$DATABASE" in',
    '  all) set -- --all ;;',
    ...(canary ? [`  canary) set -- --database ${canary.join(',')} ;;`] : []),
    '  *) set -- --database "$DATABASE" ;;',
    'esac',
  ].join('\n');
}

export function runMigrationsWorkflow(
  config: Config,
  options: RunMigrationsOptions,
): GeneratedWorkflow {
  const berth = `${options.berth ?? pinnedBerthCommand()} --config ${options.configPath}`;
  const runner = options.runner ?? 'ubuntu-24.04';
  const nodeVersion = options.nodeVersion ?? '20';
  const tenants = options.tenants;
  const production = options.productionDatabases ?? (tenants ?? []).filter((t) => /prod/.test(t));
  const canary = options.canary ?? configuredCanary(config);
  const SELECT = selectScript(canary);

  const examples = (tenants ?? []).filter((t) => !production.includes(t)).slice(0, 2);
  const database: WorkflowInput = {
    description: `Tenants to migrate: all, ${canary ? `canary (${canary.join(', ')}), ` : ''}or names separated by commas${examples.length ? ` (e.g. ${examples.join(',')})` : ''}`,
    type: 'string',
    required: true,
    // Preselect a database that is not production: a stray click should not queue prod.
    default: tenants
      ? (tenants.find((t) => !production.includes(t)) ?? tenants[0] ?? 'all')
      : 'all',
  };

  // Every database is production when berth cannot tell which ones are. A list is guarded
  // when it holds a production name anywhere (a substring test errs towards the guard).
  const guarded = tenants && production.length > 0 && production.length < tenants.length;
  const guards = [
    "inputs.database == 'all'",
    ...(canary?.some((t) => production.includes(t)) ? ["inputs.database == 'canary'"] : []),
    ...production.map((d) => `contains(inputs.database, '${d}')`),
  ];
  const environment = guarded
    ? `\${{ (${guards.join(' || ')}) && 'production' || 'staging' }}`
    : 'production';

  const app = options.app ?? DEFAULT_PROJECT;
  // The test job runs the app's own tests: its language and dependencies. The others run berth.
  const testSetup = () => [checkout(), ...appSetupSteps(app, nodeVersion)];
  const berthSetup = () => [checkout(), ...berthSetupSteps(app, nodeVersion)];

  const registryPort = config.registry.local?.split(':').pop();
  const test: Job = {
    name: 'Test (local rehearsal: test, build, push, migrate, verify)',
    if: '${{ !inputs.skip_tests }}',
    'runs-on': runner,
    'timeout-minutes': 30,
    ...(registryPort
      ? { services: { registry: { image: REGISTRY_IMAGE, ports: [`${registryPort}:5000`] } } }
      : {}),
    steps: [
      ...testSetup(),
      {
        name: `berth pipeline (embedded PostgreSQL ${config.local.postgresVersion}, containers from the built image)`,
        run: `${berth} pipeline --all --strict`,
      },
      uploadState(config, options.configPath, 'test'),
    ],
  };

  const buildPush: Job = {
    name: 'Build and push the production image',
    needs: ['test'],
    if: "${{ !cancelled() && (needs.test.result == 'success' || (inputs.skip_tests && needs.test.result == 'skipped')) }}",
    'runs-on': runner,
    'timeout-minutes': 30,
    permissions: { contents: 'read', 'id-token': 'write' },
    outputs: { image: '${{ steps.push.outputs.image }}' },
    steps: [
      ...berthSetup(),
      awsCredentials(config.aws.region),
      {
        name: 'Build (production target; policy: non-root, HEALTHCHECK, no test tools)',
        run: `${berth} build --target production`,
      },
      {
        name: 'Push to ECR (git SHA and latest)',
        id: 'push',
        run: [
          `${berth} push --provider aws --json > push.json`,
          `echo "image=$(node -p 'JSON.parse(require("fs").readFileSync("push.json", "utf8")).imageRef')" >> "$GITHUB_OUTPUT"`,
        ].join('\n'),
      },
    ],
  };

  const migrate: Job = {
    name: 'Migrate ${{ inputs.database }} on ECS Fargate',
    needs: ['build-push'],
    if: "${{ !cancelled() && needs.build-push.result == 'success' }}",
    'runs-on': runner,
    'timeout-minutes': 60,
    environment,
    permissions: { contents: 'read', 'id-token': 'write' },
    env: {
      DATABASE: '${{ inputs.database }}',
      IMAGE: '${{ needs.build-push.outputs.image }}',
    },
    steps: [
      ...berthSetup(),
      awsCredentials(config.aws.region),
      ...cacheListings(config, options.configPath),
      {
        name: 'Migrate (one task per database, logs and exit codes)',
        run: `${SELECT}\n${berth} migrate --provider aws --image "$IMAGE" "$@"`,
      },
      {
        name: `Verify (${config.database.expectedTables === undefined ? 'nothing pending, no drift' : `${config.database.expectedTables} tables, nothing pending`})`,
        run: `${SELECT}\n${berth} verify --provider aws --image "$IMAGE" "$@"`,
      },
      uploadState(config, options.configPath, 'migrate'),
    ],
  };

  const summary: Job = {
    name: 'Summary',
    needs: ['test', 'build-push', 'migrate'],
    if: '${{ always() }}',
    'runs-on': runner,
    'timeout-minutes': 5,
    steps: [
      {
        name: 'Report',
        env: {
          DATABASE: '${{ inputs.database }}',
          SKIP_TESTS: '${{ inputs.skip_tests }}',
          TEST: '${{ needs.test.result }}',
          BUILD: '${{ needs.build-push.result }}',
          MIGRATE: '${{ needs.migrate.result }}',
          IMAGE: '${{ needs.build-push.outputs.image }}',
        },
        run: [
          '{',
          '  echo "## Migrations: \\`$DATABASE\\`"',
          '  echo',
          '  echo "| job | result |"',
          '  echo "| --- | --- |"',
          '  echo "| test | $TEST$( [ "$SKIP_TESTS" = true ] && echo \' (skip_tests)\' ) |"',
          '  echo "| build-push | $BUILD |"',
          '  echo "| migrate + verify | $MIGRATE |"',
          '  echo',
          '  echo "Image: \\`${IMAGE:-none}\\`"',
          '} >> "$GITHUB_STEP_SUMMARY"',
          'if [ "$MIGRATE" != success ]; then',
          '  echo "::error::$DATABASE was not migrated (test: $TEST, build-push: $BUILD, migrate: $MIGRATE)"',
          '  exit 1',
          'fi',
        ].join('\n'),
      },
    ],
  };

  const workflow: Workflow = {
    name: 'Run Database Migrations',
    'run-name':
      "Migrate ${{ inputs.database }}${{ inputs.skip_tests && ' (tests skipped)' || '' }}",
    on: {
      workflow_dispatch: {
        inputs: {
          database,
          skip_tests: {
            description: 'Skip the test job (emergencies only)',
            type: 'boolean',
            required: false,
            default: false,
          },
        },
      },
    },
    permissions: { contents: 'read' },
    concurrency: { group: 'migrate-${{ inputs.database }}', 'cancel-in-progress': false },
    jobs: { test, 'build-push': buildPush, migrate, summary },
  };

  const header = [
    `Generated by \`berth ci init\` from ${options.configPath}; regenerate with \`berth ci init --force\`;`,
    '`berth ci init --check` (exit 9 when it differs) keeps it in step with berth.yaml.',
    'Run it from the Actions tab: "Run Database Migrations" → type all, canary (when configured)',
    'or tenant names separated by commas → Run workflow. Task logs and run journals are uploaded',
    'as artifacts (berth-test-N, berth-migrate-N) whatever the outcome.',
    '',
    'Setup (once):',
    '  - `berth up` creates the ECR repository, ECS cluster, roles, log group and task definition;',
    '  - `berth iam github-oidc --repo OWNER/NAME` prints the role trust policy for GitHub OIDC, and',
    '    `berth iam ci-policy` its permissions; put the role ARN in the repository (or environment)',
    '    variable AWS_ROLE_ARN. No access keys are stored in GitHub.',
    '  - create the GitHub environments `production` (add required reviewers) and `staging`.',
  ].join('\n');

  const comments: KeyComment[] = [
    { path: ['jobs', 'test', 'if'], text: SKIP_TESTS_NOTE },
    {
      path: ['jobs', 'build-push', 'if'],
      text: 'Runs after a passing test job, or when skip_tests skipped it; never after a failure.',
    },
    {
      path: ['concurrency'],
      text: 'One run per database at a time: a second run for the same database waits; a running\nmigration is never cancelled. (berth also takes a per-database advisory lock, so `all` and a\nsingle database cannot migrate the same tenant at once either.)',
    },
    {
      path: ['jobs', 'migrate', 'environment'],
      text: guarded
        ? `The production environment guards all${guards.some((g) => g.includes("'canary'")) ? ', canary' : ''} and any list naming ${production.join(', ')}: require reviewers on it.`
        : 'Every run uses the production environment: require reviewers on it.',
    },
    {
      path: ['jobs', 'build-push', 'permissions'],
      text: 'id-token: write lets the job exchange a GitHub OIDC token for the AWS role.',
    },
    {
      path: ['jobs', 'summary', 'if'],
      text: 'Always: reports every job and fails unless the migration succeeded.',
    },
  ];

  return {
    workflow,
    comments,
    header,
    productionDatabases: guarded ? production : (tenants ?? []),
  };
}

/** The test job's set-up after check-out, in words (`ci init` prints it). */
export function testSetupSummary(workflow: Workflow): string {
  return (workflow.jobs.test?.steps ?? [])
    .slice(1)
    .filter((s) => /^(Set up|Install|Download)/.test(s.name))
    .map((s) => ('run' in s ? s.run.split('\n').at(-1) : s.name.replace(/^Set up /, 'setup ')))
    .join(', ');
}

export function renderRunMigrations(generated: GeneratedWorkflow): string {
  return renderWorkflow(generated.workflow, {
    header: generated.header,
    comments: generated.comments,
  });
}

/** The first line where two texts differ (1-based), or undefined when they are equal. */
export function firstDifference(
  actual: string,
  expected: string,
): { line: number; actual?: string; expected?: string } | undefined {
  if (actual === expected) return undefined;
  const a = actual.split('\n');
  const b = expected.split('\n');
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i])
      return {
        line: i + 1,
        ...(a[i] === undefined ? {} : { actual: a[i] }),
        ...(b[i] === undefined ? {} : { expected: b[i] }),
      };
  }
  return undefined;
}
