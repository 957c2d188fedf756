/**
 * GitHub Actions job summaries and annotations for migrate, verify and pipeline.
 *
 * The Markdown is built by pure functions (one per result kind); `publishToGithub` is the only
 * part with effects: it appends the Markdown to the file `GITHUB_STEP_SUMMARY` names and
 * writes one `::error` workflow command per failure. The runner reads workflow commands from
 * both stdout and stderr, so the annotations go to stderr and `--json` stdout stays one clean
 * document (or NDJSON stream). Everything passes the redactor on the way out.
 */
import { appendFile } from 'node:fs/promises';
import { redactor } from '../../core/redact.js';
import type { FleetResult } from '../../fleet/types.js';
import type { VerifyResult } from '../../fleet/verify.js';
import type { DeliveryResult } from '../../pipeline/delivery.js';
import { formatDuration, type Output } from '../output.js';
import { schemaLine } from './fleet.js';

/** What a command publishes: a Markdown section and its annotations. */
export interface GithubReport {
  markdown: string;
  annotations: Annotation[];
}

export interface Annotation {
  title: string;
  message: string;
}

/** More rows than this and the summary lists only the databases that need attention. */
const FULL_TABLE_LIMIT = 20;
/** GitHub shows at most 10 error annotations per step: past that, one that says how many more. */
const MAX_ANNOTATIONS = 10;

export function fleetReport(result: FleetResult, title = 'berth migrate'): GithubReport {
  const n = result.counts;
  const lines = [
    `## ${result.ok ? '✅' : '❌'} ${title}`,
    '',
    `**${n.total}** database(s): **${n.applied}** applied, **${n.upToDate}** up to date, **${n.failed}** failed, **${n.locked}** locked, **${n.skipped}** skipped in ${formatDuration(result.durationMs)} (run \`${result.runId}\`)`,
    '',
  ];
  const attention = result.databases.filter(
    (r) => r.status !== 'applied' && r.status !== 'up-to-date',
  );
  const shown = result.databases.length <= FULL_TABLE_LIMIT ? result.databases : attention;
  if (shown.length > 0) {
    lines.push(
      '| Database | Result | Applied | Task | Detail |',
      '| --- | --- | --- | --- | --- |',
      ...shown.map(
        (r) =>
          `| ${cell(r.database)} | ${r.status} | ${r.applied.length} | ${cell(r.taskId ?? '-')} | ${cell(r.reason ?? '')} |`,
      ),
      '',
    );
  }
  for (const r of result.databases.filter((d) => d.status === 'failed')) {
    lines.push(...failureBlock(r.database, r.reason ?? 'failed', r.logExcerpt, r.taskId));
  }
  const unfinished = result.databases.filter(
    (r) => r.status !== 'applied' && r.status !== 'up-to-date',
  );
  if (unfinished.length > 0) {
    lines.push(
      '### How to resume',
      '',
      `After fixing the cause, migrate what is left (migrations already applied are not run again):`,
      '',
      '```sh',
      `berth migrate --database ${unfinished.map((r) => r.database).join(',')}`,
      '```',
      '',
      `If run \`${result.runId}\` was interrupted (cancelled job, stopped runner), \`berth migrate --resume\` continues it with only its unfinished databases; \`berth runs show ${result.runId}\` lists its results.`,
      '',
    );
  }
  return {
    markdown: lines.join('\n'),
    annotations: result.databases
      .filter((r) => r.status === 'failed' || r.status === 'locked' || r.status === 'skipped')
      .map((r) => ({
        title: `berth: ${r.database} ${r.status}`,
        message: `${r.reason ?? r.status}${r.taskId ? ` (log: berth logs ${r.taskId})` : ''}`,
      })),
  };
}

export function verifyReport(result: VerifyResult, title = 'berth verify'): GithubReport {
  const bad = result.databases.filter((d) => !d.ok);
  const lines = [
    `## ${result.ok ? '✅' : '❌'} ${title}`,
    '',
    bad.length > 0
      ? `**${bad.length}** of **${result.databases.length}** database(s) incomplete.`
      : result.ok
        ? `All **${result.databases.length}** database(s) complete.`
        : `Not verified: each database passed its own checks, but the schema reference failed.`,
    '',
  ];
  if (result.schema) lines.push(schemaLine(result.schema), '');
  const shown = result.databases.length <= FULL_TABLE_LIMIT ? result.databases : bad;
  if (shown.length > 0) {
    lines.push(
      '| Database | Tables | Pending | Check | Result |',
      '| --- | --- | --- | --- | --- |',
      ...shown.map(
        (d) =>
          `| ${cell(d.name)} | ${d.tables ?? '?'}/${d.expectedTables ?? '-'} | ${d.pending ?? '?'} | ${d.check} | ${d.ok ? 'ok' : cell(`FAILED ${d.reason ?? ''}`)} |`,
      ),
      '',
    );
  }
  if (bad.length > 0) {
    lines.push(
      '### What to do',
      '',
      'Migrate the incomplete databases, then verify again:',
      '',
      '```sh',
      `berth migrate --database ${bad.map((d) => d.name).join(',')}`,
      `berth verify --database ${bad.map((d) => d.name).join(',')}`,
      '```',
      '',
    );
  }
  return {
    markdown: lines.join('\n'),
    annotations: bad.map((d) => ({
      title: `berth verify: ${d.name} incomplete`,
      message: `${d.reason ?? 'incomplete'}${d.checkTaskId ? ` (log: berth logs ${d.checkTaskId})` : ''}`,
    })),
  };
}

