/** `berth doctor`'s report: one line per check, what to do under each problem. */
import type { DoctorReport } from '../../doctor/doctor.js';
import type { Output } from '../output.js';

export function printDoctor(out: Output, report: DoctorReport): void {
  if (out.json) {
    out.data(report);
    return;
  }
  const c = out.color;
  for (const check of report.checks) {
    const mark =
      check.status === 'ok' ? c.green('✓') : check.status === 'warn' ? c.yellow('!') : c.red('✗');
    out.result(`${mark} ${check.name.padEnd(16)} ${check.detail}`);
    if (check.fix) out.result(`  ${' '.repeat(16)} ${c.dim('fix:')} ${check.fix}`);
  }
  const failed = report.checks.filter((ch) => ch.status === 'fail').length;
  const warned = report.checks.filter((ch) => ch.status === 'warn').length;
  out.result(
    failed
      ? `\n${c.red('✗')} ${failed} problem(s)${warned ? `, ${warned} warning(s)` : ''}`
      : `\n${c.green('✓')} ready${warned ? ` (${warned} warning(s))` : ''}`,
  );
}
