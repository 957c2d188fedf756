/**
 * The aws provider's infrastructure commands: plan, up, down, status (aws), show, and the
 * IAM documents for CI. Parsing is in main.ts; the work is in src/providers/aws/stack (a library that
 * never prints); this file renders results and picks exit codes.
 *
 * Injection point: every command takes an optional `deps` — `createClients` replaces the AWS
 * SDK (tests pass the in-memory fake), `env`, `now` and `confirm` replace the process's.
 */
import path from 'node:path';
import { assertAwsReady, type LoadedConfig } from '../../config/load-config.js';
import { BerthError } from '../../core/errors.js';
import { ExitCode } from '../../core/exit-codes.js';
import {
  createAwsClients,
  resolveAwsSettings,
  type AwsClientsFactory,
} from '../../providers/aws/api/clients.js';
import type { AwsSettings } from '../../providers/aws/api/types.js';
import { arnParts } from '../../providers/aws/stack/references.js';
import {
  ciPolicy,
  githubOidcTrustPolicy,
  partitionOf,
} from '../../providers/aws/stack/policies.js';
import {
  downStack,
  planStack,
  showStack,
  stackStatus,
  STACK_RESOURCES,
  upStack,
  type DownItem,
  type StackOptions,
  type StackPlan,
  type StepStatus,
} from '../../providers/aws/stack/stack.js';
import type {
  FieldChange,
  JsonValue,
  PlanAction,
  ResourceKind,
  ResourcePlan,
} from '../../providers/aws/stack/types.js';
import { confirmByTyping } from '../confirm.js';
import type { Context } from '../context.js';
import { table } from '../output.js';

export interface InfraDeps {
  /** Builds the AWS clients; the default loads the SDK v3 clients lazily. */
  createClients?: AwsClientsFactory;
  env?: NodeJS.ProcessEnv;
  now?: () => Date;
  confirm?: (what: string, expected: string, yes: boolean) => Promise<void>;
}

interface OpenedStack {
  loaded: LoadedConfig;
  settings: AwsSettings;
  stack: StackOptions;
}

function requireAwsProvider(ctx: Context, command: string): void {
  if (ctx.globals.provider === 'local') {
    throw new BerthError(
      'USAGE',
      `\`berth ${command}\` manages AWS infrastructure and works with the aws provider only`,
      {
        hint: 'drop `--provider local`; infra commands always talk to AWS (or to --endpoint-url)',
      },
    );
  }
}

async function openStack(ctx: Context, command: string, deps: InfraDeps): Promise<OpenedStack> {
  requireAwsProvider(ctx, command);
  const loaded = await ctx.config();
  assertAwsReady(loaded);
  const settings = resolveAwsSettings(loaded.config, ctx.globals, deps.env ?? process.env);
  const clients = (deps.createClients ?? createAwsClients)(settings);
  return {
    loaded,
    settings,
    stack: {
      clients,
      config: loaded.config,
      region: settings.region,
      configFile: loaded.file,
      reporter: ctx.reporter,
      outputsDir: path.resolve(loaded.dir, loaded.config.local.dataDir),
      ...(deps.now ? { now: deps.now } : {}),
    },
  };
}

const TITLES = new Map<ResourceKind, string>(STACK_RESOURCES.map((r) => [r.kind, r.title]));
const title = (kind: ResourceKind) => TITLES.get(kind) ?? kind;

