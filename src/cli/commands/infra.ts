/**
 * The stack commands: plan, up, down, show, and the IAM documents for CI. They work on
 * `provider.stack` (src/providers/aws/stack-operations.ts); this file parses, calls and
 * renders. They always talk to AWS (or to --endpoint-url), whatever berth.yaml's provider.
 */
import { BerthError } from '../../core/errors.js';
import { ExitCode } from '../../core/exit-codes.js';
import type { StackOperations } from '../../providers/aws/stack-operations.js';
import { confirmByTyping } from '../confirm.js';
import type { CommandDeps, Context } from '../context.js';
import {
  displayPath,
  downPreview,
  renderCiPolicy,
  renderDown,
  renderOidcTrust,
  renderPlan,
  renderShow,
} from '../render/stack.js';

/** @deprecated kept for callers of the old name: the same as CommandDeps. */
export type InfraDeps = CommandDeps;

async function openStack(
  ctx: Context,
  command: string,
  deps: CommandDeps,
): Promise<StackOperations> {
  const provider = await ctx.open(deps, 'aws');
  if (!provider.stack)
    throw new BerthError(
      'USAGE',
      `\`berth ${command}\` manages AWS infrastructure and works with the aws provider only`,
      { hint: 'drop `--provider local`; infra commands always talk to AWS (or to --endpoint-url)' },
    );
  return provider.stack;
}

/** `berth plan`: what `up` would change, per resource, with the fields that differ. */
export async function planCommand(
  ctx: Context,
  o: { detailedExitcode?: boolean; adopt?: boolean },
  deps: CommandDeps = {},
): Promise<number> {
  const plan = await (await openStack(ctx, 'plan', deps)).plan({ adopt: Boolean(o.adopt) });
  if (ctx.out.json) ctx.out.data(plan);
  else renderPlan(ctx.out, plan, 'plan');
  return o.detailedExitcode && plan.pending ? ExitCode.changesPending : ExitCode.ok;
}

/** `berth up`: create or update in dependency order; writes outputs.env and outputs.json. */
export async function upCommand(
  ctx: Context,
  o: { adopt?: boolean },
  deps: CommandDeps = {},
): Promise<number> {
  const result = await (await openStack(ctx, 'up', deps)).up({ adopt: Boolean(o.adopt) });
  if (ctx.out.json) ctx.out.data(result);
  else {
    renderPlan(ctx.out, result, 'up');
    if (result.outputsFiles)
      ctx.out.result(`\nOutputs: ${displayPath(result.outputsFiles.env)} (and outputs.json)`);
  }
  return ExitCode.ok;
}

/** `berth down`: berth's resources only, reverse order; asks for the stack name unless --yes. */
export async function downCommand(
  ctx: Context,
  o: { yes?: boolean },
  deps: CommandDeps = {},
): Promise<number> {
  const stack = await openStack(ctx, 'down', deps);
  const confirm = deps.confirm ?? confirmByTyping;
  const result = await stack.down({
    confirm: async (items) => {
      if (!o.yes)
        ctx.out.note(`berth down will delete, in this order:\n${downPreview(ctx.out, items)}`);
      const count = items.filter((i) => i.action === 'delete').length;
      await confirm(
        `Delete ${count} resource(s) of stack ${stack.name} in ${stack.region}?`,
        stack.name,
        Boolean(o.yes),
      );
    },
  });
  if (ctx.out.json) ctx.out.data(result);
  else renderDown(ctx.out, result);
  return ExitCode.ok;
}

/** `berth show`: URIs, ARNs, revision, CPU/memory, image count, retention. */
export async function showCommand(ctx: Context, deps: CommandDeps = {}): Promise<number> {
  const details = await (await openStack(ctx, 'show', deps)).show();
  if (ctx.out.json) ctx.out.data(details);
  else renderShow(ctx.out, details);
  return ExitCode.ok;
}

/** `berth iam ci-policy`: the least-privilege policy for the CI principal, as JSON. */
export async function iamCiPolicyCommand(
  ctx: Context,
  o: { account?: string } = {},
  deps: CommandDeps = {},
): Promise<number> {
  const stack = await openStack(ctx, 'iam ci-policy', deps);
  const { policyName, account, policy } = await stack.ciPolicy(o.account);
  if (ctx.out.json) ctx.out.data({ policyName, account, region: stack.region, policy });
  else renderCiPolicy(ctx.out, policyName, policy);
  return ExitCode.ok;
}

/** `berth iam github-oidc --repo OWNER/NAME`: the trust policy for a role GitHub Actions assumes. */
export async function iamGithubOidcCommand(
  ctx: Context,
  o: { repo: string; branch?: string; environment?: string; account?: string },
  deps: CommandDeps = {},
): Promise<number> {
  const stack = await openStack(ctx, 'iam github-oidc', deps);
  const { account, trustPolicy } = await stack.githubOidcTrust(o);
  if (ctx.out.json) ctx.out.data({ account, repo: o.repo, trustPolicy });
  else renderOidcTrust(ctx.out, o.repo, trustPolicy);
  return ExitCode.ok;
}
