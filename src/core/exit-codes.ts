/**
 * The documented exit codes (README "Exit codes"). Only src/cli sets process.exitCode;
 * everything else returns results or throws BerthErrors that map onto these.
 */
export const ExitCode = {
  ok: 0,
  internal: 1,
  usage: 2,
  config: 3,
  /** At least one database failed to migrate (the others have their own results). */
  migrationFailed: 4,
  /** At least one database was locked by another run and skipped; nothing failed. */
  locked: 5,
  /** Verification found a database with missing tables or pending migrations. */
  verifyFailed: 6,
  /** The environment is not usable: Postgres will not start, no credentials, no engine. */
  environment: 7,
  /** A remote resource problem: access denied, invalid reference, resource not ours. */
  provider: 8,
  /** `plan --detailed-exitcode`, `status`, `ci init --check`: something differs from berth.yaml. */
  changesPending: 9,
  /** Pipeline: 10 + the index of the stage that failed (test 11, build 12, push 13, migrate 14, verify 15). */
  pipelineTestFailed: 11,
  pipelineBuildFailed: 12,
  pipelinePushFailed: 13,
  pipelineMigrateFailed: 14,
  pipelineVerifyFailed: 15,
  /** `berth lint`: a migration has a finding at error level. */
  lintFailed: 16,
  /** Stopped by SIGINT/SIGTERM (128 + 2). */
  interrupted: 130,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

import type { ErrorCode } from './errors.js';

export function exitCodeForError(code: ErrorCode): ExitCode {
  switch (code) {
    case 'USAGE':
    case 'DATABASE_UNKNOWN':
    case 'TASK_NOT_FOUND':
    case 'RUN_NOT_FOUND':
    case 'NOTHING_TO_RESUME':
    case 'CONFIRMATION_REQUIRED':
    case 'ABORTED':
    case 'CONFIG_EXISTS':
      return ExitCode.usage;
    case 'CONFIG_NOT_FOUND':
    case 'CONFIG_INVALID':
    case 'TENANT_DISCOVERY_FAILED':
    case 'MIGRATIONS_LIST_FAILED':
      return ExitCode.config;
    case 'POSTGRES_START_FAILED':
    case 'POSTGRES_UNAVAILABLE':
    case 'STATE_UNWRITABLE':
    case 'CONTAINER_ENGINE_UNAVAILABLE':
    case 'AWS_CREDENTIALS_MISSING':
    case 'LINTER_UNAVAILABLE':
      return ExitCode.environment;
    case 'IMAGE_BUILD_FAILED':
    case 'IMAGE_PUSH_FAILED':
    case 'IMAGE_POLICY_FAILED':
    case 'AWS_ACCESS_DENIED':
    case 'AWS_REFERENCE_INVALID':
    case 'AWS_RESOURCE_NOT_OWNED':
    case 'AWS_ERROR':
      return ExitCode.provider;
    case 'INTERNAL':
      return ExitCode.internal;
  }
}
