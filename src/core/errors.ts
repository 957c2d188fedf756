/**
 * Errors as data. Every error berth raises on purpose is a BerthError with a stable `code`
 * (matched by tests and by the CLI, never the message text), a `source` saying whose
 * mistake it is, and a `hint` saying what to do about it. Only the CLI turns them into
 * exit codes (see exit-codes.ts).
 */

export type ErrorSource = 'user' | 'environment' | 'internal';

export type ErrorCode =
  | 'USAGE'
  | 'CONFIG_NOT_FOUND'
  | 'CONFIG_INVALID'
  | 'CONFIG_EXISTS'
  | 'DATABASE_UNKNOWN'
  | 'POSTGRES_START_FAILED'
  | 'POSTGRES_UNAVAILABLE'
  | 'STATE_UNWRITABLE'
  | 'TASK_NOT_FOUND'
  | 'RUN_NOT_FOUND'
  | 'NOTHING_TO_RESUME'
  | 'CONTAINER_ENGINE_UNAVAILABLE'
  | 'IMAGE_BUILD_FAILED'
  | 'IMAGE_PUSH_FAILED'
  | 'IMAGE_POLICY_FAILED'
  | 'AWS_CREDENTIALS_MISSING'
  | 'AWS_ACCESS_DENIED'
  | 'AWS_REFERENCE_INVALID'
  | 'AWS_RESOURCE_NOT_OWNED'
  | 'AWS_ERROR'
  | 'CONFIRMATION_REQUIRED'
  | 'ABORTED'
  | 'TENANT_DISCOVERY_FAILED'
  | 'MIGRATIONS_LIST_FAILED'
  | 'LINTER_UNAVAILABLE'
  | 'INTERNAL';

export interface BerthErrorOptions {
  cause?: unknown;
  hint?: string;
  source?: ErrorSource;
  /** Overrides the exit code the CLI would derive from the code. */
  /** Overrides the exit code of `code` (see exit-codes.ts). */
  exitCode?: number;
  /** Machine-readable details (field paths, resource names); never secrets. */
  details?: Record<string, unknown>;
}

const BERTH_ERROR = Symbol.for('berth.error');

export class BerthError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly source: ErrorSource;
  readonly exitCode: number | undefined;
  readonly details: Record<string, unknown> | undefined;
  readonly [BERTH_ERROR] = true;

  constructor(code: ErrorCode, message: string, options: BerthErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BerthError';
    this.code = code;
    this.hint = options.hint;
    this.source = options.source ?? (code === 'INTERNAL' ? 'internal' : 'user');
    this.exitCode = options.exitCode;
    this.details = options.details;
  }
}

/**
 * Several problems found by independent checks as one error: each message on its own line,
 * their distinct hints joined. One problem is returned as it is. The code is the problems'
 * own when they share one, else `fallback`.
 */
export function combineProblems(problems: BerthError[], fallback: ErrorCode): BerthError {
  const [first] = problems;
  if (!first) throw new BerthError('INTERNAL', 'combineProblems() needs at least one problem');
  if (problems.length === 1) return first;
  const code = problems.every((p) => p.code === first.code) ? first.code : fallback;
  const hints = [...new Set(problems.map((p) => p.hint).filter((h) => h !== undefined))];
  return new BerthError(code, problems.map((p) => p.message).join('\n'), {
    ...(hints.length ? { hint: hints.join('; ') } : {}),
  });
}

/** Matches on a marker, not `instanceof`, so two bundled copies of the class still agree. */
export function isBerthError(value: unknown): value is BerthError {
  return typeof value === 'object' && value !== null && BERTH_ERROR in value;
}

export function errorMessage(value: unknown): string {
  if (value instanceof Error) return value.message;
  return String(value);
}

export function assertNever(value: never, what = 'value'): never {
  throw new BerthError('INTERNAL', `unexpected ${what}: ${JSON.stringify(value)}`);
}