function formatValue(value: JsonValue): string {
  if (value === null) return '(none)';
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

function formatChange(change: FieldChange): string {
  const arrow = `${change.field}: ${formatValue(change.actual)} → ${formatValue(change.desired)}`;
  return change.note ? `${arrow}  (${change.note})` : arrow;
}

const MARKS: Record<PlanAction, [string, 'green' | 'yellow' | 'dim' | 'red']> = {
  create: ['+ create', 'green'],
  update: ['~ update', 'yellow'],
  'no-change': ['= no change', 'dim'],
  delete: ['- delete', 'red'],
  adopt: ['~ adopt', 'yellow'],
  'not-owned': ['! not owned', 'red'],
};

/** Padded before colouring, so columns line up on a terminal too. */
function actionMark(ctx: Context, action: PlanAction): string {
  const [text, colour] = MARKS[action];
  return ctx.out.color[colour](text.padEnd(11));
}

function renderPlan(ctx: Context, plan: StackPlan, mode: 'plan' | 'up'): void {
  const heading = mode === 'plan' ? 'Plan' : plan.pending ? 'Applied' : 'Up to date';
  ctx.out.result(`${heading} for stack ${plan.stack} (${plan.region}, account ${plan.account}):\n`);
  const width = Math.max(...plan.resources.map((r) => title(r.kind).length));
  const lines: string[] = [];
  for (const r of plan.resources) {
    lines.push(`  ${actionMark(ctx, r.action)}  ${title(r.kind).padEnd(width)}  ${r.name}`);
    if (r.action === 'not-owned') {
      lines.push(
        '      exists but was not created by berth for this stack; `berth up --adopt` takes it over',
      );
    }
    // After `up`, what was created needs no field list: `plan` showed it.
    const changes =
      r.action === 'no-change' || (mode === 'up' && r.action === 'create') ? [] : r.changes;
    for (const change of changes) lines.push(`      ${formatChange(change)}`);
  }
  ctx.out.result(lines.join('\n'));
  const s = plan.summary;
  const parts =
    mode === 'plan'
      ? [`${s.create} to create`, `${s.update} to update`]
      : [`${s.create} created`, `${s.update} updated`];
  if (s.adopt) parts.push(mode === 'plan' ? `${s.adopt} to adopt` : `${s.adopt} adopted`);
  if (s.notOwned) parts.push(`${s.notOwned} not owned`);
  parts.push(`${s.unchanged} unchanged`);
  const label = mode === 'plan' ? (plan.pending ? 'Plan' : 'No changes') : 'Done';
  ctx.out.result(`\n${label}: ${parts.join(', ')}.`);
}

function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}

/** `berth plan`: what `up` would change, per resource, with the fields that differ. */
export async function planCommand(
  ctx: Context,
  o: { detailedExitcode?: boolean; adopt?: boolean },
  deps: InfraDeps = {},
): Promise<number> {
  const { stack } = await openStack(ctx, 'plan', deps);
  const plan = await planStack(stack, { adopt: Boolean(o.adopt) });
  if (ctx.out.json) ctx.out.data(plan);
  else renderPlan(ctx, plan, 'plan');
  return o.detailedExitcode && plan.pending ? ExitCode.changesPending : ExitCode.ok;
}

/** `berth up`: create or update in dependency order; writes outputs.env and outputs.json. */
export async function upCommand(
  ctx: Context,
  o: { adopt?: boolean },
  deps: InfraDeps = {},
): Promise<number> {
  const { stack } = await openStack(ctx, 'up', deps);
  const result = await upStack(stack, { adopt: Boolean(o.adopt) });
  if (ctx.out.json) {
    ctx.out.data(result);
    return ExitCode.ok;
  }
  renderPlan(ctx, result, 'up');
  if (result.outputsFiles)
    ctx.out.result(`\nOutputs: ${displayPath(result.outputsFiles.env)} (and outputs.json)`);
  return ExitCode.ok;
}

function downPreview(ctx: Context, items: readonly DownItem[]): string {
  return items
    .map((i) => {
      const mark =
        i.action === 'delete'
          ? ctx.out.color.red('- delete')
          : i.action === 'absent'
            ? ctx.out.color.dim('  absent')
            : ctx.out.color.yellow('  leave ');
      return `  ${mark}  ${title(i.kind)}  ${i.name}${i.note ? `  (${i.note})` : ''}`;
    })
    .join('\n');
}

/** `berth down`: berth's resources only, reverse order; asks for the stack name unless --yes. */
export async function downCommand(
  ctx: Context,
  o: { yes?: boolean },
  deps: InfraDeps = {},
): Promise<number> {
  const { stack, loaded } = await openStack(ctx, 'down', deps);
  const confirm = deps.confirm ?? confirmByTyping;
  const result = await downStack(stack, {
    confirm: async (items) => {
      if (!o.yes)
        ctx.out.note(`berth down will delete, in this order:\n${downPreview(ctx, items)}`);
      await confirm(
        `Delete ${items.filter((i) => i.action === 'delete').length} resource(s) of stack ${loaded.config.app} in ${stack.region}?`,
        loaded.config.app,
        Boolean(o.yes),
      );
    },
  });
  if (ctx.out.json) {
    ctx.out.data(result);
    return ExitCode.ok;
  }
  const rows = result.resources.map((r) => [
    title(r.kind),
    r.name,
    r.result === 'deleted'
      ? ctx.out.color.green('deleted')
      : r.result === 'left'
        ? ctx.out.color.yellow("left (not berth's)")
        : ctx.out.color.dim('absent'),
    r.note ?? '',
  ]);
  ctx.out.result(table(['RESOURCE', 'NAME', 'RESULT', 'NOTE'], rows));
  ctx.out.result(
    result.deleted > 0
      ? `\nStack ${result.stack}: ${result.deleted} resource(s) deleted. The VPC, security groups and secret were not touched.`
      : `\nStack ${result.stack}: nothing to delete.`,
  );
  return ExitCode.ok;
}

