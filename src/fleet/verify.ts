/**
 * verify: every database has all its tables and no pending migration. The probe reads table
 * counts and the history table; the optional check command (e.g. `migrate --check`) runs as a
 * task per database, so the app's own notion of "pending" is asked too.
 */
import pLimit from 'p-limit';
import type { Reporter } from '../core/events.js';
import { errorMessage } from '../core/errors.js';
import { describeDrift } from '../migrations/drift.js';
import { newTaskId } from '../tasks/task-id.js';
import { tailLog } from '../state/task-store.js';
import type { FleetBackend, ProbeResult } from './types.js';

export interface VerifyDatabase {
  name: string;
  /** null when the probe could not read it (`reason` says why): unknown, not "missing". */
  exists: boolean | null;
  /** null when berth could not count them (aws without task.probeCommand). */
  tables: number | null;
  /** null when database.expectedTables is not set: then pending and drift decide. */
  expectedTables: number | null;
  /**
   * Number of pending migrations (0 when complete). null when berth cannot know: no
   * migrations.directory and the check command was skipped.
   */
  pending: number | null;
  pendingMigrations: string[];
  /** Recorded in the database's history but unknown to the code (drift). */
  unknownMigrations?: string[];
  /** golang-migrate: the dirty version. */
  dirty?: string;
  /** Prisma / Flyway: failed migrations in the history. */
  failedMigrations?: string[];
  check: 'passed' | 'failed' | 'not-configured' | 'skipped';
  checkTaskId?: string;
  ok: boolean;
  reason?: string;
}

export interface VerifyResult {
  ok: boolean;
  databases: VerifyDatabase[];
}

export interface VerifyOptions {
  databases: string[];
  /** Absent: the table count is reported but not judged. */
  expectedTables?: number | undefined;
  checkCommand?: string[] | undefined;
  concurrency: number;
  timeoutMs: number;
  reporter: Reporter;
  signal?: AbortSignal;
}

export async function verifyFleet(
  backend: FleetBackend,
  options: VerifyOptions,
): Promise<VerifyResult> {
  await backend.prepare(options.databases, { create: false });
  const probes = new Map<string, ProbeResult>();
  const total = options.databases.length;
  await backend.probe(
    options.databases,
    (p) => {
      probes.set(p.database, p);
      options.reporter.emit({ type: 'progress', phase: 'probe', done: probes.size, total });
    },
    options.signal,
  );

  const checks = new Map<
    string,
    { status: 'passed' | 'failed'; taskId: string; tail?: string[] }
  >();
  const { checkCommand } = options;
  if (checkCommand) {
    const checked = options.databases.filter((d) => probes.get(d)?.exists).length;
    const limit = pLimit(options.concurrency);
    const environment = backend.taskEnvironment();
    await Promise.all(
      options.databases
        .filter((d) => probes.get(d)?.exists)
        .map((database) =>
          limit(async () => {
            const id = newTaskId('check');
            try {
              const outcome = await backend.runtime.run(
                {
                  id,
                  kind: 'check',
                  databases: [database],
                  command: checkCommand,
                  environment: { ...environment, DATABASE_NAME: database },
                  timeoutMs: options.timeoutMs,
                },
                options.signal,
              );
              // Passed only when observed: exit 0, not stopped, and (where the runtime counts
              // them) at least one line printed; an emulated task that never ran is not a pass.
              const unobserved = outcome.stopped
                ? `the check task was stopped (${outcome.stoppedReason ?? outcome.stopped})`
                : outcome.logLines === 0
                  ? 'the check task exited 0 but printed nothing: not confirmed'
                  : undefined;
              checks.set(
                database,
                outcome.exitCode === 0 && !unobserved
                  ? { status: 'passed', taskId: id }
                  : {
                      status: 'failed',
                      taskId: id,
                      tail: unobserved ? [unobserved] : await tailLog(outcome.logFile, 5),
                    },
              );
            } catch (error) {
              checks.set(database, { status: 'failed', taskId: id, tail: [errorMessage(error)] });
            }
            options.reporter.emit({
              type: 'progress',
              phase: 'check',
              done: checks.size,
              total: checked,
            });
          }),
        ),
    );
  }

  const databases = options.databases.map((name): VerifyDatabase => {
    const probe = probes.get(name);
    const check = checks.get(name);
    const exists = probe?.exists ?? false;
    const tables = probe?.tables ?? 0;
    const pendingMigrations = probe?.pending ?? [];
    // Without a migrations directory the check command is the only judge of "pending".
    const pendingKnown = probe?.pendingKnown ?? true;
    const reasons: string[] = [];
    if (probe?.error) reasons.push(`could not read it: ${probe.error}`);
    else if (probe?.blind) {
      // Nothing was read: the check command is the only judge.
      if (!check)
        reasons.push(
          `cannot verify it: ${probe.blind}, and ${checkCommand ? 'the check did not run' : 'no check command is configured'}`,
        );
      else if (check.status === 'failed')
        reasons.push(
          `the check command failed${check.tail?.length ? `: ${check.tail.join(' | ')}` : ''}`,
        );
    } else if (!exists) reasons.push('the database does not exist');
    else {
      if (options.expectedTables !== undefined && tables !== options.expectedTables)
        reasons.push(`${tables} tables, expected ${options.expectedTables}`);
      if (pendingMigrations.length > 0)
        reasons.push(
          `${pendingMigrations.length} pending migration(s): ${pendingMigrations.slice(0, 3).join(', ')}${pendingMigrations.length > 3 ? ', …' : ''}`,
        );
      if (probe)
        reasons.push(
          ...describeDrift({
            pending: [],
            unknown: probe.unknown ?? [],
            failed: probe.failed ?? [],
            ...(probe.dirty === undefined ? {} : { dirty: probe.dirty }),
            ok: false,
          }),
        );
      if (check?.status === 'failed')
        reasons.push(
          `the check command failed${check.tail?.length ? `: ${check.tail.join(' | ')}` : ''}`,
        );
    }
    // Only what was observed: a probe that failed (or never answered) leaves it unknown.
    const unread = !probe || probe.error !== undefined;
    if (!probe) reasons.push('not read: the probe gave no answer for it');
    const result: VerifyDatabase = {
      name,
      exists: unread ? null : exists,
      tables: probe?.blind || unread ? null : tables,
      expectedTables: options.expectedTables ?? null,
      pending: unread
        ? null
        : pendingKnown
          ? pendingMigrations.length
          : check?.status === 'passed'
            ? 0
            : null,
      pendingMigrations: unread ? [] : pendingMigrations,
      check: check?.status ?? (checkCommand ? 'skipped' : 'not-configured'),
      ok: reasons.length === 0,
    };
    if (probe?.unknown) result.unknownMigrations = probe.unknown;
    if (probe?.dirty !== undefined) result.dirty = probe.dirty;
    if (probe?.failed) result.failedMigrations = probe.failed;
    if (check) result.checkTaskId = check.taskId;
    if (reasons.length > 0) result.reason = reasons.join('; ');
    return result;
  });
  return { ok: databases.every((d) => d.ok), databases };
}

/** What verify checks, in words: `57 tables, nothing pending` or `nothing pending, no drift`. */
export function verifyGoal(expectedTables: number | undefined): string {
  return expectedTables === undefined
    ? 'nothing pending, no drift'
    : `${expectedTables} tables, nothing pending`;
}
