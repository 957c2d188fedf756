/**
 * The in-memory fake's ECS tasks and their CloudWatch log streams: RunTask (with scriptable
 * `failures[]`), DescribeTasks through PROVISIONING → PENDING → RUNNING → STOPPED on a
 * scriptable clock, failures to start (stop code, stopped reason, container reason, no exit
 * code), exit codes, StopTask, ListTasks, and log events that reach CloudWatch late and are
 * read in pages with forward tokens — the behaviours berth's task runtime depends on.
 *
 * Nothing happens on its own: every state is a function of the clock, worked out when a call
 * looks (describe, list, stop, get log events). Tests move the clock (`fake.clock.advance`),
 * usually through the runtime's injected `sleep`.
 *
 * A test scripts each task as it is started: `fake.onRunTask((task) => script)`. The script
 * says how long the task takes, what it prints and how it exits; its `run()` is called when
 * the container starts, so it can change the test's own state (apply "migrations" to a fake
 * database, print probe lines) at the moment a real container would.
 */
import { BerthError } from '../../../core/errors.js';
import type {
  ContainerOverride,
  DescribeTasksResult,
  EcsCluster,
  EcsContainer,
  EcsFailure,
  EcsTask,
  EcsTasksApi,
  ListTasksQuery,
  RunTaskInput,
  RunTaskResult,
  TaskDefinition,
} from '../api/ecs-api.js';
import type {
  FilterLogEventsInput,
  FilteredLogEventsPage,
  GetLogEventsInput,
  LogEvent,
  LogEventsPage,
} from '../api/logs-api.js';
import type { Tags } from '../api/types.js';

/** Milliseconds since the epoch; starts at 2026-01-02T03:04:05Z. */
export class FakeClock {
  constructor(private ms = Date.UTC(2026, 0, 2, 3, 4, 5)) {}
  now(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += Math.max(0, ms);
  }
}

/** What a started task looks like to the script deciding its fate. */
export interface FakeTaskInfo {
  arn: string;
  id: string;
  cluster: string;
  taskDefinitionArn: string;
  family: string;
  /** The essential container's name. */
  container: string;
  /** The effective command: the override, else the task definition's. */
  command: string[];
  /** The task definition's environment with the overrides on top. */
  environment: Record<string, string>;
  /** Only what RunTask overrode. */
  overrideEnvironment: Record<string, string>;
  startedBy?: string;
  tags: Tags;
}

export interface FakeTaskRun {
  exitCode?: number;
  logs?: string[];
}

export interface FakeTaskScript {
  /** Time in PROVISIONING (default 1000 ms). */
  provisioningMs?: number;
  /** Time in PENDING, pulling the image and the secrets (default 1000 ms). */
  pendingMs?: number;
  /** Time RUNNING before the container exits (default 2000 ms); Infinity: until stopped. */
  runMs?: number;
  /** How long an event takes to reach CloudWatch after it is printed (default 500 ms). */
  logLagMs?: number;
  /** The container's exit code (default 0). */
  exitCode?: number;
  /** Lines the container prints, spread over its run. */
  logs?: string[];
  /** Called when the container starts; what it returns replaces exitCode and logs. */
  run?: () => FakeTaskRun | void;
  /** The task never runs: PENDING → STOPPED with this stop code and reason, no exit code. */
  failToStart?: { stopCode?: string; stoppedReason?: string; containerReason?: string };
  /** The exit code when ECS stops the container with SIGTERM (default 143; some apps exit 0). */
  sigtermExitCode?: number;
  /** Non-essential containers of the task definition: their exit codes and reasons when stopped. */
  sidecars?: Record<string, { exitCode?: number; reason?: string }>;
}

/**
 * The latency and quota model the fleet simulation turns on (all off by default, so the
 * unit tests keep their exact timings): task starts of 30–60 s, log events that reach
 * CloudWatch seconds late (so a stream appears late), and API rates enforced with
 * ThrottlingException as AWS does.
 */
