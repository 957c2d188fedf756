/**
 * migrate across the fleet:
 *   1. probe every database once, cheaply (the no-op fast path: up-to-date databases never
 *      get a task). A provider that reaches the databases directly claims them instead: one
 *      connection takes the lock and probes, and a database with work stays held until its
 *      batch has run (at most about `concurrency + 1` batches are held at once);
 *   2. group the rest into batches of `batchSize` and run at most `concurrency` tasks;
 *   3. for each batch: lock each database not yet held (bounded wait, else `locked`), probe
 *      under the lock (another run may have finished the work), run the task, read each
 *      database's exit code, probe again to learn exactly what was applied (outcome.ts);
 *   4. journal every result as it lands, so an interrupted run can be resumed.
 * It never throws for one database's failure. The run reads top to bottom in FleetRun.run();
 * the state its steps share is the object's fields.
 */
import pLimit, { type LimitFunction } from 'p-limit';
import { systemClock, type Clock } from '../core/clock.js';
import type { Reporter } from '../core/events.js';
import { isLockTimeout } from '../migrations/lock-options.js';
import { errorMessage } from '../core/errors.js';
import { redactor } from '../core/redact.js';
import {
  RunJournal,
  endRun,
  markResumed,
  newRunId,
  startRun,
  type RunMeta,
} from '../state/journal.js';
import { readLogLines, tailLog } from '../state/task-store.js';
import { newTaskId } from '../tasks/task-id.js';
import type { TaskOutcome } from '../tasks/task.js';
import { BatchLogParser, batchCommand } from './batch-script.js';
import { ClaimGate } from './claim-gate.js';
import { FailureBudget, describeLimit, type FailureLimit } from './failure-budget.js';
import { databaseOutcome } from './outcome.js';
import { absentProbe, isUpToDate } from './probe-result.js';
import {
  countResult,
  emptyCounts,
  type Claim,
  type DatabaseResult,
  type FleetBackend,
  type FleetCounts,
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
  /**
   * The task takes each database's advisory lock itself, inside the VPC, around the migrate
   * command (migrations.taskLock: psql; batch-script.ts), and reports `locked` when another
   * session holds it: the lock that holds without a connection from the runner. Every task
   * then runs the shell loop, a single database included (not the app's batchCommand).
   */
  taskLock?: boolean;
  concurrency: number;
  onError: 'stop' | 'continue';
  /**
   * The failure budget; when set it replaces onError (`stop` is a budget of 0, `continue`
   * none). Once more databases failed than it allows, no new task starts.
   */
  maxFailures?: FailureLimit | undefined;
  batchSize: number;
  lockWaitMs: number;
  /** A batch still waiting for its locks after this long says so (default 2 s). */
  lockNoticeMs?: number;
  timeoutMs: number;
  runsDir: string;
  reporter: Reporter;
  signal?: AbortSignal;
  resumedFrom?: string;
  /**
   * One wave of a run in waves (waves.ts): the run's ID and journal belong to the caller,
   * which opens and closes them; every result of this part carries the wave's number.
   */
  wave?:
    | {
        number: number;
        runId: string;
        journal: RunJournal;
        /** The run's database count: a percentage budget is of the run, not of the wave. */
        runTotal: number;
      }
    | undefined;
  /** Log lines kept per failed database. */
  excerptLines?: number;
  now?: () => number;
  /**
   * Retries for a database whose migration failed on its lock timeout with nothing applied
   * (migrations.lockRetries; default 0), and the lock_timeout the tasks run with (for reasons).
   */
  lockRetries?: number | undefined;
  lockTimeout?: string | undefined;
  /** Waits between lock-timeout retries (tests pass one that does not sleep). */
  clock?: Pick<Clock, 'sleep'> | undefined;
}

/** The first retry waits this long, each next one twice as long, at most 30 s. */
const LOCK_RETRY_BASE_MS = 1000;

