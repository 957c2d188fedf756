/**
 * Renders fleet events for people.
 *
 * - On a terminal: one live line that log-update redraws in place — the phase (creating
 *   databases, probing, checking, migrating), done / total, what is running, the rate and an
 *   ETA from a moving window of the last completions (not the average since the start, which
 *   counts database creation and the probe and made the ETA at 9/200 ten times too long).
 *   Only what needs attention (failures, locks; every result for fleets of 20 or fewer)
 *   is printed above it; no per-task `start` line scrolls by.
 * - Elsewhere (CI logs, pipes): plain lines, each prefixed with the time since the command
 *   started; phases report every 10 %. Under GitHub Actions a fleet run or pipeline stage is
 *   a collapsible `::group::`.
 * - With --json, each finished database is one NDJSON line on stdout.
 */
import { createLogUpdate } from 'log-update';
import type { BerthEvent, ProgressPhase, Reporter } from '../core/events.js';
import { formatDuration, type Output } from './output.js';

export interface ReporterOptions {
  /** Milliseconds now (a test drives it). */
  now?: () => number;
  env?: NodeJS.ProcessEnv;
  /** The terminal the live line is drawn on (stderr). */
  stream?: NodeJS.WriteStream;
}

/** Fleets up to this size list every result; above it, only what needs attention. */
const SMALL_FLEET = 20;
/** Completions the ETA's rate is measured over. */
export const ETA_WINDOW = 20;

export function createReporter(out: Output, options: ReporterOptions = {}): Reporter {
  if (out.json) {
    return {
      emit(event) {
        if (event.type === 'database-finished')
          out.data({ type: 'database', runId: event.runId, ...event.result });
      },
    };
  }
  const now = options.now ?? Date.now;
  return out.isTTY
    ? new LiveReporter(out, now, options.stream ?? process.stderr)
    : new PlainReporter(out, now, (options.env ?? process.env).GITHUB_ACTIONS === 'true');
}

const PHASE_LABEL: Record<ProgressPhase, string> = {
  create: 'creating databases',
  probe: 'probing',
  check: 'checking',
};

/**
 * Completions per second over the last `size` completions: recent speed, not the average
 * since the start. Undefined until two completions are apart in time.
 */
export class MovingRate {
  private readonly times: number[] = [];
  constructor(private readonly size = ETA_WINDOW) {}
  add(at: number, count = 1): void {
    for (let i = 0; i < count; i++) this.times.push(at);
    if (this.times.length > this.size) this.times.splice(0, this.times.length - this.size);
  }
  reset(): void {
    this.times.length = 0;
  }
  perSecond(): number | undefined {
    const first = this.times[0];
    const last = this.times[this.times.length - 1];
    if (first === undefined || last === undefined || last <= first) return undefined;
    return ((this.times.length - 1) * 1000) / (last - first);
  }
  eta(remaining: number): string {
    const rate = this.perSecond();
    return rate ? formatDuration((remaining / rate) * 1000) : '…';
  }
}

class PlainReporter implements Reporter {
  private readonly started: number;
  private group: 'fleet' | 'stage' | undefined;
  private readonly lastReported = new Map<ProgressPhase, number>();
  constructor(
    private readonly out: Output,
    private readonly now: () => number,
    private readonly github: boolean,
  ) {
    this.started = now();
  }

