/**
 * Human rendering of fleet results: a full table for small fleets; for large ones, successes
 * counted and only the databases that need attention listed. Failures always come with
 * their reason and log excerpt.
 */
import type { FleetResult, DatabaseResult } from '../../fleet/types.js';
import type { VerifyResult, VerifySchema } from '../../fleet/verify.js';
import { ExitCode } from '../../core/exit-codes.js';
import { formatDuration, table, type Output } from '../output.js';

const FULL_TABLE_LIMIT = 20;

/**
 * Result lines, with a blank line before each block except the first printed: a run whose
 * table is not shown (over 20 databases, none needing attention) starts with its summary, so
 * `berth migrate --all | head -1` reads it.
 */
function blockWriter(out: Output): { line: (text: string) => void; block: (text: string) => void } {
  let printed = false;
  const line = (text: string) => {
    out.result(text);
    printed = true;
  };
  return { line, block: (text) => line(printed ? `\n${text}` : text) };
}

export function renderFleet(out: Output, result: FleetResult): void {
  const c = out.color;
  const say = blockWriter(out);
  const status = (r: DatabaseResult) =>
    r.status === 'failed'
      ? c.red(r.status)
      : r.status === 'locked' || r.status === 'skipped'
        ? c.yellow(r.status)
        : c.green(r.status);
  const attention = result.databases.filter(
    (r) => r.status !== 'applied' && r.status !== 'up-to-date',
  );
  const shown = result.databases.length <= FULL_TABLE_LIMIT ? result.databases : attention;
  const waves = result.waves !== undefined;
  if (shown.length > 0) {
    say.line(
      table(
        [...(waves ? ['WAVE'] : []), 'DATABASE', 'RESULT', 'APPLIED', 'TASK', 'DETAIL'],
        shown.map((r) => [
          ...(waves ? [String(r.wave ?? '-')] : []),
          r.database,
          status(r),
          String(r.applied.length),
          r.taskId ?? '-',
          r.reason ?? summariseApplied(r.applied),
        ]),
      ),
    );
  }
  for (const r of result.databases.filter((d) => d.status === 'failed' && d.logExcerpt?.length)) {
    say.block(
      `${c.red('✗')} ${r.database}: ${r.reason ?? 'failed'}${r.taskId ? `  (full log: berth logs ${r.taskId})` : ''}`,
    );
    for (const line of r.logExcerpt ?? []) say.line(`    ${c.dim('│')} ${line}`);
  }
  if (result.serverGone)
    say.block(
      `${c.red('✗')} the database server went away mid-run (${result.serverGone}); when it is back, \`berth migrate --resume\` finishes the rest`,
    );
  for (const w of result.waves ?? []) {
    const mark =
      w.state === 'succeeded' ? c.green('✓') : w.state === 'not-started' ? c.dim('-') : c.red('✗');
    (w === result.waves?.[0] ? say.block : say.line)(
      `${mark} wave ${w.wave} (${w.databases.length} database(s)): ${w.state}${w.reason ? ` — ${w.reason}` : ''}`,
    );
  }
  const n = result.counts;
  say.block(
    `${n.total} database(s): ${n.applied} applied, ${n.upToDate} up to date, ${n.failed} failed, ${n.locked} locked, ${n.skipped} skipped in ${formatDuration(result.durationMs)} (run ${result.runId})`,
  );
}

function summariseApplied(applied: string[]): string {
  if (applied.length === 0) return '';
  if (applied.length <= 2) return applied.join(', ');
  return `${applied[0]} … ${applied[applied.length - 1]}`;
}

