/**
 * The stack as a library: plan, up, down, status and show over the seven resources. The
 * functions never print: they return data and emit `message` events to the reporter.
 *
 *   read (all resources in parallel) → plan (pure, per resource) → apply (dependency order)
 *
 * Prerequisites (secret, security groups) are resolved first and are never written.
 */
import {
  taskSecretRef,
  taskSecrets,
  type Config,
  type TaskSecretSource,
} from '../../../config/schema.js';
import { BerthError } from '../../../core/errors.js';
import { silentReporter, type Reporter } from '../../../core/events.js';
import type { AwsClients } from '../api/clients.js';
import { ecrRepository } from './ecr-repository.js';
import { ecsCluster } from './ecs-cluster.js';
import { executionRole } from './execution-role.js';
import { logGroup } from './log-group.js';
import { removeOutputs, sortedOutputs, writeOutputs, type OutputsPaths } from './outputs.js';
import { reverseTopologicalOrder, topologicalOrder } from './plan-engine.js';
import { assertReferences, resolveReferences } from './references.js';
import { securityGroupRules } from './security-group-rules.js';
import { stackTags } from './tags.js';
import { taskDefinition } from './task-definition.js';
import { taskRole } from './task-role.js';
import type {
  FieldChange,
  JsonValue,
  PlanAction,
  ResourceDefinition,
  ResourceKind,
  ResourcePlan,
  ResourceState,
  StackOutputs,
  StackRefs,
  StackSpec,
  StatusStep,
} from './types.js';

/** Declaration order = the seed's order; the graph only adds constraints. */
export const STACK_RESOURCES: readonly ResourceDefinition[] = [
  ecrRepository,
  ecsCluster,
  logGroup,
  executionRole,
  taskRole,
  securityGroupRules,
  taskDefinition,
];

export const STATUS_STEPS: readonly { step: StatusStep; title: string; seedStep: number }[] = [
  { step: 'ecr', title: 'ECR repository', seedStep: 2 },
  { step: 'ecs-cluster', title: 'ECS cluster and log group', seedStep: 3 },
  { step: 'iam-roles', title: 'IAM roles', seedStep: 3 },
  { step: 'security-group-rules', title: 'Security-group rules', seedStep: 3 },
  { step: 'task-definition', title: 'Task definition', seedStep: 4 },
];

export interface StackOptions {
  clients: AwsClients;
  config: Config;
  region: string;
  /** berth.yaml's path, for messages. */
  configFile?: string;
  reporter?: Reporter;
  /** Where `up` writes outputs.env/outputs.json and `down` removes them; omitted: no files. */
  outputsDir?: string;
  now?: () => Date;
}

export interface PlanSummary {
  create: number;
  update: number;
  delete: number;
  adopt: number;
  notOwned: number;
  unchanged: number;
}

export interface StackPlan {
  stack: string;
  region: string;
  account: string;
  /** In `up` order. */
  resources: ResourcePlan[];
  summary: PlanSummary;
  /** Anything other than no-change. */
  pending: boolean;
}

export interface UpResult extends StackPlan {
  outputs: StackOutputs;
  /** Written files (absent when no outputsDir was given). */
  outputsFiles?: OutputsPaths;
}

export type DownAction = 'delete' | 'absent' | 'not-owned';

export interface DownItem {
  kind: ResourceKind;
  name: string;
  action: DownAction;
  note?: string;
}

export interface DownResult {
  stack: string;
  region: string;
  /** In `down` order (reverse dependency order). */
  resources: (DownItem & { result: 'deleted' | 'absent' | 'left' })[];
  deleted: number;
  outputsRemoved?: OutputsPaths;
}

export type StepStatus = 'COMPLETED' | 'NOT STARTED' | 'DRIFTED';

export interface StatusStepResult {
  step: StatusStep;
  title: string;
  seedStep: number;
  status: StepStatus;
  resources: ResourcePlan[];
}

export interface StackStatus {
  stack: string;
  region: string;
  account: string;
  steps: StatusStepResult[];
  drifted: boolean;
}

export interface ShowResource {
  kind: ResourceKind;
  title: string;
  name: string;
  exists: boolean;
  owned: boolean;
  details: Record<string, JsonValue> | null;
}

export interface StackDetails {
  stack: string;
  region: string;
  account: string | null;
  prerequisites: {
    secret: { name: string; arn: string | null };
    backendSecurityGroup: { ref: string | null; id: string | null; vpcId: string | null };
    databaseSecurityGroup: { ref: string | null; id: string | null; vpcId: string | null };
    subnets: string[];
    /** task.secrets, sorted by name: where each comes from, and its ARN when found. */
    taskSecrets: ShowTaskSecret[];
    problems: { path: string; message: string }[];
  };
  resources: ShowResource[];
}

export interface ShowTaskSecret {
  /** The environment variable. */
  name: string;
  source: TaskSecretSource;
  /** The secret's or parameter's name or ARN, as berth.yaml gives it. */
  ref: string;
  /** The secret's JSON key, if one is named. */
  key?: string;
  arn: string | null;
}