export interface FakeModel {
  /** PROVISIONING + PENDING, drawn uniformly in [min, max] ms for a script that sets neither. */
  startMs?: [number, number];
  /** Log ingestion lag, drawn per task in [min, max] ms for a script without logLagMs. */
  logLagMs?: [number, number];
  /** Time RUNNING, drawn in [min, max] ms for a script without runMs. */
  runMs?: [number, number];
  /** Requests per second (and burst) per API; over it the call fails with ThrottlingException. */
  limits?: Partial<Record<FakeLimitedApi, { perSecond: number; burst: number }>>;
  /** 0..1, for the draws; seed it for repeatable figures. */
  random?: () => number;
}

export type FakeLimitedApi =
  'runTask' | 'launches' | 'describeTasks' | 'getLogEvents' | 'filterLogEvents';

/** AWS's documented rates (ECS, Fargate, CloudWatch Logs; per account and region). */
export const AWS_RATE_LIMITS: Record<FakeLimitedApi, { perSecond: number; burst: number }> = {
  runTask: { perSecond: 20, burst: 20 },
  launches: { perSecond: 20, burst: 100 },
  describeTasks: { perSecond: 20, burst: 50 },
  getLogEvents: { perSecond: 10, burst: 10 },
  filterLogEvents: { perSecond: 5, burst: 5 },
};

interface StoredEvent extends LogEvent {
  eventId: string;
  /** Order of ingestion (ties on timestamp). */
  seq: number;
}

export type FakeRunTaskHook = (task: FakeTaskInfo) => FakeTaskScript | undefined;

/** How long a stopped task stays visible to DescribeTasks and ListTasks (ECS: about an hour). */
export const STOPPED_TASK_RETENTION_MS = 60 * 60 * 1000;
/** StopTask → STOPPED. */
const STOP_DELAY_MS = 1000;
/** Exit code of a container ECS stopped with SIGTERM. */
const SIGTERM_EXIT = 143;

interface FakeTask {
  info: FakeTaskInfo;
  clusterArn: string;
  script: FakeTaskScript;
  logGroup?: string;
  logStream?: string;
  createdAt: number;
  /** When the container starts (or, failing to start, when the task stops). */
  startAt: number;
  /** When the container exits by itself (Infinity: never). */
  exitAt: number;
  run?: FakeTaskRun;
  /** What RunTask overrode (DescribeTasks returns exactly that). */
  overrideCommand?: string[];
  stopRequest?: { at: number; reason: string };
  /** Log events already delivered to the stream. */
  delivered: number;
  logLagMs: number;
}

interface FakeTasksHost {
  readonly account: string;
  readonly region: string;
  readonly partition: string;
  readonly clusters: Map<string, EcsCluster>;
  readonly taskDefinitions: TaskDefinition[];
  hasLogGroup(name: string): boolean;
}

function fakeError(code: string, message: string, resource?: string): BerthError {
  return new BerthError('AWS_ERROR', `${code}: ${message}`, {
    details: { awsCode: code, ...(resource ? { resource } : {}) },
  });
}

const CAPACITY =
  'Capacity is unavailable at this time. Please try again later or in a different availability zone';

export class FakeTasks {
  readonly clock = new FakeClock();
  /** Events per GetLogEvents page, at most (CloudWatch: 10,000); lower it to force paging. */
  logPageSize = 10_000;
  private hook: FakeRunTaskHook = () => undefined;
  private readonly tasks = new Map<string, FakeTask>();
  private readonly streams = new Map<string, Map<string, StoredEvent[]>>();
  private readonly runTaskFailures: string[] = [];
  private counter = 0;
  private eventSeq = 0;
  /** The latency and quota model (see FakeModel); empty: instant and unlimited. */
  model: FakeModel = {};
  /** ThrottlingExceptions answered, by API. */
  readonly throttles: Record<string, number> = {};
  private readonly buckets = new Map<FakeLimitedApi, { tokens: number; at: number }>();

  constructor(private readonly host: FakeTasksHost) {}

  // ---- Test controls -------------------------------------------------------------------

