/**
 * The numeric limits berth.yaml and the command line share. The schema (schema.ts) builds
 * its fields from these, and the CLI's number options (`--concurrency`, `--batch-size`) check
 * them with parseBoundedInt, so a flag can never take a value the config would refuse.
 * This module imports nothing heavy (no zod): the CLI parses flags before loading a command.
 */
import { BerthError } from '../core/errors.js';

export interface IntLimit {
  min: number;
  max: number;
}

export const LIMITS = {
  'fleet.concurrency': { min: 1, max: 256 },
  'fleet.batchSize': { min: 1, max: 500 },
  'task.timeoutSeconds': { min: 10, max: 86_400 },
} as const satisfies Record<string, IntLimit>;

export type LimitedField = keyof typeof LIMITS;

/**
 * A command-line number with its config field's limits: a whole number in range, or a usage
 * error (exit 2) naming the flag, the range and the config field it overrides.
 */
export function parseBoundedInt(flag: string, value: string, field: LimitedField): number {
  const { min, max } = LIMITS[field];
  const n = /^\s*[+-]?\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new BerthError(
      'USAGE',
      `${flag} must be a whole number from ${min} to ${max} (the limits of ${field} in berth.yaml), got "${value}"`,
    );
  }
  return n;
}

/** A commander option parser for a bounded number flag. */
export function boundedInt(flag: string, field: LimitedField): (value: string) => number {
  return (value) => parseBoundedInt(flag, value, field);
}
