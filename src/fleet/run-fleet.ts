/**
 * migrate across the fleet:
 *   1. probe every database once, cheaply (the no-op fast path: up-to-date databases never
 *      get a task). A provider that reaches the databases directly claims them instead: one
 *      connection takes the lock and probes, and a database with work stays held until its
 *      batch has run (at most about `concurrency + 1` batches are held at once);
 *   2. group the rest into batches of `batchSize` and run at most `concurrency` tasks;
 *   3. for each batch: lock each database not yet held (bounded wait, else `locked`), probe
 *      under the lock (another run may have finished the work), run the task, read each
 *      database's exit code, probe again to learn exactly what was applied;
 *   4. journal every result as it lands, so an interrupted run can be resumed.
 * It never throws for one database's failure.
 */
import pLimit from 'p-limit';
import type { Reporter } from '../core/events.js';
import { errorMessage } from '../core/errors.js';
import { redactor } from '../core/redact.js';
import { newTaskId } from '../tasks/task-id.js';
import { readLogLines, tailLog } from '../state/task-store.js';
import type { TaskOutcome } from '../tasks/task.js';
import { BatchLogParser, batchCommand } from './batch-script.js';
import { ClaimGate } from './claim-gate.js';
import { absentProbe } from './probe-result.js';
import { RunJournal, markResumed, newRunId, type RunMeta } from '../state/journal.js';
import {
  countResult,
  emptyCounts,
  type Claim,
  type DatabaseResult,
  type FleetBackend,
  type FleetResult,
  type Lease,
  type ProbeResult,
} from './types.js';

export interface MigrateFleetOptions {
  databases: string[];
  command: string[];
  /**
   * The app's own batch command (task.batchCommand): migrates every database in
   * DATABASE_NAMES in one process, printing berth's markers. Without it a batch is a shell
   * loop over `command`, one process per tenant.
   */
  batchCommand?: string[] | undefined;
  concurrency: number;
  onError: 'stop' | 'continue';
  batchSize: number;
  lockWaitMs: number;
  timeoutMs: number;
  runsDir: string;
  reporter: Reporter;
  signal?: AbortSignal;
  resumedFrom?: string;
  /** Log lines kept per failed database. */
  excerptLines?: number;
  now?: () => number;
}

