/** Output conventions (src/cli/output.ts): durations at their boundaries; colour per stream. */
import { describe, expect, it } from 'vitest';
import { colorEnabled, createOutput, formatDuration } from '../../src/cli/output.js';

describe('formatDuration', () => {
  it.each([
    [0, '0ms'],
    [999.4, '999ms'],
    [999.6, '1.0s'],
    [12_345, '12.3s'],
    [59_940, '59.9s'],
    [59_950, '1m0s'],
    [60_000, '1m0s'],
    [119_400, '1m59s'],
    [119_700, '2m0s'],
    [3_599_400, '59m59s'],
    [3_599_900, '1h0m0s'],
    [3_600_000 + 2 * 60_000 + 5_000, '1h2m5s'],
    [25 * 3_600_000, '25h0m0s'],
  ])('%d ms is %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('never shows 60 seconds or 60 minutes', () => {
    const bad: string[] = [];
    for (let ms = 0; ms < 2 * 3_600_000; ms += 37) {
      const text = formatDuration(ms);
      if (/(^|[hm])60(\.0)?[ms]/.test(text)) bad.push(`${ms} ms → ${text}`);
    }
    expect(bad).toEqual([]);
  });
});

describe('colour', () => {
  const tty = { isTTY: true };
  const pipe = { isTTY: false };

  it('is on for a terminal, off for a pipe, NO_COLOR off, TERM=dumb off', () => {
    expect(colorEnabled(tty, {})).toBe(true);
    expect(colorEnabled(pipe, {})).toBe(false);
    expect(colorEnabled(tty, { NO_COLOR: '1' })).toBe(false);
    expect(colorEnabled(tty, { NO_COLOR: '' })).toBe(true);
    expect(colorEnabled(tty, { TERM: 'dumb' })).toBe(false);
  });

  it('honours FORCE_COLOR (0 and false turn colour off), over NO_COLOR and the stream', () => {
    expect(colorEnabled(pipe, { FORCE_COLOR: '1' })).toBe(true);
    expect(colorEnabled(pipe, { FORCE_COLOR: '' })).toBe(true);
    expect(colorEnabled(pipe, { FORCE_COLOR: '3', NO_COLOR: '1' })).toBe(true);
    expect(colorEnabled(tty, { FORCE_COLOR: '0' })).toBe(false);
    expect(colorEnabled(tty, { FORCE_COLOR: 'false' })).toBe(false);
  });

  function streams(stdoutTTY: boolean, stderrTTY: boolean) {
    const written = { stdout: '', stderr: '' };
    const stream = (name: 'stdout' | 'stderr', isTTY: boolean) =>
      ({
        isTTY,
        write: (text: string) => {
          written[name] += text;
          return true;
        },
      }) as unknown as NodeJS.WriteStream;
    return { written, stdout: stream('stdout', stdoutTTY), stderr: stream('stderr', stderrTTY) };
  }
  // eslint-disable-next-line no-control-regex
  const ESC = /\u001b\[/;

  it("colours stderr by stderr's terminal, not stdout's (berth status > file)", () => {
    const s = streams(false, true);
    const out = createOutput(false, s.stdout, s.stderr, {});
    out.result(out.color.green('ok'));
    out.warn('careful');
    out.note(out.errColor.red('error:'));
    expect(s.written.stdout).toBe('ok\n');
    expect(s.written.stderr).toMatch(ESC);
  });

  it('keeps escape codes out of a redirected stderr, whichever palette built the text', () => {
    const s = streams(true, false);
    const out = createOutput(false, s.stdout, s.stderr, {});
    out.result(out.color.green('ok'));
    out.note(`${out.color.green('done')} and ${out.errColor.red('failed')}`);
    out.warn('careful');
    expect(s.written.stdout).toMatch(ESC);
    expect(s.written.stderr).toBe('done and failed\nwarning: careful\n');
  });

  it('FORCE_COLOR colours both streams when neither is a terminal', () => {
    const s = streams(false, false);
    const out = createOutput(false, s.stdout, s.stderr, { FORCE_COLOR: '1' });
    out.result(out.color.green('ok'));
    out.warn('careful');
    expect(s.written.stdout).toMatch(ESC);
    expect(s.written.stderr).toMatch(ESC);
  });
});
