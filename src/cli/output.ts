/**
 * Where output goes: results on stdout (a table for humans, JSON with --json), progress and
 * diagnostics on stderr. Everything passes the redactor on the way out.
 */
import pc from 'picocolors';
import { redactor } from '../core/redact.js';

export interface Output {
  json: boolean;
  /** Human-readable result text (stdout). Suppressed with --json. */
  result(text: string): void;
  /** One JSON document or NDJSON line (stdout). */
  data(value: unknown): void;
  /** Progress and notes for humans (stderr); never part of --json stdout. */
  note(text: string): void;
  warn(text: string): void;
  readonly color: ReturnType<typeof pc.createColors>;
  readonly isTTY: boolean;
}

export function createOutput(
  json: boolean,
  stdout: NodeJS.WriteStream = process.stdout,
  stderr: NodeJS.WriteStream = process.stderr,
): Output {
  const color = pc.createColors(Boolean(stdout.isTTY) && !process.env.NO_COLOR);
  return {
    json,
    color,
    isTTY: Boolean(stderr.isTTY),
    result: (text) => {
      if (!json) stdout.write(`${redactor.redact(text)}\n`);
    },
    data: (value) => stdout.write(`${JSON.stringify(redactor.redactDeep(value))}\n`),
    note: (text) => stderr.write(`${redactor.redact(text)}\n`),
    warn: (text) => stderr.write(`${color.yellow('warning:')} ${redactor.redact(text)}\n`),
  };
}

/** A plain fixed-width table: columns padded to their widest cell. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => stripAnsi(r[i] ?? '').length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((c, i) =>
        i === cells.length - 1
          ? c
          : c + ' '.repeat(Math.max(0, (widths[i] ?? 0) - stripAnsi(c).length)),
      )
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;
export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
}