  onRunTask(hook: FakeRunTaskHook): void {
    this.hook = hook;
  }

  /** The next `count` RunTask calls return this reason in `failures[]` and start nothing. */
  failNextRunTasks(count = 1, reason = CAPACITY): void {
    for (let i = 0; i < count; i++) this.runTaskFailures.push(reason);
  }

  /** Every task started so far, oldest first, as the script saw it. */
  started(): FakeTaskInfo[] {
    return [...this.tasks.values()].map((t) => structuredClone(t.info));
  }

  /** Writes events into a stream directly (a task's logs from another machine). */
  putLogEvents(group: string, stream: string, messages: string[], timestamp?: number): void {
    const events = this.stream(group, stream, true);
    for (const message of messages)
      if (events) this.ingest(events, timestamp ?? this.clock.now(), message);
  }

  /** The events of a stream so far (after delivering what is due). */
  logEvents(group: string, stream: string): LogEvent[] {
    this.sync();
    return (this.streams.get(group)?.get(stream) ?? []).map((e) => ({
      timestamp: e.timestamp,
      message: e.message,
    }));
  }

  // ---- The API -------------------------------------------------------------------------

  api(): EcsTasksApi {
    return {
      runTask: (input) => {
        this.limit('runTask');
        this.limit('launches');
        return Promise.resolve(this.runTask(input));
      },
      describeTasks: (cluster, arns) => {
        this.limit('describeTasks');
        if (arns.length > 100)
          throw fakeError('InvalidParameterException', 'Tasks cannot be longer than 100 elements.');
        return Promise.resolve(this.describeTasks(cluster, arns));
      },
      stopTask: (cluster, arn, reason) => Promise.resolve(this.stopTask(cluster, arn, reason)),
      listTaskArns: (cluster, query) => Promise.resolve(this.listTaskArns(cluster, query)),
    };
  }

  /** FilterLogEvents: events of the named (≤ 100) or prefixed streams, in timestamp order. */
  filterLogEvents(input: FilterLogEventsInput): FilteredLogEventsPage | undefined {
    this.limit('filterLogEvents');
    if (input.streams && input.streamPrefix)
      throw fakeError(
        'InvalidParameterException',
        'logStreamNamePrefix and logStreamNames cannot both be specified.',
      );
    if (input.streams && input.streams.length > 100)
      throw fakeError('InvalidParameterException', 'logStreamNames cannot exceed 100 elements.');
    this.sync();
    const streams = this.streams.get(input.group);
    if (!this.host.hasLogGroup(input.group)) return undefined;
    let names: string[];
    if (input.streams) {
      // CloudWatch: ResourceNotFoundException "The specified log stream does not exist."
      if (input.streams.some((n) => !streams?.has(n))) return undefined;
      names = input.streams;
    } else {
      names = [...(streams?.keys() ?? [])].filter((n) => n.startsWith(input.streamPrefix ?? ''));
    }
    let after: [number, number] | undefined;
    if (input.nextToken !== undefined) {
      const match = /^n\/(\d+)\/(\d+)$/.exec(input.nextToken);
      if (!match?.[1] || !match[2])
        throw fakeError('InvalidParameterException', 'The specified nextToken is invalid.');
      after = [Number(match[1]), Number(match[2])];
    }
    const all = names
      .flatMap((name) => (streams?.get(name) ?? []).map((e) => ({ e, name })))
      .filter(({ e }) => e.timestamp >= (input.startTime ?? 0))
      .filter(
        ({ e }) =>
          !after || e.timestamp > after[0] || (e.timestamp === after[0] && e.seq > after[1]),
      )
      .sort((a, b) => a.e.timestamp - b.e.timestamp || a.e.seq - b.e.seq);
    const limit = Math.min(input.limit ?? 10_000, this.logPageSize);
    const page = all.slice(0, limit);
    const last = page.at(-1);
    return {
      events: page.map(({ e, name }) => ({
        timestamp: e.timestamp,
        message: e.message,
        stream: name,
        eventId: e.eventId,
      })),
      ...(all.length > limit && last ? { nextToken: `n/${last.e.timestamp}/${last.e.seq}` } : {}),
    };
  }

