/**
 * Canary waves: a run split into waves (`rollout.waves: [1, 10%, 100%]`, `rollout.canary:
 * [names]`, `--canary N`), each an ordinary FleetRun over its databases, sharing one run ID
 * and journal. A wave starts only when the one before it migrated with no failure (nothing
 * failed, locked or skipped) and each of its tenants verified. Verification is verify's probe
 * (tables when database.expectedTables is set, nothing pending, no drift): it costs a query
 * per tenant locally and one probe wave on AWS. Only where the probe cannot tell what is
 * pending does task.checkCommand run, for those tenants alone; with neither, the wave is not
 * verified and the run stops there, since no result may claim what berth did not observe.
 * The last wave is not verified by the run (`berth verify` does that): nothing waits on it.
 */
import { BerthError } from '../core/errors.js';
import {
  RunJournal,
  endRun,
  markResumed,
  newRunId,
  startRun,
  type RunMeta,
} from '../state/journal.js';
import { describeLimit } from './failure-budget.js';
import { FleetRun, migrateFleet, type MigrateFleetOptions } from './run-fleet.js';
import {
  countResult,
  emptyCounts,
  type DatabaseResult,
  type FleetBackend,
  type FleetResult,
  type WaveOutcome,
} from './types.js';
import { verifyFleet } from './verify.js';

export interface Wave {
  wave: number;
  databases: string[];
}

export interface RolloutSpec {
  /** Cumulative sizes: a count of tenants, or a percentage of them (`10%`, rounded up). */
  waves?: (number | string)[] | undefined;
  /** The first wave, by name; the rest follow in one wave. */
  canary?: string[] | undefined;
  /** `--canary N`: the first N tenants, then the rest (for one run; wins over berth.yaml). */
  canaryCount?: number | undefined;
}

/**
 * The waves of a run over `databases` (in fleet order); undefined when no rollout is set (one
 * plain run). Empty waves are dropped and the rest numbered from 1; whatever the sizes leave
 * over forms a last wave, so every database is in exactly one.
 */
export function planWaves(
  databases: string[],
  spec: RolloutSpec,
  tenants?: string[],
): Wave[] | undefined {
  let groups: string[][];
  if (spec.canaryCount !== undefined) {
    groups = [databases.slice(0, spec.canaryCount), databases.slice(spec.canaryCount)];
  } else if (spec.canary?.length) {
    const unknown = tenants ? spec.canary.filter((name) => !tenants.includes(name)) : [];
    if (unknown.length)
      throw new BerthError(
        'CONFIG_INVALID',
        `rollout.canary names ${unknown.join(', ')}, which ${unknown.length > 1 ? 'are not tenants' : 'is not a tenant'} of the fleet`,
        { hint: 'name tenant databases from database.tenants (see `berth status`)' },
      );
    const canary = new Set(spec.canary);
    groups = [databases.filter((d) => canary.has(d)), databases.filter((d) => !canary.has(d))];
  } else if (spec.waves?.length) {
    groups = [];
    let taken = 0;
    for (const size of spec.waves) {
      const upTo = Math.min(databases.length, cumulative(size, databases.length));
      if (upTo > taken) groups.push(databases.slice(taken, upTo));
      taken = Math.max(taken, upTo);
    }
    groups.push(databases.slice(taken));
  } else return undefined;
  return groups.filter((g) => g.length > 0).map((databases, i) => ({ wave: i + 1, databases }));
}

function cumulative(size: number | string, total: number): number {
  if (typeof size === 'number') return size;
  const percent = Number(size.replace(/%$/, ''));
  return Math.ceil((total * percent) / 100);
}

/** The waves of an earlier run, kept to the databases a resume takes: done waves drop out. */
export function remainingWaves(waves: Wave[], databases: string[]): Wave[] {
  const left = new Set(databases);
  return waves
    .map((w) => ({ wave: w.wave, databases: w.databases.filter((d) => left.has(d)) }))
    .filter((w) => w.databases.length > 0);
}

export interface MigrateInWavesOptions extends MigrateFleetOptions {
  /** Absent: one plain run (migrateFleet). */
  waves?: Wave[] | undefined;
  /** What verifying a wave checks beyond "nothing pending". */
  waveCheck?: { expectedTables?: number | undefined; checkCommand?: string[] | undefined };
}

export async function migrateInWaves(
  backend: FleetBackend,
  options: MigrateInWavesOptions,
): Promise<FleetResult> {
  if (!options.waves) return migrateFleet(backend, options);
  return new WaveRun(backend, { ...options, waves: options.waves }).run();
}

class WaveRun {
  private readonly now: () => number;
  private readonly runId = newRunId();
  private readonly counts = emptyCounts();
  private readonly results = new Map<string, DatabaseResult>();
  private readonly outcomes: WaveOutcome[] = [];
  private journal: RunJournal | undefined;
  private tasksStarted = 0;
  private readonly meta: RunMeta;

  constructor(
    private readonly backend: FleetBackend,
    private readonly options: MigrateInWavesOptions & { waves: Wave[] },
  ) {
    this.now = options.now ?? Date.now;
    this.meta = startRun({
      id: this.runId,
      provider: backend.provider,
      databases: options.databases,
      options: {
        concurrency: options.concurrency,
        onError: options.onError,
        batchSize: options.batchSize,
        ...(options.maxFailures ? { maxFailures: describeLimit(options.maxFailures) } : {}),
      },
      waves: options.waves,
      startedAt: new Date(this.now()).toISOString(),
      resumedFrom: options.resumedFrom,
    });
  }