export function migrateFleet(
  backend: FleetBackend,
  options: MigrateFleetOptions,
): Promise<FleetResult> {
  return new FleetRun(backend, options).run();
}

interface StartedBatch {
  batchStart: number;
  work: string[];
  single: boolean;
  underLock: Map<string, ProbeResult>;
  taskId: string;
  outcome: TaskOutcome;
}

/** Errors that mean the database server is gone, not one database. */
const SERVER_GONE =
  /ECONNREFUSED|connect ENOENT|the database system is (shutting down|starting up)/i;

export class FleetRun {
  private readonly now: () => number;
  private readonly started: number;
  private readonly runId: string;
  private readonly excerptLines: number;
  private readonly total: number;
  private readonly meta: RunMeta;
  private journal: RunJournal | undefined;
  private readonly counts: FleetCounts = emptyCounts();
  private readonly results = new Map<string, DatabaseResult>();
  private readonly budget: FailureBudget;
  /** What a batch does after a failure inside it: stop only when the budget is 0. */
  private readonly onError: 'stop' | 'continue';
  /** Tasks this run started (a run in waves reads it to tell interrupted from failed). */
  tasksStarted = 0;
  /** The app's migrations, in order; undefined when berth cannot list them. */
  private known: string[] | undefined;
  private limit: LimitFunction = pLimit(1);
  private gate = new ClaimGate(1);
  /** Each database's probe before its batch (under its claim, when claimed). */
  private readonly before = new Map<string, ProbeResult>();
  /** Databases claimed with pending work, held (locked) until their batch takes them. */
  private readonly claimed = new Map<string, Lease>();
  /** Every result and batch in flight; the run waits for all of them. */
  private readonly finishing: Promise<unknown>[] = [];
  /** Probe answers are taken in fleet order: the next database to place. */
  private cursor = 0;
  private filling: string[] = [];
  private readonly tally = { pending: 0, upToDate: 0, missing: 0, unknown: 0 };
  /** Set when an error says the database server itself is gone (exit 7, not 4). */
  private serverGone: string | undefined;
  private journalWarned = false;

  constructor(
    private readonly backend: FleetBackend,
    private readonly options: MigrateFleetOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.runId = options.wave?.runId ?? newRunId();
    this.started = this.now();
    this.excerptLines = options.excerptLines ?? 20;
    this.total = options.databases.length;
    this.budget = new FailureBudget(
      options.maxFailures ?? (options.onError === 'stop' ? { count: 0 } : 'unlimited'),
      options.wave?.runTotal ?? this.total,
    );
    this.onError = this.budget.stopsAtFirstFailure ? 'stop' : 'continue';
    this.meta = startRun({
      id: this.runId,
      provider: backend.provider,
      databases: options.databases,
      options: {
        concurrency: options.concurrency,
        onError: this.onError,
        batchSize: options.batchSize,
        maxFailures: describeLimit(this.budget.limit),
      },
      startedAt: new Date(this.started).toISOString(),
      resumedFrom: options.resumedFrom,
      // A wave's run writes no journal of its own: the wave run records the process.
      ownProcess: !options.wave,
    });
  }