  getLogEvents(input: GetLogEventsInput): LogEventsPage | undefined {
    this.limit('getLogEvents');
    this.sync();
    const events = this.stream(input.group, input.stream, false);
    if (!events) return undefined;
    const limit = Math.min(input.limit ?? 10_000, this.logPageSize);
    let index: number;
    if (input.nextToken !== undefined) {
      const match = /^f\/(\d+)$/.exec(input.nextToken);
      if (!match?.[1])
        throw fakeError('InvalidParameterException', 'The specified nextToken is invalid.');
      index = Number(match[1]);
    } else index = input.startFromHead ? 0 : Math.max(0, events.length - limit);
    const page = events.slice(index, index + limit);
    return {
      events: page.map((e) => ({ timestamp: e.timestamp, message: e.message })),
      // At the end of the stream CloudWatch hands back the token it was given.
      nextForwardToken: `f/${String(index + page.length).padStart(8, '0')}`,
    };
  }

  // ---- Plumbing ------------------------------------------------------------------------

  /** The quota model: a token from `api`'s bucket, or ThrottlingException. */
  private limit(api: FakeLimitedApi): void {
    const rate = this.model.limits?.[api];
    if (!rate) return;
    const now = this.clock.now();
    const bucket = this.buckets.get(api) ?? { tokens: rate.burst, at: now };
    bucket.tokens = Math.min(
      rate.burst,
      bucket.tokens + ((now - bucket.at) * rate.perSecond) / 1000,
    );
    bucket.at = now;
    this.buckets.set(api, bucket);
    if (bucket.tokens < 1) {
      this.throttles[api] = (this.throttles[api] ?? 0) + 1;
      throw fakeError('ThrottlingException', 'Rate exceeded');
    }
    bucket.tokens -= 1;
  }

  private draw(range: [number, number] | undefined): number | undefined {
    if (!range) return undefined;
    const r = (this.model.random ?? Math.random)();
    return Math.round(range[0] + r * (range[1] - range[0]));
  }

  private ingest(events: StoredEvent[], timestamp: number, message: string): void {
    this.eventSeq++;
    events.push({
      timestamp,
      message,
      seq: this.eventSeq,
      eventId: String(this.eventSeq).padStart(56, '0'),
    });
  }

  private stream(group: string, name: string, create: boolean): StoredEvent[] | undefined {
    if (!this.host.hasLogGroup(group)) return undefined;
    let streams = this.streams.get(group);
    if (!streams) {
      if (!create) return undefined;
      streams = new Map();
      this.streams.set(group, streams);
    }
    let events = streams.get(name);
    if (!events && create) {
      events = [];
      streams.set(name, events);
    }
    return events;
  }

  private cluster(ref: string): EcsCluster {
    const found = [...this.host.clusters.values()].find(
      (c) => (c.name === ref || c.arn === ref) && c.status !== 'INACTIVE',
    );
    if (!found) throw fakeError('ClusterNotFoundException', 'Cluster not found.', ref);
    return found;
  }

  private taskDefinition(ref: string): TaskDefinition {
    const [family, revision] = ref.startsWith('arn:')
      ? (ref.split('/').pop() ?? '').split(':')
      : ref.split(':');
    const candidates = this.host.taskDefinitions.filter((t) => t.family === family);
    const td =
      revision !== undefined
        ? candidates.find((t) => String(t.revision) === revision)
        : candidates
            .filter((t) => t.status === 'ACTIVE')
            .sort((a, b) => b.revision - a.revision)[0];
    if (!td || (revision === undefined && td.status !== 'ACTIVE'))
      throw fakeError('ClientException', 'TaskDefinition not found.', ref);
    if (td.status !== 'ACTIVE')
      throw fakeError('ClientException', 'TaskDefinition is inactive', ref);
    return td;
  }

