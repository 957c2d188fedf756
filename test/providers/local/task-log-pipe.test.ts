/**
 * The task log copy (task-log-pipe.ts): whole lines only, one write per block rather than
 * per line, line ends as readline gave them, secrets masked even when a line arrives in
 * pieces, and what is left at the end written with its line end.
 */
import { WriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import {
  logFailureReason,
  pipeToLog,
  TaskLogFile,
} from '../../../src/providers/local/task-log-pipe.js';
import { tempDir } from '../../support/temp-dir.js';

async function copy(chunks: (string | Buffer)[], onLine?: (line: string) => void) {
  const stream = new PassThrough();
  const writes: string[] = [];
  const done = pipeToLog(
    stream,
    { write: (text: string) => writes.push(text) },
    { redact: (text) => text.replaceAll('hunter2', '***') },
    onLine,
  );
  for (const chunk of chunks) stream.write(chunk);
  stream.end();
  await done;
  return writes;
}

describe('pipeToLog', () => {
  it('writes a chunk of many lines at once', async () => {
    const text = Array.from({ length: 200 }, (_, i) => `Applying ${i}`).join('\n') + '\n';
    const writes = await copy([text]);
    expect(writes).toEqual([text]);
  });

  it('holds a partial line until its end arrives, so a split secret is still masked', async () => {
    const writes = await copy(['one\npass=hun', 'ter2 ok\ntwo']);
    expect(writes).toEqual(['one\n', 'pass=*** ok\n', 'two\n']);
  });

  it('turns CRLF and a lone CR into LF, also when the CRLF is split across chunks', async () => {
    const writes = await copy(['a\r', '\nb\rc\r\n', 'd\r']);
    expect(writes.join('')).toBe('a\nb\nc\nd\n');
  });

  it('decodes a multi-byte character split across chunks', async () => {
    const bytes = Buffer.from('café\n');
    const writes = await copy([bytes.subarray(0, 4), bytes.subarray(4)]);
    expect(writes.join('')).toBe('café\n');
  });

  it('reports each line to onLine, empty ones included', async () => {
    const lines: string[] = [];
    await copy(['x\n\ny\n', 'z'], (line) => lines.push(line));
    expect(lines).toEqual(['x', '', 'y', 'z']);
  });

  it('writes a line longer than 64 KiB in pieces instead of holding it', async () => {
    const long = 'x'.repeat(70 * 1024);
    const writes = await copy([long, long]);
    expect(writes.length).toBeGreaterThan(1);
    expect(writes.join('').replaceAll('\n', '')).toBe(long + long);
  });

  it.each([
    ['LF', ['\nnext\n']],
    ['CRLF', ['\r\nnext\n']],
    ['CRLF split across chunks', ['\r', '\nnext\n']],
    ['a lone CR', ['\rnext\n']],
  ])(
    'adds no empty line when a line over 64 KiB ends (%s) right where it was cut',
    async (_name, rest) => {
      const long = 'x'.repeat(70 * 1024);
      const writes = await copy([long, ...rest]);
      expect(writes.join('')).toBe(`${long}\nnext\n`);
    },
  );

  it('adds no empty line when the CR ending a line over 64 KiB came with it', async () => {
    const long = 'x'.repeat(70 * 1024);
    expect((await copy([`${long}\r`, '\nnext\n'])).join('')).toBe(`${long}\nnext\n`);
    expect((await copy([`${long}\r`, 'next\n'])).join('')).toBe(`${long}\nnext\n`);
  });

  it('still writes the rest of a line over 64 KiB as a line of its own', async () => {
    const long = 'x'.repeat(70 * 1024);
    expect((await copy([long, 'tail\n'])).join('')).toBe(`${long}\ntail\n`);
  });
});

describe('TaskLogFile', () => {
  it('writes what arrives together in one write, and everything by end()', async () => {
    const file = path.join(await tempDir('berth-unit-task-log-'), 'task.log');
    const writes = vi.spyOn(WriteStream.prototype, 'write');
    try {
      const log = new TaskLogFile(file);
      const lines = Array.from({ length: 100 }, (_, i) => `line ${i}\n`);
      for (const line of lines) log.write(line);
      await log.end();
      expect(writes).toHaveBeenCalledTimes(1);
      expect(await readFile(file, 'utf8')).toBe(lines.join(''));
    } finally {
      writes.mockRestore();
    }
  });

  it('appends to what the file holds, and writes 64 KiB without waiting for the timer', async () => {
    const file = path.join(await tempDir('berth-unit-task-log-'), 'task.log');
    const first = new TaskLogFile(file);
    first.write('before\n');
    await first.end();
    const writes = vi.spyOn(WriteStream.prototype, 'write');
    try {
      const log = new TaskLogFile(file);
      log.write('x'.repeat(64 * 1024));
      expect(writes).toHaveBeenCalledTimes(1);
      log.write('\nafter\n');
      await log.end();
      expect(await readFile(file, 'utf8')).toBe(`before\n${'x'.repeat(64 * 1024)}\nafter\n`);
    } finally {
      writes.mockRestore();
    }
  });
});

// /dev/full is a real device whose every write fails with ENOSPC: a full disk, without
// filling one.
describe('a task log that cannot be written', () => {
  it('keeps the first error instead of throwing, drops later text, and still ends', async () => {
    const log = new TaskLogFile('/dev/full');
    log.write('x'.repeat(64 * 1024));
    log.write('more\n');
    await log.end();
    expect(log.failure?.code).toBe('ENOSPC');
    expect(logFailureReason(log)).toMatch(
      /^could not write the task log \/dev\/full: .*ENOSPC.*; free space on that disk, then run migrate again$/,
    );
  });

  it('reports a log directory that is gone, without a disk hint', async () => {
    const log = new TaskLogFile(path.join(await tempDir('berth-unit-task-log-'), 'gone', 'x.log'));
    log.write('line\n');
    await log.end();
    expect(logFailureReason(log)).toMatch(/could not write the task log .*gone\/x\.log: ENOENT/);
    expect(logFailureReason(log)).not.toMatch(/free space/);
  });

  it('a log written in full gives no reason', async () => {
    const log = new TaskLogFile(path.join(await tempDir('berth-unit-task-log-'), 'ok.log'));
    log.write('line\n');
    await log.end();
    expect(log.failure).toBeUndefined();
    expect(logFailureReason(log)).toBeUndefined();
  });
});