  async run(): Promise<FleetResult> {
    const { options, backend } = this;
    this.journal = options.wave?.journal ?? (await RunJournal.create(options.runsDir, this.meta));
    let error: unknown;
    try {
      if (options.resumedFrom && !options.wave)
        await markResumed(options.runsDir, options.resumedFrom, this.runId);
      options.reporter.emit({
        type: 'fleet-started',
        runId: this.runId,
        operation: 'migrate',
        total: this.total,
      });
      // The code's migrations first: a listing that cannot run (Django without its
      // virtualenv) is a config error, and it must leave nothing created behind it.
      this.known = await backend.migrations();
      await backend.prepare(options.databases, {
        create: true,
        onCreated: (done, total) =>
          options.reporter.emit({ type: 'progress', phase: 'create', done, total }),
      });
      await this.sizeTheRun();
      // 1 + 2. Probe and migrate overlap: databases are placed in fleet order as soon as
      // their probe answers, so the first task starts while the rest is still being probed.
      await this.probeAll();
      this.placeUnanswered();
      this.emitProbed();
      await Promise.all(this.finishing);
      // A failure on a lost connection: is it that database (dropped, its backend killed) or
      // the server itself? Only asking the server tells.
      if (this.counts.failed > 0 && !this.serverGone && backend.unreachable)
        this.serverGone = await backend.unreachable().catch((e: unknown) => errorMessage(e));
      // Every database gets exactly one result.
      for (const database of options.databases)
        if (!this.results.has(database)) await this.skip(database, 'not started');
      return this.result();
    } catch (thrown) {
      error = thrown;
      throw thrown;
    } finally {
      // Every claimed database went into a batch, which released it; this guards the contract.
      await Promise.all(
        [...this.claimed.values()].map((lease) => lease.release().catch(() => undefined)),
      );
      if (!options.wave) await this.closeJournal(error);
    }
  }

  /** Concurrency within the server's connections; the claim gate within what is left. */
  private async sizeTheRun(): Promise<void> {
    const { options, backend, total } = this;
    let concurrency = options.concurrency;
    const connections = total > 0 ? await backend.connectionBudget?.() : undefined;
    // Each task holds one lock connection per database in its batch, plus its own.
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
    this.limit = pLimit(concurrency);
    // Held: the running batches and the next one, counting the claims in flight; never more
    // than the connections left beside the tasks' own. Not one more than that: every held
    // connection is a backend the server keeps while the tasks run DDL elsewhere (an idle one
    // must read every catalog invalidation the DDL sends: 75 of them added about a third to
    // the server's CPU for a fresh fleet, bench/README.md; the local provider parks them).
    // At least the claim concurrency, so a fleet that is mostly up to date is still probed
    // that many at a time whatever the batch size.
    const claimConcurrency = backend.claimConcurrency ?? 1;
    const lookahead = Math.max((concurrency + 1) * options.batchSize, claimConcurrency);
    this.gate = new ClaimGate(
      connections === undefined
        ? lookahead
        : Math.max(options.batchSize, Math.min(lookahead, connections - concurrency)),
    );
  }

  private async probeAll(): Promise<void> {
    const { options, backend } = this;
    const onProbe = (p: ProbeResult) => {
      this.before.set(p.database, p);
      this.advance();
    };
    const wake = () => this.gate.wakeAll();
    options.signal?.addEventListener('abort', wake, { once: true });
    try {
      if (backend.claim) await this.claimAll(backend.claim.bind(backend), onProbe);
      else await backend.probe(options.databases, onProbe, options.signal);
    } finally {
      options.signal?.removeEventListener('abort', wake);
    }
  }

