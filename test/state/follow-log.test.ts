/** followLogFile: `tail -f` until the task stops, time driven by the test. */
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { followLogFile } from '../../src/state/follow-log.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'berth-follow-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('followLogFile', () => {
  it('yields lines as they are appended, whole lines only, and ends once the task stopped', async () => {
    const file = path.join(dir, 'a.log');
    // Each "sleep" is a moment in which the task writes; the task stops after the third.
    const writes = ['one\ntw', 'o\nthree\n', 'é'.slice(0, 1) + '\nlast without newline'];
    let stopped = false;
    const polls: number[] = [];
    const lines: string[] = [];
    for await (const line of followLogFile(file, {
      stopped: () => Promise.resolve(stopped),
      pollMs: 250,
      sleep: async (ms) => {
        polls.push(ms);
        const next = writes.shift();
        if (next !== undefined) await appendFile(file, next);
        if (writes.length === 0) stopped = true;
      },
    })) {
      lines.push(`${polls.length}:${line}`);
    }
    // Nothing before the file exists; "tw" waits for its newline; the tail comes at the end.
    expect(lines).toEqual(['1:one', '2:two', '2:three', '3:é', '3:last without newline']);
    expect(polls).toEqual([250, 250, 250]);
  });

  it('keeps a character split between two reads whole', async () => {
    const file = path.join(dir, 'b.log');
    const bytes = Buffer.from('päivää\n', 'utf8');
    await writeFile(file, bytes.subarray(0, 2)); // "p" and half of "ä"
    let stopped = false;
    const lines: string[] = [];
    for await (const line of followLogFile(file, {
      stopped: () => Promise.resolve(stopped),
      sleep: async () => {
        await appendFile(file, bytes.subarray(2));
        stopped = true;
      },
    }))
      lines.push(line);
    expect(lines).toEqual(['päivää']);
  });

  it('ends at once, with what was read, when the signal aborts', async () => {
    const file = path.join(dir, 'c.log');
    await writeFile(file, 'a\n');
    const controller = new AbortController();
    const lines: string[] = [];
    for await (const line of followLogFile(file, {
      stopped: () => Promise.resolve(false),
      signal: controller.signal,
      sleep: () => {
        controller.abort();
        return Promise.resolve();
      },
    }))
      lines.push(line);
    expect(lines).toEqual(['a']);
  });
});
