/**
 * The fleet options every command derives from berth.yaml, in one place: migrate, verify and
 * both pipelines (local and aws) differ only in the databases, the journal directory and the
 * flags the user passed.
 */
import type { Config } from '../config/schema.js';
import type { Reporter } from '../core/events.js';
import type { MigrateFleetOptions } from './run-fleet.js';
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
  resumedFrom?: string | undefined;
}

export function migrateOptions(
  config: Config,
  runsDir: string,
  call: FleetCall,
  flags: MigrateFlags = {},
): MigrateFleetOptions {
  return {
    databases: call.databases,
    command: config.task.command,
    batchCommand: config.task.batchCommand,
    taskLock: config.migrations.taskLock === 'psql',
    concurrency: flags.concurrency ?? config.fleet.concurrency,
    onError: flags.onError ?? config.fleet.onError,
    batchSize: flags.batchSize ?? config.fleet.batchSize,
    lockWaitMs: config.migrations.lockWaitSeconds * 1000,
    timeoutMs: config.task.timeoutSeconds * 1000,
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
    checkCommand: skipCheck ? undefined : config.task.checkCommand,
    concurrency: config.fleet.concurrency,
    timeoutMs: config.task.timeoutSeconds * 1000,
    reporter: call.reporter,
    ...(call.signal ? { signal: call.signal } : {}),
  };
}