  async run(): Promise<FleetResult> {
    const { options } = this;
    const started = this.now();
    this.journal = await RunJournal.create(options.runsDir, this.meta);
    let error: unknown;
    let blocker: string | undefined;
    try {
      if (options.resumedFrom) await markResumed(options.runsDir, options.resumedFrom, this.runId);
      const last = options.waves.at(-1)?.wave;
      for (const wave of options.waves) {
        if (blocker !== undefined || options.signal?.aborted) {
          const reason = blocker ?? 'interrupted before its wave started';
          await this.skipWave(wave, reason);
          this.outcomes.push({ ...wave, state: 'not-started', reason });
          continue;
        }
        options.reporter.emit({
          type: 'message',
          level: 'info',
          text: `wave ${wave.wave} of ${last ?? wave.wave}: ${wave.databases.length} database(s)`,
        });
        const part = new FleetRun(this.backend, {
          ...options,
          databases: wave.databases,
          // The run's failure budget spans its waves. A wave starts only after one with no
          // failure, so each wave may spend all of it: with a percentage, of the whole run.
          wave: {
            number: wave.wave,
            runId: this.runId,
            journal: this.journal,
            runTotal: options.databases.length,
          },
        });
        let result: FleetResult;
        try {
          result = await part.run();
        } finally {
          this.tasksStarted += part.tasksStarted;
        }
        for (const r of result.databases) this.record(r);
        if (!result.ok) {
          const c = result.counts;
          const reason = `${c.failed} failed, ${c.locked} locked, ${c.skipped} skipped`;
          this.outcomes.push({ ...wave, state: 'failed', reason });
          blocker = `not started: wave ${wave.wave} did not succeed (${reason})`;
          continue;
        }
        if (wave.wave === last) {
          this.outcomes.push({ ...wave, state: 'succeeded' });
          continue;
        }
        const problems = await this.verifyWave(wave.databases);
        if (problems.length > 0) {
          const reason = problems.map((p) => `${p.database}: ${p.reason}`).join('; ');
          this.outcomes.push({ ...wave, state: 'unverified', reason });
          blocker = `not started: wave ${wave.wave} did not verify (${reason})`;
        } else this.outcomes.push({ ...wave, state: 'succeeded' });
      }
      return this.result(started);
    } catch (thrown) {
      error = thrown;
      throw thrown;
    } finally {
      await this.close(error, blocker);
    }
  }

  /** Every tenant of the wave verified: the probe first, the check command where it cannot tell. */
  private async verifyWave(databases: string[]): Promise<{ database: string; reason: string }[]> {
    const { options } = this;
    const base = {
      expectedTables: options.waveCheck?.expectedTables,
      concurrency: options.concurrency,
      timeoutMs: options.timeoutMs,
      reporter: options.reporter,
      ...(options.signal ? { signal: options.signal } : {}),
    };
    const problems: { database: string; reason: string }[] = [];
    const probed = await verifyFleet(this.backend, { ...base, databases });
    const unknown: string[] = [];
    for (const d of probed.databases) {
      if (d.pending === null) unknown.push(d.name);
      else if (!d.ok) problems.push({ database: d.name, reason: d.reason ?? 'not verified' });
    }
    const checkCommand = options.waveCheck?.checkCommand;
    if (unknown.length > 0 && !checkCommand) {
      for (const database of unknown)
        problems.push({
          database,
          reason:
            'berth cannot tell whether migrations are pending (set migrations.directory or a tool preset, task.probeCommand on aws, or task.checkCommand)',
        });
    } else if (unknown.length > 0) {
      const checked = await verifyFleet(this.backend, {
        ...base,
        databases: unknown,
        checkCommand,
      });
      for (const d of checked.databases)
        if (!d.ok) problems.push({ database: d.name, reason: d.reason ?? 'not verified' });
    }
    return problems;
  }

  private async skipWave(wave: Wave, reason: string): Promise<void> {
    const known = await this.backend.migrations().catch(() => undefined);
    for (const database of wave.databases) {
      const result: DatabaseResult = {
        database,
        status: 'skipped',
        applied: [],
        pending: known ?? [],
        reason,
        durationMs: 0,
        wave: wave.wave,
      };
      await this.journal?.record(result);
      this.record(result);
      this.options.reporter.emit({
        type: 'database-finished',
        runId: this.runId,
        result,
        counts: { ...this.counts },
        total: this.options.databases.length,
      });
    }
  }

  private record(result: DatabaseResult): void {
    this.results.set(result.database, result);
    countResult(this.counts, result);
  }

  /** As FleetRun's journal: finished, interrupted (resumable) or failed; plus where it stopped. */
  private async close(error: unknown, blocker: string | undefined): Promise<void> {
    const journal = this.journal;
    if (!journal) return;
    await journal.close().catch(() => undefined);
    endRun(this.meta, {
      error,
      interrupted: this.options.signal?.aborted === true,
      tasksStarted: this.tasksStarted,
      finishedAt: new Date(this.now()).toISOString(),
    });
    const stopped = this.outcomes.find((o) => o.state !== 'succeeded');
    if (stopped && blocker !== undefined) this.meta.stoppedAtWave = stopped.wave;
    this.meta.counts = { ...this.counts };
    await journal.writeMeta(this.meta).catch(() => undefined);
  }

  private result(started: number): FleetResult {
    const { counts } = this;
    return {
      runId: this.runId,
      ok: counts.failed === 0 && counts.locked === 0 && counts.skipped === 0,
      counts,
      databases: this.options.databases
        .map((d) => this.results.get(d))
        .filter((r): r is DatabaseResult => r !== undefined),
      durationMs: this.now() - started,
      waves: this.outcomes,
    };
  }
}
