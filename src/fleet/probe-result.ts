/**
 * The two shapes every provider's probe ends in: a database read (its applied migrations,
 * so pending = known minus applied) and a database not there or not readable (all pending).
 * `known` undefined: berth does not know the app's migrations, so `pendingKnown` is false.
 */
import type { ProbeResult } from './types.js';

export function readProbe(
  database: string,
  known: readonly string[] | undefined,
  applied: string[],
  tables?: number,
): ProbeResult {
  const done = new Set(applied);
  return {
    database,
    exists: true,
    ...(tables === undefined ? {} : { tables }),
    applied,
    pending: known ? known.filter((m) => !done.has(m)) : [],
    pendingKnown: known !== undefined,
  };
}

/** Missing (no `error`) or unreadable (`error` says why). */
export function absentProbe(
  database: string,
  known: readonly string[] | undefined,
  error?: string,
): ProbeResult {
  return {
    database,
    exists: false,
    tables: 0,
    applied: [],
    pending: [...(known ?? [])],
    pendingKnown: known !== undefined,
    ...(error === undefined ? {} : { error }),
  };
}
