/**
 * An in-memory AWS that implements the service interfaces berth uses — stateful, with the
 * rules real AWS enforces where berth relies on them (duplicate names, deleting a role that
 * still has policies, a deleted cluster staying INACTIVE, revision numbers that keep
 * counting after deregistration, duplicate security-group rules). It records every call
 * (service, method, read or write) so tests can assert "a second `up` makes zero writes",
 * and can deny actions or delay calls to exercise errors and parallel reads.
 *
 * Use: `const fake = createAwsFake(); ...; planStack({ clients: fake.clients, ... })`, or
 * pass `() => fake.clients` wherever an AwsClientsFactory is taken.
 */
import { BerthError, isBerthError } from '../../../core/errors.js';
import { toBerthError } from '../api/errors.js';
import type { AwsClients } from '../api/clients.js';
import type { Ec2Api, RuleSpec, SecurityGroup, SecurityGroupRule, Subnet } from '../api/ec2-api.js';
import type { EcrApi, EcrRepository } from '../api/ecr-api.js';
import type { EcsApi, EcsCluster, TaskDefinition } from '../api/ecs-api.js';
import type { IamApi, IamRole } from '../api/iam-api.js';
import type { LogGroup, LogsApi } from '../api/logs-api.js';
import type { SecretDescription, SecretsApi } from '../api/secrets-api.js';
import type { ParameterDescription, ParameterType, SsmApi } from '../api/ssm-api.js';
import type { StsApi } from '../api/sts-api.js';
import type { Tags } from '../api/types.js';
import { FakeTasks, type FakeClock, type FakeRunTaskHook } from './fake-tasks.js';

export { AWS_RATE_LIMITS } from './fake-tasks.js';
export type {
  FakeModel,
  FakeLimitedApi,
  FakeClock,
  FakeRunTaskHook,
  FakeTaskInfo,
  FakeTaskRun,
  FakeTaskScript,
} from './fake-tasks.js';

export type FakeService = keyof AwsClients;

export interface FakeCall {
  service: FakeService;
  method: string;
  write: boolean;
}

export interface AwsFakeOptions {
  account?: string;
  region?: string;
  /** Delay every call by this many milliseconds (to make parallelism measurable). */
  latencyMs?: number;
}

export interface FakeRepository {
  repository: EcrRepository;
  tags: Tags;
  lifecyclePolicy?: string;
  images: string[];
}

export interface FakeRole {
  role: IamRole;
  attached: string[];
  inline: Map<string, string>;
}

export interface FakeLogGroup {
  group: LogGroup;
  tags: Tags;
}

const READ_PREFIXES = ['describe', 'get', 'list', 'count'];

function fakeError(code: string, message: string, resource?: string): BerthError {
  return new BerthError('AWS_ERROR', `${code}: ${message}`, {
    details: { awsCode: code, ...(resource ? { resource } : {}) },
  });
}

const clone = <T>(value: T): T => structuredClone(value);

/**
 * Errors the SDK adapters give their own code and message to (api/errors.ts) get the same
 * here, so code above the API sees one error whichever is underneath.
 */
function asAdapterWould(error: unknown, service: string, method: string): unknown {
  const awsCode = isBerthError(error) ? error.details?.awsCode : undefined;
  if (!isBerthError(error) || awsCode !== 'ClusterNotFoundException') return error;
  const resource = error.details?.resource;
  return toBerthError(
    Object.assign(new Error(error.message.replace(`${awsCode}: `, '')), { name: awsCode }),
    { service, action: method, ...(typeof resource === 'string' ? { resource } : {}) },
  );
}

export class AwsFake {
  readonly account: string;
  readonly region: string;
  readonly partition = 'aws';
  /** Delay per call, in milliseconds; may be changed between steps. */
  latencyMs: number;

  readonly calls: FakeCall[] = [];
  /** Most calls in flight at once since the last resetCalls(). */
  peakConcurrency = 0;
  private inFlight = 0;
  private readonly denied = new Set<string>();
  private counter = 0;

