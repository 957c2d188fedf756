/**
 * Step 3 of the seed (update-security-groups-ecs.sh): rules on two EXISTING security groups
 * so the tasks reach the database and AWS's endpoints:
 *  - backend egress TCP <databasePort> to the database group
 *  - database ingress TCP <databasePort> from the backend group
 *  - backend egress TCP 443 to 0.0.0.0/0 (ECR, Secrets Manager, Parameter Store, CloudWatch Logs)
 * The groups are prerequisites and never change otherwise. berth's rules carry its tags and
 * the description "managed-by berth <app>"; `down` revokes exactly those.
 */
import type { Ec2Api, RuleSpec, SecurityGroupRule } from '../api/ec2-api.js';
import type { Tags } from '../api/types.js';
import { decide } from './diff.js';
import { isOwned, ownershipTags, ruleDescription } from './tags.js';
import type {
  FieldChange,
  ResourceDefinition,
  ResourcePlan,
  ResourceState,
  StackOutputs,
  StackRefs,
  StackSpec,
} from './types.js';

export interface RulesDesired {
  name: string;
  rules: RuleSpec[];
  tags: Tags;
}

export interface RulesActual {
  /** Rules carrying berth's tags for this stack, wherever they are. */
  owned: SecurityGroupRule[];
  /** Every rule of the two configured groups (when they could be resolved). */
  inGroups: SecurityGroupRule[];
}

export function rulesResourceName(
  backend: string | undefined,
  database: string | undefined,
): string {
  return `${backend ?? '?'} → ${database ?? '?'}`;
}

/** The three rules, from the resolved group IDs. */
export function ruleSpecs(refs: StackRefs, port: number, app: string): RuleSpec[] {
  const backend = refs.backendGroup.id;
  const database = refs.databaseGroup.id;
  const description = ruleDescription(app);
  return [
    {
      groupId: backend,
      direction: 'egress',
      protocol: 'tcp',
      fromPort: port,
      toPort: port,
      referencedGroupId: database,
      description,
    },
    {
      groupId: database,
      direction: 'ingress',
      protocol: 'tcp',
      fromPort: port,
      toPort: port,
      referencedGroupId: backend,
      description,
    },
    {
      groupId: backend,
      direction: 'egress',
      protocol: 'tcp',
      fromPort: 443,
      toPort: 443,
      cidrIpv4: '0.0.0.0/0',
      description,
    },
  ];
}

export function desiredRules(spec: StackSpec): RulesDesired {
  const { refs, config } = spec;
  return {
    name: rulesResourceName(
      config.network.backendSecurityGroup,
      config.network.databaseSecurityGroup,
    ),
    rules: ruleSpecs(refs, config.network.databasePort, config.app),
    tags: spec.tags,
  };
}

export async function readRules(
  ec2: Ec2Api,
  app: string,
  refs: StackRefs | undefined,
): Promise<RulesActual> {
  const groupIds = refs ? [...new Set([refs.backendGroup.id, refs.databaseGroup.id])] : [];
  const [owned, inGroups] = await Promise.all([
    ec2.describeSecurityGroupRules({ tags: ownershipTags(app) }),
    groupIds.length > 0 ? ec2.describeSecurityGroupRules({ groupIds }) : Promise.resolve([]),
  ]);
  return { owned: owned.filter((r) => isOwned(r.tags, app)), inGroups };
}

/** Rules are equal when they allow the same traffic; descriptions and tags do not count. */
export function ruleKey(
  rule: Pick<
    SecurityGroupRule,
    'groupId' | 'direction' | 'protocol' | 'fromPort' | 'toPort' | 'cidrIpv4' | 'referencedGroupId'
  >,
): string {
  return [
    rule.groupId,
    rule.direction,
    rule.protocol,
    rule.fromPort,
    rule.toPort,
    rule.cidrIpv4 ?? '',
    rule.referencedGroupId ?? '',
  ].join('|');
}

export function ruleLabel(
  rule: Pick<
    SecurityGroupRule,
    'groupId' | 'direction' | 'protocol' | 'fromPort' | 'toPort' | 'cidrIpv4' | 'referencedGroupId'
  >,
): string {
  const ports =
    rule.fromPort === rule.toPort ? `${rule.fromPort}` : `${rule.fromPort}-${rule.toPort}`;
  const peer = rule.cidrIpv4 ?? rule.referencedGroupId ?? '?';
  return rule.direction === 'egress'
    ? `${rule.groupId} egress ${rule.protocol}/${ports} to ${peer}`
    : `${rule.groupId} ingress ${rule.protocol}/${ports} from ${peer}`;
}

export interface RulesAnalysis {
  /** Desired rules with no matching rule at all. */
  missing: RuleSpec[];
  /** Desired rules that exist but without berth's tags (someone else's, e.g. the seed's script). */
  unowned: SecurityGroupRule[];
  /** berth's rules that berth.yaml no longer asks for. */
  extra: SecurityGroupRule[];
}

