/**
 * Copies a task's stdout or stderr into its log file, redacted, a block of whole lines at a
 * time. Why not line by line: a batch of 25 tenants prints hundreds of lines, and one
 * `write` per line was about a fifth of berth's own CPU in a 1,000-tenant fleet run
 * (bench/README.md). Whole lines still: the two streams share one file, so a line of one is
 * never cut by the other, and a secret inside a line is masked whole.
 *
 * Line ends are normalised as readline did before (CRLF and a lone CR end a line, written as
 * LF), so the log reads the same; a line longer than MAX_LINE is written in pieces rather
 * than held in memory.
 */
import { StringDecoder } from 'node:string_decoder';

/** Longest partial line held while waiting for its end. */
const MAX_LINE = 64 * 1024;

export interface LogSink {
  write(text: string): unknown;
}

export function pipeToLog(
  stream: NodeJS.ReadableStream,
  log: LogSink,
  redact: (text: string) => string,
  onLine?: (line: string) => void,
): Promise<void> {
  const decoder = new StringDecoder('utf8');
  let held = '';
  const emit = (block: string): void => {
    // A CR at the very end may be the first half of a CRLF in the next chunk: keep it.
    const text = block.replace(/\r\n|\r(?!$)/g, '\n');
    const cut = text.lastIndexOf('\n');
    const whole = text.slice(0, cut + 1);
    held = text.slice(cut + 1);
    if (held.length > MAX_LINE) {
      emitLines(whole + held + '\n');
      held = '';
    } else if (whole) emitLines(whole);
  };
  const emitLines = (whole: string): void => {
    if (onLine) for (const line of whole.slice(0, -1).split('\n')) onLine(line);
    log.write(redact(whole));
  };
  return new Promise<void>((resolve) => {
    stream.on('data', (chunk: Buffer | string) => {
      emit(held + (typeof chunk === 'string' ? chunk : decoder.write(chunk)));
    });
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      const rest = (held + decoder.end()).replace(/\r\n?/g, '\n');
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