  private runTask(input: RunTaskInput): RunTaskResult {
    const cluster = this.cluster(input.cluster);
    const td = this.taskDefinition(input.taskDefinition);
    if (!td.requiresCompatibilities.includes('FARGATE'))
      throw fakeError(
        'InvalidParameterException',
        'Task definition does not support launch_type FARGATE.',
      );
    if (input.subnets.length === 0)
      throw fakeError('InvalidParameterException', 'subnets can not be empty.');
    if (input.securityGroups.length === 0)
      throw fakeError('InvalidParameterException', 'securityGroups can not be empty.');
    for (const o of input.containerOverrides) {
      if (!td.containerDefinitions.some((c) => c.name === o.name))
        throw fakeError(
          'InvalidParameterException',
          `Override for container named ${o.name} is not a container in the TaskDefinition.`,
        );
    }
    if (input.startedBy !== undefined && !/^[A-Za-z0-9_/-]{1,128}$/.test(input.startedBy))
      throw fakeError('InvalidParameterException', 'startedBy is not valid.');
    const failure = this.runTaskFailures.shift();
    if (failure) return { tasks: [], failures: [{ reason: failure }] };

    const container =
      td.containerDefinitions.find((c) => c.essential) ?? td.containerDefinitions[0];
    const name = container?.name ?? '';
    const override: ContainerOverride | undefined = input.containerOverrides.find(
      (o) => o.name === name,
    );
    const overrideEnvironment = Object.fromEntries(
      (override?.environment ?? []).map((e) => [e.name, e.value]),
    );
    this.counter++;
    const id = this.counter.toString(16).padStart(32, '0');
    const arn = `arn:${this.host.partition}:ecs:${this.host.region}:${this.host.account}:task/${cluster.name}/${id}`;
    const info: FakeTaskInfo = {
      arn,
      id,
      cluster: cluster.name,
      taskDefinitionArn: td.arn,
      family: td.family,
      container: name,
      command: [...(override?.command ?? container?.command ?? [])],
      environment: {
        ...Object.fromEntries((container?.environment ?? []).map((e) => [e.name, e.value])),
        ...overrideEnvironment,
      },
      overrideEnvironment,
      ...(input.startedBy ? { startedBy: input.startedBy } : {}),
      tags: { ...input.tags },
    };
    let script = this.hook(structuredClone(info)) ?? {};
    const options = container?.logConfiguration?.options ?? {};
    const logGroup = options['awslogs-group'];
    const prefix = options['awslogs-stream-prefix'];
    if (logGroup && !this.host.hasLogGroup(logGroup) && !script.failToStart) {
      // What the awslogs driver does when the group is missing.
      script = {
        ...script,
        failToStart: {
          stoppedReason: `ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: failed to create Cloudwatch log stream: ResourceNotFoundException: The specified log group does not exist. : exit status 1`,
        },
      };
    }
    const now = this.clock.now();
    const start =
      script.provisioningMs === undefined && script.pendingMs === undefined
        ? this.draw(this.model.startMs)
        : undefined;
    if (start !== undefined)
      script = {
        ...script,
        provisioningMs: Math.round(start * 0.4),
        pendingMs: start - Math.round(start * 0.4),
      };
    if (script.runMs === undefined) {
      const runMs = this.draw(this.model.runMs);
      if (runMs !== undefined) script = { ...script, runMs };
    }
    const startAt = now + (script.provisioningMs ?? 1000) + (script.pendingMs ?? 1000);
    this.tasks.set(arn, {
      info,
      clusterArn: cluster.arn,
      script,
      ...(logGroup ? { logGroup } : {}),
      ...(logGroup && prefix ? { logStream: `${prefix}/${name}/${id}` } : {}),
      ...(override?.command ? { overrideCommand: [...override.command] } : {}),
      createdAt: now,
      startAt,
      exitAt: script.failToStart ? startAt : startAt + (script.runMs ?? 2000),
      delivered: 0,
      logLagMs: script.logLagMs ?? this.draw(this.model.logLagMs) ?? 500,
    });
    this.sync();
    return { tasks: [this.view(this.tasks.get(arn) as FakeTask)], failures: [] };
  }