function statusMark(ctx: Context, status: StepStatus): string {
  const c = ctx.out.color;
  return status === 'COMPLETED'
    ? c.green(status)
    : status === 'DRIFTED'
      ? c.yellow(status)
      : c.dim(status);
}

function stepDetail(resources: readonly ResourcePlan[]): string {
  return resources
    .map((r) => {
      if (r.action === 'no-change') return r.name;
      if (r.action === 'create') return `${r.name} (absent)`;
      if (r.action === 'not-owned') return `${r.name} (not berth's)`;
      return `${r.name} (${r.changes.map((c) => c.field).join(', ')})`;
    })
    .join('; ');
}

/** `berth status` with the aws provider: one row per seed step, from live reads. Exit 9 when drifted. */
export async function awsStatusCommand(ctx: Context, deps: InfraDeps = {}): Promise<number> {
  const { stack } = await openStack(ctx, 'status', deps);
  const status = await stackStatus(stack);
  if (ctx.out.json) ctx.out.data({ provider: 'aws', ...status });
  else {
    ctx.out.result(`Stack ${status.stack} in ${status.region} (account ${status.account})\n`);
    ctx.out.result(
      table(
        ['STEP', 'WHAT', 'STATUS', 'RESOURCES'],
        status.steps.map((s) => [
          String(s.seedStep),
          s.title,
          statusMark(ctx, s.status),
          stepDetail(s.resources),
        ]),
      ),
    );
    if (status.drifted)
      ctx.out.result('\n`berth plan` shows the differences; `berth up` fixes them.');
  }
  return status.drifted ? ExitCode.changesPending : ExitCode.ok;
}

/** `berth show`: URIs, ARNs, revision, CPU/memory, image count, retention. */
export async function showCommand(ctx: Context, deps: InfraDeps = {}): Promise<number> {
  const { stack } = await openStack(ctx, 'show', deps);
  const details = await showStack(stack);
  if (ctx.out.json) {
    ctx.out.data(details);
    return ExitCode.ok;
  }
  const c = ctx.out.color;
  const lines = [
    `Stack ${details.stack} in ${details.region}${details.account ? ` (account ${details.account})` : ''}`,
    '',
  ];
  const p = details.prerequisites;
  lines.push(c.bold('Prerequisites (read only)'));
  lines.push(
    `  secret                 ${p.secret.name}${p.secret.arn ? `  ${p.secret.arn}` : c.yellow('  (not found)')}`,
  );
  lines.push(
    `  backend security group ${p.backendSecurityGroup.ref ?? '-'}${p.backendSecurityGroup.id ? `  ${p.backendSecurityGroup.id} in ${p.backendSecurityGroup.vpcId ?? '?'}` : c.yellow('  (not found)')}`,
  );
  lines.push(
    `  database security group ${p.databaseSecurityGroup.ref ?? '-'}${p.databaseSecurityGroup.id ? `  ${p.databaseSecurityGroup.id}` : c.yellow('  (not found)')}`,
  );
  lines.push(`  subnets                ${p.subnets.join(', ') || '-'}`);
  for (const r of details.resources) {
    lines.push(
      '',
      `${c.bold(r.title)}  ${r.name}${r.exists ? (r.owned ? '' : c.yellow('  (not created by berth)')) : c.dim('  (absent)')}`,
    );
    for (const [key, value] of Object.entries(r.details ?? {})) {
      if (key === 'rules' && Array.isArray(value)) {
        for (const rule of value) {
          const x = rule as Record<string, JsonValue>;
          lines.push(
            `  ${formatValue(x.id ?? null)}  ${formatValue(x.groupId ?? null)} ${formatValue(x.direction ?? null)} ${formatValue(x.protocol ?? null)}/${formatValue(x.fromPort ?? null)} ${x.direction === 'egress' ? 'to' : 'from'} ${formatValue(x.peer ?? null)}`,
          );
        }
        continue;
      }
      lines.push(`  ${key.padEnd(18)} ${formatValue(value)}`);
    }
  }
  ctx.out.result(lines.join('\n'));
  return ExitCode.ok;
}