  readonly repositories = new Map<string, FakeRepository>();
  readonly clusters = new Map<string, EcsCluster>();
  readonly taskDefinitions: TaskDefinition[] = [];
  readonly roles = new Map<string, FakeRole>();
  readonly logGroups = new Map<string, FakeLogGroup>();
  readonly subnets = new Map<string, Subnet>();
  readonly securityGroups = new Map<string, SecurityGroup>();
  readonly rules = new Map<string, SecurityGroupRule>();
  readonly secrets = new Map<string, SecretDescription>();
  /** Parameter Store parameters, by name (metadata only, like the secrets). */
  readonly parameters = new Map<string, ParameterDescription>();
  /** ECS tasks and their CloudWatch log streams, on a scriptable clock. */
  readonly ecsTasks: FakeTasks;

  readonly clients: AwsClients;

  constructor(options: AwsFakeOptions = {}) {
    this.account = options.account ?? '123456789012';
    this.region = options.region ?? 'us-east-1';
    this.latencyMs = options.latencyMs ?? 0;
    this.ecsTasks = new FakeTasks({
      account: this.account,
      region: this.region,
      partition: this.partition,
      clusters: this.clusters,
      taskDefinitions: this.taskDefinitions,
      hasLogGroup: (name) => this.logGroups.has(name),
    });
    this.clients = {
      ecr: this.instrument('ecr', this.ecrApi()),
      ecs: this.instrument('ecs', this.ecsApi()),
      iam: this.instrument('iam', this.iamApi()),
      logs: this.instrument('logs', this.logsApi()),
      ec2: this.instrument('ec2', this.ec2Api()),
      secrets: this.instrument('secrets', this.secretsApi()),
      ssm: this.instrument('ssm', this.ssmApi()),
      sts: this.instrument('sts', this.stsApi()),
    };
  }

  // ---- Test controls -------------------------------------------------------------------

  /** The clock task states and log delivery follow; tests advance it (see fake-tasks.ts). */
  get clock(): FakeClock {
    return this.ecsTasks.clock;
  }

  /** Scripts every task RunTask starts from now on (see FakeTaskScript). */
  onRunTask(hook: FakeRunTaskHook): void {
    this.ecsTasks.onRunTask(hook);
  }

  /** The next `count` RunTask calls answer with `failures[]` (capacity, by default). */
  failNextRunTasks(count?: number, reason?: string): void {
    this.ecsTasks.failNextRunTasks(count, reason);
  }

  /** Calls of one kind since the last resetCalls(). */
  writes(): FakeCall[] {
    return this.calls.filter((c) => c.write);
  }

  reads(): FakeCall[] {
    return this.calls.filter((c) => !c.write);
  }

  resetCalls(): void {
    this.calls.length = 0;
    this.peakConcurrency = 0;
  }

  /** Makes `service.method` (e.g. `iam.createRole`) fail with AWS_ACCESS_DENIED. */
  deny(call: `${FakeService}.${string}`): void {
    this.denied.add(call);
  }

  allow(call: `${FakeService}.${string}`): void {
    this.denied.delete(call);
  }

  /** A prerequisite: a Secrets Manager secret (metadata only; the fake holds no values). */
  addSecret(name: string, options: { kmsKeyId?: string } = {}): SecretDescription {
    const suffix = this.nextId(6);
    const secret: SecretDescription = {
      arn: `arn:${this.partition}:secretsmanager:${this.region}:${this.account}:secret:${name}-${suffix}`,
      name,
      ...(options.kmsKeyId ? { kmsKeyId: options.kmsKeyId } : {}),
    };
    this.secrets.set(name, secret);
    return clone(secret);
  }

  /**
   * A prerequisite: a Parameter Store parameter (metadata only; the fake holds no values). A
   * SecureString without `kmsKeyId` uses the AWS-managed key, `alias/aws/ssm`, as on AWS.
   */
  addParameter(
    name: string,
    options: { type?: ParameterType; kmsKeyId?: string } = {},
  ): ParameterDescription {
    const type = options.type ?? 'SecureString';
    const parameter: ParameterDescription = {
      name,
      // AWS's form: `parameter/path/name` (the name's leading slash is not doubled).
      arn: `arn:${this.partition}:ssm:${this.region}:${this.account}:parameter/${name.replace(/^\//, '')}`,
      type,
      ...(type === 'SecureString' ? { kmsKeyId: options.kmsKeyId ?? 'alias/aws/ssm' } : {}),
    };
    this.parameters.set(name, parameter);
    return clone(parameter);
  }

