/**
 * `tail -f` for a task's log file, ending when the task has stopped: read what is there,
 * then poll for appended bytes; once `stopped()` says so, read the rest and end. Only whole
 * lines are yielded while the task runs (a partial last line waits for its newline); the
 * final read yields the remainder too. Time comes in as `sleep`, so tests drive it.
 */
import { abortableSleep as defaultSleep } from '../core/clock.js';
import { open } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';

export interface FollowOptions {
  /** Whether the task has stopped (checked between polls). */
  stopped: () => Promise<boolean>;
  pollMs?: number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Ends the follow (Ctrl-C): the lines read so far have been yielded. */
  signal?: AbortSignal;
}

export async function* followLogFile(file: string, options: FollowOptions): AsyncGenerator<string> {
  const sleep = options.sleep ?? defaultSleep;
  const pollMs = options.pollMs ?? 500;
  let offset = 0;
  let partial = '';
  // A character split between two reads is held back, not garbled.
  const decoder = new StringDecoder('utf8');
  const readNew = async (): Promise<string> => {
    let handle;
    try {
      handle = await open(file, 'r');
    } catch (error) {
      // The task may not have written its first line yet.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
      throw error;
    }
    try {
      const chunks: Buffer[] = [];
      for (;;) {
        const buffer = Buffer.alloc(64 * 1024);
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
        if (bytesRead === 0) break;
        offset += bytesRead;
        chunks.push(buffer.subarray(0, bytesRead));
      }
      return decoder.write(Buffer.concat(chunks));
    } finally {
      await handle.close();
    }
  };
  for (;;) {
    // Asked before reading: whatever is in the file after a "stopped" answer is the whole log.
    const done = await options.stopped();
    const text = partial + (await readNew());
    const lines = text.split(/\r?\n/);
    partial = lines.pop() ?? '';
    for (const line of lines) yield line;
    if (done || options.signal?.aborted) {
      if (partial) yield partial;
      return;
    }
    await sleep(pollMs, options.signal);
  }
}
