/**
 * The two shapes every provider's probe ends in: a database read (its applied migrations,
 * compared with the known ones by src/migrations/drift.ts) and a database not there or not
 * readable (all pending). `known` undefined: berth does not know the app's migrations, so
 * `pendingKnown` is false.
 */
import { compare } from '../migrations/drift.js';
import type { ProbeResult } from './types.js';

export interface HistoryExtras {
  /** How the tool records its history (presets.ts); `each` by default. */
  records?: 'each' | 'head';
  dirty?: string;
  failed?: string[];
}

export function readProbe(
  database: string,
  known: readonly string[] | undefined,
  applied: string[],
  tables?: number,
  extras: HistoryExtras = {},
): ProbeResult {
  const records = extras.records ?? 'each';
  const drift = known
    ? compare(known, { applied, dirty: extras.dirty, failed: extras.failed }, records)
    : undefined;
  // A dirty version, a failed row, or a current version the code does not have: berth cannot
  // call the database up to date, so the tool runs (and reports the problem itself).
  const attention =
    extras.dirty !== undefined ||
    (extras.failed?.length ?? 0) > 0 ||
    (records === 'head' && (drift?.unknown.length ?? 0) > 0);
  return {
    database,
    exists: true,
    ...(tables === undefined ? {} : { tables }),
    applied,
    pending: drift?.pending ?? [],
    pendingKnown: known !== undefined && !attention,
    ...(drift && drift.unknown.length > 0 ? { unknown: drift.unknown } : {}),
    ...(extras.dirty === undefined ? {} : { dirty: extras.dirty }),
    ...(extras.failed?.length ? { failed: [...extras.failed] } : {}),
  };
}

/** Read, with nothing pending that berth knows of: no task needed. */
export function isUpToDate(probe: ProbeResult): boolean {
  return probe.exists && probe.pendingKnown && probe.pending.length === 0 && !probe.error;
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
