/**
 * Known (the code's migrations) against applied (a tenant's history): what is pending, what is
 * recorded but unknown to the code (drift, as `prisma migrate status` reports it), and what
 * needs attention (a dirty version, failed rows). Pure; history.ts and known.ts do the reading.
 */
import type { History } from './history.js';

export interface Drift {
  /** The code's migrations the tenant has not applied, in the code's order. */
  pending: string[];
  /** Recorded in the tenant's history but not in the code: drift. */
  unknown: string[];
  /** golang-migrate's dirty version. */
  dirty?: string;
  /** Prisma / Flyway rows that failed. */
  failed: string[];
  /** Nothing pending, nothing unknown, nothing dirty or failed. */
  ok: boolean;
}

/**
 * `records: 'head'` (golang-migrate, Alembic): the history holds only the current version, so
 * everything up to it in the code's order is applied and everything after it is pending. An
 * unknown head leaves pending unknowable: it is reported as drift and pending stays empty.
 */
export function compare(
  known: readonly string[],
  history: History,
  records: 'each' | 'head' = 'each',
): Drift {
  const failed = history.failed ?? [];
  let pending: string[];
  let unknown: string[];
  if (records === 'each') {
    const done = new Set(history.applied);
    const inCode = new Set(known);
    pending = known.filter((m) => !done.has(m));
    unknown = history.applied.filter((m) => !inCode.has(m));
  } else {
    const heads = history.dirty === undefined ? history.applied : [history.dirty];
    unknown = heads.filter((h) => !known.includes(h));
    const at = Math.max(-1, ...heads.map((h) => known.indexOf(h)));
    pending = unknown.length > 0 ? [] : known.slice(at + 1);
  }
  const drift: Drift = {
    pending,
    unknown,
    failed: [...failed],
    ok: pending.length === 0 && unknown.length === 0 && failed.length === 0,
  };
  if (history.dirty !== undefined) {
    drift.dirty = history.dirty;
    drift.ok = false;
  }
  return drift;
}

/** One line for a tenant's problems, e.g. `2 pending (a, b); unknown to the code: x`. */
export function describeDrift(drift: Drift): string[] {
  const reasons: string[] = [];
  const list = (ids: string[]) => `${ids.slice(0, 3).join(', ')}${ids.length > 3 ? ', …' : ''}`;
  if (drift.dirty !== undefined)
    reasons.push(`dirty at version ${drift.dirty}: a migration stopped half-way; fix it by hand`);
  if (drift.failed.length > 0) reasons.push(`failed migration(s) recorded: ${list(drift.failed)}`);
  if (drift.unknown.length > 0)
    reasons.push(
      `${drift.unknown.length} applied migration(s) unknown to the code: ${list(drift.unknown)}`,
    );
  return reasons;
}
