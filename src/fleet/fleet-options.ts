/**
 * The fleet options every command derives from berth.yaml, in one place: migrate, verify and
 * both pipelines (local and aws) differ only in the databases, the journal directory and the
 * flags the user passed.
 */
import type { Config } from '../config/schema.js';
import { BerthError } from '../core/errors.js';
import type { Reporter } from '../core/events.js';
import { parseFailureLimit, type FailureLimit } from './failure-budget.js';
import { migrateCommandOf } from '../migrations/presets.js';
import type { MigrateInWavesOptions } from './waves.js';
import type { ReferenceRequest } from './reference.js';
import type { VerifyOptions } from './verify.js';

export interface FleetCall {
  databases: string[];
  reporter: Reporter;
  signal?: AbortSignal | undefined;
}

export interface MigrateFlags {
  concurrency?: number | undefined;
  onError?: 'stop' | 'continue' | undefined;
  batchSize?: number | undefined;
  /** --max-failures, parsed. */
  maxFailures?: FailureLimit | undefined;
  resumedFrom?: string | undefined;
}

export function migrateOptions(
  config: Config,
  runsDir: string,
  call: FleetCall,
  flags: MigrateFlags = {},
): MigrateInWavesOptions {
  return {
    databases: call.databases,
    command: migrateCommandOf(config),
    batchCommand: config.task.batchCommand,
    taskLock: config.migrations.taskLock === 'psql',
    concurrency: flags.concurrency ?? config.fleet.concurrency,
    onError: flags.onError ?? config.fleet.onError,
    maxFailures: failureLimit(config, flags),
    batchSize: flags.batchSize ?? config.fleet.batchSize,
    lockWaitMs: config.migrations.lockWaitSeconds * 1000,
    timeoutMs: config.task.timeoutSeconds * 1000,
    lockRetries: config.migrations.lockRetries,
    lockTimeout: config.migrations.lockTimeout,
    waveCheck: {
      expectedTables: config.database.expectedTables,
      checkCommand: config.task.checkCommand,
    },
    runsDir,
    reporter: call.reporter,
    ...(call.signal ? { signal: call.signal } : {}),
    ...(flags.resumedFrom ? { resumedFrom: flags.resumedFrom } : {}),
  };
}

export function verifyOptions(
  config: Config,
  call: FleetCall,
  { skipCheck = false } = {},
): VerifyOptions {
  return {
    databases: call.databases,
    expectedTables: config.database.expectedTables,
    reference: referenceRequest(config),
    checkCommand: skipCheck ? undefined : config.task.checkCommand,
    concurrency: config.fleet.concurrency,
    timeoutMs: config.task.timeoutSeconds * 1000,
    reporter: call.reporter,
    ...(call.signal ? { signal: call.signal } : {}),
  };
}

/** What verify compares the schemas with (verify.*): a tenant, or a scratch database. */
export function referenceRequest(config: Config): ReferenceRequest {
  if (!config.verify.compareSchema) return { kind: 'off', reason: 'verify.compareSchema is false' };
  if (config.verify.reference !== undefined)
    return { kind: 'tenant', tenant: config.verify.reference };
  return {
    kind: 'scratch',
    // Migrated as a tenant is: the same command, batch command, task lock and timeouts.
    migration: {
      command: migrateCommandOf(config),
      batchCommand: config.task.batchCommand,
      taskLock: config.migrations.taskLock === 'psql',
      timeoutMs: config.task.timeoutSeconds * 1000,
      lockWaitMs: config.migrations.lockWaitSeconds * 1000,
      lockRetries: config.migrations.lockRetries,
      lockTimeout: config.migrations.lockTimeout,
    },
  };
}

/**
 * The failure budget, most specific first: --max-failures, then --on-error (stop = 0,
 * continue = unlimited), then fleet.maxFailures, then fleet.onError.
 */
export function failureLimit(config: Config, flags: MigrateFlags): FailureLimit {
  if (flags.maxFailures !== undefined && flags.onError !== undefined)
    throw new BerthError('USAGE', '--max-failures and --on-error say the same thing; give one', {
      hint: '--on-error stop is --max-failures 0; --on-error continue is no limit',
    });
  if (flags.maxFailures !== undefined) return flags.maxFailures;
  if (flags.onError !== undefined) return flags.onError === 'stop' ? { count: 0 } : 'unlimited';
  if (config.fleet.maxFailures !== undefined)
    return parseFailureLimit(config.fleet.maxFailures, 'fleet.maxFailures');
  return config.fleet.onError === 'stop' ? { count: 0 } : 'unlimited';
}
