/**
 * Human rendering of the stack: plan and up (per resource, the fields that differ), the down
 * preview and result, status (one row per seed step), show (URIs, ARNs, revision, …).
 */
import path from 'node:path';
import {
  STACK_RESOURCES,
  type DownItem,
  type DownResult,
  type StackDetails,
  type StackPlan,
  type StackStatus,
  type StepStatus,
} from '../../providers/aws/stack/stack.js';
import type {
  FieldChange,
  JsonValue,
  PlanAction,
  ResourceKind,
  ResourcePlan,
} from '../../providers/aws/stack/types.js';
import type { TaskSecretSource } from '../../config/schema.js';
import { table, type Output } from '../output.js';

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
function actionMark(out: Output, action: PlanAction): string {
  const [text, colour] = MARKS[action];
  return out.color[colour](text.padEnd(11));
}

export function renderPlan(out: Output, plan: StackPlan, mode: 'plan' | 'up'): void {
  const heading = mode === 'plan' ? 'Plan' : plan.pending ? 'Applied' : 'Up to date';
  out.result(`${heading} for stack ${plan.stack} (${plan.region}, account ${plan.account}):\n`);
  const width = Math.max(...plan.resources.map((r) => title(r.kind).length));
  const lines: string[] = [];
  for (const r of plan.resources) {
    lines.push(`  ${actionMark(out, r.action)}  ${title(r.kind).padEnd(width)}  ${r.name}`);
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
  out.result(lines.join('\n'));
  const s = plan.summary;
  const parts =
    mode === 'plan'
      ? [`${s.create} to create`, `${s.update} to update`]
      : [`${s.create} created`, `${s.update} updated`];
  if (s.adopt) parts.push(mode === 'plan' ? `${s.adopt} to adopt` : `${s.adopt} adopted`);
  if (s.notOwned) parts.push(`${s.notOwned} not owned`);
  parts.push(`${s.unchanged} unchanged`);
  const label = mode === 'plan' ? (plan.pending ? 'Plan' : 'No changes') : 'Done';
  out.result(`\n${label}: ${parts.join(', ')}.`);
}

export function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}

export function downPreview(out: Output, items: readonly DownItem[]): string {
  return items
    .map((i) => {
      const mark =
        i.action === 'delete'
          ? out.color.red('- delete')
          : i.action === 'absent'
            ? out.color.dim('  absent')
            : out.color.yellow('  leave ');
      return `  ${mark}  ${title(i.kind)}  ${i.name}${i.note ? `  (${i.note})` : ''}`;
    })
    .join('\n');
}

export function renderDown(out: Output, result: DownResult): void {
  const rows = result.resources.map((r) => [
    title(r.kind),
    r.name,
    r.result === 'deleted'
      ? out.color.green('deleted')
      : r.result === 'left'
        ? out.color.yellow("left (not berth's)")
        : out.color.dim('absent'),
    r.note ?? '',
  ]);
  out.result(table(['RESOURCE', 'NAME', 'RESULT', 'NOTE'], rows));
  out.result(
    result.deleted > 0
      ? `\nStack ${result.stack}: ${result.deleted} resource(s) deleted. The VPC, security groups and secret were not touched.`
      : `\nStack ${result.stack}: nothing to delete.`,
  );
}

function statusMark(out: Output, status: StepStatus): string {
  const c = out.color;
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

export function renderStackStatus(out: Output, status: StackStatus): void {
  out.result(`Stack ${status.stack} in ${status.region} (account ${status.account})\n`);
  out.result(
    table(
      ['STEP', 'WHAT', 'STATUS', 'RESOURCES'],
      status.steps.map((s) => [
        String(s.seedStep),
        s.title,
        statusMark(out, s.status),
        stepDetail(s.resources),
      ]),
    ),
  );
  if (status.drifted) out.result('\n`berth plan` shows the differences; `berth up` fixes them.');
}

const SOURCE_TITLES: Record<TaskSecretSource, string> = {
  secretsmanager: 'Secrets Manager',
  ssm: 'Parameter Store',
};

export function renderShow(out: Output, details: StackDetails): void {
  const c = out.color;
  const lines = [
    `Stack ${details.stack} in ${details.region}${details.account ? ` (account ${details.account})` : ''}`,
    '',
  ];
  const p = details.prerequisites;
  // One column for the values, as wide as the longest label and a space.
  const label = (text: string) => text.padEnd('database security group '.length);
  lines.push(c.bold('Prerequisites (read only)'));
  lines.push(
    `  ${label('secret')}${p.secret.name}${p.secret.arn ? `  ${p.secret.arn}` : c.yellow('  (not found)')}`,
  );
  lines.push(
    `  ${label('backend security group')}${p.backendSecurityGroup.ref ?? '-'}${p.backendSecurityGroup.id ? `  ${p.backendSecurityGroup.id} in ${p.backendSecurityGroup.vpcId ?? '?'}` : c.yellow('  (not found)')}`,
  );
  lines.push(
    `  ${label('database security group')}${p.databaseSecurityGroup.ref ?? '-'}${p.databaseSecurityGroup.id ? `  ${p.databaseSecurityGroup.id}` : c.yellow('  (not found)')}`,
  );
  lines.push(`  ${label('subnets')}${p.subnets.join(', ') || '-'}`);
  for (const t of p.taskSecrets) {
    const where = `${SOURCE_TITLES[t.source]} ${t.ref}${t.key ? ` (key ${t.key})` : ''}`;
    const problem = p.problems.find((x) => x.path === `task.secrets.${t.name}`);
    const arn = t.arn
      ? t.arn === t.ref
        ? ''
        : `  ${t.arn}`
      : problem
        ? c.yellow(`  (${problem.message})`)
        : c.dim('  (not resolved)');
    lines.push(`  ${label('task secret')}${t.name}: ${where}${arn}`);
  }
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
  out.result(lines.join('\n'));
}

export function renderCiPolicy(out: Output, policyName: string, policy: unknown): void {
  out.result(JSON.stringify(policy, null, 2));
  out.note(
    `Attach this as "${policyName}" to the role CI assumes (see \`berth iam github-oidc\`), e.g.\n` +
      `  berth iam ci-policy > ci-policy.json\n` +
      `  aws iam put-role-policy --role-name <ci-role> --policy-name ${policyName} --policy-document file://ci-policy.json`,
  );
}

export function renderOidcTrust(out: Output, repo: string, trustPolicy: unknown): void {
  out.result(JSON.stringify(trustPolicy, null, 2));
  out.note(
    'Create the role GitHub Actions assumes (once per account, the OIDC provider first):\n' +
      `  aws iam create-open-id-connect-provider --url https://token.actions.githubusercontent.com --client-id-list sts.amazonaws.com\n` +
      `  berth iam github-oidc --repo ${repo} > trust.json\n` +
      '  aws iam create-role --role-name <ci-role> --assume-role-policy-document file://trust.json\n' +
      'then use aws-actions/configure-aws-credentials with role-to-assume instead of AWS_ACCESS_KEY_ID secrets.',
  );
}