  /** A prerequisite: a subnet of a VPC. */
  addSubnet(options: { id?: string; vpcId?: string } = {}): Subnet {
    const subnet: Subnet = {
      id: options.id ?? `subnet-${this.nextId(17)}`,
      vpcId: options.vpcId ?? 'vpc-0fake',
    };
    this.subnets.set(subnet.id, subnet);
    return clone(subnet);
  }

  /** A prerequisite: a security group, with AWS's default allow-all egress rule. */
  addSecurityGroup(options: {
    name: string;
    nameTag?: string;
    vpcId?: string;
    id?: string;
  }): SecurityGroup {
    const id = options.id ?? `sg-${this.nextId(17)}`;
    const group: SecurityGroup = {
      id,
      groupName: options.name,
      vpcId: options.vpcId ?? 'vpc-0fake',
      tags: options.nameTag ? { Name: options.nameTag } : {},
    };
    this.securityGroups.set(id, group);
    this.addRule({
      groupId: id,
      direction: 'egress',
      protocol: '-1',
      fromPort: -1,
      toPort: -1,
      cidrIpv4: '0.0.0.0/0',
    });
    return clone(group);
  }

  /** Adds a rule directly (as another tool would), untagged unless tags are given. */
  addRule(rule: Omit<SecurityGroupRule, 'id' | 'tags'> & { tags?: Tags }): SecurityGroupRule {
    const created: SecurityGroupRule = {
      ...rule,
      id: `sgr-${this.nextId(17)}`,
      tags: rule.tags ?? {},
    };
    this.rules.set(created.id, created);
    return clone(created);
  }

  /** Pushes an image (a digest) into a repository, for image counts. */
  pushImage(repository: string, tag = 'latest'): void {
    const repo = this.repositories.get(repository);
    if (!repo)
      throw fakeError('RepositoryNotFoundException', `repository ${repository} does not exist`);
    repo.images.push(`sha256:${this.nextId(64)}@${tag}`);
  }

  /** A snapshot of the prerequisites (secrets, groups and the rules berth does not own), for "untouched" checks. */
  prerequisites(): unknown {
    return clone({
      secrets: [...this.secrets.values()],
      parameters: [...this.parameters.values()],
      subnets: [...this.subnets.values()],
      groups: [...this.securityGroups.values()],
      foreignRules: [...this.rules.values()].filter((r) => r.tags['managed-by'] !== 'berth'),
    });
  }

  // ---- Plumbing ------------------------------------------------------------------------

  private nextId(length: number): string {
    this.counter++;
    return this.counter.toString(16).padStart(length, '0').slice(-length);
  }

  private instrument<T extends object>(service: FakeService, api: T): T {
    const wrapped: Record<string, unknown> = {};
    for (const [method, fn] of Object.entries(api)) {
      if (typeof fn !== 'function') continue;
      const write = !READ_PREFIXES.some((p) => method.startsWith(p));
      wrapped[method] = async (...args: unknown[]) => {
        this.calls.push({ service, method, write });
        this.inFlight++;
        this.peakConcurrency = Math.max(this.peakConcurrency, this.inFlight);
        try {
          if (this.latencyMs > 0)
            await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
          if (this.denied.has(`${service}.${method}`)) {
            throw new BerthError(
              'AWS_ACCESS_DENIED',
              `access denied: ${service}:${method} (fake)`,
              { details: { action: `${service}:${method}` } },
            );
          }
          return clone(await (fn as (...a: unknown[]) => Promise<unknown>).apply(api, args));
        } catch (error) {
          throw asAdapterWould(error, service, method);
        } finally {
          this.inFlight--;
        }
      };
    }
    return wrapped as T;
  }