  private describeTasks(clusterRef: string, arns: string[]): DescribeTasksResult {
    const cluster = this.cluster(clusterRef);
    this.sync();
    const tasks: EcsTask[] = [];
    const failures: EcsFailure[] = [];
    for (const ref of arns) {
      const task = this.find(cluster, ref);
      if (task) tasks.push(this.view(task));
      else failures.push({ arn: ref, reason: 'MISSING' });
    }
    return { tasks, failures };
  }

  private stopTask(clusterRef: string, ref: string, reason: string): EcsTask | undefined {
    const cluster = this.cluster(clusterRef);
    this.sync();
    const task = this.find(cluster, ref);
    if (!task) throw fakeError('InvalidParameterException', 'The referenced task was not found.');
    const now = this.clock.now();
    if (!task.stopRequest && this.stoppedAt(task) > now) task.stopRequest = { at: now, reason };
    this.sync();
    return this.view(task);
  }

  private listTaskArns(clusterRef: string, query: ListTasksQuery): string[] {
    const cluster = this.cluster(clusterRef);
    this.sync();
    return [...this.tasks.values()]
      .filter((t) => this.find(cluster, t.info.arn) === t)
      .filter((t) => !query.family || t.info.family === query.family)
      .filter((t) => this.desiredStatus(t) === query.desiredStatus)
      .map((t) => t.info.arn);
  }

  /** A task of this cluster, by ARN or ID, that ECS still remembers. */
  private find(cluster: EcsCluster, ref: string): FakeTask | undefined {
    const task = [...this.tasks.values()].find(
      (t) => (t.info.arn === ref || t.info.id === ref) && t.info.cluster === cluster.name,
    );
    if (!task) return undefined;
    const stopped = this.stoppedAt(task);
    return stopped + STOPPED_TASK_RETENTION_MS <= this.clock.now() ? undefined : task;
  }

  /** When the task is (or will be) STOPPED. */
  private stoppedAt(task: FakeTask): number {
    const natural = task.exitAt;
    if (!task.stopRequest) return natural;
    return Math.min(natural, task.stopRequest.at + STOP_DELAY_MS);
  }

  private desiredStatus(task: FakeTask): 'RUNNING' | 'STOPPED' {
    return task.stopRequest || this.stoppedAt(task) <= this.clock.now() ? 'STOPPED' : 'RUNNING';
  }

  private exitCode(task: FakeTask): number | undefined {
    if (task.script.failToStart) return undefined;
    const stopped = this.stoppedAt(task);
    // Stopped before the container started: it never ran, so it has no exit code.
    if (stopped <= task.startAt) return undefined;
    if (task.stopRequest && stopped < task.exitAt)
      return task.script.sigtermExitCode ?? SIGTERM_EXIT;
    return task.run?.exitCode ?? task.script.exitCode ?? 0;
  }

  private lastStatus(task: FakeTask, now: number): string {
    if (this.stoppedAt(task) <= now) return 'STOPPED';
    if (task.stopRequest) return 'DEPROVISIONING';
    if (now < task.createdAt + (task.script.provisioningMs ?? 1000)) return 'PROVISIONING';
    if (now < task.startAt) return 'PENDING';
    return 'RUNNING';
  }

