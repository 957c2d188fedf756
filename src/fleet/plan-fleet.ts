/**
 * `migrate --plan`: what a migrate run would apply, per tenant, without starting a migration
 * task. One probe of every selected database (local: a connection each; aws: one probe wave
 * of tasks in the VPC) and nothing else. A database whose pending migrations berth cannot
 * list is `unknown`, never "nothing pending": a CI gate on the plan must not pass on a guess.
 */
import { describeDrift } from '../migrations/drift.js';
import type { FleetBackend, ProbeResult } from './types.js';

export type PlanState = 'up-to-date' | 'pending' | 'unknown' | 'unreadable';

export interface PlannedDatabase {
  database: string;
  state: PlanState;
  /** False when the database does not exist yet (a fresh tenant: everything is pending). */
  exists: boolean;
  /** Pending migrations, in order; null when berth cannot tell (state unknown or unreadable). */
  pending: string[] | null;
  /** Migrations already applied (their count when known). */
  applied: number;
  /** Why the state is unknown or unreadable, or what drift the probe saw. */
  reason?: string;
}

export interface FleetPlan {
  /** True when every database is up to date (nothing pending, nothing unknown). */
  upToDate: boolean;
  counts: { total: number; upToDate: number; pending: number; unknown: number; unreadable: number };
  databases: PlannedDatabase[];
}

export interface PlanFleetOptions {
  databases: string[];
  signal?: AbortSignal | undefined;
}

export async function planFleet(
  backend: FleetBackend,
  options: PlanFleetOptions,
): Promise<FleetPlan> {
  await backend.prepare(options.databases, { create: false });
  const probes = new Map<string, ProbeResult>();
  await backend.probe(options.databases, (p) => probes.set(p.database, p), options.signal);
  const databases = options.databases.map((database) => planned(database, probes.get(database)));
  const count = (state: PlanState) => databases.filter((d) => d.state === state).length;
  const counts = {
    total: databases.length,
    upToDate: count('up-to-date'),
    pending: count('pending'),
    unknown: count('unknown'),
    unreadable: count('unreadable'),
  };
  return { upToDate: counts.upToDate === counts.total, counts, databases };
}

export function planned(database: string, probe: ProbeResult | undefined): PlannedDatabase {
  if (!probe)
    return {
      database,
      state: 'unreadable',
      exists: false,
      pending: null,
      applied: 0,
      reason: 'the probe gave no answer for it (interrupted?)',
    };
  if (probe.error)
    return {
      database,
      state: 'unreadable',
      exists: probe.exists,
      pending: null,
      applied: 0,
      reason: `could not read the database: ${probe.error}`,
    };
  if (probe.blind || !probe.pendingKnown)
    return {
      database,
      state: 'unknown',
      exists: probe.exists,
      pending: null,
      applied: probe.applied.length,
      reason:
        probe.blind ??
        'berth cannot list the migrations the code has (set migrations.directory, or a tool preset that lists them)',
    };
  const drift = describeDrift({
    pending: probe.pending,
    unknown: probe.unknown ?? [],
    failed: probe.failed ?? [],
    ...(probe.dirty !== undefined ? { dirty: probe.dirty } : {}),
    ok: true,
  });
  return {
    database,
    state: probe.pending.length > 0 ? 'pending' : 'up-to-date',
    exists: probe.exists,
    pending: probe.pending,
    applied: probe.applied.length,
    ...(drift.length ? { reason: drift.join('; ') } : {}),
  };
}