  private ecrApi(): EcrApi {
    const get = (name: string): FakeRepository => {
      const repo = this.repositories.get(name);
      if (!repo)
        throw fakeError(
          'RepositoryNotFoundException',
          `The repository with name '${name}' does not exist`,
          name,
        );
      return repo;
    };
    const byArn = (arn: string): FakeRepository => {
      const repo = [...this.repositories.values()].find((r) => r.repository.arn === arn);
      if (!repo) throw fakeError('InvalidParameterException', `no repository ${arn}`, arn);
      return repo;
    };
    return {
      describeRepository: (name) => Promise.resolve(this.repositories.get(name)?.repository),
      createRepository: (input) => {
        if (this.repositories.has(input.name))
          throw fakeError(
            'RepositoryAlreadyExistsException',
            `The repository with name '${input.name}' already exists`,
            input.name,
          );
        const repository: EcrRepository = {
          name: input.name,
          arn: `arn:${this.partition}:ecr:${this.region}:${this.account}:repository/${input.name}`,
          uri: `${this.account}.dkr.ecr.${this.region}.amazonaws.com/${input.name}`,
          registryId: this.account,
          scanOnPush: input.scanOnPush,
          encryptionType: input.encryptionType,
          ...(input.kmsKey ? { kmsKey: input.kmsKey } : {}),
        };
        this.repositories.set(input.name, { repository, tags: { ...input.tags }, images: [] });
        return Promise.resolve(repository);
      },
      putImageScanningConfiguration: (name, scanOnPush) => {
        get(name).repository.scanOnPush = scanOnPush;
        return Promise.resolve();
      },
      getLifecyclePolicy: (name) => Promise.resolve(get(name).lifecyclePolicy),
      putLifecyclePolicy: (name, text) => {
        JSON.parse(text);
        get(name).lifecyclePolicy = text;
        return Promise.resolve();
      },
      listTags: (arn) => Promise.resolve(byArn(arn).tags),
      tagResource: (arn, tags) => {
        Object.assign(byArn(arn).tags, tags);
        return Promise.resolve();
      },
      describeImageTag: (name, tag) => {
        const entry = [...(this.repositories.get(name)?.images ?? [])]
          .reverse()
          .find((i) => i.endsWith(`@${tag}`));
        return Promise.resolve(
          entry ? { digest: entry.slice(0, entry.indexOf('@')), tags: [tag] } : undefined,
        );
      },
      countImages: (name) => Promise.resolve(get(name).images.length),
      deleteRepository: (name, force) => {
        const repo = this.repositories.get(name);
        if (!repo) return Promise.resolve();
        if (repo.images.length > 0 && !force)
          throw fakeError(
            'RepositoryNotEmptyException',
            `The repository with name '${name}' cannot be deleted because it still contains images`,
            name,
          );
        this.repositories.delete(name);
        return Promise.resolve();
      },
      getAuthorizationToken: (registryId) =>
        Promise.resolve({
          token: Buffer.from('AWS:fake-ecr-password').toString('base64'),
          proxyEndpoint: `https://${registryId ?? this.account}.dkr.ecr.${this.region}.amazonaws.com`,
          expiresAt: new Date(Date.UTC(2030, 0, 1)),
        }),
    };
  }

