/**
 * Renders fleet events for people: on a terminal, one live line (done / failed / remaining,
 * rate, ETA) that log-update redraws in place; elsewhere (CI logs, pipes) one plain line per
 * finished database. With --json, each finished database is one NDJSON line on stdout.
 */
import { logUpdateStderr as logUpdate } from 'log-update';
import type { BerthEvent, Reporter } from '../core/events.js';
import { formatDuration, type Output } from './output.js';

export function createReporter(out: Output): Reporter {
  if (out.json) {
    return {
      emit(event) {
        if (event.type === 'database-finished')
          out.data({ type: 'database', runId: event.runId, ...event.result });
      },
    };
  }
  return out.isTTY ? new LiveReporter(out) : new PlainReporter(out);
}

class PlainReporter implements Reporter {
  constructor(private readonly out: Output) {}
  emit(event: BerthEvent): void {
    const c = this.out.errColor;
    switch (event.type) {
      case 'message':
        if (event.level === 'warn') this.out.warn(event.text);
        else this.out.note(event.text);
        break;
      case 'fleet-started':
        this.out.note(`${event.operation}: ${event.total} database(s), run ${event.runId}`);
        break;
      case 'fleet-probed':
        this.out.note(
          `probe: ${event.pending} with pending migrations, ${event.upToDate} up to date${event.missing ? `, ${event.missing} new` : ''}`,
        );
        break;
      case 'database-started':
        this.out.note(`  start  ${event.databases.join(', ')} (task ${event.taskId})`);
        break;
      case 'database-finished': {
        const r = event.result;
        const mark =
          r.status === 'failed'
            ? c.red('failed')
            : r.status === 'locked'
              ? c.yellow('locked')
              : r.status === 'skipped'
                ? c.yellow('skipped')
                : c.green(r.status);
        const { counts } = event;
        const done = counts.total;
        // Up-to-date databases from the fast path would flood a CI log at 1,000 tenants.
        if (r.status === 'up-to-date' && !r.taskId && event.total > 20) break;
        this.out.note(
          `  ${mark}  ${r.database}${r.applied.length ? ` (+${r.applied.length})` : ''}${r.reason ? `: ${r.reason}` : ''}  [${done}/${event.total}]`,
        );
        break;
      }
      case 'stage-started':
        this.out.note(`▸ ${event.stage}`);
        break;
      case 'stage-finished':
        this.out.note(
          `  ${event.stage}: ${event.status} in ${formatDuration(event.durationMs)}${event.detail ? ` (${event.detail})` : ''}`,
        );
        break;
    }
  }
}

class LiveReporter implements Reporter {
  private readonly plain: PlainReporter;
  private started = Date.now();
  private total = 0;
  constructor(private readonly out: Output) {
    this.plain = new PlainReporter(out);
  }
  emit(event: BerthEvent): void {
    if (event.type === 'fleet-started') {
      this.started = Date.now();
      this.total = event.total;
    }
    if (event.type === 'database-finished') {
      const r = event.result;
      if (r.status === 'failed' || r.status === 'locked' || this.total <= 20) {
        logUpdate.clear();
        this.plain.emit(event);
      }
      const { counts } = event;
      const done = counts.total;
      const elapsed = (Date.now() - this.started) / 1000;
      const rate = elapsed > 0 ? done / elapsed : 0;
      const remaining = this.total - done;
      const eta = rate > 0 ? formatDuration(Math.round((remaining / rate) * 1000)) : '?';
      logUpdate(
        `${done}/${this.total} done · ${counts.applied} applied · ${counts.upToDate} up to date · ${counts.failed} failed · ${remaining} remaining · ${rate.toFixed(1)}/s · ETA ${eta}`,
      );
      if (remaining === 0) logUpdate.done();
      return;
    }
    logUpdate.clear();
    this.plain.emit(event);
  }
}
