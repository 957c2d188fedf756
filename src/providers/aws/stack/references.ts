/**
 * The prerequisites — the database secret, task.secrets' secrets and parameters, the private
 * subnets and the two security groups —
 * are read, never created or deleted. `plan`, `up` and every task run resolve them before
 * anything else, so a typo in berth.yaml is an AWS_REFERENCE_INVALID naming the field, before
 * any write (a subnet that does not exist would otherwise only surface when RunTask fails).
 */
import { taskSecrets, type Config, type TaskSecret } from '../../../config/schema.js';
import { BerthError } from '../../../core/errors.js';
import type { AwsClients } from '../api/clients.js';
import type { SecurityGroup, Subnet } from '../api/ec2-api.js';
import type { SecretDescription } from '../api/secrets-api.js';
import type { ParameterDescription } from '../api/ssm-api.js';
import type { ResolvedParameter, StackRefs } from './types.js';

export interface ReferenceProblem {
  /** The berth.yaml field. */
  path: string;
  message: string;
}

export interface ResolvedReferences {
  refs?: StackRefs;
  problems: ReferenceProblem[];
  warnings: string[];
  /** task.secrets NAME → the ARN its secret or parameter resolved to (found ones only). */
  taskSecretArns: Record<string, string>;
}

const GROUP_ID = /^sg-[0-9a-f]+$/;

/** `arn:partition:service:region:account:...` → [partition, account]. */
export function arnParts(arn: string): { partition: string; account: string } | undefined {
  const parts = arn.split(':');
  if (parts[0] !== 'arn' || parts.length < 6 || !parts[1] || !parts[4]) return undefined;
  return { partition: parts[1], account: parts[4] };
}

/**
 * A Parameter Store parameter's ARN. A hierarchical name's leading slash is not repeated:
 * `/app/token` → `arn:aws:ssm:us-east-1:123456789012:parameter/app/token`.
 */
export function parameterArn(
  partition: string,
  region: string,
  account: string,
  name: string,
): string {
  return `arn:${partition}:ssm:${region}:${account}:parameter/${name.replace(/^\//, '')}`;
}

const PARAMETER_ARN = /^arn:[^:]+:ssm:[^:]*:[^:]*:parameter\/(.+)$/;

/**
 * The parameter name a task.secrets `parameter` (a name or an ARN) or a container secret's
 * valueFrom stands for: `arn:…:parameter/app/token` → `/app/token` (a name with a slash starts
 * with one), `arn:…:parameter/token` → `token`; a name as it is.
 */
export function parameterName(ref: string): string {
  const path = PARAMETER_ARN.exec(ref)?.[1];
  if (!path) return ref;
  return path.includes('/') ? `/${path}` : path;
}

export function isParameterArn(ref: string): boolean {
  return PARAMETER_ARN.test(ref);
}

/** Each distinct secret task.secrets names, described once; a missing one is left out. */
async function describeTaskSecrets(
  clients: AwsClients,
  secrets: TaskSecret[],
): Promise<Map<string, SecretDescription>> {
  const refs = [
    ...new Set(secrets.flatMap((s) => (s.source === 'secretsmanager' ? [s.secret] : []))),
  ];
  const found = await Promise.all(refs.map((ref) => clients.secrets.describeSecret(ref)));
  const described = new Map<string, SecretDescription>();
  refs.forEach((ref, i) => {
    const description = found[i];
    if (description) described.set(ref, description);
  });
  return described;
}

/**
 * Each parameter task.secrets names, by the name or ARN berth.yaml gives; a missing one is
 * left out. One DescribeParameters call for all of them (none when there are none, so a
 * config without parameters never needs ssm:DescribeParameters).
 */
async function describeTaskParameters(
  clients: AwsClients,
  secrets: TaskSecret[],
): Promise<Map<string, ParameterDescription>> {
  const refs = [...new Set(secrets.flatMap((s) => (s.source === 'ssm' ? [s.parameter] : [])))];
  const described = new Map<string, ParameterDescription>();
  if (refs.length === 0) return described;
  const found = await clients.ssm.describeParameters([...new Set(refs.map(parameterName))]);
  // Parameter Store may give back `/x` for `x`: compare names with one leading slash.
  const key = (name: string) => `/${name.replace(/^\//, '')}`;
  for (const ref of refs) {
    const description = found.find((p) => key(p.name) === key(parameterName(ref)));
    if (description) described.set(ref, description);
  }
  return described;
}

/** One reference to check: where berth.yaml names it, and where to put what is wrong. */
interface ReferenceCheck {
  /** As berth.yaml writes it: a name or an ARN. */
  ref: string;
  /** The field, e.g. `task.secrets.API_TOKEN`. */
  path: string;
  /** The field that would name its customer KMS key. */
  kmsField: string;
  kmsKey: string | undefined;
  region: string;
  problems: ReferenceProblem[];
  warnings: string[];
}