  private ecsApi(): EcsApi {
    const activeCluster = (name: string): EcsCluster => {
      const c = this.clusters.get(name);
      if (!c || c.status === 'INACTIVE')
        throw fakeError('ClusterNotFoundException', 'Cluster not found.', name);
      return c;
    };
    const latestActive = (family: string) =>
      this.taskDefinitions
        .filter((t) => t.family === family && t.status === 'ACTIVE')
        .sort((a, b) => b.revision - a.revision)[0];
    return {
      describeCluster: (name) => Promise.resolve(this.clusters.get(name)),
      createCluster: (input) => {
        const existing = this.clusters.get(input.name);
        if (existing && existing.status !== 'INACTIVE') return Promise.resolve(existing); // CreateCluster is idempotent in ECS
        const cluster: EcsCluster = {
          name: input.name,
          arn: `arn:${this.partition}:ecs:${this.region}:${this.account}:cluster/${input.name}`,
          status: 'ACTIVE',
          capacityProviders: [...input.capacityProviders],
          defaultCapacityProviderStrategy: clone(input.defaultCapacityProviderStrategy),
          tags: { ...input.tags },
          runningTasksCount: 0,
          pendingTasksCount: 0,
        };
        this.clusters.set(input.name, cluster);
        return Promise.resolve(cluster);
      },
      putClusterCapacityProviders: (name, providers, strategy) => {
        const c = activeCluster(name);
        c.capacityProviders = [...providers];
        c.defaultCapacityProviderStrategy = clone(strategy);
        return Promise.resolve();
      },
      tagResource: (arn, tags) => {
        const cluster = [...this.clusters.values()].find(
          (c) => c.arn === arn && c.status !== 'INACTIVE',
        );
        const td = this.taskDefinitions.find((t) => t.arn === arn);
        const target = cluster ?? td;
        if (!target) throw fakeError('InvalidParameterException', `no resource ${arn}`, arn);
        Object.assign(target.tags, tags);
        return Promise.resolve();
      },
      deleteCluster: (name) => {
        const c = this.clusters.get(name);
        if (!c || c.status === 'INACTIVE')
          throw fakeError('ClusterNotFoundException', 'Cluster not found.', name);
        if (c.runningTasksCount + c.pendingTasksCount > 0)
          throw fakeError(
            'ClusterContainsTasksException',
            'The Cluster cannot be deleted while Tasks are active.',
            name,
          );
        c.status = 'INACTIVE';
        return Promise.resolve();
      },
      describeTaskDefinition: (ref) => {
        if (ref.startsWith('arn:'))
          return Promise.resolve(this.taskDefinitions.find((t) => t.arn === ref));
        const [family, revision] = ref.split(':');
        if (revision !== undefined)
          return Promise.resolve(
            this.taskDefinitions.find(
              (t) => t.family === family && String(t.revision) === revision,
            ),
          );
        return Promise.resolve(latestActive(ref));
      },
      listTaskDefinitionArns: (family) =>
        Promise.resolve(
          this.taskDefinitions
            .filter((t) => t.family === family && t.status === 'ACTIVE')
            .sort((a, b) => b.revision - a.revision)
            .map((t) => t.arn),
        ),
      registerTaskDefinition: (spec, tags) => {
        if (spec.containerDefinitions.length === 0)
          throw fakeError('ClientException', 'Container list cannot be empty.');
        for (const c of spec.containerDefinitions) {
          if (!c.image)
            throw fakeError(
              'ClientException',
              `Container.image should not be null or empty (${c.name}).`,
            );
          for (const m of c.mountPoints) {
            if (!spec.volumes.some((v) => v.name === m.sourceVolume))
              throw fakeError(
                'ClientException',
                `Invalid 'containerPath' setting for container '${c.name}': unknown volume ${m.sourceVolume}`,
              );
          }
        }
        const revision =
          Math.max(
            0,
            ...this.taskDefinitions.filter((t) => t.family === spec.family).map((t) => t.revision),
          ) + 1;
        const td: TaskDefinition = {
          ...clone(spec),
          arn: `arn:${this.partition}:ecs:${this.region}:${this.account}:task-definition/${spec.family}:${revision}`,
          revision,
          status: 'ACTIVE',
          tags: { ...tags },
        };
        this.taskDefinitions.push(td);
        return Promise.resolve(td);
      },
      ...this.ecsTasks.api(),
      deregisterTaskDefinition: (arn) => {
        const td = this.taskDefinitions.find((t) => t.arn === arn);
        if (!td)
          throw fakeError('ClientException', 'The specified task definition does not exist.', arn);
        td.status = 'INACTIVE';
        return Promise.resolve();
      },
    };
  }