export function pipelineReport(result: DeliveryResult): GithubReport {
  const lines = [
    `## ${result.ok ? '✅' : '❌'} berth pipeline (${result.provider})`,
    '',
    result.ok
      ? `Passed in ${formatDuration(result.durationMs)}.`
      : `Failed at **${result.failedStage ?? 'interrupt'}** after ${formatDuration(result.durationMs)}.`,
    '',
    '| Stage | Result | Time | Detail |',
    '| --- | --- | --- | --- |',
    ...result.stages.map(
      (s) =>
        `| ${s.name} | ${s.status} | ${formatDuration(s.durationMs)} | ${cell((s.detail ?? '').split('\n')[0] ?? '')} |`,
    ),
    '',
  ];
  const annotations: Annotation[] = [];
  const failed = result.stages.find((s) => s.status === 'failed');
  if (failed) {
    const tail = (failed.detail ?? '').split('\n');
    if (tail.length > 1)
      lines.push(...failureBlock(`${failed.name} stage`, tail[0] ?? '', tail.slice(1)));
    // The fleet stages annotate per database below; the others get one annotation.
    if (failed.name !== 'migrate' && failed.name !== 'verify')
      annotations.push({
        title: `berth pipeline: ${failed.name} failed`,
        message: tail[0] || `the ${failed.name} stage failed`,
      });
  }
  const sections = [lines.join('\n')];
  if (result.migrate) {
    const fleet = fleetReport(result.migrate, 'migrate stage');
    sections.push(demote(fleet.markdown));
    annotations.push(...fleet.annotations);
  }
  if (result.verify) {
    const verify = verifyReport(result.verify, 'verify stage');
    sections.push(demote(verify.markdown));
    annotations.push(...verify.annotations);
  }
  return { markdown: sections.join('\n'), annotations };
}

/**
 * Appends the report to $GITHUB_STEP_SUMMARY (when set) and writes its annotations to
 * `stderr` (when running in GitHub Actions). Returns whether a summary was written. A
 * summary that cannot be written is a warning, never the command's failure.
 */
export async function publishToGithub(
  report: GithubReport,
  out: Pick<Output, 'note' | 'warn'>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<boolean> {
  if (env.GITHUB_ACTIONS === 'true') {
    for (const line of annotationLines(report.annotations)) out.note(line);
  }
  const file = env.GITHUB_STEP_SUMMARY;
  if (!file) return false;
  try {
    await appendFile(file, `${redactor.redact(report.markdown)}\n`);
    return true;
  } catch (error) {
    out.warn(`could not append the job summary to ${file}: ${(error as Error).message}`);
    return false;
  }
}

/** `::error title=…::message` lines, escaped as the runner expects, at most MAX_ANNOTATIONS. */
export function annotationLines(annotations: Annotation[]): string[] {
  const lines = annotations
    .slice(0, MAX_ANNOTATIONS)
    .map(
      (a) =>
        `::error title=${escapeProperty(redactor.redact(a.title))}::${escapeData(redactor.redact(a.message))}`,
    );
  if (annotations.length > MAX_ANNOTATIONS)
    lines.push(
      `::error title=berth::${annotations.length - MAX_ANNOTATIONS} more failure(s); see the job summary`,
    );
  return lines;
}

/** Workflow-command escaping (actions/toolkit `command.ts`). */
export function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}
export function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

function failureBlock(
  name: string,
  reason: string,
  excerpt: string[] | undefined,
  taskId?: string,
): string[] {
  const lines = [`### ❌ ${name}: ${reason}`, ''];
  if (taskId) lines.push(`Full log: \`berth logs ${taskId}\` (or the berth-logs artifact).`, '');
  if (excerpt?.length)
    lines.push('```text', ...excerpt.map((l) => l.replace(/```/g, "'''")), '```', '');
  return lines;
}

/** A table cell: one line, pipes escaped. */
function cell(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
}

/** `## x` → `### x` (and deeper headings one level down), to nest a section. */
function demote(markdown: string): string {
  return markdown.replace(/^(#{2,5}) /gm, '#$1 ');
}
