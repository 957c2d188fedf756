/**
 * verify: every database has all its tables and no pending migration, and its schema is the
 * reference's. The probe reads table counts, the history table and (with a reference) the
 * schema's fingerprint in the same round trip; the optional check command (e.g. `migrate
 * --check`) runs as a task per database, so the app's own notion of "pending" is asked too.
 */
import pLimit from 'p-limit';
import type { Reporter } from '../core/events.js';
import { errorMessage } from '../core/errors.js';
import { describeDrift } from '../migrations/drift.js';
import {
  compareSchemas,
  type SchemaCoverage,
  type SchemaFingerprint,
} from '../migrations/fingerprint.js';
import { newTaskId } from '../tasks/task-id.js';
import { tailLog } from '../state/task-store.js';
import {
  scratchReference,
  tenantReference,
  type Reference,
  type ReferenceRequest,
} from './reference.js';
import type { FleetBackend, ProbeResult } from './types.js';

export interface VerifyDatabase {
  name: string;
  /** null when the probe could not read it (`reason` says why): unknown, not "missing". */
  exists: boolean | null;
  /** null when berth could not count them (aws without task.probeCommand). */
  tables: number | null;
  /**
   * database.expectedTables, else the reference's table count; null when neither is known:
   * then pending, drift and the schema decide.
   */
  expectedTables: number | null;
  /** The schema's fingerprint (sha256), when the probe read it. */
  fingerprint?: string;
  /**
   * With a reference: `matches`, `differs` (schemaDifferences says how) or `not-compared`
   * (the database was not read, or its probe did not report its schema).
   */
  schema?: 'matches' | 'differs' | 'not-compared';
  /** How the schema differs from the reference, e.g. `extra column orders.note`. */
  schemaDifferences?: string[];
  /**
   * `tables`: its probe (or the reference's) ran an older copy of berth's catalog query, so
   * only tables, columns, indexes and constraints were compared, not triggers, views,
   * functions or types. `before-version-3`: a copy from before the query's version 3, so
   * everything but sequences, domains and composite types. Absent: everything.
   */
  schemaCoverage?: Exclude<SchemaCoverage, 'full'>;
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

/** What the tenants' schemas were compared with. */
export interface VerifySchema {
  compared: boolean;
  /** The reference: a configured tenant, or a scratch database migrated from zero. */
  reference?: { kind: 'tenant' | 'scratch'; name: string; fingerprint: string; tables: number };
  /** Why the schemas were not compared (compared: false), or which databases were not. */
  reason?: string;
  /** Where the expected table count came from. */
  expectedTables: { count: number; from: 'config' | 'reference' } | null;
}

export interface VerifyResult {
  ok: boolean;
  /** Absent when no reference was asked for (the checks between rollout waves). */
  schema?: VerifySchema;
  databases: VerifyDatabase[];
}

export interface VerifyOptions {
  databases: string[];
  /** Absent: derived from the reference when there is one, else reported but not judged. */
  expectedTables?: number | undefined;
  /** What each schema is compared with; absent: schemas are not compared. */
  reference?: ReferenceRequest | undefined;
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
  const request = options.reference;
  // The reference tenant is probed with the others, in the same pass.
  const extra =
    request?.kind === 'tenant' && !options.databases.includes(request.tenant)
      ? [request.tenant]
      : [];
  const selected = new Set(options.databases);
  const fingerprints = new Map<string, SchemaFingerprint>();
  let done = 0;
  const [, scratch] = await Promise.all([
    backend.probe(
      [...options.databases, ...extra],
      (p) => {
        // Tenants with the same schema share one description: a thousand copies of a
        // 57-table schema would be hundreds of MB.
        if (p.fingerprint) {
          const shared = fingerprints.get(p.fingerprint.hash);
          if (shared) p = { ...p, fingerprint: shared };
          else fingerprints.set(p.fingerprint.hash, p.fingerprint);
        }
        probes.set(p.database, p);
        if (!selected.has(p.database)) return;
        options.reporter.emit({ type: 'progress', phase: 'probe', done: ++done, total });
      },
      options.signal,
      // Only when there is something to compare with: a probe task need not read them for nothing.
      {
        fingerprint:
          request?.kind === 'tenant' ||
          (request?.kind === 'scratch' && backend.dropScratch !== undefined),
      },
    ),
    request?.kind === 'scratch'
      ? scratchReference(backend, {
          migration: request.migration,
          tenants: options.databases,
          reporter: options.reporter,
          signal: options.signal,
        })
      : undefined,
  ]);
  const reference: Reference | undefined =
    request === undefined
      ? undefined
      : request.kind === 'off'
        ? { kind: 'none', failed: false, reason: request.reason }
        : request.kind === 'tenant'
          ? tenantReference(request.tenant, probes.get(request.tenant))
          : (scratch ?? { kind: 'none', failed: true, reason: 'no scratch reference was made' });
  const referenceShape = reference?.kind === 'none' ? undefined : reference?.fingerprint;
  const expectedTables =
    options.expectedTables ?? (referenceShape ? referenceShape.tables : undefined);
  const expectedFrom = options.expectedTables !== undefined ? 'config' : 'reference';

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
    let differences: string[] | undefined;
    let coverage: SchemaCoverage = 'full';
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
      if (probe?.fingerprint && referenceShape) {
        const compared = compareSchemas(referenceShape, probe.fingerprint);
        differences = compared.differences;
        coverage = compared.coverage;
      }
      // A count derived from the reference is already judged by the differences (a table
      // missing or extra) when the schema was compared.
      if (
        expectedTables !== undefined &&
        tables !== expectedTables &&
        (expectedFrom === 'config' || differences === undefined)
      )
        reasons.push(
          `${tables} tables, expected ${expectedTables}${expectedFrom === 'reference' ? " (the reference's count)" : ''}`,
        );
      if (differences && differences.length > 0)
        reasons.push(
          differences.slice(0, SHOWN_DIFFERENCES).join('; ') +
            (differences.length > SHOWN_DIFFERENCES
              ? `; … ${differences.length - SHOWN_DIFFERENCES} more (--json lists them all)`
              : ''),
        );
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
      expectedTables: expectedTables ?? null,
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
    if (probe?.fingerprint) result.fingerprint = probe.fingerprint.hash;
    if (referenceShape) {
      result.schema =
        differences === undefined ? 'not-compared' : differences.length > 0 ? 'differs' : 'matches';
      if (differences) result.schemaDifferences = differences;
      if (coverage !== 'full') result.schemaCoverage = coverage;
    }
    if (probe?.unknown) result.unknownMigrations = probe.unknown;
    if (probe?.dirty !== undefined) result.dirty = probe.dirty;
    if (probe?.failed) result.failedMigrations = probe.failed;
    if (check) result.checkTaskId = check.taskId;
    if (reasons.length > 0) result.reason = reasons.join('; ');
    return result;
  });
  const schema = reference && verifySchema(reference, databases, expectedTables, expectedFrom);
  return {
    ok: databases.every((d) => d.ok) && !(reference?.kind === 'none' && reference.failed),
    ...(schema ? { schema } : {}),
    databases,
  };
}

