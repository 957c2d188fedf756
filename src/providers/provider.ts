/**
 * The seam: one interface, two implementations (local, aws), the same commands on both.
 * Everything above it (the CLI, the pipeline, a program using berth as a library) works on
 * a Provider and never asks which one it has; `openProvider()` is the only place that looks
 * at the provider's name. A capability only one provider has (the AWS stack, the local
 * database server) is an optional member, so callers test for the capability, not the name.
 */
import type { PathCheckPurpose } from '../config/check-paths.js';
import type { LoadedConfig } from '../config/load-config.js';
import type { Clock } from '../core/clock.js';
import type { Reporter } from '../core/events.js';
import type { Exec } from '../core/exec.js';
import type { FleetBackend } from '../fleet/types.js';
import type { PushResult } from '../image/push.js';
import type { StateDir } from '../state/state-dir.js';
import type { TaskKind } from '../tasks/task.js';
import type { AwsClientsFactory } from './aws/api/clients.js';
import type { StackOperations } from './aws/stack-operations.js';
import type { StackStatus } from './aws/stack/stack.js';

export const PROVIDER_NAMES = ['local', 'aws'] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

/** What opening a provider may be given; every field has a production default. */
export interface ProviderOptions {
  name: ProviderName;
  reporter: Reporter;
  clock?: Clock;
  /** Runs git and the container CLI. */
  exec?: Exec;
  /** aws: --profile / --region / --endpoint-url. */
  profile?: string;
  region?: string;
  endpointUrl?: string;
  env?: NodeJS.ProcessEnv;
  /** aws: builds the SDK clients (tests pass the in-memory fake). */
  createClients?: AwsClientsFactory;
  /** aws: DescribeTasks / GetLogEvents interval (default 5 s). */
  pollMs?: number;
  /** aws: the wall clock `up` stamps on outputs. */
  wallClock?: () => Date;
}

export interface FleetRequest {
  /**
   * The image tasks run. local: a container image (else the runtime rule picks one); aws: the
   * image a new task-definition revision is registered for. Unset on aws: `migrate` runs this
   * commit's tag in ECR, `verify` the latest revision as it is. null: there is no image (the
   * pipeline built none), so do not look for an older one.
   */
  image?: string | null;
  /** Why this image (for the runtime note), e.g. "the image this pipeline pushed". */
  imageReason?: string;
  /** local: auto, process or container. aws rejects it: every task runs on Fargate. */
  runtime?: string;
  purpose: 'migrate' | 'verify';
}

/** A fleet backend ready for `migrateFleet` / `verifyFleet`, and how to describe it. */
export interface OpenedFleet {
  backend: FleetBackend;
  /** Where tasks run, in words: "as host processes", "ECS Fargate, app-migrate:7". */
  where(): Promise<string>;
  /** Facts for --json output: `{ runtime }` locally, `{ taskDefinition }` on aws. */
  facts(): Promise<Record<string, unknown>>;
}

/** One task as `berth tasks list` shows it; providers add their own fields (kept in --json). */
export interface ListedTask {
  id: string;
  /** migrate, verify, check, probe; null for a task berth did not start. */
  kind: TaskKind | null;
  status: string;
  exitCode: number | null;
  databases: string[];
  /** When it started (local) or was created (aws). */
  startedAt?: string | null;
  createdAt?: string | null;
  /** aws: the ECS task ID. */
  ecsTaskId?: string;
  stoppedReason?: string | null;
}

export interface TaskListing {
  /** Where the tasks were looked for: the ECS cluster on aws; absent locally. */
  cluster?: string;
  tasks: ListedTask[];
}

export interface TaskLog {
  /** The task's record or summary, for --json. */
  task: ListedTask;
  /** Its log, line by line, redacted (streamed: a long log never sits in memory). */
  lines: AsyncIterable<string>;
  /** A line to show after the log, e.g. the task's exit code; notes are for humans. */
  footer: string;
}

export interface StopPlan {
  /** The running tasks that would be stopped. */
  targets: ListedTask[];
  /** Stops them; returns their IDs. */
  stop(): Promise<{ id: string; ecsTaskId?: string }[]>;
}

