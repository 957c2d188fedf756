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
  /** Colours for stdout (results). */
  readonly color: ReturnType<typeof pc.createColors>;
  /** Colours for stderr (notes, progress, errors): stderr may be a terminal when stdout is not. */
  readonly errColor: ReturnType<typeof pc.createColors>;
  readonly isTTY: boolean;
}

export function createOutput(
  json: boolean,
  stdout: NodeJS.WriteStream = process.stdout,
  stderr: NodeJS.WriteStream = process.stderr,
  env: NodeJS.ProcessEnv = process.env,
): Output {
  const color = pc.createColors(colorEnabled(stdout, env));
  const errColored = colorEnabled(stderr, env);
  const errColor = pc.createColors(errColored);
  // Notes built with stdout's colours must not put escape codes into a redirected stderr.
  const toStderr = (text: string) => (errColored ? text : stripAnsi(text));
  const out = writer(stdout);
  const err = writer(stderr);
  return {
    json,
    color,
    errColor,
    isTTY: Boolean(stderr.isTTY),
    result: (text) => {
      if (!json) out(`${redactor.redact(text)}\n`);
    },
    data: (value) => out(`${JSON.stringify(redactor.redactDeep(value))}\n`),
    note: (text) => err(`${toStderr(redactor.redact(text))}\n`),
    warn: (text) => err(`${errColor.yellow('warning:')} ${toStderr(redactor.redact(text))}\n`),
  };
}

const closed = new WeakSet<object>();

/**
 * Writes to a stream that its reader may close early (`berth migrate --json | head -1`): on
 * EPIPE berth stops writing there and carries on, so the run still finishes, releases its
 * locks and closes its journal, instead of dying on an unhandled 'error' event.
 */
function writer(stream: NodeJS.WritableStream): (text: string) => void {
  if (
    typeof stream.on === 'function' &&
    !closed.has(stream) &&
    stream.listenerCount?.('error') === 0
  )
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') closed.add(stream);
      else throw error;
    });
  return (text) => {
    if (closed.has(stream)) return;
    try {
      stream.write(text);
    } catch (error) {
      // A synchronous EPIPE (a pipe already known closed) is the same thing.
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED') closed.add(stream);
      else throw error;
    }
  };
}

/**
 * Colour on one stream, as Node decides it for its own output: FORCE_COLOR set turns colour
 * on (off when it is `0` or `false`), whatever the stream is; else a non-empty NO_COLOR turns
 * it off; else colour when the stream is a terminal that is not TERM=dumb.
 */
export function colorEnabled(
  stream: Pick<NodeJS.WriteStream, 'isTTY'>,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force.toLowerCase() !== 'false';
  if (env.NO_COLOR) return false;
  return Boolean(stream.isTTY) && env.TERM !== 'dumb';
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

/**
 * A duration for people: `850ms`, `12.3s`, `2m5s`, `1h2m5s`. Rounded once, to the unit shown,
 * so 59.95 s is `1m0s` (not `60.0s`) and 119.7 s is `2m0s` (not `1m60s`).
 */
export function formatDuration(ms: number): string {
  const millis = Math.round(ms);
  if (millis < 1000) return `${millis}ms`;
  const tenths = Math.round(ms / 100);
  if (tenths < 600) return `${(tenths / 10).toFixed(1)}s`;
  const seconds = Math.round(ms / 1000);
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h > 0 ? `${h}h${m}m${s}s` : `${m}m${s}s`;
}