export function analyseRules(
  actual: RulesActual,
  desired: RulesDesired,
  app: string,
): RulesAnalysis {
  const byKey = new Map<string, SecurityGroupRule[]>();
  for (const rule of [...actual.owned, ...actual.inGroups]) {
    const list = byKey.get(ruleKey(rule)) ?? [];
    if (!list.some((r) => r.id === rule.id)) list.push(rule);
    byKey.set(ruleKey(rule), list);
  }
  const wanted = new Set(desired.rules.map(ruleKey));
  const missing: RuleSpec[] = [];
  const unowned: SecurityGroupRule[] = [];
  for (const spec of desired.rules) {
    const matches = byKey.get(ruleKey(spec)) ?? [];
    if (matches.length === 0) missing.push(spec);
    else if (!matches.some((r) => isOwned(r.tags, app))) unowned.push(...matches);
  }
  const extra = actual.owned.filter((r) => !wanted.has(ruleKey(r)));
  return { missing, unowned, extra };
}

export function diffRules(
  actual: RulesActual,
  desired: RulesDesired,
  app: string,
  adopt: boolean,
): ResourcePlan {
  const { missing, unowned, extra } = analyseRules(actual, desired, app);
  const changes: FieldChange[] = [
    ...missing.map((r) => ({ field: `rule ${ruleLabel(r)}`, actual: null, desired: 'present' })),
    ...unowned.map((r) => ({
      field: `rule ${ruleLabel(r)}`,
      actual: `present without berth's tags (${r.id})`,
      desired: 'present, tagged',
      note: 'an identical rule exists that berth did not create; `up --adopt` tags it',
    })),
    ...extra.map((r) => ({
      field: `rule ${ruleLabel(r)}`,
      actual: `present (${r.id})`,
      desired: null,
    })),
  ];
  const exists = actual.owned.length > 0 || unowned.length > 0;
  const owned = unowned.length === 0 && actual.owned.length > 0;
  return decide('security-group-rules', desired.name, { exists, owned, adopt }, changes);
}

export async function applyRules(
  ec2: Ec2Api,
  actual: RulesActual,
  desired: RulesDesired,
  app: string,
  log: (text: string) => void,
): Promise<void> {
  const { missing, unowned, extra } = analyseRules(actual, desired, app);
  if (unowned.length > 0) {
    log(
      `security-group rules: tagging ${unowned.length} existing rule(s) as berth's (${unowned.map((r) => r.id).join(', ')})`,
    );
    await ec2.tagRules(
      unowned.map((r) => r.id),
      desired.tags,
    );
  }
  for (const rule of missing) {
    log(`security-group rule: ${ruleLabel(rule)}`);
    await ec2.authorizeRule(rule, desired.tags);
  }
  await revoke(ec2, extra, log);
}

async function revoke(
  ec2: Ec2Api,
  rules: SecurityGroupRule[],
  log: (text: string) => void,
): Promise<void> {
  const batches = new Map<string, SecurityGroupRule[]>();
  for (const rule of rules) {
    const key = `${rule.groupId}|${rule.direction}`;
    batches.set(key, [...(batches.get(key) ?? []), rule]);
  }
  for (const batch of batches.values()) {
    const first = batch[0];
    if (!first) continue;
    for (const r of batch) log(`revoking security-group rule ${ruleLabel(r)} (${r.id})`);
    await ec2.revokeRules(
      first.groupId,
      first.direction,
      batch.map((r) => r.id),
    );
  }
}

function outputs(refs: StackRefs | undefined): StackOutputs {
  return refs
    ? {
        BACKEND_SECURITY_GROUP_ID: refs.backendGroup.id,
        DATABASE_SECURITY_GROUP_ID: refs.databaseGroup.id,
      }
    : {};
}

export const securityGroupRules: ResourceDefinition = {
  kind: 'security-group-rules',
  title: 'security-group rules',
  step: 'security-group-rules',
  dependsOn: [],
  name: (config) =>
    rulesResourceName(config.network.backendSecurityGroup, config.network.databaseSecurityGroup),
  async load(env): Promise<ResourceState> {
    const { ec2 } = env.clients;
    const app = env.config.app;
    const actual = await readRules(ec2, app, env.refs);
    const name = rulesResourceName(
      env.config.network.backendSecurityGroup,
      env.config.network.databaseSecurityGroup,
    );
    const unownedOnly = env.refs
      ? analyseRules(
          actual,
          { name, rules: ruleSpecs(env.refs, env.config.network.databasePort, app), tags: {} },
          app,
        ).unowned
      : [];
    return {
      kind: 'security-group-rules',
      name,
      exists: actual.owned.length > 0 || unownedOnly.length > 0,
      owned: actual.owned.length > 0 && unownedOnly.length === 0,
      plan: (spec, _upstream, adopt) => diffRules(actual, desiredRules(spec), app, adopt),
      async apply(_plan, spec, _upstream, log) {
        await applyRules(ec2, actual, desiredRules(spec), app, log);
        return outputs(spec.refs);
      },
      outputs: () => outputs(env.refs),
      async destroy(log) {
        // Only berth's rules: identical-looking rules somebody else added stay.
        await revoke(ec2, actual.owned, log);
        return `${actual.owned.length} rule(s) revoked`;
      },
      details: () =>
        Promise.resolve({
          rules: actual.owned.map((r) => ({
            id: r.id,
            groupId: r.groupId,
            direction: r.direction,
            protocol: r.protocol,
            fromPort: r.fromPort,
            toPort: r.toPort,
            peer: r.cidrIpv4 ?? r.referencedGroupId ?? null,
            description: r.description ?? null,
          })),
        }),
    };
  },
};
