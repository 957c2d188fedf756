/**
 * What the two task roles share: a trust policy, a set of managed policies, a set of inline
 * policies, tags. berth is authoritative on a role it owns: managed or inline policies
 * somebody else added are shown as drift and removed by `up` (least privilege).
 */
import type { IamApi, IamRole } from '../api/iam-api.js';
import type { Tags } from '../api/types.js';
import type { Config } from '../../../config/schema.js';
import { decide, fieldChange, has, sortedStrings, tagChanges, tagsToSet } from './diff.js';
import { parsePolicy, policyText, samePolicy, type PolicyDocument } from './policies.js';
import { isOwned } from './tags.js';
import type {
  FieldChange,
  JsonValue,
  ResourceDefinition,
  ResourceKind,
  ResourcePlan,
  ResourceState,
  StackOutputs,
  StackSpec,
} from './types.js';

export interface RoleDesired {
  name: string;
  description: string;
  trustPolicy: PolicyDocument;
  managedPolicyArns: string[];
  inlinePolicies: Record<string, PolicyDocument>;
  tags: Tags;
}

export interface RoleActual {
  role: IamRole;
  managedPolicyArns: string[];
  inlinePolicyNames: string[];
  /** Documents of the inline policies berth manages (by name), parsed. */
  inlinePolicies: Record<string, JsonValue>;
}

/** GetRole, ListAttachedRolePolicies, ListRolePolicies and GetRolePolicy run in parallel. */
export async function readRole(
  iam: IamApi,
  name: string,
  inlineNames: readonly string[],
): Promise<RoleActual | undefined> {
  const [role, managedPolicyArns, inlinePolicyNames, ...documents] = await Promise.all([
    iam.getRole(name),
    iam.listAttachedPolicyArns(name),
    iam.listInlinePolicyNames(name),
    ...inlineNames.map((policy) => iam.getInlinePolicy(name, policy)),
  ]);
  if (!role) return undefined;
  const inlinePolicies: Record<string, JsonValue> = {};
  inlineNames.forEach((policy, i) => {
    const text = documents[i];
    if (text !== undefined) inlinePolicies[policy] = parsePolicy(text);
  });
  return { role, managedPolicyArns, inlinePolicyNames, inlinePolicies };
}

export function diffRole(
  kind: ResourceKind,
  actual: RoleActual | undefined,
  desired: RoleDesired,
  app: string,
  adopt: boolean,
): ResourcePlan {
  const changes: FieldChange[] = [];
  const trust = actual ? parsePolicy(actual.role.assumeRolePolicy) : undefined;
  if (!actual || !samePolicy(trust ?? null, desired.trustPolicy)) {
    changes.push(...fieldChange('trustPolicy', trust, desired.trustPolicy as unknown as JsonValue));
  }
  changes.push(
    ...fieldChange(
      'managedPolicies',
      actual ? sortedStrings(actual.managedPolicyArns) : undefined,
      sortedStrings(desired.managedPolicyArns),
    ),
  );
  const names = new Set([
    ...Object.keys(desired.inlinePolicies),
    ...(actual?.inlinePolicyNames ?? []),
  ]);
  for (const policy of [...names].sort()) {
    const want = desired.inlinePolicies[policy];
    const present = actual?.inlinePolicyNames.includes(policy) ?? false;
    if (!want) {
      changes.push({
        field: `inlinePolicies.${policy}`,
        actual: 'present',
        desired: null,
        note: 'not configured in berth.yaml',
      });
      continue;
    }
    const doc = present ? (actual?.inlinePolicies[policy] ?? null) : null;
    if (!present || !samePolicy(doc, want))
      changes.push(...fieldChange(`inlinePolicies.${policy}`, doc, want as unknown as JsonValue));
  }
  changes.push(...tagChanges(actual?.role.tags ?? {}, desired.tags));
  return decide(
    kind,
    desired.name,
    { exists: Boolean(actual), owned: actual ? isOwned(actual.role.tags, app) : false, adopt },
    changes,
  );
}

