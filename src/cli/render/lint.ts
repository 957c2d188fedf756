/** `berth lint`: findings by file and line; GitHub annotations in Actions; JSON with --json. */
import { ExitCode } from '../../core/exit-codes.js';
import type { LintReport } from '../../fleet/lint-pending.js';
import { table, type Output } from '../output.js';

export function printLint(out: Output, report: LintReport, github: boolean): void {
  if (out.json) {
    out.data({ type: 'lint', ...report });
    return;
  }
  const c = out.color;
  out.note(`linting ${report.scope} with squawk`);
  const generated = report.findings.find((f) => f.sqlLine !== undefined);
  if (generated)
    out.note('SQL lines are in what the tool printed for the migration, not in its file');
  if (report.unsupported) out.warn(`not linted: ${report.unsupported}`);
  if (report.findings.length > 0)
    out.result(
      table(
        ['WHERE', 'LEVEL', 'RULE', 'MESSAGE'],
        report.findings.map((f) => [
          f.sqlLine === undefined
            ? `${f.migration}:${f.line}`
            : `${f.migration} (SQL line ${f.sqlLine})`,
          f.level === 'error' ? c.red(f.level) : c.yellow(f.level),
          f.rule,
          f.help ? `${f.message} ${c.dim(f.help)}` : f.message,
        ]),
      ),
    );
  // Workflow commands: GitHub shows them on the file and line of the pull request.
  if (github)
    for (const f of report.findings)
      out.result(
        `::${f.level === 'error' ? 'error' : 'warning'} file=${f.file},line=${f.line},col=${f.column},title=squawk ${f.rule}::${escape(f.message)}`,
      );
  const errors = report.findings.filter((f) => f.level === 'error').length;
  const warnings = report.findings.length - errors;
  out.result(
    `\n${report.ok ? c.green('✓') : c.red('✗')} ${report.linted.length} migration(s) linted: ${errors} error(s), ${warnings} warning(s)${report.excluded.length ? ` (not checked: ${report.excluded.join(', ')})` : ''}`,
  );
}

function escape(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

export function lintExitCode(report: LintReport): number {
  return report.ok ? ExitCode.ok : ExitCode.lintFailed;
}