interface Loaded {
  def: ResourceDefinition;
  state: ResourceState;
}

function messenger(o: StackOptions) {
  const reporter = o.reporter ?? silentReporter;
  return {
    info: (text: string) => reporter.emit({ type: 'message', level: 'info', text }),
    warn: (text: string) => reporter.emit({ type: 'message', level: 'warn', text }),
  };
}

async function loadAll(
  o: StackOptions,
  refs: StackRefs | undefined,
  order: readonly ResourceDefinition[],
): Promise<Loaded[]> {
  // Reads only, and independent: all at once.
  return Promise.all(
    order.map(async (def) => ({
      def,
      state: await def.load({
        clients: o.clients,
        config: o.config,
        region: o.region,
        ...(refs ? { refs } : {}),
      }),
    })),
  );
}

function baseOutputs(config: Config, region: string, refs: StackRefs): StackOutputs {
  return {
    AWS_REGION: region,
    AWS_ACCOUNT_ID: refs.account,
    VPC_ID: refs.backendGroup.vpcId,
    PRIVATE_SUBNET_IDS: config.network.subnets.join(','),
    DB_SECRET_NAME: refs.secret.name,
    DB_SECRET_ARN: refs.secret.arn,
  };
}

function summarise(plans: readonly ResourcePlan[]): PlanSummary {
  const count = (a: PlanAction) => plans.filter((p) => p.action === a).length;
  return {
    create: count('create'),
    update: count('update'),
    delete: count('delete'),
    adopt: count('adopt'),
    notOwned: count('not-owned'),
    unchanged: count('no-change'),
  };
}

interface Prepared {
  spec: StackSpec;
  loaded: Loaded[];
  plans: ResourcePlan[];
  plan: StackPlan;
}

async function prepare(o: StackOptions, adopt: boolean): Promise<Prepared> {
  const log = messenger(o);
  const resolved = await resolveReferences(o.clients, o.config, o.region);
  for (const w of resolved.warnings) log.warn(w);
  const refs = assertReferences(resolved, o.configFile ?? 'berth.yaml');
  const spec: StackSpec = { config: o.config, region: o.region, refs, tags: stackTags(o.config) };
  const loaded = await loadAll(o, refs, topologicalOrder(STACK_RESOURCES));
  let upstream = baseOutputs(o.config, o.region, refs);
  const plans: ResourcePlan[] = [];
  for (const { state } of loaded) {
    plans.push(state.plan(spec, upstream, adopt));
    upstream = { ...upstream, ...state.outputs() };
  }
  const summary = summarise(plans);
  return {
    spec,
    loaded,
    plans,
    plan: {
      stack: o.config.app,
      region: o.region,
      account: refs.account,
      resources: plans,
      summary,
      pending: plans.some((p) => p.action !== 'no-change'),
    },
  };
}

/** What `up` would do. Read calls only. */
export async function planStack(
  o: StackOptions,
  options: { adopt?: boolean } = {},
): Promise<StackPlan> {
  return (await prepare(o, options.adopt ?? false)).plan;
}

function notOwnedError(plans: readonly ResourcePlan[]): BerthError {
  const names = plans.map((p) => `${p.kind} ${p.name}`);
  return new BerthError(
    'AWS_RESOURCE_NOT_OWNED',
    `these already exist and were not created by berth for this stack: ${names.join('; ')}`,
    {
      hint: 'berth leaves them alone; run `berth up --adopt` to take them over (berth tags them and makes them match berth.yaml), or rename them in berth.yaml. Nothing was changed.',
      details: { resources: plans.map((p) => ({ kind: p.kind, name: p.name })) },
    },
  );
}

/** Creates or updates the stack in dependency order. A stack that matches berth.yaml makes no write call. */
export async function upStack(
  o: StackOptions,
  options: { adopt?: boolean } = {},
): Promise<UpResult> {
  const log = messenger(o);
  const { spec, loaded, plans, plan } = await prepare(o, options.adopt ?? false);
  const blocked = plans.filter((p) => p.action === 'not-owned');
  if (blocked.length > 0) throw notOwnedError(blocked);

  let outputs = baseOutputs(o.config, o.region, spec.refs);
  for (const [i, { def, state }] of loaded.entries()) {
    const resourcePlan = plans[i];
    if (!resourcePlan) continue;
    if (resourcePlan.action === 'no-change') {
      outputs = { ...outputs, ...state.outputs() };
      continue;
    }
    outputs = { ...outputs, ...(await state.apply(resourcePlan, spec, outputs, log.info)) };
    for (const change of resourcePlan.changes.filter((c: FieldChange) => c.immutable)) {
      log.warn(
        `${def.title} ${resourcePlan.name}: ${change.field} not changed: ${change.note ?? 'it cannot change in place'}`,
      );
    }
  }
  const result: UpResult = { ...plan, outputs: sortedOutputs(outputs) };
  if (o.outputsDir)
    result.outputsFiles = await writeOutputs(
      o.outputsDir,
      o.config.app,
      outputs,
      (o.now ?? (() => new Date()))(),
    );
  return result;
}

