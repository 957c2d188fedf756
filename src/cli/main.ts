/**
 * berth's command line: parsing with commander, and the one place that sets the exit code.
 * Each command's module is imported only when that command runs, so `berth --version` and
 * `berth --help` load almost nothing (the AWS SDK in particular).
 */
import { Argument, Command, CommanderError, Option } from 'commander';
import { boundedInt } from '../config/limits.js';
import { BerthError, errorMessage, isBerthError } from '../core/errors.js';
import { ExitCode, exitCodeForError } from '../core/exit-codes.js';
import { redactor } from '../core/redact.js';
import { parseFailureLimit } from '../fleet/failure-budget.js';
import { addExamples } from './help-examples.js';
import { createOutput } from './output.js';
import { VERSION } from './version.js';
import type { GlobalOptions } from './context.js';
import type { CommandName } from './command-names.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];
/** A count with no config field behind it (--limit, --keep): any whole number from 1. */
const positiveInt = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new BerthError('USAGE', `${name} must be a whole number of at least 1, got "${value}"`);
  return n;
};

export function buildProgram(): Command {
  const program = new Command('berth')
    .description(
      'Ship a containerized backend with per-tenant PostgreSQL databases to ECS Fargate and run its migrations.',
    )
    .version(VERSION, '-v, --version')
    .option(
      '-c, --config <file>',
      'config file (default: $BERTH_CONFIG, else the nearest berth.yaml upward from here)',
    )
    .option('--json', 'machine-readable output on stdout (see README "JSON output")', false)
    .addOption(
      new Option(
        '-p, --provider <name>',
        'local or aws (default: $BERTH_PROVIDER, else provider in berth.yaml)',
      ).choices(['local', 'aws']),
    )
    .option('--profile <name>', 'AWS shared-config profile (aws provider)')
    .option('--region <region>', 'AWS region (aws provider)')
    .option(
      '--endpoint-url <url>',
      'send AWS calls to this endpoint, e.g. an emulator (aws provider)',
    )
    .showHelpAfterError('(run with --help for usage)')
    // Subcommands copy this when they are created: `berth migrate --help` lists --config,
    // --json, --provider… under "Global Options".
    .configureHelp({ showGlobalOptions: true })
    .exitOverride();

  const selection = (cmd: Command) =>
    cmd
      .option(
        '-d, --database <name>',
        'a tenant database, or several separated by commas (repeatable)',
        collect,
      )
      .option('-a, --all', 'every tenant database in the fleet', false);

  selection(
    program
      .command('migrate')
      .description(
        'apply pending migrations to tenant databases, one task per database (or batch)',
      ),
  )
    .option(
      '--concurrency <n>',
      'tasks running at once (default: fleet.concurrency)',
      boundedInt('--concurrency', 'fleet.concurrency'),
    )
    .addOption(
      new Option(
        '--on-error <mode>',
        'after a failure: stop starting new tasks, or continue',
      ).choices(['stop', 'continue']),
    )
    .option(
      '--max-failures <n|p%>',
      'failure budget: go on past failures until more than N (or P% of the databases) failed, then skip the rest (default: fleet.maxFailures)',
      (value: string) => parseFailureLimit(value),
    )
    .option(
      '--batch-size <k>',
      'tenants migrated in sequence by one task (default: fleet.batchSize)',
      boundedInt('--batch-size', 'fleet.batchSize'),
    )
    .option(
      '--resume',
      'continue the last run, if it was interrupted, with only its unfinished databases',
      false,
    )
    .option(
      '--canary <n>',
      'migrate and verify the first N tenants before the rest (overrides rollout in berth.yaml)',
      positiveInt('--canary'),
    )
    .option(
      '--plan',
      'list, per tenant, the migrations a run would apply; starts no migration (exit 9 when any)',
      false,
    )
    .option('--runtime <name>', 'local task runtime: auto, process or container')
    .option(
      '--image <ref>',
      'image for container/Fargate tasks (default: the last built or pushed)',
    )
    .action(run('migrate'));

  selection(
    program
      .command('lint')
      .description(
        'check the SQL of pending migrations with squawk (exit 16 on an error-level finding)',
      ),
  )
    .option('--every', 'every SQL migration, not only those pending on a tenant', false)
    .action(run('lint'));

  selection(
    program
      .command('verify')
      .description('check every database has all its tables and no pending migration'),
  )
    .option('--skip-check', 'do not run task.checkCommand, only the probe', false)
    .option('--runtime <name>', 'local task runtime: auto, process or container')
    .option('--image <ref>', 'image for container/Fargate tasks')
    .action(run('verify'));

  program
    .command('status')
    .description(
      'what exists: the database server and each tenant database (local), or each stack resource (aws)',
    )
    .action(run('status'));

  program
    .command('logs')
    .argument('<task-id>', 'a task ID from migrate, verify or `berth tasks list`')
    .description("print a task's log")
    .option('-f, --follow', 'keep printing new lines until the task stops', false)
    .action(run('logs'));

  selection(
    program
      .command('pipeline')
      .description('test, build, push, migrate and verify, with a summary of each stage'),
  )
    .option('--skip-tests', 'skip the test stage (emergencies only)', false)
    .option(
      '--strict',
      'a stage that skips itself (no test command, no container engine, nothing to lint) fails the pipeline',
      false,
    )
    .option(
      '--concurrency <n>',
      'migration tasks running at once',
      boundedInt('--concurrency', 'fleet.concurrency'),
    )
    .option('--runtime <name>', 'local task runtime: auto, process or container')
    .action(run('pipeline'));

  program
    .command('init')
    .description('write a commented starter berth.yaml')
    .option('--force', 'overwrite an existing file', false)
    .action(run('init'));

  const tasks = program
    .command('tasks')
    .description('list or stop migration tasks (the quick rollback)');
  tasks
    .command('list')
    .option('--running', 'only running tasks', false)
    .option('--limit <n>', 'only the newest N tasks', positiveInt('--limit'))
    .description('tasks and their results')
    .action(run('tasks-list'));
  tasks
    .command('stop')
    .argument('[task-id...]', 'tasks to stop')
    .option('--all', 'every running task', false)
    .option('-y, --yes', 'do not ask for confirmation', false)
    .description('stop running tasks')
    .action(run('tasks-stop'));

  const runs = program.command('runs').description('fleet run journals (.berth/runs)');
  runs.command('list').description('past and interrupted runs').action(run('runs-list'));
  runs
    .command('show')
    .argument('<run-id>')
    .description("one run's per-database results")
    .action(run('runs-show'));

  program
    .command('prune')
    .description('remove old task records, task logs and run journals from .berth/')
    .option('--older-than <age>', 'what started longer ago than this: 30m, 12h, 7d or 2w')
    .option('--keep <n>', 'keep the newest N tasks and the newest N runs', positiveInt('--keep'))
    .option('--dry-run', 'list what would be removed; remove nothing', false)
    .action(run('prune'));

  const config = program.command('config').description('the config file');
  config
    .command('validate')
    .description('check berth.yaml and print the resolved settings')
    .action(run('config-validate'));
  config
    .command('schema')
    .description('print the JSON Schema for berth.yaml (for editors)')
    .action(run('config-schema'));

  program
    .command('plan')
    .description('what `up` would create, update or delete (also drift detection)')
    .option('--detailed-exitcode', `exit ${9} when changes are pending`, false)
    .option('--adopt', 'plan as `up --adopt` would: take over same-named resources', false)
    .action(run('plan'));
  program
    .command('up')
    .description('create or update the stack in dependency order (idempotent)')
    .option('--adopt', 'take over same-named resources berth did not create', false)
    .action(run('up'));
  program
    .command('down')
    .description("delete the stack's resources in reverse order (only what carries berth's tags)")
    .option('-y, --yes', 'do not ask for the stack name', false)
    .action(run('down'));
  program
    .command('show')
    .description(
      'details of every stack resource: URIs, ARNs, revision, CPU and memory, images, retention',
    )
    .action(run('show'));
  const iam = program.command('iam').description('least-privilege IAM documents for CI');
  iam
    .command('ci-policy')
    .description('the IAM policy the CI principal needs')
    .option('--account <id>', "AWS account ID for the ARNs (default: the caller's, from STS)")
    .action(run('iam-ci-policy'));
  iam
    .command('github-oidc')
    .description("the trust policy for GitHub's OIDC provider")
    .requiredOption('--repo <owner/name>', 'the GitHub repository')
    .option('--branch <name>', 'restrict to this branch (default: any ref)')
    .option('--environment <name>', 'restrict to this GitHub environment')
    .option('--account <id>', "AWS account ID for the ARNs (default: the caller's, from STS)")
    .action(run('iam-github-oidc'));

  program
    .command('build')
    .description(
      'build the image targets with the container CLI (BuildKit), tag the git SHA and latest, check policy',
    )
    .addOption(
      new Option('--target <target>', 'which stage to build')
        .choices(['development', 'production', 'all'])
        .default('all'),
    )
    .action(run('build'));
  program
    .command('push')
    .description(
      "push the production image to the stack's registry (local: registry.local; aws: ECR)",
    )
    .option('--tag <tag>', 'the tag to push (default: the current git SHA tag)')
    .action(run('push'));
  const ci = program.command('ci').description('CI workflow files');
  ci.command('init')
    .description('write .github/workflows/run-migrations.yml into this repository')
    .option('--force', 'overwrite an existing workflow file', false)
    .option('--output <file>', 'where to write it', '.github/workflows/run-migrations.yml')
    .option(
      '--check',
      'write nothing; exit 9 when the file differs from what would be generated now',
      false,
    )
    .action(run('ci-init'));

  program
    .command('snippet')
    .addArgument(
      new Argument('<name>', 'the snippet: django or django-probe').choices([
        'django',
        'django-probe',
      ]),
    )
    .description(
      "print code berth ships for your app, or install it: django = the batch command that migrates a batch's tenants in one Python process; django-probe = the probe that reads many tenants in one process (task.probeCommand, for AWS)",
    )
    .option(
      '--app <dir>',
      'install it into this Django app as <dir>/management/commands/berth_migrate.py (django-probe: berth_probe.py)',
    )
    .option('--force', 'replace an installed copy that differs', false)
    .action(run('snippet'));

  const local = program.command('local').description('the local provider');
  local
    .command('start')
    .description('start the embedded PostgreSQL server (initialised on first use)')
    .action(run('local-start'));
  local
    .command('stop')
    .description('stop the embedded PostgreSQL server (data is kept)')
    .option('--force', 'stop it even while a migrate run of this project is going', false)
    .action(run('local-stop'));

  program
    .command('doctor')
    .description(
      'check Node, the PostgreSQL binaries, the container engine, AWS settings, the config and .berth/',
    )
    .action(run('doctor'));

  program
    .command('completion')
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(['bash', 'zsh', 'fish']))
    .description('print a shell completion script (e.g. eval "$(berth completion bash)")')
    .action(run('completion'));

  addExamples(program);
  return program;
}