export async function migrateFleet(
  backend: FleetBackend,
  options: MigrateFleetOptions,
): Promise<FleetResult> {
  const now = options.now ?? Date.now;
  const started = now();
  const runId = newRunId();
  const excerptLines = options.excerptLines ?? 20;
  const meta: RunMeta = {
    id: runId,
    operation: 'migrate',
    provider: backend.provider,
    databases: options.databases,
    options: {
      concurrency: options.concurrency,
      onError: options.onError,
      batchSize: options.batchSize,
    },
    startedAt: new Date(started).toISOString(),
    state: 'running',
    ...(options.resumedFrom ? { resumedFrom: options.resumedFrom } : {}),
  };
  const journal = await RunJournal.create(options.runsDir, meta);
  if (options.resumedFrom) await markResumed(options.runsDir, options.resumedFrom, runId);
  const counts = emptyCounts();
  const results = new Map<string, DatabaseResult>();
  const total = options.databases.length;
  let stopRequested = false;

  const finish = async (result: DatabaseResult) => {
    const clean = redactor.redactDeep(result);
    results.set(clean.database, clean);
    countResult(counts, clean);
    if (clean.status === 'failed' && options.onError === 'stop') stopRequested = true;
    const snapshot = { ...counts };
    await journal.record(clean);
    options.reporter.emit({
      type: 'database-finished',
      runId,
      result: clean,
      counts: snapshot,
      total,
    });
  };

  options.reporter.emit({ type: 'fleet-started', runId, operation: 'migrate', total });
  await backend.prepare(options.databases, { create: true });
  const known = await backend.migrations();

  // Connections: each task holds one lock connection per database in its batch, plus its own.
  let concurrency = options.concurrency;
  const connections = total > 0 ? await backend.connectionBudget?.() : undefined;
  const budget =
    connections === undefined
      ? undefined
      : Math.max(1, Math.floor(connections / (Math.min(options.batchSize, total) + 1)));
  if (budget !== undefined && concurrency > budget) {
    options.reporter.emit({
      type: 'message',
      level: 'warn',
      text: `concurrency ${concurrency} would exhaust the database server's connections; running ${budget} tasks at a time`,
    });
    concurrency = budget;
  }
  const limit = pLimit(concurrency);
  const before = new Map<string, ProbeResult>();
  // Databases claimed with pending work, held (locked) until their batch takes them.
  const claimed = new Map<string, Lease>();
  // Held: the running batches, one more waiting, and the claims in flight; never more than
  // the connections left beside the tasks' own.
  const claimConcurrency = backend.claimConcurrency ?? 1;
  const lookahead = (concurrency + 1) * options.batchSize + claimConcurrency;
  const gate = new ClaimGate(
    connections === undefined
      ? lookahead
      : Math.max(options.batchSize, Math.min(lookahead, connections - concurrency)),
  );
  const skip = (database: string, reason: string) =>
    finish({
      database,
      status: 'skipped',
      applied: [],
      pending: before.get(database)?.pending ?? known ?? [],
      reason,
      durationMs: 0,
    });

  // 1 + 2. Probe and migrate overlap: databases are taken in fleet order as soon as their
  // probe has answered (up-to-date ones are reported at once, the rest fill batches), so the
  // first task starts while the rest of a large fleet is still being probed.
  const finishing: Promise<unknown>[] = [];
  const dispatch = (batch: string[]) => {
    const leases = new Map<string, Lease>();
    for (const database of batch) {
      const lease = claimed.get(database);
      if (!lease) continue;
      leases.set(database, lease);
      claimed.delete(database);
    }
    finishing.push(runBatch(batch, leases));
  };
  let cursor = 0;
  let filling: string[] = [];
  let pendingCount = 0;
  let upToDateCount = 0;
  let missing = 0;
  const advance = () => {
    for (; cursor < total; cursor++) {
      const database = options.databases[cursor] ?? '';
      const probe = before.get(database);
      if (!probe) return;
      if (probe.error) {
        finishing.push(
          finish({
            database,
            status: 'failed',
            applied: [],
            pending: [],
            reason: `could not read the database: ${probe.error}`,
            durationMs: 0,
          }),
        );
      } else if (isUpToDate(probe)) {
        upToDateCount++;
        finishing.push(
          finish({ database, status: 'up-to-date', applied: [], pending: [], durationMs: 0 }),
        );
      } else {
        pendingCount++;
        if (!probe.exists) missing++;
        filling.push(database);
        if (filling.length >= options.batchSize) {
          dispatch(filling);
          filling = [];
        }
      }
    }
  };
  const onProbe = (p: ProbeResult) => {
    before.set(p.database, p);
    advance();
  };
  const wake = () => gate.wakeAll();
  options.signal?.addEventListener('abort', wake, { once: true });
  try {
    if (backend.claim) await claimAll(backend.claim.bind(backend), onProbe);
    else await backend.probe(options.databases, onProbe, options.signal);
  } finally {
    options.signal?.removeEventListener('abort', wake);
  }
  // A database the probe never answered for (an interrupt) joins a batch, which reports it
  // skipped: every database gets exactly one result.
  for (const database of options.databases) {
    if (!before.has(database)) {
      // pendingKnown false: nothing was read, so its batch must not call it up to date.
      before.set(database, { ...absentProbe(database, known), pendingKnown: false });
    }
  }
  advance();
  if (filling.length > 0) dispatch(filling);
  options.reporter.emit({
    type: 'fleet-probed',
    runId,
    pending: pendingCount,
    upToDate: upToDateCount,
    missing,
  });
  await Promise.all(finishing);
  // Every claimed database went into a batch, which released it; this only guards the contract.
  await Promise.all([...claimed.values()].map((lease) => lease.release().catch(() => undefined)));

  /** Claims every database in fleet order, `claimConcurrency` at a time, within the gate. */
  async function claimAll(
    claim: NonNullable<FleetBackend['claim']>,
    onResult: (probe: ProbeResult) => void,
  ): Promise<void> {
    let next = 0;
    const worker = async () => {
      for (;;) {
        if (options.signal?.aborted || next >= total) return;
        if (!(await gate.enter(options.signal))) return;
        const database = options.databases[next++];
        if (database === undefined) {
          gate.leave();
          return;
        }
        let claimedNow: Claim;
        try {
          claimedNow = await claim(database);
        } catch (error) {
          claimedNow = { probe: absentProbe(database, known, errorMessage(error)) };
        }
        const { probe, lease } = claimedNow;
        if (lease && !isUpToDate(probe)) {
          // Held until its batch releases it; the gate's place goes with it.
          claimed.set(database, {
            ...lease,
            release: () => lease.release().finally(() => gate.leave()),
          });
        } else {
          await lease?.release().catch(() => undefined);
          gate.leave();
        }
        onResult(probe);
      }
    };
    await Promise.all(Array.from({ length: Math.min(claimConcurrency, total) }, worker));
  }

  /** A batch's task inside a concurrency slot, then (for cheap probes) its results outside it. */
  async function runBatch(batch: string[], leases: Map<string, Lease>): Promise<void> {
    // Probing over the held connections costs a query, so the next batch need not wait for
    // it. Inside the slot: a provider that probes with a task (aws), so `concurrency` bounds
    // all of its tasks; and --on-error stop, which must know a batch failed before it starts
    // the next one.
    const settleOutside = backend.claim !== undefined && options.onError === 'continue';
    try {
      const ran = await limit(async () => {
        if (options.signal?.aborted) {
          await Promise.all(batch.map((d) => skip(d, 'interrupted before it started')));
          return undefined;
        }
        if (stopRequested) {
          await Promise.all(
            batch.map((d) => skip(d, 'not started: an earlier database failed (--on-error stop)')),
          );
          return undefined;
        }
        const started = await startBatch(batch, leases);
        if (started && !settleOutside) await settleBatch(started, leases);
        return started;
      });
      if (ran && settleOutside) await settleBatch(ran, leases);
    } finally {
      await Promise.all([...leases.values()].map((l) => l.release().catch(() => undefined)));
    }
  }

  interface StartedBatch {
    batchStart: number;
    work: string[];
    single: boolean;
    underLock: Map<string, ProbeResult>;
    taskId: string;
    outcome: TaskOutcome;
  }

  /** Locks, a look under the locks, then the task; undefined when no task was needed or it could not run. */
  async function startBatch(
    batch: string[],
    leases: Map<string, Lease>,
  ): Promise<StartedBatch | undefined> {
    const batchStart = now();
    // Claimed databases were probed under their lock, which has been held since.
    const underLock = new Map<string, ProbeResult>();
    for (const database of leases.keys()) {
      const probe = before.get(database);
      if (probe) underLock.set(database, probe);
    }
    // 3a. Locks, then a fresh look under the lock.
    const ready: string[] = [];
    const toLock = batch.filter((database) => !leases.has(database));
    // All of the batch's locks at once: each is a connection to a different database.
    const attempts = new Map(
      (
        await Promise.allSettled(
          toLock.map((database) => backend.lock(database, options.lockWaitMs, options.signal)),
        )
      ).map((attempt, i) => [toLock[i] ?? '', attempt] as const),
    );
    for (const [database, attempt] of attempts) {
      if (attempt.status === 'fulfilled' && attempt.value) leases.set(database, attempt.value);
    }
    for (const database of batch) {
      if (leases.has(database)) {
        ready.push(database);
        continue;
      }
      const attempt = attempts.get(database);
      if (attempt?.status === 'rejected') {
        await finish({
          database,
          status: 'failed',
          applied: [],
          pending: before.get(database)?.pending ?? [],
          reason: `could not take the migration lock: ${errorMessage(attempt.reason)}`,
          durationMs: now() - batchStart,
        });
        continue;
      }
      await finish({
        database,
        status: 'locked',
        applied: [],
        pending: before.get(database)?.pending ?? [],
        reason: `another migration run held the lock for more than ${Math.round(options.lockWaitMs / 1000)}s; nothing was applied`,
        durationMs: now() - batchStart,
      });
    }
    if (ready.length === 0) return undefined;
    const looked = await probeLeased(
      ready.filter((d) => !underLock.has(d)),
      leases,
    );
    for (const [database, probe] of looked) underLock.set(database, probe);
    // Unknown pending (no migrations.directory): only the task can tell, so it always runs.
    const work = ready.filter((d) => {
      const p = underLock.get(d);
      return !p || !p.pendingKnown || p.pending.length > 0;
    });
    for (const database of ready.filter((d) => !work.includes(d))) {
      await finish({
        database,
        status: 'up-to-date',
        applied: [],
        pending: [],
        durationMs: now() - batchStart,
      });
    }
    if (work.length === 0) return undefined;

    // 3b. The task.
    const taskId = newTaskId('migrate');
    const single = work.length === 1 && options.batchSize === 1;
    const environment = backend.taskEnvironment();
    let command: string[];
    if (single) {
      environment.DATABASE_NAME = work[0] ?? '';
      command = options.command;
    } else if (options.batchCommand) {
      environment.DATABASE_NAMES = work.join(',');
      environment.BERTH_ON_ERROR = options.onError;
      command = options.batchCommand;
    } else {
      command = batchCommand(options.command, work, options.onError === 'stop');
    }
    options.reporter.emit({ type: 'database-started', runId, databases: work, taskId });
    let outcome: TaskOutcome;
    try {
      outcome = await backend.runtime.run(
        {
          id: taskId,
          kind: 'migrate',
          databases: work,
          command,
          environment,
          timeoutMs: options.timeoutMs,
        },
        options.signal,
      );
    } catch (error) {
      for (const database of work) {
        await finish({
          database,
          status: 'failed',
          applied: [],
          pending: underLock.get(database)?.pending ?? [],
          taskId,
          reason: `the task could not run: ${errorMessage(error)}`,
          durationMs: now() - batchStart,
        });
      }
      return undefined;
    }
    return { batchStart, work, single, underLock, taskId, outcome };
  }

  /** 3c. Per-database exit codes, then what actually changed. */
  async function settleBatch(ran: StartedBatch, leases: Map<string, Lease>): Promise<void> {
    const { batchStart, work, single, underLock, taskId, outcome } = ran;
    const perDatabase = new Map<
      string,
      { exitCode: number | null; tail: string[]; started: boolean }
    >();
    if (single) {
      perDatabase.set(work[0] ?? '', {
        exitCode: outcome.exitCode,
        tail: await tailLog(outcome.logFile, excerptLines),
        started: true,
      });
    } else {
      const parser = new BatchLogParser(excerptLines);
      for await (const line of readLogLines(outcome.logFile)) parser.line(line);
      for (const database of work) {
        const section = parser.section(database);
        perDatabase.set(database, {
          exitCode: section?.exitCode ?? null,
          tail: section?.tail ?? [],
          started: section !== undefined,
        });
      }
    }
    const after = await probeLeased(work, leases);
    for (const database of work) {
      const { exitCode, tail, started } = perDatabase.get(database) ?? {
        exitCode: null,
        tail: [],
        started: false,
      };
      const pendingBefore = underLock.get(database)?.pending ?? [];
      const probe = after.get(database);
      const pendingAfter = probe?.pending ?? pendingBefore;
      const lockedProbe = underLock.get(database);
      const applied = lockedProbe?.pendingKnown
        ? pendingBefore.filter((m) => !pendingAfter.includes(m))
        : (probe?.applied ?? []).filter((m) => !(lockedProbe?.applied ?? []).includes(m));
      const base = {
        database,
        taskId,
        exitCode,
        applied,
        pending: pendingAfter,
        durationMs: now() - batchStart,
      };
      if (exitCode === 0 && probe?.blind) {
        // The task succeeded, but nobody can say what it changed.
        await finish({
          ...base,
          status: 'applied',
          reason: `the migrate command exited 0; which migrations it applied is unknown (${probe.blind})`,
        });
      } else if (exitCode === 0 && pendingAfter.length === 0) {
        await finish({ ...base, status: applied.length > 0 ? 'applied' : 'up-to-date' });
      } else if (exitCode === 0) {
        await finish({
          ...base,
          status: 'failed',
          reason: `the migrate command exited 0 but ${pendingAfter.length} migration(s) are still pending`,
          logExcerpt: tail,
        });
      } else if (
        !started &&
        options.onError === 'stop' &&
        outcome.exitCode !== null &&
        outcome.exitCode !== 0
      ) {
        await finish({
          ...base,
          status: 'skipped',
          reason: 'not started: an earlier database in its batch failed (--on-error stop)',
        });
      } else {
        const why =
          exitCode === null
            ? (outcome.stoppedReason ?? 'the task stopped before this database finished')
            : `the migrate command exited ${exitCode}${outcome.stoppedReason ? ` (${outcome.stoppedReason})` : ''}`;
        await finish({
          ...base,
          status: 'failed',
          reason: why,
          logExcerpt: tail.length ? tail : await tailLog(outcome.logFile, excerptLines),
        });
      }
    }
  }

  /** Probes over the lock connections when the backend offers it, else with fresh ones. */
  async function probeLeased(
    databases: string[],
    leases: Map<string, Lease>,
  ): Promise<Map<string, ProbeResult>> {
    const found = new Map<string, ProbeResult>();
    const viaLease = databases.filter((d) => leases.get(d)?.probe);
    await Promise.all(
      viaLease.map(async (d) => {
        const probe = leases.get(d)?.probe;
        if (probe) found.set(d, await probe());
      }),
    );
    const rest = databases.filter((d) => !found.has(d));
    if (rest.length > 0) await backend.probe(rest, (p) => found.set(p.database, p));
    return found;
  }

  function isUpToDate(probe: ProbeResult): boolean {
    return probe.exists && probe.pendingKnown && probe.pending.length === 0 && !probe.error;
  }

  // Databases that never got a result (should not happen, but a result per database is the contract).
  for (const database of options.databases) {
    if (!results.has(database)) await skip(database, 'not started');
  }
  await journal.close();
  meta.state = options.signal?.aborted ? 'interrupted' : 'finished';
  meta.finishedAt = new Date(now()).toISOString();
  meta.counts = { ...counts };
  await journal.writeMeta(meta);
  const ordered = options.databases
    .map((d) => results.get(d))
    .filter((r): r is DatabaseResult => r !== undefined);
  return {
    runId,
    ok: counts.failed === 0 && counts.locked === 0 && counts.skipped === 0,
    counts,
    databases: ordered,
    durationMs: now() - started,
  };
}
