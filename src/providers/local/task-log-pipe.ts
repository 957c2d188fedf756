/**
 * Copies a task's stdout or stderr into its log file, redacted, a block of whole lines at a
 * time, and writes the file at most every FLUSH_MS. Why not line by line: a batch of 25
 * tenants prints hundreds of lines, one at a time as it goes, and one `write` per line was
 * about a fifth of berth's own CPU in a 1,000-tenant fleet run (bench/README.md). Whole lines
 * still: the two streams share one file, so a line of one is never cut by the other, and a
 * secret inside a line is masked whole. `berth logs --follow` sees a line at most FLUSH_MS
 * late; what is held is written before the log is closed, and a berth killed outright loses
 * no more than what the pipe itself held.
 *
 * Line ends are normalised as readline did before (CRLF and a lone CR end a line, written as
 * LF), so the log reads the same; a line longer than MAX_LINE is written in pieces rather
 * than held in memory.
 */
import { createWriteStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import type { Redactor } from '../../core/redact.js';

/** Longest a line waits in memory before the log file gets it. */
const FLUSH_MS = 50;
/** Held text that is written at once, without waiting for the timer. */
const FLUSH_BYTES = 64 * 1024;

/** Longest partial line held while waiting for its end. */
const MAX_LINE = 64 * 1024;

export interface LogSink {
  write(text: string): unknown;
}

export function pipeToLog(
  stream: NodeJS.ReadableStream,
  log: LogSink,
  redactor: Pick<Redactor, 'redact'>,
  onLine?: (line: string) => void,
): Promise<void> {
  const decoder = new StringDecoder('utf8');
  let held = '';
  // A line longer than MAX_LINE was just written in a piece, ended with an LF of berth's: the
  // line end that follows at once (LF, CRLF or CR) is that line's own, already written.
  let splitEnd = false;
  const emit = (block: string): void => {
    // A CR at the very end may be the first half of a CRLF in the next chunk: keep it.
    let text = block.replace(/\r\n|\r(?!$)/g, '\n');
    if (splitEnd && text !== '' && text !== '\r') {
      splitEnd = false;
      if (text.startsWith('\n')) text = text.slice(1);
    }
    const cut = text.lastIndexOf('\n');
    const whole = text.slice(0, cut + 1);
    held = text.slice(cut + 1);
    if (held.length > MAX_LINE) {
      // Its last CR (if any) ends the line; an LF after it is dropped as the rest of a CRLF.
      emitLines(`${whole}${held.endsWith('\r') ? held.slice(0, -1) : held}\n`);
      held = '';
      splitEnd = true;
    } else if (whole) emitLines(whole);
  };
  const emitLines = (whole: string): void => {
    if (onLine) for (const line of whole.slice(0, -1).split('\n')) onLine(line);
    log.write(redactor.redact(whole));
  };
  return new Promise<void>((resolve) => {
    stream.on('data', (chunk: Buffer | string) => {
      emit(held + (typeof chunk === 'string' ? chunk : decoder.write(chunk)));
    });
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      let rest = (held + decoder.end()).replace(/\r\n?/g, '\n');
      if (splitEnd && rest.startsWith('\n')) rest = rest.slice(1);
      held = '';
      if (rest) emitLines(rest.endsWith('\n') ? rest : `${rest}\n`);
      resolve();
    };
    stream.on('end', finish);
    // A stream that fails or is destroyed (its pipe torn down) ends the copy with what arrived.
    stream.on('error', finish);
    stream.on('close', finish);
  });
}

/**
 * A task's log file, appended to in blocks: text written within FLUSH_MS (or up to
 * FLUSH_BYTES) goes to the file in one `write`. `end()` writes what is held, then closes.
 *
 * A write that fails (a full disk, a log directory removed under it) never throws into berth:
 * it is kept in `failure`, later text is dropped, and the runtime reports it with the task's
 * outcome. The task itself runs on; what it did is read from its database afterwards, and a
 * batch section whose markers were lost has no result, never a success.
 */
export class TaskLogFile implements LogSink {
  private readonly stream;
  private held: string[] = [];
  private size = 0;
  private timer: NodeJS.Timeout | undefined;
  private failed: NodeJS.ErrnoException | undefined;

  constructor(readonly file: string) {
    this.stream = createWriteStream(file, { flags: 'a', mode: 0o600 });
    this.stream.on('error', (error) => {
      this.failed ??= error;
    });
  }

  /** The first error the file gave (opening or writing it), if any. */
  get failure(): NodeJS.ErrnoException | undefined {
    return this.failed;
  }

  write(text: string): void {
    if (this.failed) return;
    this.held.push(text);
    this.size += text.length;
    if (this.size >= FLUSH_BYTES) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.held.length === 0) return;
    if (!this.failed && !this.stream.destroyed) this.stream.write(this.held.join(''));
    this.held = [];
    this.size = 0;
  }

  /** Writes what is held and closes the file; resolves (never rejects) once it is closed. */
  end(): Promise<void> {
    this.flush();
    return new Promise<void>((resolve) => {
      if (this.stream.closed) return resolve();
      this.stream.once('close', () => resolve());
      if (!this.stream.destroyed) this.stream.end();
    });
  }
}

/** `reason` (a task's stop reason, if any) with why its log is incomplete, when it is. */
export function withLogFailure(reason: string | undefined, log: TaskLogFile): string | undefined {
  const failure = logFailureReason(log);
  return reason && failure ? `${reason}; ${failure}` : (reason ?? failure);
}

/** Why a task's log is incomplete, for its outcome; undefined when it was written. */
export function logFailureReason(log: TaskLogFile): string | undefined {
  const error = log.failure;
  if (!error) return undefined;
  const hint =
    error.code === 'ENOSPC' || error.code === 'EDQUOT'
      ? '; free space on that disk, then run migrate again'
      : '';
  return `could not write the task log ${log.file}: ${error.message}${hint}`;
}
