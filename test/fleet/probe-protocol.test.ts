/** The probe line protocol (fleet/probe-protocol.ts): what a probe task prints, what berth makes of it. */
import { describe, expect, it } from 'vitest';
import {
  formatProbeLine,
  parseProbeLine,
  probeBatches,
  ProbeLogParser,
  probeResultFrom,
} from '../../src/fleet/probe-protocol.js';

const KNOWN = ['0001_auth', '0002_catalog', '0003_orders'];

describe('the probe line protocol', () => {
  it('parses the three kinds of report and round-trips what it formats', () => {
    const lines = [
      '::berth-probe {"database":"a","exists":true,"tables":57,"applied":["0001_auth"]}',
      '::berth-probe {"database":"b","exists":false}',
      '::berth-probe {"database":"c","error":"connection refused"}',
    ];
    expect(lines.map(parseProbeLine)).toEqual([
      { database: 'a', exists: true, tables: 57, applied: ['0001_auth'] },
      { database: 'b', exists: false },
      { database: 'c', error: 'connection refused' },
    ]);
    for (const line of lines) {
      const report = parseProbeLine(line);
      expect(report && formatProbeLine(report)).toBe(line);
    }
  });

  it('ignores other output, and turns a marked but invalid line into an error for its database', () => {
    expect(parseProbeLine('Applying 0001_auth')).toBeUndefined();
    expect(parseProbeLine('::berth-probe')).toBeUndefined();
    expect(parseProbeLine('::berth-probe not json')).toBeUndefined();
    expect(parseProbeLine('::berth-probe ["a"]')).toBeUndefined();
    // A database name berth would never accept: not this protocol's line.
    expect(
      parseProbeLine('::berth-probe {"database":"Robert\'); DROP","exists":false}'),
    ).toBeUndefined();
    expect(parseProbeLine('::berth-probe {"database":"a","exists":true,"tables":-1}')).toEqual({
      database: 'a',
      error: expect.stringContaining('invalid line') as unknown,
    });
    expect(
      parseProbeLine('::berth-probe {"database":"a","exists":true,"tables":3,"applied":[1]}'),
    ).toMatchObject({ database: 'a', error: expect.any(String) as unknown });
    // `applied` may be left out when there is no history table; trailing CR from a log is fine.
    expect(parseProbeLine('::berth-probe {"database":"a","exists":true,"tables":0}\r')).toEqual({
      database: 'a',
      exists: true,
      tables: 0,
      applied: [],
    });
  });

  it('computes pending from the known migrations, like the local SQL probe', () => {
    expect(
      probeResultFrom(
        { database: 'a', exists: true, tables: 38, applied: KNOWN.slice(0, 2) },
        KNOWN,
      ),
    ).toEqual({
      database: 'a',
      exists: true,
      tables: 38,
      applied: ['0001_auth', '0002_catalog'],
      pending: ['0003_orders'],
      pendingKnown: true,
    });
    expect(probeResultFrom({ database: 'b', exists: false }, KNOWN)).toMatchObject({
      exists: false,
      pending: KNOWN,
      pendingKnown: true,
    });
    expect(probeResultFrom({ database: 'c', error: 'timeout' }, KNOWN)).toMatchObject({
      error: 'timeout',
      pending: KNOWN,
    });
    // Unknown migrations (no migrations.directory): pending cannot be computed.
    expect(
      probeResultFrom({ database: 'd', exists: true, tables: 5, applied: ['x'] }, undefined),
    ).toMatchObject({ pending: [], pendingKnown: false, applied: ['x'] });
  });

  it('collects a log: the last line about a database wins', () => {
    const parser = new ProbeLogParser();
    for (const line of [
      'probe starting',
      '::berth-probe {"database":"a","error":"retrying"}',
      '::berth-probe {"database":"a","exists":true,"tables":1,"applied":[]}',
      '::berth-probe {"database":"b","exists":false}',
    ])
      parser.line(line);
    expect(parser.size).toBe(2);
    expect(parser.report('a')).toEqual({ database: 'a', exists: true, tables: 1, applied: [] });
    expect(parser.report('c')).toBeUndefined();
  });

  it('splits a large fleet into probe batches that fit in a RunTask override', () => {
    const names = Array.from({ length: 1000 }, (_v, i) => `tenant_${String(i).padStart(4, '0')}`);
    const batches = probeBatches(names);
    expect(batches.flat()).toEqual(names);
    for (const batch of batches) {
      expect(batch.join(',').length).toBeLessThanOrEqual(4000);
      expect(batch.length).toBeLessThanOrEqual(200);
    }
    expect(batches).toHaveLength(5);
    const long = Array.from({ length: 100 }, (_v, i) => `t${String(i).padStart(62, 'x')}`);
    expect(probeBatches(long).every((b) => b.join(',').length <= 4000)).toBe(true);
    expect(probeBatches([])).toEqual([]);
  });
});