/** Wraps a lazily imported command; its return value is the exit code. */
function run(name: CommandName) {
  return async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    const globals = command.optsWithGlobals<GlobalOptions & Record<string, unknown>>();
    const positional = args.slice(0, -2);
    let root = command;
    while (root.parent) root = root.parent;
    const { dispatch } = await import('./commands/index.js');
    process.exitCode = await dispatch(name, globals, positional, root);
  };
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  const wantsJson = argv.includes('--json');
  const out = createOutput(wantsJson);
  try {
    await program.parseAsync(argv);
    return Number(process.exitCode ?? 0);
  } catch (error) {
    if (error instanceof CommanderError) {
      if (
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.code === 'commander.help'
      )
        return ExitCode.ok;
      if (wantsJson)
        out.data({ error: { code: 'USAGE', message: error.message.replace(/^error: /, '') } });
      return ExitCode.usage;
    }
    return reportError(error, out);
  }
}

export function reportError(error: unknown, out: ReturnType<typeof createOutput>): number {
  if (isBerthError(error)) {
    const code = error.exitCode ?? exitCodeForError(error.code);
    if (out.json) {
      out.data({
        error: {
          code: error.code,
          message: redactor.redact(error.message),
          ...(error.hint ? { hint: error.hint } : {}),
          ...(error.details ? { details: error.details } : {}),
        },
      });
    } else {
      out.note(`${out.errColor.red('error:')} ${error.message}`);
      if (error.hint) out.note(`  ${out.errColor.dim('hint:')} ${error.hint}`);
    }
    return code;
  }
  const message = errorMessage(error);
  if (out.json) out.data({ error: { code: 'INTERNAL', message: redactor.redact(message) } });
  else {
    out.note(`${out.errColor.red('internal error:')} ${message}`);
    if (process.env.BERTH_DEBUG && error instanceof Error && error.stack) out.note(error.stack);
    else
      out.note(
        '  hint: this is a bug in berth; rerun with BERTH_DEBUG=1 for a stack trace and report it',
      );
  }
  return ExitCode.internal;
}

// Started as a program (not imported by tests): run and set the exit code, never process.exit.
if (process.argv[1] && /berth(\.js)?$|cli\.js$/.test(process.argv[1])) {
  void main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