export interface DownOptions {
  /** Called with what would be deleted (only when something would be); throw to abort. */
  confirm?: (items: readonly DownItem[]) => Promise<void>;
}

/** Deletes berth's resources in reverse dependency order; an absent stack is not an error. */
export async function downStack(o: StackOptions, options: DownOptions = {}): Promise<DownResult> {
  const log = messenger(o);
  // No prerequisites needed: everything is found by name and berth's tags.
  const loaded = await loadAll(o, undefined, reverseTopologicalOrder(STACK_RESOURCES));
  const items: (DownItem & { state: ResourceState })[] = [];
  for (const { state } of loaded) {
    const action: DownAction = !state.exists ? 'absent' : state.owned ? 'delete' : 'not-owned';
    let note: string | undefined;
    if (action === 'not-owned') note = 'not created by berth for this stack: left in place';
    if (action === 'delete' && state.kind === 'ecr-repository') {
      const count = (await state.details())?.imageCount;
      if (typeof count === 'number') note = `${count} image(s) deleted with it`;
    }
    items.push({ kind: state.kind, name: state.name, action, ...(note ? { note } : {}), state });
  }
  const toDelete = items.filter((i) => i.action === 'delete');
  // Refuse before deleting anything rather than stop half-way.
  for (const item of toDelete) {
    const blocker = item.state.destroyBlocker?.();
    if (blocker) throw blocker;
  }
  if (toDelete.length > 0 && options.confirm)
    await options.confirm(items.map(({ state: _state, ...item }) => item));

  const resources: DownResult['resources'] = [];
  for (const { state, ...item } of items) {
    if (item.action !== 'delete') {
      resources.push({ ...item, result: item.action === 'absent' ? 'absent' : 'left' });
      continue;
    }
    const note = await state.destroy(log.info);
    resources.push({
      ...item,
      ...(note ? { note: item.note ? `${item.note}; ${note}` : note } : {}),
      result: 'deleted',
    });
  }
  const result: DownResult = {
    stack: o.config.app,
    region: o.region,
    resources,
    deleted: toDelete.length,
  };
  if (o.outputsDir) result.outputsRemoved = await removeOutputs(o.outputsDir);
  return result;
}

export function stepStatus(plans: readonly ResourcePlan[]): StepStatus {
  if (plans.length > 0 && plans.every((p) => p.action === 'no-change')) return 'COMPLETED';
  if (plans.every((p) => p.action === 'create')) return 'NOT STARTED';
  return 'DRIFTED';
}

/** One row per seed step, from live reads: COMPLETED, NOT STARTED or DRIFTED. */
export async function stackStatus(o: StackOptions): Promise<StackStatus> {
  const { loaded, plans, plan } = await prepare(o, false);
  const steps = STATUS_STEPS.map(({ step, title, seedStep }) => {
    const resources = plans.filter((_p, i) => loaded[i]?.def.step === step);
    return { step, title, seedStep, status: stepStatus(resources), resources };
  });
  return {
    stack: plan.stack,
    region: plan.region,
    account: plan.account,
    steps,
    drifted: steps.some((s) => s.status === 'DRIFTED'),
  };
}

/** Everything about the stack's resources, read live. Missing prerequisites are reported, not fatal. */
export async function showStack(o: StackOptions): Promise<StackDetails> {
  const resolved = await resolveReferences(o.clients, o.config, o.region);
  const loaded = await loadAll(o, resolved.refs, topologicalOrder(STACK_RESOURCES));
  const resources = await Promise.all(
    loaded.map(async ({ def, state }) => ({
      kind: def.kind,
      title: def.title,
      name: state.name,
      exists: state.exists,
      owned: state.owned,
      details: state.exists ? await state.details() : null,
    })),
  );
  const refs = resolved.refs;
  const net = o.config.network;
  return {
    stack: o.config.app,
    region: o.region,
    account: refs?.account ?? null,
    prerequisites: {
      secret: { name: o.config.database.secret.name, arn: refs?.secret.arn ?? null },
      backendSecurityGroup: {
        ref: net.backendSecurityGroup ?? null,
        id: refs?.backendGroup.id ?? null,
        vpcId: refs?.backendGroup.vpcId ?? null,
      },
      databaseSecurityGroup: {
        ref: net.databaseSecurityGroup ?? null,
        id: refs?.databaseGroup.id ?? null,
        vpcId: refs?.databaseGroup.vpcId ?? null,
      },
      subnets: net.subnets,
      taskSecrets: taskSecrets(o.config).map((s) => ({
        name: s.name,
        source: s.source,
        ref: taskSecretRef(s),
        ...(s.source === 'secretsmanager' && s.key ? { key: s.key } : {}),
        arn: resolved.taskSecretArns[s.name] ?? null,
      })),
      problems: resolved.problems,
    },
    resources,
  };
}