/**
 * A secret berth.yaml names (the database's or one of task.secrets'): missing or scheduled for
 * deletion is a problem at `path`; encrypted with a customer KMS key that `kmsField` does not
 * name, a warning (the execution role could not decrypt it).
 */
function checkSecret(found: SecretDescription | undefined, options: ReferenceCheck): void {
  const { ref, path, kmsField, kmsKey, region, problems, warnings } = options;
  if (!found) {
    problems.push({ path, message: `no Secrets Manager secret named "${ref}" in ${region}` });
  } else if (found.deletedDate) {
    problems.push({ path, message: `secret "${ref}" is scheduled for deletion` });
  } else if (found.kmsKeyId && !kmsKey && !/alias\/aws\/secretsmanager$/.test(found.kmsKeyId)) {
    warnings.push(
      `the secret "${ref}" is encrypted with KMS key ${found.kmsKeyId}; set ${kmsField} to its ARN so the execution role may decrypt it`,
    );
  }
}

/**
 * A parameter berth.yaml names: missing, or named by an ARN of another region or account (berth
 * can only describe parameters where the stack is), is a problem at `path`; a SecureString
 * encrypted with a customer KMS key that `kmsField` does not name, a warning (the execution
 * role could not decrypt it), as for a secret.
 */
function checkParameter(found: ResolvedParameter | undefined, options: ReferenceCheck): void {
  const { ref, path, kmsField, kmsKey, region, problems, warnings } = options;
  if (!found) {
    problems.push({
      path,
      message: `no Parameter Store parameter named "${parameterName(ref)}" in ${region}`,
    });
  } else if (isParameterArn(ref) && ref !== found.arn) {
    problems.push({
      path,
      message: `${ref} is not in this stack's region and account (the parameter of that name here is ${found.arn}); berth describes parameters in ${region} only: name one there`,
    });
  } else if (
    found.type === 'SecureString' &&
    found.kmsKeyId &&
    !kmsKey &&
    !/alias\/aws\/ssm$/.test(found.kmsKeyId)
  ) {
    warnings.push(
      `the parameter "${found.name}" is encrypted with KMS key ${found.kmsKeyId}; set ${kmsField} to its ARN so the execution role may decrypt it`,
    );
  }
}

/** task.secrets with the ARN each resolved to (resolveReferences described every one). */
export function resolvedTaskSecrets(
  config: Config,
  refs: StackRefs,
): (TaskSecret & { arn: string })[] {
  return taskSecrets(config).map((s) => ({
    ...s,
    arn:
      s.source === 'ssm'
        ? (refs.taskParameters.get(s.parameter)?.arn ?? s.parameter)
        : (refs.taskSecrets.get(s.secret)?.arn ?? s.secret),
  }));
}

function describeGroup(g: SecurityGroup): string {
  return g.tags.Name ? `${g.id} (${g.tags.Name})` : `${g.id} (${g.groupName})`;
}

async function resolveGroups(
  clients: AwsClients,
  names: string[],
): Promise<Map<string, SecurityGroup[]>> {
  const ids = names.filter((n) => GROUP_ID.test(n));
  const tagged = names.filter((n) => !GROUP_ID.test(n));
  const [byId, byTag] = await Promise.all([
    ids.length ? clients.ec2.describeSecurityGroups({ ids }) : Promise.resolve([]),
    tagged.length ? clients.ec2.describeSecurityGroups({ nameTags: tagged }) : Promise.resolve([]),
  ]);
  const result = new Map<string, SecurityGroup[]>();
  for (const name of names) {
    result.set(
      name,
      GROUP_ID.test(name)
        ? byId.filter((g) => g.id === name)
        : byTag.filter((g) => g.tags.Name === name),
    );
  }
  // Not a Name tag? Maybe the group name (one more call, only on this path).
  const unmatched = tagged.filter((n) => (result.get(n) ?? []).length === 0);
  if (unmatched.length > 0) {
    const byGroupName = await clients.ec2.describeSecurityGroups({ groupNames: unmatched });
    for (const name of unmatched)
      result.set(
        name,
        byGroupName.filter((g) => g.groupName === name),
      );
  }
  return result;
}

