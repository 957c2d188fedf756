/**
 * The examples at the end of every `--help` page, keyed by command path. A unit test walks
 * the parser and fails on a command without examples, so a new command cannot ship without.
 */
import type { Command } from 'commander';

export const EXAMPLES: Record<string, string[]> = {
  '': [
    'berth init && berth config validate',
    'berth migrate --all',
    'berth verify --all --json',
    'berth doctor',
  ],
  migrate: [
    'berth migrate --all',
    'berth migrate --database healthtech_experiment,fintech_experiment',
    'berth migrate --all --concurrency 5 --on-error continue',
    'berth migrate --all --batch-size 25   # large fleets: 25 tenants per task',
    'berth migrate --resume                # the unfinished databases of an interrupted run',
    'berth migrate --all --provider aws --image "$IMAGE"',
  ],
  lint: [
    'berth lint            # the SQL of migrations pending on at least one tenant',
    'berth lint --every    # every SQL migration, applied or not',
  ],
  verify: [
    'berth verify --all',
    'berth verify --database fintech_experiment --json',
    'berth verify --all --skip-check     # the probe only, no task.checkCommand',
  ],
  status: ['berth status', 'berth status --provider aws --json'],
  logs: [
    'berth logs migrate-20261125T181346-3d0563',
    'berth logs migrate-20261125T181346-3d0563 --follow   # until the task stops',
  ],
  pipeline: [
    'berth pipeline --all',
    'berth pipeline --all --skip-tests --json',
    'berth pipeline --all --strict   # any skipped stage fails (as the generated workflow runs it)',
    'berth pipeline --database healthtech_experiment --runtime container',
  ],
  init: ['berth init', 'berth --config deploy/berth.yaml init --force'],
  tasks: ['berth tasks list --running', 'berth tasks stop --all --yes'],
  'tasks list': ['berth tasks list', 'berth tasks list --running', 'berth tasks list --limit 20'],
  'tasks stop': ['berth tasks stop migrate-20261125T181346-3d0563', 'berth tasks stop --all --yes'],
  runs: ['berth runs list', 'berth runs show run-20261125T181345-ee7b'],
  'runs list': ['berth runs list', 'berth runs list --json'],
  'runs show': ['berth runs show run-20261125T181345-ee7b'],
  prune: [
    'berth prune --older-than 7d --dry-run',
    'berth prune --older-than 7d --keep 50',
    'berth prune --keep 100',
  ],
  config: ['berth config validate', 'berth config schema > berth.schema.json'],
  'config validate': ['berth config validate', 'berth --config deploy/berth.yaml config validate'],
  'config schema': ['berth config schema > berth.schema.json'],
  plan: [
    'berth plan',
    'berth plan --detailed-exitcode   # exit 9 when changes are pending (drift check)',
    'berth plan --adopt',
  ],
  up: ['berth up', 'berth up --adopt --region eu-west-1'],
  down: ['berth down', 'berth down --yes'],
  show: ['berth show', 'berth show --json'],
  iam: ['berth iam ci-policy', 'berth iam github-oidc --repo acme/backend --branch main'],
  'iam ci-policy': ['berth iam ci-policy', 'berth iam ci-policy --account 123456789012'],
  'iam github-oidc': [
    'berth iam github-oidc --repo acme/backend',
    'berth iam github-oidc --repo acme/backend --environment production',
  ],
  build: ['berth build', 'berth build --target production'],
  push: ['berth push', 'berth push --provider aws --tag 3f2c1ab'],
  ci: ['berth ci init', 'berth ci init --check'],
  'ci init': [
    'berth ci init',
    'berth ci init --force',
    'berth ci init --check   # exit 9 when the committed workflow is stale',
  ],
  snippet: [
    'berth snippet django --app shop   # shop/management/commands/berth_migrate.py',
    'berth snippet django > berth_migrate.py',
    'berth snippet django-probe --app shop   # shop/management/commands/berth_probe.py',
  ],
  local: ['berth local start', 'berth local stop'],
  'local start': ['berth local start'],
  'local stop': ['berth local stop'],
  completion: [
    'eval "$(berth completion bash)"   # in ~/.bashrc',
    'eval "$(berth completion zsh)"    # in ~/.zshrc',
    'berth completion fish > ~/.config/fish/completions/berth.fish',
  ],
  doctor: ['berth doctor', 'berth doctor --provider aws', 'berth doctor --json'],
};

/** The command's path below the program: '' for the program, 'tasks list' for a subcommand. */
export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Adds the examples to every command's help, recursively. */
export function addExamples(command: Command): void {
  const examples = EXAMPLES[commandPath(command)];
  if (examples)
    command.addHelpText('after', `\nExamples:\n${examples.map((e) => `  $ ${e}`).join('\n')}`);
  for (const sub of command.commands) addExamples(sub);
}
