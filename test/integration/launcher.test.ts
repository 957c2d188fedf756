import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { BERTH } from '../support/project.js';

const run = promisify(execFile);

describe('bin/berth.js', () => {
  it('runs through its own shebang, with the Node flags it sets', async () => {
    // Executed as npm's bin link executes it: the kernel reads the shebang. A flag Node
    // does not know would fail here ("bad option"), not in a user's terminal.
    const { stdout } = await run(BERTH, ['--version']);
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const shebang = (await readFile(BERTH, 'utf8')).split('\n')[0];
    expect(shebang).toBe('#!/usr/bin/env -S node --max-semi-space-size=2');
  });
});