export interface TaskControl {
  list(options: { running?: boolean; limit?: number }): Promise<TaskListing>;
  /** Finds the tasks to stop (by ID, or every running one); nothing is stopped until `stop()`. */
  planStop(selection: { ids: string[]; all: boolean }): Promise<StopPlan>;
  log(id: string): Promise<TaskLog>;
  /** The log as it grows: lines end when the task has stopped (or `signal` aborts). */
  follow(id: string, options?: FollowTaskOptions): Promise<TaskLog>;
}

export interface FollowTaskOptions {
  signal?: AbortSignal;
  /** Between polls of the log and of the task's state (default 500 ms local, 2 s aws). */
  pollMs?: number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** The registry tasks pull from: a loopback OCI registry locally, ECR on aws. */
export interface ImageRegistry {
  /**
   * Whether tasks need an image from this registry to run at all. local: no (tasks fall back
   * to host processes); aws: yes (Fargate runs images only).
   */
  readonly required: boolean;
  /** Why pushing is not possible here, or undefined when it is (e.g. no registry.local). */
  unavailable(): string | undefined;
  /** Pushes the built image `<repository>:<tag>` as `tag` and latest (default: the git SHA tag). */
  push(tag?: string, signal?: AbortSignal): Promise<RegistryPush>;
}

export interface RegistryPush extends PushResult {
  provider: ProviderName;
  /** The local image that was pushed. */
  source: string;
}

/** `berth status`: what exists. Shaped per provider; `kind` says which shape. */
export type ProviderStatus =
  | {
      kind: 'database-server';
      provider: ProviderName;
      postgres: ServerStatus;
      databases: DatabaseStatusRow[];
      /** Why pending counts are unknown (the code's migrations could not be listed). */
      pendingUnknown?: string;
    }
  | ({ kind: 'stack'; provider: ProviderName } & StackStatus);

export interface ServerStatus {
  state: 'up' | 'down' | 'not initialised';
  version: number;
  host: string;
  port: number | null;
  dataDir: string;
}

export interface DatabaseStatusRow {
  name: string;
  exists: boolean | null;
  tables: number | null;
  /** null when berth.yaml sets no expectedTables (verify then judges pending and drift). */
  expectedTables: number | null;
  pending: number | null;
}

/** The local provider's own PostgreSQL server (`berth local start|stop`). */
export interface DatabaseServer {
  start(): Promise<{
    host: string;
    port: number;
    user: string;
    dataDir: string;
    secretFile: string;
  }>;
  stop(): Promise<boolean>;
}

export interface Provider {
  readonly name: ProviderName;
  readonly loaded: LoadedConfig;
  /** `.berth/`: task records and logs, run journals, image state. */
  readonly state: StateDir;
  /** Tasks may run on this machine (host processes): their programs must be found here. */
  readonly tasksRunHere: boolean;
  /** The tenant databases, from the config's tenant source. */
  tenants(): Promise<string[]>;
  /**
   * Checks every path in berth.yaml that `purpose` uses (and the provider's own fields),
   * before anything is created: CONFIG_INVALID listing every problem.
   */
  checkConfig(purpose: PathCheckPurpose): Promise<void>;
  /**
   * Rejects, before anything starts, a request this provider cannot serve (a --runtime on
   * aws, --runtime container without an engine, an aws config without its prerequisites).
   */
  checkFleetRequest(request: Omit<FleetRequest, 'image' | 'imageReason'>): Promise<void>;
  /** A backend for one fleet run. Throws a usage error for options this provider lacks. */
  openFleet(request: FleetRequest): Promise<OpenedFleet>;
  readonly tasks: TaskControl;
  status(): Promise<ProviderStatus>;
  readonly registry: ImageRegistry;
  /** aws only: plan, up, down, status and show of the stack's resources. */
  readonly stack?: StackOperations;
  /** local only: the embedded PostgreSQL server. */
  readonly server?: DatabaseServer;
  close(): Promise<void>;
}