  /** Claims every database in fleet order, `claimConcurrency` at a time, within the gate. */
  private async claimAll(
    claim: NonNullable<FleetBackend['claim']>,
    onResult: (probe: ProbeResult) => void,
  ): Promise<void> {
    const { options, gate, total } = this;
    let next = 0;
    const worker = async () => {
      for (;;) {
        if (options.signal?.aborted || next >= total) return;
        if (!(await gate.enter(options.signal))) return;
        const database = options.databases[next++];
        if (database === undefined) return gate.leave();
        let claimedNow: Claim;
        try {
          claimedNow = await claim(database);
        } catch (error) {
          claimedNow = { probe: absentProbe(database, this.known, errorMessage(error)) };
        }
        const { probe, lease } = claimedNow;
        if (lease && !isUpToDate(probe)) {
          // Held until its batch releases it; the gate's place goes with it.
          this.claimed.set(database, {
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
    const claimConcurrency = this.backend.claimConcurrency ?? 1;
    await Promise.all(Array.from({ length: Math.min(claimConcurrency, total) }, worker));
  }

  /** Places every answered database, in fleet order: a result now, or a place in a batch. */
  private advance(): void {
    const { options } = this;
    for (; this.cursor < this.total; this.cursor++) {
      const database = options.databases[this.cursor] ?? '';
      const probe = this.before.get(database);
      if (!probe) return;
      if (probe.error) {
        this.finishing.push(
          this.finish({
            database,
            status: 'failed',
            applied: [],
            pending: [],
            reason: `could not read the database: ${probe.error}`,
            durationMs: 0,
          }),
        );
      } else if (isUpToDate(probe)) {
        this.tally.upToDate++;
        this.finishing.push(
          this.finish({ database, status: 'up-to-date', applied: [], pending: [], durationMs: 0 }),
        );
      } else {
        // Not read (aws without a probe command) or without the code's migrations: it gets a
        // task, but nobody saw anything pending in it.
        if (probe.blind || !probe.pendingKnown) this.tally.unknown++;
        else {
          this.tally.pending++;
          if (!probe.exists) this.tally.missing++;
        }
        this.filling.push(database);
        if (this.filling.length >= options.batchSize) this.dispatch();
      }
    }
  }

  /** A database the probe never answered for (an interrupt) joins a batch, which skips it. */
  private placeUnanswered(): void {
    for (const database of this.options.databases) {
      if (!this.before.has(database)) {
        // pendingKnown false: nothing was read, so its batch must not call it up to date.
        this.before.set(database, { ...absentProbe(database, this.known), pendingKnown: false });
      }
    }
    this.advance();
    if (this.filling.length > 0) this.dispatch();
  }

  private emitProbed(): void {
    this.options.reporter.emit({
      type: 'fleet-probed',
      runId: this.runId,
      pending: this.tally.pending,
      upToDate: this.tally.upToDate,
      missing: this.tally.missing,
      unknown: this.tally.unknown,
    });
  }

  /** Sends the filling batch off with the leases of its claimed databases. */
  private dispatch(): void {
    const batch = this.filling;
    this.filling = [];
    const leases = new Map<string, Lease>();
    for (const database of batch) {
      const lease = this.claimed.get(database);
      if (!lease) continue;
      leases.set(database, lease);
      this.claimed.delete(database);
    }
    this.finishing.push(this.runBatch(batch, leases));
  }

  /** A batch's task inside a concurrency slot, then (for cheap probes) its results outside it. */
  private async runBatch(batch: string[], leases: Map<string, Lease>): Promise<void> {
    // Probing over the held connections costs a query, so the next batch need not wait for
    // it. Inside the slot: a provider that probes with a task (aws), so `concurrency` bounds
    // all of its tasks; and a failure budget, which must know a batch failed before it
    // starts the next one.
    const settleOutside = this.backend.claim !== undefined && this.budget.allowed === undefined;
    try {
      const ran = await this.limit(async () => {
        if (this.options.signal?.aborted) {
          await Promise.all(batch.map((d) => this.skip(d, 'interrupted before it started')));
          return undefined;
        }
        if (this.budget.spent) {
          const why = this.budget.skipReason();
          await Promise.all(batch.map((d) => this.skip(d, why)));
          return undefined;
        }
        const started = await this.startBatch(batch, leases);
        if (started && !settleOutside) await this.settleBatch(started, leases, true);
        return started;
      });
      if (ran && settleOutside) await this.settleBatch(ran, leases, false);
    } finally {
      await Promise.all([...leases.values()].map((l) => l.release().catch(() => undefined)));
    }
  }

  /** Locks, a look under the locks, then the task; undefined when no task was needed or ran. */
  private async startBatch(
    batch: string[],
    leases: Map<string, Lease>,
  ): Promise<StartedBatch | undefined> {
    const batchStart = this.now();
    // Claimed databases were probed under their lock, which has been held since.
    const underLock = new Map<string, ProbeResult>();
    for (const database of leases.keys()) {
      const probe = this.before.get(database);
      if (probe) underLock.set(database, probe);
    }
    const ready = await this.lockBatch(batch, leases, batchStart);
    if (ready.length === 0) return undefined;
    const looked = await this.probeLeased(
      ready.filter((d) => !underLock.has(d)),
      leases,
    );
    for (const [database, probe] of looked) underLock.set(database, probe);
    const unread = ready.filter((d) => underLock.get(d)?.error !== undefined);
    for (const database of unread)
      await this.finish({
        database,
        status: 'failed',
        applied: [],
        pending: [],
        reason: `could not read the database under its lock: ${underLock.get(database)?.error ?? ''}`,
        durationMs: this.now() - batchStart,
      });
    // Unknown pending (no migrations.directory): only the task can tell, so it always runs.
    const work = ready.filter((d) => {
      const p = underLock.get(d);
      if (p?.error !== undefined) return false;
      return !p || !p.pendingKnown || p.pending.length > 0;
    });
    for (const database of ready.filter((d) => !work.includes(d) && !unread.includes(d)))
      await this.finish({
        database,
        status: 'up-to-date',
        applied: [],
        pending: [],
        durationMs: this.now() - batchStart,
      });
    if (work.length === 0) return undefined;
    return this.runTask(work, underLock, batchStart);
  }

  /** 3a. The batch's locks, all at once (each is a connection to another database). */
  private async lockBatch(
    batch: string[],
    leases: Map<string, Lease>,
    batchStart: number,
  ): Promise<string[]> {
    const { options, backend } = this;
    const toLock = batch.filter((database) => !leases.has(database));
    // A lock held by another run, or by the task of a berth that was killed (its supervisor
    // is still ending it), can take seconds: say what the run is waiting for.
    const notice = setTimeout(() => {
      const shown = toLock.slice(0, 3).join(', ') + (toLock.length > 3 ? ', …' : '');
      options.reporter.emit({
        type: 'message',
        level: 'info',
        text: `waiting up to ${Math.round(options.lockWaitMs / 1000)}s for the migration lock of ${shown}: another run, or a task of a berth that was stopped, still holds it`,
      });
    }, options.lockNoticeMs ?? 2_000);
    let settled;
    try {
      settled = await Promise.allSettled(
        toLock.map((database) => backend.lock(database, options.lockWaitMs, options.signal)),
      );
    } finally {
      clearTimeout(notice);
    }
    const attempts = new Map(settled.map((attempt, i) => [toLock[i] ?? '', attempt] as const));
    for (const [database, attempt] of attempts)
      if (attempt.status === 'fulfilled' && attempt.value) leases.set(database, attempt.value);
    const ready: string[] = [];
    for (const database of batch) {
      if (leases.has(database)) {
        ready.push(database);
        continue;
      }
      const attempt = attempts.get(database);
      if (attempt?.status === 'rejected' && SERVER_GONE.test(errorMessage(attempt.reason)))
        this.serverGone = errorMessage(attempt.reason);
      const base = {
        database,
        applied: [],
        pending: this.before.get(database)?.pending ?? [],
        durationMs: this.now() - batchStart,
      };
      await this.finish(
        attempt?.status === 'rejected'
          ? {
              ...base,
              status: 'failed',
              reason: `could not take the migration lock: ${errorMessage(attempt.reason)}`,
            }
          : {
              ...base,
              status: 'locked',
              reason: `another migration run held the lock for more than ${Math.round(options.lockWaitMs / 1000)}s; nothing was applied`,
            },
      );
    }
    return ready;
  }

  /** 3b. The task: one database, the app's batch command, or a shell loop. */
  private async runTask(
    work: string[],
    underLock: Map<string, ProbeResult>,
    batchStart: number,
  ): Promise<StartedBatch | undefined> {
    const { options, backend } = this;
    const taskId = newTaskId('migrate');
    // A runner that holds the advisory lock on its own connection (local) would make a task
    // taking it again find it held: the task's lock is for backends that say they need it.
    const taskLock = options.taskLock === true && backend.tasksTakeLock === true;
    const single = work.length === 1 && options.batchSize === 1 && !taskLock;
    const environment = backend.taskEnvironment();
    let command: string[];
    if (single) {
      environment.DATABASE_NAME = work[0] ?? '';
      command = options.command;
    } else if (options.batchCommand && !taskLock) {
      environment.DATABASE_NAMES = work.join(',');
      // Settings that read DATABASE_NAME at start-up (Django's) load; the command switches.
      environment.DATABASE_NAME = work[0] ?? '';
      environment.BERTH_ON_ERROR = this.onError;
      // This runner holds each database's migration lock on its own connection (local): a
      // command that takes the lock itself (Django's berth_migrate) must not take it again.
      if (backend.tasksTakeLock !== true) environment.BERTH_LOCK_HELD = '1';
      command = options.batchCommand;
    } else {
      command = batchCommand(options.command, work, this.onError === 'stop', {
        lock: taskLock,
      });
    }
    options.reporter.emit({ type: 'database-started', runId: this.runId, databases: work, taskId });
    this.tasksStarted++;
    try {
      const outcome = await backend.runtime.run(
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
      return { batchStart, work, single, underLock, taskId, outcome };
    } catch (error) {
      for (const database of work)
        await this.finish({
          database,
          status: 'failed',
          applied: [],
          pending: underLock.get(database)?.pending ?? [],
          taskId,
          reason: `the task could not run: ${errorMessage(error)}`,
          durationMs: this.now() - batchStart,
        });
      return undefined;
    }
  }

  /**
   * 3c. Per-database exit codes, then what actually changed (outcome.ts decides). A database
   * that failed on its lock timeout with nothing applied is run again, still under its lock,
   * after a backoff, up to lockRetries times. `inSlot`: called inside a concurrency slot.
   */
  private async settleBatch(
    ran: StartedBatch,
    leases: Map<string, Lease>,
    inSlot: boolean,
    attempt = 0,
  ): Promise<void> {
    const { batchStart, work, single, underLock, taskId, outcome } = ran;
    const sections = await this.sections(ran);
    // After a Ctrl-C the task was stopped, and what it left is read back before anything is
    // reported (on AWS a probe task: a Fargate start). Say so, rather than wait in silence.
    if (this.options.signal?.aborted)
      this.options.reporter.emit({
        type: 'message',
        level: 'info',
        text: `interrupted: reading back what task ${taskId} left in ${work.length === 1 ? work[0] : `${work.length} databases`} before reporting (Ctrl-C again quits at once; \`berth migrate --resume\` reads them again)`,
      });
    const after = await this.probeLeased(work, leases);
    const retry = new Map<string, DatabaseResult>();
    for (const database of work) {
      const section = sections.get(database) ?? { exitCode: null, tail: [], started: false };
      const result = databaseOutcome({
        database,
        taskId,
        single,
        ...section,
        task: outcome,
        onError: this.onError,
        before: underLock.get(database),
        after: after.get(database),
        durationMs: this.now() - batchStart,
      });
      if (result.status === 'failed' && !result.logExcerpt?.length) {
        const excerpt = await tailLog(outcome.logFile, this.excerptLines);
        if (excerpt.length) result.logExcerpt = excerpt;
      }
      const lockTimedOut =
        result.status === 'failed' &&
        isLockTimeout(result.logExcerpt ?? []) &&
        unchanged(underLock.get(database), after.get(database));
      if (lockTimedOut && attempt < (this.options.lockRetries ?? 0)) {
        retry.set(database, result);
        continue;
      }
      await this.finish(this.afterRetries(result, attempt, lockTimedOut));
    }
    if (retry.size > 0) await this.retryLockTimeouts(ran, retry, leases, inSlot, attempt + 1);
  }

  /** The lock was not granted: wait, then the same databases again, under the same locks. */
  private async retryLockTimeouts(
    ran: StartedBatch,
    failed: Map<string, DatabaseResult>,
    leases: Map<string, Lease>,
    inSlot: boolean,
    attempt: number,
  ): Promise<void> {
    const { options } = this;
    const delay = Math.min(30_000, LOCK_RETRY_BASE_MS * 2 ** (attempt - 1));
    const work = [...failed.keys()];
    options.reporter.emit({
      type: 'message',
      level: 'warn',
      text: `${work.join(', ')}: a lock was not granted within lock_timeout ${options.lockTimeout ?? ''}; nothing was applied; retry ${attempt} of ${options.lockRetries ?? 0} in ${Math.round(delay / 1000)}s`,
    });
    await (options.clock ?? systemClock).sleep(delay, options.signal);
    if (options.signal?.aborted) {
      for (const result of failed.values())
        await this.finish(this.afterRetries(result, attempt - 1, true));
      return;
    }
    const again = () => this.runTask(work, ran.underLock, ran.batchStart);
    const rerun = inSlot ? await again() : await this.limit(again);
    if (rerun) await this.settleBatch(rerun, leases, inSlot, attempt);
  }

  /** Says how many lock-timeout retries a result took, and why it failed when they ran out. */
  private afterRetries(
    result: DatabaseResult,
    retries: number,
    lockTimedOut: boolean,
  ): DatabaseResult {
    const timeout = this.options.lockTimeout ? ` (lock_timeout ${this.options.lockTimeout})` : '';
    const tries = (n: number) => `${n} lock-timeout retr${n === 1 ? 'y' : 'ies'}`;
    const counted = retries > 0 ? { ...result, lockRetries: retries } : result;
    if (lockTimedOut)
      return {
        ...counted,
        reason: `${result.reason ?? 'failed'}: a lock was not granted${timeout}${retries > 0 ? ` after ${tries(retries)}` : ''}; nothing was applied`,
      };
    if (retries > 0 && result.status === 'applied')
      return { ...counted, reason: `applied after ${tries(retries)}` };
    return counted;
  }

  /** Each database's exit code and log tail: the task's own, or its section of a batch. */
  private async sections(
    ran: StartedBatch,
  ): Promise<
    Map<string, { exitCode: number | null; tail: string[]; started: boolean; locked?: boolean }>
  > {
    const { work, single, outcome } = ran;
    const found = new Map<
      string,
      { exitCode: number | null; tail: string[]; started: boolean; locked?: boolean }
    >();
    if (single) {
      const tail = await tailLog(outcome.logFile, this.excerptLines);
      found.set(work[0] ?? '', { exitCode: outcome.exitCode, tail, started: true });
      return found;
    }
    const parser = new BatchLogParser(this.excerptLines);
    try {
      for await (const line of readLogLines(outcome.logFile)) parser.line(line);
    } catch {
      // No log to read (a state directory that failed mid-run): no section, so no success.
    }
    for (const database of work) {
      const section = parser.section(database);
      found.set(database, {
        exitCode: section?.exitCode ?? null,
        tail: section?.tail ?? [],
        started: section !== undefined,
        ...(section?.locked ? { locked: true } : {}),
      });
    }
    return found;
  }

  /**
   * Probes over the lock connections when the backend offers it, else with fresh ones. Never
   * throws: a connection lost, a database dropped or a server gone mid-run is a probe with
   * an `error` for that database, so its result says so and the run goes on.
   */
  private async probeLeased(
    databases: string[],
    leases: Map<string, Lease>,
  ): Promise<Map<string, ProbeResult>> {
    const found = new Map<string, ProbeResult>();
    const failed = (database: string, error: unknown) => {
      const message = errorMessage(error);
      if (SERVER_GONE.test(message)) this.serverGone = message;
      found.set(database, absentProbe(database, this.known, message));
    };
    const viaLease = databases.filter((d) => leases.get(d)?.probe);
    await Promise.all(
      viaLease.map(async (d) => {
        const probe = leases.get(d)?.probe;
        if (!probe) return;
        try {
          found.set(d, await probe());
        } catch (error) {
          failed(d, error);
        }
      }),
    );
    const rest = databases.filter((d) => !found.has(d));
    if (rest.length === 0) return found;
    try {
      await this.backend.probe(rest, (p) => {
        if (p.error && SERVER_GONE.test(p.error)) this.serverGone = p.error;
        found.set(p.database, p);
      });
    } catch (error) {
      for (const d of rest) if (!found.has(d)) failed(d, error);
    }
    return found;
  }

  private skip(database: string, reason: string): Promise<void> {
    return this.finish({
      database,
      status: 'skipped',
      applied: [],
      pending: this.before.get(database)?.pending ?? this.known ?? [],
      reason,
      durationMs: 0,
    });
  }

  /** Records one database's result: redacted, counted, journaled, reported. */
  private async finish(result: DatabaseResult): Promise<void> {
    const wave = this.options.wave?.number;
    const clean = redactor.redactDeep(wave === undefined ? result : { ...result, wave });
    this.results.set(clean.database, clean);
    countResult(this.counts, clean);
    if (clean.status === 'failed') this.budget.recordFailure();
    const snapshot = { ...this.counts };
    try {
      await this.journal?.record(clean);
    } catch (error) {
      // A full or unwritable state directory mid-run: the result still stands and is
      // reported; only --resume loses it.
      if (!this.journalWarned)
        this.options.reporter.emit({
          type: 'message',
          level: 'warn',
          text: `could not write the run journal (${errorMessage(error)}); results are reported but --resume will not know them`,
        });
      this.journalWarned = true;
    }
    this.options.reporter.emit({
      type: 'database-finished',
      runId: this.runId,
      result: clean,
      counts: snapshot,
      total: this.total,
    });
  }

  /**
   * Whatever happened, the journal says how the run ended: finished, interrupted, or failed
   * (it threw, or ended before any task started). `--resume` continues the last run when it
   * was interrupted or failed, with the databases that have no result in it.
   */
  private async closeJournal(error: unknown): Promise<void> {
    const journal = this.journal;
    if (!journal) return;
    await journal.close().catch(() => undefined);
    endRun(this.meta, {
      error,
      interrupted: this.options.signal?.aborted === true,
      tasksStarted: this.tasksStarted,
      finishedAt: new Date(this.now()).toISOString(),
      // The summary tells the user `migrate --resume` finishes the rest once it is back.
      serverGone: this.serverGone !== undefined,
    });
    this.meta.counts = { ...this.counts };
    await journal.writeMeta(this.meta).catch(() => undefined);
  }

  private result(): FleetResult {
    const { counts } = this;
    const ordered = this.options.databases
      .map((d) => this.results.get(d))
      .filter((r): r is DatabaseResult => r !== undefined);
    return {
      runId: this.runId,
      ok: counts.failed === 0 && counts.locked === 0 && counts.skipped === 0,
      counts,
      databases: ordered,
      durationMs: this.now() - this.started,
      ...(this.serverGone ? { serverGone: this.serverGone } : {}),
    };
  }
}

/** Nothing of the migration was applied: the probe after reads what the probe before read. */
function unchanged(before: ProbeResult | undefined, after: ProbeResult | undefined): boolean {
  if (!before || !after || after.error || after.blind || before.blind) return false;
  if (!before.pendingKnown || !after.pendingKnown) return false;
  const same = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);
  return same(before.applied, after.applied) && same(before.pending, after.pending);
}