export async function applyRole(
  iam: IamApi,
  plan: ResourcePlan,
  actual: RoleActual | undefined,
  desired: RoleDesired,
  log: (text: string) => void,
): Promise<IamRole> {
  let role: IamRole;
  const attached = new Set(actual?.managedPolicyArns ?? []);
  if (plan.action === 'create' || !actual) {
    log(`creating IAM role ${desired.name}`);
    role = await iam.createRole({
      name: desired.name,
      assumeRolePolicy: policyText(desired.trustPolicy),
      description: desired.description,
      tags: desired.tags,
    });
  } else {
    role = actual.role;
    if (has(plan, 'trustPolicy')) {
      log(`IAM role ${desired.name}: trust policy`);
      await iam.updateAssumeRolePolicy(desired.name, policyText(desired.trustPolicy));
    }
    const tags = tagsToSet(plan.changes, desired.tags);
    if (Object.keys(tags).length > 0) {
      log(`IAM role ${desired.name}: tagging (${Object.keys(tags).join(', ')})`);
      await iam.tagRole(desired.name, tags);
    }
  }
  for (const arn of desired.managedPolicyArns) {
    if (attached.has(arn)) continue;
    log(`IAM role ${desired.name}: attaching ${arn.split('/').pop() ?? arn}`);
    await iam.attachPolicy(desired.name, arn);
  }
  for (const arn of attached) {
    if (desired.managedPolicyArns.includes(arn)) continue;
    log(`IAM role ${desired.name}: detaching ${arn} (not in berth.yaml)`);
    await iam.detachPolicy(desired.name, arn);
  }
  for (const change of plan.changes) {
    if (!change.field.startsWith('inlinePolicies.')) continue;
    const policy = change.field.slice('inlinePolicies.'.length);
    const want = desired.inlinePolicies[policy];
    if (want) {
      log(`IAM role ${desired.name}: inline policy ${policy}`);
      await iam.putInlinePolicy(desired.name, policy, policyText(want));
    } else {
      log(`IAM role ${desired.name}: deleting inline policy ${policy} (not in berth.yaml)`);
      await iam.deleteInlinePolicy(desired.name, policy);
    }
  }
  return role;
}

/** IAM refuses to delete a role with policies: detach and delete those first. */
export async function destroyRole(
  iam: IamApi,
  name: string,
  log: (text: string) => void,
): Promise<void> {
  const [attached, inline] = await Promise.all([
    iam.listAttachedPolicyArns(name),
    iam.listInlinePolicyNames(name),
  ]);
  for (const arn of attached) await iam.detachPolicy(name, arn);
  for (const policy of inline) await iam.deleteInlinePolicy(name, policy);
  log(`deleting IAM role ${name}`);
  await iam.deleteRole(name);
}

export interface RoleResourceOptions {
  kind: 'execution-role' | 'task-role';
  title: string;
  name(config: Config): string;
  /** Names of the inline policies berth manages on this role (known without the refs). */
  inlinePolicyNames: readonly string[];
  desired(spec: StackSpec): RoleDesired;
  outputs(role: IamRole): StackOutputs;
}

export function roleResource(options: RoleResourceOptions): ResourceDefinition {
  return {
    kind: options.kind,
    title: options.title,
    step: 'iam-roles',
    dependsOn: [],
    name: (config) => options.name(config),
    async load(env): Promise<ResourceState> {
      const name = options.name(env.config);
      const { iam } = env.clients;
      const actual = await readRole(iam, name, options.inlinePolicyNames);
      return {
        kind: options.kind,
        name,
        exists: Boolean(actual),
        owned: actual ? isOwned(actual.role.tags, env.config.app) : false,
        plan: (spec, _upstream, adopt) =>
          diffRole(options.kind, actual, options.desired(spec), spec.config.app, adopt),
        async apply(plan, spec, _upstream, log) {
          return options.outputs(await applyRole(iam, plan, actual, options.desired(spec), log));
        },
        outputs: () => (actual ? options.outputs(actual.role) : {}),
        async destroy(log) {
          await destroyRole(iam, name, log);
          return undefined;
        },
        details: () =>
          Promise.resolve(
            actual
              ? {
                  name: actual.role.name,
                  arn: actual.role.arn,
                  managedPolicies: actual.managedPolicyArns,
                  inlinePolicies: actual.inlinePolicyNames,
                }
              : null,
          ),
      };
    },
  };
}