export function renderVerify(out: Output, result: VerifyResult, interrupted = false): void {
  const c = out.color;
  const say = blockWriter(out);
  // As for migrate: above 20 databases, only those that need attention get a row.
  const shown =
    result.databases.length <= FULL_TABLE_LIMIT
      ? result.databases
      : result.databases.filter((d) => !d.ok);
  if (shown.length > 0)
    say.line(
      table(
        ['DATABASE', 'TABLES', 'PENDING', 'CHECK', 'RESULT'],
        shown.map((d) => [
          d.name,
          `${d.tables ?? '?'}/${d.expectedTables ?? '-'}`,
          d.pending === null ? '?' : String(d.pending),
          d.check,
          d.ok ? c.green('ok') : `${c.red('FAILED')} ${d.reason ?? ''}`,
        ]),
      ),
    );
  const drifted = result.databases.filter((d) => (d.schemaDifferences?.length ?? 0) > 0);
  if (drifted.length > 0) {
    say.block(`Schema differences from the reference:`);
    for (const d of drifted) say.line(`  ${d.name}: ${(d.schemaDifferences ?? []).join('; ')}`);
  }
  if (result.schema) {
    const line = schemaLine(result.schema);
    say.block(`${result.schema.compared ? line : c.yellow(line)}`);
  }
  say.block(verifySummary(result, interrupted, c.green('✓'), c.red('✗')));
}

/**
 * The verdict line. It never says complete unless verify passed: every database ok is not
 * enough when the reference could not be built (result.ok false) or the run was interrupted.
 */
export function verifySummary(
  result: VerifyResult,
  interrupted: boolean,
  pass = '✓',
  fail = '✗',
): string {
  const total = result.databases.length;
  const bad = result.databases.filter((d) => !d.ok).length;
  if (interrupted)
    return `${fail} interrupted: verify did not finish, so nothing is proven complete; run it again`;
  if (bad > 0) return `${fail} ${bad} of ${total} database(s) incomplete`;
  if (!result.ok)
    return `${fail} not verified: each of the ${total} database(s) passed its own checks, but the schema reference failed (${result.schema?.reason ?? 'see above'})`;
  return `${pass} all ${total} database(s) complete`;
}

/**
 * What the schemas were compared with, in one line: `schema compared with the scratch database
 * berth_reference_… migrated from zero (fingerprint 0123456789ab, 57 tables); expected tables:
 * 57, from the reference`, or `schema not compared: why`.
 */
export function schemaLine(schema: VerifySchema): string {
  const expected = schema.expectedTables
    ? `; expected tables: ${schema.expectedTables.count}, from ${schema.expectedTables.from === 'config' ? 'database.expectedTables' : 'the reference'}`
    : '';
  if (!schema.compared || !schema.reference)
    return `schema not compared: ${schema.reason ?? 'no reference'}${expected}`;
  const ref = schema.reference;
  const what =
    ref.kind === 'scratch'
      ? `the scratch database ${ref.name} (migrated from zero, then dropped)`
      : `the reference tenant ${ref.name}`;
  return `schema compared with ${what} (fingerprint ${ref.fingerprint.slice(0, 12)}, ${ref.tables} tables)${expected}${schema.reason ? `; ${schema.reason}` : ''}`;
}

/** The result table (or, with --json, the summary line after the per-database NDJSON). */
export function printFleet(out: Output, result: FleetResult): void {
  if (out.json)
    out.data({
      type: 'summary',
      runId: result.runId,
      ok: result.ok,
      counts: result.counts,
      durationMs: result.durationMs,
      databases: result.databases,
      ...(result.serverGone ? { serverGone: result.serverGone } : {}),
      ...(result.waves ? { waves: result.waves } : {}),
    });
  else renderFleet(out, result);
}

export function fleetExitCode(result: FleetResult, interrupted: boolean): number {
  if (interrupted) return ExitCode.interrupted;
  if (result.serverGone) return ExitCode.environment;
  if (result.counts.failed > 0) return ExitCode.migrationFailed;
  if (result.counts.locked > 0) return ExitCode.locked;
  if (result.counts.skipped > 0) return ExitCode.migrationFailed;
  return ExitCode.ok;
}

export function printVerify(out: Output, result: VerifyResult, interrupted = false): void {
  if (out.json) out.data(result);
  else renderVerify(out, result, interrupted);
}

export function verifyExitCode(result: VerifyResult, interrupted: boolean): number {
  if (interrupted) return ExitCode.interrupted;
  return result.ok ? ExitCode.ok : ExitCode.verifyFailed;
}