export async function resolveReferences(
  clients: AwsClients,
  config: Config,
  region: string,
): Promise<ResolvedReferences> {
  const problems: ReferenceProblem[] = [];
  const warnings: string[] = [];
  const backendName = config.network.backendSecurityGroup;
  const databaseName = config.network.databaseSecurityGroup;
  const groupNames = [
    ...new Set([backendName, databaseName].filter((n): n is string => Boolean(n))),
  ];
  const subnetIds = [...new Set(config.network.subnets)];
  const appSecrets = taskSecrets(config);
  const [secret, groups, subnets, described, parameters] = await Promise.all([
    clients.secrets.describeSecret(config.database.secret.name),
    groupNames.length
      ? resolveGroups(clients, groupNames)
      : Promise.resolve(new Map<string, SecurityGroup[]>()),
    subnetIds.length ? clients.ec2.describeSubnets(subnetIds) : Promise.resolve([] as Subnet[]),
    describeTaskSecrets(clients, appSecrets),
    describeTaskParameters(clients, appSecrets),
  ]);

  checkSecret(secret, {
    ref: config.database.secret.name,
    path: 'database.secret.name',
    kmsField: 'database.secret.kmsKey',
    kmsKey: config.database.secret.kmsKey,
    region,
    problems,
    warnings,
  });
  const pick = (path: string, name: string | undefined): SecurityGroup | undefined => {
    if (!name) {
      problems.push({ path, message: 'required for the aws provider' });
      return undefined;
    }
    const found = groups.get(name) ?? [];
    if (found.length === 0) {
      problems.push({
        path,
        message: `no security group ${GROUP_ID.test(name) ? 'with ID' : 'with Name tag or name'} "${name}" in ${region}`,
      });
      return undefined;
    }
    if (found.length > 1) {
      problems.push({
        path,
        message: `"${name}" matches ${found.length} security groups (${found.map(describeGroup).join(', ')}); use the group ID`,
      });
      return undefined;
    }
    return found[0];
  };
  const backendGroup = pick('network.backendSecurityGroup', backendName);
  const databaseGroup = pick('network.databaseSecurityGroup', databaseName);
  // The tasks' network interface sits in these subnets with the backend group: one VPC.
  config.network.subnets.forEach((id, i) => {
    const path = `network.subnets[${i}]`;
    const subnet = subnets.find((s) => s.id === id);
    if (!subnet) problems.push({ path, message: `no subnet with ID "${id}" in ${region}` });
    else if (backendGroup && subnet.vpcId !== backendGroup.vpcId)
      problems.push({
        path,
        message: `subnet ${id} is in ${subnet.vpcId}, but the backend security group ${backendGroup.id} is in ${backendGroup.vpcId}; ECS tasks need both in one VPC`,
      });
  });
  if (backendGroup && databaseGroup && backendGroup.vpcId !== databaseGroup.vpcId) {
    warnings.push(
      `the backend group ${backendGroup.id} (${backendGroup.vpcId}) and the database group ${databaseGroup.id} (${databaseGroup.vpcId}) are in different VPCs`,
    );
  }
  const parts = secret ? arnParts(secret.arn) : undefined;
  if (secret && !parts)
    problems.push({
      path: 'database.secret.name',
      message: `Secrets Manager returned an unexpected ARN: ${secret.arn}`,
    });
  // A parameter's ARN: as Parameter Store gives it, else built in the stack's partition,
  // region and account (the database secret's ARN says which).
  const taskParameters = new Map<string, ResolvedParameter>();
  for (const [ref, p] of parameters) {
    const arn =
      p.arn ?? (parts ? parameterArn(parts.partition, region, parts.account, p.name) : '');
    if (arn) taskParameters.set(ref, { ...p, arn });
  }
  for (const entry of appSecrets) {
    const options = {
      path: `task.secrets.${entry.name}`,
      kmsField: `task.secrets.${entry.name}.kmsKey`,
      kmsKey: entry.kmsKey,
      region,
      problems,
      warnings,
    };
    if (entry.source === 'ssm') {
      // Without the account (no database secret), the ARN is unknown: that problem is reported.
      if (parameters.has(entry.parameter) && !taskParameters.has(entry.parameter)) continue;
      checkParameter(taskParameters.get(entry.parameter), { ref: entry.parameter, ...options });
    } else {
      checkSecret(described.get(entry.secret), { ref: entry.secret, ...options });
    }
  }
  const taskSecretArns: Record<string, string> = {};
  for (const entry of appSecrets) {
    const arn =
      entry.source === 'ssm'
        ? taskParameters.get(entry.parameter)?.arn
        : described.get(entry.secret)?.arn;
    if (arn && !problems.some((p) => p.path === `task.secrets.${entry.name}`))
      taskSecretArns[entry.name] = arn;
  }
  if (problems.length > 0 || !secret || !parts || !backendGroup || !databaseGroup)
    return { problems, warnings, taskSecretArns };
  return {
    refs: {
      account: parts.account,
      partition: parts.partition,
      secret,
      taskSecrets: described,
      taskParameters,
      backendGroup,
      databaseGroup,
    },
    problems,
    warnings,
    taskSecretArns,
  };
}

export function assertReferences(resolved: ResolvedReferences, file: string): StackRefs {
  if (resolved.refs) return resolved.refs;
  const lines = resolved.problems.map((p) => `  ${p.path}: ${p.message}`);
  throw new BerthError(
    'AWS_REFERENCE_INVALID',
    `berth.yaml refers to AWS resources that do not exist (${file}):\n${lines.join('\n')}`,
    {
      hint: 'berth reads these prerequisites but never creates them: check the names, the region (--region / aws.region) and the account; nothing was changed',
      details: { problems: resolved.problems },
    },
  );
}
