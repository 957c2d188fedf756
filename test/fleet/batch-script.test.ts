import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BatchLogParser, batchCommand } from '../../src/fleet/batch-script.js';

function runBatch(command: string[], databases: string[], stopOnError: boolean) {
  const [program, ...args] = batchCommand(command, databases, stopOnError);
  const result = spawnSync(program ?? '', args, { encoding: 'utf8' });
  const parser = new BatchLogParser(5);
  for (const line of result.stdout.split('\n')) parser.line(line);
  return { status: result.status, parser };
}

// A stand-in migrate command: fails for databases whose name contains "bad".
const FAKE = [
  'sh',
  '-c',
  'echo "migrating $DATABASE_NAME"; case "$DATABASE_NAME" in *bad*) echo boom >&1; exit 3;; esac',
];

describe('batch script', () => {
  it('runs the command once per database with DATABASE_NAME set and frames each part of the log', () => {
    const { status, parser } = runBatch(FAKE, ['t1', 't2', 't3'], false);
    expect(status).toBe(0);
    for (const db of ['t1', 't2', 't3']) {
      expect(parser.section(db)).toEqual({ database: db, exitCode: 0, tail: [`migrating ${db}`] });
    }
  });

  it('keeps exact per-tenant exit codes when one fails and continues', () => {
    const { parser } = runBatch(FAKE, ['t1', 'bad2', 't3'], false);
    expect(parser.section('bad2')).toEqual({
      database: 'bad2',
      exitCode: 3,
      tail: ['migrating bad2', 'boom'],
    });
    expect(parser.section('t3')?.exitCode).toBe(0);
  });

  it('stops at the first failure when asked: later tenants have no section', () => {
    const { status, parser } = runBatch(FAKE, ['t1', 'bad2', 't3'], true);
    expect(status).toBe(3);
    expect(parser.section('bad2')?.exitCode).toBe(3);
    expect(parser.section('t3')).toBeUndefined();
  });

  it('quotes arguments so they reach the command unchanged', () => {
    const { parser } = runBatch(['sh', '-c', 'echo "[$0]"', "it's a $test"], ['t1'], false);
    expect(parser.section('t1')?.tail).toEqual(["[it's a $test]"]);
  });

  it('a database whose section has no end marker gets a null exit code', () => {
    const parser = new BatchLogParser(2);
    ['::berth-begin a', 'x', 'y', 'z'].forEach((l) => parser.line(l));
    expect(parser.section('a')).toEqual({ database: 'a', exitCode: null, tail: ['y', 'z'] });
  });
});