/** Differences shown in a database's reason; --json carries all of them. */
const SHOWN_DIFFERENCES = 5;

function verifySchema(
  reference: Reference,
  databases: VerifyDatabase[],
  expectedTables: number | undefined,
  expectedFrom: 'config' | 'reference',
): VerifySchema {
  const expected =
    expectedTables === undefined ? null : { count: expectedTables, from: expectedFrom };
  if (reference.kind === 'none')
    return { compared: false, reason: reference.reason, expectedTables: expected };
  const unread = databases.filter((d) => d.schema === 'not-compared').map((d) => d.name);
  const older = databases.filter((d) => d.schemaCoverage === 'tables').map((d) => d.name);
  const beforeV3 = databases
    .filter((d) => d.schemaCoverage === 'before-version-3')
    .map((d) => d.name);
  const list = (names: string[]) =>
    `${names.slice(0, 5).join(', ')}${names.length > 5 ? ', …' : ''}`;
  const reasons = [
    ...(unread.length > 0
      ? [`not compared for ${unread.length} database(s) whose schema was not read: ${list(unread)}`]
      : []),
    ...(older.length > 0
      ? [
          `tables only for ${older.length} database(s) (${list(older)}): ${reference.fingerprint.coverage === 'tables' ? "the reference's" : 'their'} probe runs an older copy of berth's catalog query, without triggers, views, functions and enum types; copy CATALOG_SQL from this berth (docs/aws.md, "The probe") into the probe task`,
        ]
      : []),
    ...(beforeV3.length > 0
      ? [
          `sequences, domains and composite types not compared for ${beforeV3.length} database(s) (${list(beforeV3)}): ${reference.fingerprint.version < 3 ? "the reference's" : 'their'} probe runs a copy of berth's catalog query from before its version 3; copy CATALOG_SQL from this berth (docs/aws.md, "The probe") into the probe task`,
        ]
      : []),
  ];
  return {
    compared: true,
    reference: {
      kind: reference.kind,
      name: reference.name,
      fingerprint: reference.fingerprint.hash,
      tables: reference.fingerprint.tables,
    },
    ...(reasons.length > 0 ? { reason: reasons.join('; ') } : {}),
    expectedTables: expected,
  };
}

/**
 * What verify checks, in words: `57 tables, nothing pending` or `nothing pending, no drift`;
 * with a run's schema comparison, `…, schema as the reference's` or `…, schema not compared`.
 */
export function verifyGoal(expectedTables: number | undefined, schema?: VerifySchema): string {
  const count = expectedTables ?? schema?.expectedTables?.count;
  const goal =
    count === undefined ? 'nothing pending, no drift' : `${count} tables, nothing pending`;
  if (!schema) return goal;
  return `${goal}, ${schema.compared ? "schema as the reference's" : 'schema not compared'}`;
}