interface AccountOption {
  account?: string;
}

async function resolveAccount(
  ctx: Context,
  o: AccountOption,
  deps: InfraDeps,
  command: string,
): Promise<{ account: string; partition: string; loaded: LoadedConfig; region: string }> {
  requireAwsProvider(ctx, command);
  const loaded = await ctx.config();
  const settings = resolveAwsSettings(loaded.config, ctx.globals, deps.env ?? process.env);
  if (o.account !== undefined) {
    if (!/^\d{12}$/.test(o.account))
      throw new BerthError(
        'USAGE',
        `--account must be a 12-digit AWS account ID, got "${o.account}"`,
      );
    return {
      account: o.account,
      partition: partitionOf(settings.region),
      loaded,
      region: settings.region,
    };
  }
  assertAwsReady(loaded);
  const identity = await (deps.createClients ?? createAwsClients)(settings).sts.getCallerIdentity();
  return {
    account: identity.account,
    partition: arnParts(identity.arn)?.partition ?? partitionOf(settings.region),
    loaded,
    region: settings.region,
  };
}

/** `berth iam ci-policy`: the least-privilege policy for the CI principal, as JSON. */
export async function iamCiPolicyCommand(
  ctx: Context,
  o: AccountOption = {},
  deps: InfraDeps = {},
): Promise<number> {
  const { account, partition, loaded, region } = await resolveAccount(
    ctx,
    o,
    deps,
    'iam ci-policy',
  );
  const policy = ciPolicy({ config: loaded.config, account, partition, region });
  const policyName = `berth-ci-${loaded.config.app}`;
  if (ctx.out.json) ctx.out.data({ policyName, account, region, policy });
  else {
    ctx.out.result(JSON.stringify(policy, null, 2));
    ctx.out.note(
      `Attach this as "${policyName}" to the role CI assumes (see \`berth iam github-oidc\`), e.g.\n` +
        `  berth iam ci-policy > ci-policy.json\n` +
        `  aws iam put-role-policy --role-name <ci-role> --policy-name ${policyName} --policy-document file://ci-policy.json`,
    );
  }
  return ExitCode.ok;
}

/** `berth iam github-oidc --repo OWNER/NAME`: the trust policy for a role GitHub Actions assumes. */
export async function iamGithubOidcCommand(
  ctx: Context,
  o: { repo: string; branch?: string; environment?: string } & AccountOption,
  deps: InfraDeps = {},
): Promise<number> {
  // Validate the arguments before any AWS call.
  githubOidcTrustPolicy({
    repo: o.repo,
    ...(o.branch !== undefined ? { branch: o.branch } : {}),
    ...(o.environment !== undefined ? { environment: o.environment } : {}),
    account: '000000000000',
    partition: 'aws',
  });
  const { account, partition } = await resolveAccount(ctx, o, deps, 'iam github-oidc');
  const trustPolicy = githubOidcTrustPolicy({
    repo: o.repo,
    ...(o.branch !== undefined ? { branch: o.branch } : {}),
    ...(o.environment !== undefined ? { environment: o.environment } : {}),
    account,
    partition,
  });
  if (ctx.out.json) ctx.out.data({ account, repo: o.repo, trustPolicy });
  else {
    ctx.out.result(JSON.stringify(trustPolicy, null, 2));
    ctx.out.note(
      'Create the role GitHub Actions assumes (once per account, the OIDC provider first):\n' +
        `  aws iam create-open-id-connect-provider --url https://token.actions.githubusercontent.com --client-id-list sts.amazonaws.com\n` +
        `  berth iam github-oidc --repo ${o.repo} > trust.json\n` +
        '  aws iam create-role --role-name <ci-role> --assume-role-policy-document file://trust.json\n' +
        'then use aws-actions/configure-aws-credentials with role-to-assume instead of AWS_ACCESS_KEY_ID secrets.',
    );
  }
  return ExitCode.ok;
}
