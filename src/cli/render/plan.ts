/** `migrate --plan`: per tenant, what a run would apply; JSON with --json. */
import { ExitCode } from '../../core/exit-codes.js';
import type { FleetPlan, PlannedDatabase } from '../../fleet/plan-fleet.js';
import { table, type Output } from '../output.js';

export function printPlan(out: Output, plan: FleetPlan): void {
  if (out.json) {
    out.data({
      type: 'plan',
      upToDate: plan.upToDate,
      counts: plan.counts,
      databases: plan.databases,
    });
    return;
  }
  const c = out.color;
  const state = (d: PlannedDatabase) =>
    d.state === 'up-to-date'
      ? c.green(d.state)
      : d.state === 'pending'
        ? c.yellow(d.state)
        : c.red(d.state);
  out.result(
    table(
      ['DATABASE', 'PLAN', 'PENDING', 'MIGRATIONS'],
      plan.databases.map((d) => [
        d.exists ? d.database : `${d.database} (new)`,
        state(d),
        d.pending === null ? '?' : String(d.pending.length),
        d.pending === null ? (d.reason ?? '') : d.pending.join(', ') || (d.reason ?? ''),
      ]),
    ),
  );
  const n = plan.counts;
  out.result(
    `\n${n.total} database(s): ${n.pending} with pending migrations, ${n.upToDate} up to date, ${n.unknown} unknown, ${n.unreadable} unreadable; no migration was started`,
  );
}

/** 0 only when every database is known to be up to date; unknown counts as "may change". */
export function planExitCode(plan: FleetPlan, interrupted: boolean): number {
  if (interrupted) return ExitCode.interrupted;
  return plan.upToDate ? ExitCode.ok : ExitCode.changesPending;
}