  /** `[01:23]` since the command started, so a CI log shows where the time went. */
  private line(text: string): void {
    const s = Math.floor((this.now() - this.started) / 1000);
    const clock = `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
    this.out.note(`[${clock}] ${text}`);
  }
  private openGroup(kind: 'fleet' | 'stage', title: string): void {
    if (!this.github) return this.line(title);
    if (this.group) return this.line(title); // GitHub does not nest groups
    this.group = kind;
    this.out.note(`::group::${title}`);
  }
  private closeGroup(kind: 'fleet' | 'stage'): void {
    if (this.group !== kind) return;
    this.group = undefined;
    this.out.note('::endgroup::');
  }

  emit(event: BerthEvent): void {
    const c = this.out.errColor;
    switch (event.type) {
      case 'message':
        if (event.level === 'warn') this.out.warn(event.text);
        else this.line(event.text);
        break;
      case 'fleet-started':
        this.openGroup(
          'fleet',
          `${event.operation}: ${event.total} database(s), run ${event.runId}`,
        );
        break;
      case 'fleet-probed':
        this.line(probedLine(event));
        break;
      case 'progress': {
        // Every 10 % (and the last one): a CI log gets 10 lines, not 1,000.
        const step = Math.max(1, Math.ceil(event.total / 10));
        const last = this.lastReported.get(event.phase) ?? 0;
        if (event.done === event.total || event.done - last >= step) {
          this.lastReported.set(event.phase, event.done);
          this.line(`${PHASE_LABEL[event.phase]}: ${event.done}/${event.total}`);
        }
        if (event.done === event.total) this.lastReported.delete(event.phase);
        break;
      }
      case 'database-started':
        this.line(`  start  ${event.databases.join(', ')} (task ${event.taskId})`);
        break;
      case 'database-finished': {
        const r = event.result;
        const { counts } = event;
        // Up-to-date databases from the fast path would flood a CI log at 1,000 tenants.
        if (!(r.status === 'up-to-date' && !r.taskId && event.total > SMALL_FLEET))
          this.line(
            `  ${mark(c, r.status)}  ${r.database}${r.applied.length ? ` (+${r.applied.length})` : ''}${r.reason ? `: ${r.reason}` : ''}  [${counts.total}/${event.total}]`,
          );
        if (counts.total === event.total) this.closeGroup('fleet');
        break;
      }
      case 'stage-started':
        this.openGroup('stage', `▸ ${event.stage}`);
        break;
      case 'stage-finished':
        this.closeGroup('fleet');
        this.closeGroup('stage');
        this.line(
          `  ${event.stage}: ${event.status} in ${formatDuration(event.durationMs)}${event.detail ? ` (${event.detail})` : ''}`,
        );
        break;
    }
  }
}

function mark(c: Output['errColor'], status: string): string {
  return status === 'failed'
    ? c.red('failed')
    : status === 'locked' || status === 'skipped'
      ? c.yellow(status)
      : c.green(status);
}

class LiveReporter implements Reporter {
  private readonly update: ReturnType<typeof createLogUpdate>;
  private readonly rate = new MovingRate();
  private total = 0;
  private running = 0;
  private phase: ProgressPhase | undefined;
  constructor(
    private readonly out: Output,
    private readonly now: () => number,
    stream: NodeJS.WriteStream,
  ) {
    this.update = createLogUpdate(stream);
  }

  /** A line above the live one: clear it, print, and the next event redraws it. */
  private above(text: string, warn = false): void {
    this.update.clear();
    if (warn) this.out.warn(text);
    else this.out.note(text);
  }

  emit(event: BerthEvent): void {
    const c = this.out.errColor;
    switch (event.type) {
      case 'message':
        this.above(event.text, event.level === 'warn');
        break;
      case 'fleet-started':
        this.total = event.total;
        this.running = 0;
        this.rate.reset();
        this.above(`${event.operation}: ${event.total} database(s), run ${event.runId}`);
        break;
      case 'fleet-probed':
        this.above(probedLine(event));
        this.rate.reset();
        break;
      case 'progress':
        if (this.phase !== event.phase) {
          this.phase = event.phase;
          this.rate.reset();
        }
        this.rate.add(this.now());
        this.update(
          `${PHASE_LABEL[event.phase]} ${event.done}/${event.total} · ETA ${this.rate.eta(event.total - event.done)}`,
        );
        if (event.done === event.total) {
          this.update.clear();
          this.phase = undefined;
          this.rate.reset();
        }
        break;
      case 'database-started':
        // Counted in the live line; a `start` line per task would scroll 200 lines by.
        this.running += event.databases.length;
        break;
      case 'database-finished': {
        const r = event.result;
        if (r.taskId && this.running > 0) this.running--;
        if (r.status === 'failed' || r.status === 'locked' || this.total <= SMALL_FLEET)
          this.above(
            `  ${mark(c, r.status)}  ${r.database}${r.applied.length ? ` (+${r.applied.length})` : ''}${r.reason ? `: ${r.reason}` : ''}  [${event.counts.total}/${event.total}]`,
          );
        // Fast-path results (no task) come in a burst at probe time: they say nothing of speed.
        if (r.taskId) this.rate.add(this.now());
        const { counts } = event;
        const remaining = event.total - counts.total;
        const rate = this.rate.perSecond();
        this.update(
          `${counts.total}/${event.total} done · ${counts.applied} applied · ${counts.upToDate} up to date · ${counts.failed} failed · ${this.running} running · ${remaining} remaining · ${rate ? `${rate.toFixed(1)}/s` : '…/s'} · ETA ${remaining === 0 ? '0s' : this.rate.eta(remaining)}`,
        );
        if (remaining === 0) this.update.done();
        break;
      }
      case 'stage-started':
        this.above(`▸ ${event.stage}`);
        break;
      case 'stage-finished':
        this.above(
          `  ${event.stage}: ${event.status} in ${formatDuration(event.durationMs)}${event.detail ? ` (${event.detail})` : ''}`,
        );
        break;
    }
  }
}

/** `probe: 3 with pending migrations, 997 up to date, 2 new`, and the ones not seen into. */
function probedLine(event: Extract<BerthEvent, { type: 'fleet-probed' }>): string {
  return `probe: ${event.pending} with pending migrations, ${event.upToDate} up to date${event.missing ? `, ${event.missing} new` : ''}${event.unknown ? `, ${event.unknown} not known (a task runs in each)` : ''}`;
}