  private iamApi(): IamApi {
    const get = (name: string): FakeRole => {
      const role = this.roles.get(name);
      if (!role)
        throw fakeError('NoSuchEntity', `The role with name ${name} cannot be found.`, name);
      return role;
    };
    const validPolicy = (text: string) => {
      try {
        const doc = JSON.parse(text) as { Version?: unknown; Statement?: unknown };
        if (doc.Version !== '2012-10-17' || !doc.Statement) throw new Error('no Version/Statement');
      } catch (error) {
        throw fakeError(
          'MalformedPolicyDocument',
          `invalid policy document: ${(error as Error).message}`,
        );
      }
    };
    return {
      getRole: (name) => Promise.resolve(this.roles.get(name)?.role),
      createRole: (input) => {
        if (this.roles.has(input.name))
          throw fakeError(
            'EntityAlreadyExists',
            `Role with name ${input.name} already exists.`,
            input.name,
          );
        validPolicy(input.assumeRolePolicy);
        const role: IamRole = {
          name: input.name,
          arn: `arn:${this.partition}:iam::${this.account}:role/${input.name}`,
          assumeRolePolicy: input.assumeRolePolicy,
          description: input.description,
          tags: { ...input.tags },
        };
        this.roles.set(input.name, { role, attached: [], inline: new Map() });
        return Promise.resolve(role);
      },
      updateAssumeRolePolicy: (name, policy) => {
        validPolicy(policy);
        get(name).role.assumeRolePolicy = policy;
        return Promise.resolve();
      },
      tagRole: (name, tags) => {
        Object.assign(get(name).role.tags, tags);
        return Promise.resolve();
      },
      listAttachedPolicyArns: (name) =>
        Promise.resolve([...(this.roles.get(name)?.attached ?? [])]),
      attachPolicy: (name, arn) => {
        const role = get(name);
        if (!arn.startsWith('arn:')) throw fakeError('InvalidInput', `ARN ${arn} is not valid.`);
        if (!role.attached.includes(arn)) role.attached.push(arn);
        return Promise.resolve();
      },
      detachPolicy: (name, arn) => {
        const role = get(name);
        if (!role.attached.includes(arn))
          throw fakeError('NoSuchEntity', `Policy ${arn} was not found.`);
        role.attached = role.attached.filter((a) => a !== arn);
        return Promise.resolve();
      },
      listInlinePolicyNames: (name) =>
        Promise.resolve([...(this.roles.get(name)?.inline.keys() ?? [])]),
      getInlinePolicy: (name, policy) => Promise.resolve(this.roles.get(name)?.inline.get(policy)),
      putInlinePolicy: (name, policy, text) => {
        validPolicy(text);
        get(name).inline.set(policy, text);
        return Promise.resolve();
      },
      deleteInlinePolicy: (name, policy) => {
        get(name).inline.delete(policy);
        return Promise.resolve();
      },
      deleteRole: (name) => {
        const role = this.roles.get(name);
        if (!role) return Promise.resolve();
        if (role.attached.length > 0 || role.inline.size > 0)
          throw fakeError(
            'DeleteConflict',
            'Cannot delete entity, must detach all policies first.',
            name,
          );
        this.roles.delete(name);
        return Promise.resolve();
      },
    };
  }

  private logsApi(): LogsApi {
    const byArn = (arn: string): FakeLogGroup => {
      const g = [...this.logGroups.values()].find((x) => x.group.arn === arn);
      if (!g)
        throw fakeError(
          'ResourceNotFoundException',
          'The specified log group does not exist.',
          arn,
        );
      return g;
    };
    return {
      getLogEvents: (input) => Promise.resolve(this.ecsTasks.getLogEvents(input)),
      filterLogEvents: (input) => Promise.resolve(this.ecsTasks.filterLogEvents(input)),
      describeLogGroup: (name) => Promise.resolve(this.logGroups.get(name)?.group),
      createLogGroup: (name, tags) => {
        if (this.logGroups.has(name))
          throw fakeError(
            'ResourceAlreadyExistsException',
            'The specified log group already exists',
            name,
          );
        this.logGroups.set(name, {
          group: {
            name,
            arn: `arn:${this.partition}:logs:${this.region}:${this.account}:log-group:${name}`,
            storedBytes: 0,
          },
          tags: { ...tags },
        });
        return Promise.resolve();
      },
      putRetentionPolicy: (name, days) => {
        const g = this.logGroups.get(name);
        if (!g)
          throw fakeError(
            'ResourceNotFoundException',
            'The specified log group does not exist.',
            name,
          );
        g.group.retentionDays = days;
        return Promise.resolve();
      },
      listTags: (arn) => Promise.resolve(byArn(arn).tags),
      tagResource: (arn, tags) => {
        Object.assign(byArn(arn).tags, tags);
        return Promise.resolve();
      },
      deleteLogGroup: (name) => {
        this.logGroups.delete(name);
        return Promise.resolve();
      },
    };
  }