  /** Starts containers whose time has come and delivers the log events that are due. */
  private sync(): void {
    const now = this.clock.now();
    for (const task of this.tasks.values()) {
      const stopped = this.stoppedAt(task);
      if (!task.run && !task.script.failToStart && task.startAt <= now && stopped > task.startAt) {
        const ran = task.script.run?.() ?? {};
        task.run = {
          exitCode: ran.exitCode ?? task.script.exitCode ?? 0,
          logs: ran.logs ?? task.script.logs ?? [],
        };
      }
      if (!task.run || !task.logGroup || !task.logStream) continue;
      const lines = task.run.logs ?? [];
      const runMs = task.script.runMs ?? 2000;
      const step = Number.isFinite(runMs) ? runMs / (lines.length + 1) : 100;
      const lag = task.logLagMs;
      while (task.delivered < lines.length) {
        const timestamp = Math.round(task.startAt + (task.delivered + 1) * step);
        // A line the container never got to print: it was stopped first.
        if (timestamp >= stopped) break;
        if (timestamp + lag > now) break;
        const events = this.stream(task.logGroup, task.logStream, true);
        if (events) this.ingest(events, timestamp, lines[task.delivered] ?? '');
        task.delivered++;
      }
    }
    for (const cluster of this.host.clusters.values()) {
      const mine = [...this.tasks.values()].filter(
        (t) => t.info.cluster === cluster.name && this.stoppedAt(t) > now,
      );
      cluster.runningTasksCount = mine.filter((t) => this.lastStatus(t, now) === 'RUNNING').length;
      cluster.pendingTasksCount = mine.length - cluster.runningTasksCount;
    }
  }

  private view(task: FakeTask): EcsTask {
    const now = this.clock.now();
    const lastStatus = this.lastStatus(task, now);
    const stopped = lastStatus === 'STOPPED';
    const stoppedAt = this.stoppedAt(task);
    const exitCode = stopped ? this.exitCode(task) : undefined;
    const fail = task.script.failToStart;
    const containerStatus = stopped ? 'STOPPED' : lastStatus === 'RUNNING' ? 'RUNNING' : 'PENDING';
    const container: EcsContainer = {
      name: task.info.container,
      lastStatus: containerStatus,
      ...(exitCode !== undefined ? { exitCode } : {}),
      ...(stopped && fail?.containerReason ? { reason: fail.containerReason } : {}),
    };
    // Sidecars: listed first, as ECS may; they exit when the essential container does.
    const sidecars: EcsContainer[] = Object.entries(task.script.sidecars ?? {}).map(
      ([name, end]) => ({
        name,
        lastStatus: containerStatus,
        ...(stopped && task.run ? { exitCode: end.exitCode ?? SIGTERM_EXIT } : {}),
        ...(stopped && end.reason ? { reason: end.reason } : {}),
      }),
    );
    let stopCode: string | undefined;
    let stoppedReason: string | undefined;
    if (fail && stopped && !(task.stopRequest && task.stopRequest.at < task.startAt)) {
      // An empty stopCode or stoppedReason: ECS sometimes reports none.
      stopCode = fail.stopCode ?? 'TaskFailedToStart';
      stoppedReason = fail.stoppedReason;
    } else if (task.stopRequest) {
      stopCode = 'UserInitiated';
      stoppedReason = task.stopRequest.reason;
    } else if (stopped) {
      stopCode = 'EssentialContainerExited';
      stoppedReason = 'Essential container in task exited';
    }
    const env = Object.entries(task.info.overrideEnvironment).map(([name, value]) => ({
      name,
      value,
    }));
    const overrides: ContainerOverride[] =
      task.overrideCommand || env.length
        ? [
            {
              name: task.info.container,
              ...(task.overrideCommand ? { command: [...task.overrideCommand] } : {}),
              ...(env.length ? { environment: env } : {}),
            },
          ]
        : [];
    return {
      arn: task.info.arn,
      id: task.info.id,
      clusterArn: task.clusterArn,
      taskDefinitionArn: task.info.taskDefinitionArn,
      lastStatus,
      desiredStatus: this.desiredStatus(task),
      ...(task.info.startedBy ? { startedBy: task.info.startedBy } : {}),
      ...(stopCode ? { stopCode } : {}),
      ...(stoppedReason ? { stoppedReason } : {}),
      createdAt: new Date(task.createdAt),
      ...(task.run && now >= task.startAt ? { startedAt: new Date(task.startAt) } : {}),
      ...(stopped ? { stoppedAt: new Date(stoppedAt) } : {}),
      containers: [...sidecars, container],
      containerOverrides: overrides,
      tags: { ...task.info.tags },
    };
  }
}
