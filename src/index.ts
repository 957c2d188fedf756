/** berth as a library: load config, run fleets, read results. The CLI is one client of this. */
export { loadConfig, parseConfig, type LoadedConfig } from './config/load-config.js';
export { configSchema, type Config } from './config/schema.js';
export { configJsonSchema } from './config/json-schema.js';
export { BerthError, isBerthError, type ErrorCode } from './core/errors.js';
export { ExitCode } from './core/exit-codes.js';
export type { BerthEvent, Reporter } from './core/events.js';
export { migrateFleet, type MigrateFleetOptions } from './fleet/run-fleet.js';
export {
  verifyFleet,
  type VerifyResult,
  type VerifyDatabase,
  type VerifySchema,
} from './fleet/verify.js';
export {
  CATALOG_SQL,
  diffSchemas,
  fingerprintOf,
  type SchemaFingerprint,
  type SchemaShape,
} from './migrations/fingerprint.js';
export {
  migrateInWaves,
  planWaves,
  type MigrateInWavesOptions,
  type RolloutSpec,
  type Wave,
} from './fleet/waves.js';
export { planFleet, type FleetPlan, type PlannedDatabase } from './fleet/plan-fleet.js';
export { FailureBudget, parseFailureLimit, type FailureLimit } from './fleet/failure-budget.js';
export type {
  Claim,
  DatabaseResult,
  FleetResult,
  FleetBackend,
  Lease,
  ProbeResult,
  WaveOutcome,
} from './fleet/types.js';
export { openProvider } from './providers/open-provider.js';
export type {
  DatabaseServer,
  FleetRequest,
  ImageRegistry,
  ListedTask,
  OpenedFleet,
  Provider,
  ProviderName,
  ProviderOptions,
  ProviderStatus,
  RegistryPush,
  StopPlan,
  TaskControl,
  TaskListing,
  TaskLog,
} from './providers/provider.js';
export type { StackOperations } from './providers/aws/stack-operations.js';
export {
  runDelivery,
  defaultRunners,
  type DeliveryOptions,
  type DeliveryResult,
  type StageRunners,
} from './pipeline/delivery.js';
export { selectRunDatabases } from './fleet/select-run.js';
export { migrateOptions, verifyOptions } from './fleet/fleet-options.js';
export { systemClock, type Clock } from './core/clock.js';
export type { TaskRuntime, TaskSpec, TaskOutcome } from './tasks/task.js';
// The aws provider's stack (no AWS SDK is loaded until a real client makes its first call).
export {
  planStack,
  upStack,
  downStack,
  stackStatus,
  showStack,
  STACK_RESOURCES,
  type StackOptions,
  type StackPlan,
  type UpResult,
  type DownResult,
  type StackStatus,
  type StackDetails,
} from './providers/aws/stack/stack.js';
export {
  createAwsClients,
  resolveAwsSettings,
  type AwsClients,
  type AwsClientsFactory,
} from './providers/aws/api/clients.js';
// Images and workflows.
export { detectEngine } from './image/engine.js';
export { runMigrationsWorkflow, renderRunMigrations } from './ci/run-migrations.js';
export { buildImages } from './image/build.js';
export { pushImage, pushToEcr } from './image/push.js';
export { buildStack } from './image/stack.js';