  private ec2Api(): Ec2Api {
    const key = (r: Omit<SecurityGroupRule, 'id' | 'tags' | 'description'>) =>
      [
        r.groupId,
        r.direction,
        r.protocol,
        r.fromPort,
        r.toPort,
        r.cidrIpv4 ?? '',
        r.referencedGroupId ?? '',
      ].join('|');
    return {
      describeSubnets: (ids) =>
        Promise.resolve([...this.subnets.values()].filter((s) => ids.includes(s.id)).map(clone)),
      describeSecurityGroups: (query) => {
        const groups = [...this.securityGroups.values()];
        const matches = new Map<string, SecurityGroup>();
        for (const g of groups) {
          if (
            query.ids?.includes(g.id) ||
            (g.tags.Name !== undefined && query.nameTags?.includes(g.tags.Name)) ||
            query.groupNames?.includes(g.groupName)
          )
            matches.set(g.id, g);
        }
        return Promise.resolve([...matches.values()]);
      },
      describeSecurityGroupRules: (query) =>
        Promise.resolve(
          [...this.rules.values()].filter(
            (r) =>
              (!query.groupIds || query.groupIds.includes(r.groupId)) &&
              Object.entries(query.tags ?? {}).every(([k, v]) => r.tags[k] === v),
          ),
        ),
      authorizeRule: (spec: RuleSpec, tags) => {
        if (!this.securityGroups.has(spec.groupId))
          throw fakeError(
            'InvalidGroup.NotFound',
            `The security group '${spec.groupId}' does not exist`,
            spec.groupId,
          );
        if (spec.referencedGroupId && !this.securityGroups.has(spec.referencedGroupId)) {
          throw fakeError(
            'InvalidGroup.NotFound',
            `The security group '${spec.referencedGroupId}' does not exist`,
            spec.referencedGroupId,
          );
        }
        const rule: SecurityGroupRule = {
          id: `sgr-${this.nextId(17)}`,
          groupId: spec.groupId,
          direction: spec.direction,
          protocol: spec.protocol,
          fromPort: spec.fromPort,
          toPort: spec.toPort,
          ...(spec.cidrIpv4 ? { cidrIpv4: spec.cidrIpv4 } : {}),
          ...(spec.referencedGroupId ? { referencedGroupId: spec.referencedGroupId } : {}),
          description: spec.description,
          tags: { ...tags },
        };
        if ([...this.rules.values()].some((r) => key(r) === key(rule)))
          throw fakeError(
            'InvalidPermission.Duplicate',
            'the specified rule already exists',
            spec.groupId,
          );
        this.rules.set(rule.id, rule);
        return Promise.resolve(rule);
      },
      revokeRules: (groupId, direction, ids) => {
        for (const id of ids) {
          const r = this.rules.get(id);
          if (r && r.groupId === groupId && r.direction === direction) this.rules.delete(id);
        }
        return Promise.resolve();
      },
      tagRules: (ids, tags) => {
        for (const id of ids) {
          const r = this.rules.get(id);
          if (!r)
            throw fakeError('InvalidSecurityGroupRuleId.NotFound', `rule ${id} does not exist`, id);
          Object.assign(r.tags, tags);
        }
        return Promise.resolve();
      },
    };
  }

  private secretsApi(): SecretsApi {
    return {
      describeSecret: (ref) =>
        Promise.resolve([...this.secrets.values()].find((s) => s.name === ref || s.arn === ref)),
    };
  }

  private ssmApi(): SsmApi {
    return {
      // DescribeParameters with a Name filter, Option Equals: exact names only.
      describeParameters: (names) =>
        Promise.resolve([...this.parameters.values()].filter((p) => names.includes(p.name))),
    };
  }

  private stsApi(): StsApi {
    return {
      getCallerIdentity: () =>
        Promise.resolve({
          account: this.account,
          arn: `arn:${this.partition}:iam::${this.account}:user/berth-fake`,
          userId: 'AIDAFAKEFAKEFAKE',
        }),
    };
  }
}

export function createAwsFake(options: AwsFakeOptions = {}): AwsFake {
  return new AwsFake(options);
}
