/**
 * verify's reference schema: what a tenant should look like. Either a known-good tenant
 * (verify.reference), read by the same probe as the others, or — where the provider can
 * create databases (local) — a scratch database berth creates, migrates from zero with the
 * configured migrate command through the provider's FleetBackend (the same FleetRun as a
 * tenant's migration, so the process and container runtimes both work), reads, and always
 * drops, also on failure or interrupt.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { errorMessage } from '../core/errors.js';
import { silentReporter, type Reporter } from '../core/events.js';
import type { SchemaFingerprint } from '../migrations/fingerprint.js';
import { migrateFleet, type MigrateFleetOptions } from './run-fleet.js';
import type { FleetBackend, ProbeResult } from './types.js';

const SCRATCH_PREFIX = 'berth_reference_';
const SCRATCH_NAME = /^berth_reference_[0-9a-f]{12}$/;

/** True for the names scratchName() makes, and only those (dropScratch refuses any other). */
export function isScratchName(name: string): boolean {
  return SCRATCH_NAME.test(name);
}

/** A fresh scratch database name that is none of `tenants`. */
export function scratchName(tenants: readonly string[]): string {
  const taken = new Set(tenants);
  for (;;) {
    const name = `${SCRATCH_PREFIX}${randomBytes(6).toString('hex')}`;
    if (!taken.has(name)) return name;
  }
}

/** How the scratch database is migrated: the tenant migration's own settings. */
export type ScratchMigration = Pick<
  MigrateFleetOptions,
  | 'command'
  | 'batchCommand'
  | 'taskLock'
  | 'timeoutMs'
  | 'lockWaitMs'
  | 'lockRetries'
  | 'lockTimeout'
>;

/** What verify compares the tenants with, as configured. */
export type ReferenceRequest =
  | { kind: 'tenant'; tenant: string }
  | { kind: 'scratch'; migration: ScratchMigration }
  /** Turned off (verify.compareSchema: false): said in the result. */
  | { kind: 'off'; reason: string };

export type Reference =
  | { kind: 'tenant' | 'scratch'; name: string; fingerprint: SchemaFingerprint }
  /**
   * No reference. `failed`: berth tried and could not (the scratch database did not migrate,
   * the reference tenant could not be read), which fails verify; otherwise it was not
   * possible or not asked for, which verify says without failing.
   */
  | { kind: 'none'; reason: string; failed: boolean };

/** The reference tenant's probe → the reference. */
export function tenantReference(tenant: string, probe: ProbeResult | undefined): Reference {
  const failed = (reason: string): Reference => ({
    kind: 'none',
    failed: true,
    reason: `the reference tenant ${tenant} ${reason}`,
  });
  if (!probe) return failed('gave no answer to the probe');
  if (probe.error) return failed(`could not be read: ${probe.error}`);
  if (probe.blind) return { kind: 'none', failed: false, reason: probe.blind };
  if (!probe.exists) return failed('does not exist');
  if (!probe.fingerprint)
    return {
      kind: 'none',
      failed: false,
      reason: `the probe did not report ${tenant}'s schema (a task.probeCommand that prints "schema": see docs/aws.md)`,
    };
  return { kind: 'tenant', name: tenant, fingerprint: probe.fingerprint };
}

export interface ScratchOptions {
  migration: ScratchMigration;
  /** The fleet's tenants: the scratch name is none of them. */
  tenants: readonly string[];
  reporter?: Reporter;
  signal?: AbortSignal | undefined;
}

/** Creates, migrates, reads and drops a scratch database; never throws. */
export async function scratchReference(
  backend: FleetBackend,
  options: ScratchOptions,
): Promise<Reference> {
  if (!backend.dropScratch)
    return {
      kind: 'none',
      failed: false,
      reason: `the ${backend.provider} provider cannot create a scratch database to migrate from zero; set verify.reference to a known-good tenant`,
    };
  const reporter = options.reporter ?? silentReporter;
  const name = scratchName(options.tenants);
  let release: (() => Promise<void>) | undefined;
  try {
    // Held before it exists, so that another verify's cleanup never takes it for a leftover.
    release = await backend.holdScratch?.(name);
    // Leftovers of a verify that was killed (SIGKILL, a crash) before it could drop its own.
    const stale = (await backend.dropStaleScratch?.()) ?? [];
    if (stale.length > 0)
      reporter.emit({
        type: 'message',
        level: 'info',
        text: `dropped ${stale.length} scratch database(s) left by a verify that did not finish: ${stale.join(', ')}`,
      });
  } catch (error) {
    await release?.();
    return {
      kind: 'none',
      failed: true,
      reason: `the scratch database ${name} could not be made: ${errorMessage(error)}`,
    };
  }
  reporter.emit({
    type: 'message',
    level: 'info',
    text: `migrating a scratch database ${name} from zero as the schema reference (dropped after)`,
  });
  const runsDir = await mkdtemp(path.join(os.tmpdir(), 'berth-reference-'));
  try {
    const run = await migrateFleet(backend, {
      ...options.migration,
      databases: [name],
      concurrency: 1,
      onError: 'stop',
      batchSize: 1,
      runsDir,
      reporter: silentReporter,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const result = run.databases[0];
    if (!result || (result.status !== 'applied' && result.status !== 'up-to-date')) {
      const why = [result?.reason, ...(result?.logExcerpt ?? []).slice(-3)]
        .filter(Boolean)
        .join(' | ');
      return {
        kind: 'none',
        failed: true,
        reason: `the scratch database ${name} did not migrate from zero (${result?.status ?? 'no result'}${why ? `: ${why}` : ''})`,
      };
    }
    let probe: ProbeResult | undefined;
    await backend.probe([name], (p) => (probe = p), options.signal, { fingerprint: true });
    if (!probe?.fingerprint)
      return {
        kind: 'none',
        failed: true,
        reason: `the scratch database ${name} could not be read${probe?.error ? `: ${probe.error}` : ''}`,
      };
    return { kind: 'scratch', name, fingerprint: probe.fingerprint };
  } catch (error) {
    return {
      kind: 'none',
      failed: true,
      reason: `the scratch database ${name} could not be made: ${errorMessage(error)}`,
    };
  } finally {
    await (backend.dropScratch?.(name) ?? Promise.resolve()).catch((error: unknown) =>
      reporter.emit({
        type: 'message',
        level: 'warn',
        text: `could not drop the scratch database ${name} (${errorMessage(error)}): the next verify drops it, or drop it by hand`,
      }),
    );
    await release?.();
    await rm(runsDir, { recursive: true, force: true });
  }
}
