/**
 * Command-line numbers have the config's bounds: the CLI and the schema share LIMITS, and
 * the schema really enforces the same numbers the flags do.
 */
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { LIMITS, parseBoundedInt, type LimitedField } from '../../src/config/limits.js';
import { configSchema } from '../../src/config/schema.js';
import { main } from '../../src/cli/main.js';
import { isBerthError } from '../../src/core/errors.js';

/** The min and max zod enforces for a dotted field path of the config schema. */
function schemaBounds(field: string): { min: number | null; max: number | null } {
  let schema: z.ZodType = configSchema;
  for (const key of field.split('.')) {
    while (
      schema instanceof z.ZodDefault ||
      schema instanceof z.ZodPrefault ||
      schema instanceof z.ZodOptional
    )
      schema = schema.unwrap() as z.ZodType;
    if (!(schema instanceof z.ZodObject)) throw new Error(`${field}: not an object at ${key}`);
    schema = (schema.shape as Record<string, z.ZodType>)[key] as z.ZodType;
  }
  while (schema instanceof z.ZodDefault || schema instanceof z.ZodOptional)
    schema = schema.unwrap() as z.ZodType;
  if (!(schema instanceof z.ZodNumber)) throw new Error(`${field}: not a number`);
  return { min: schema.minValue, max: schema.maxValue };
}

describe('LIMITS', () => {
  it.each(Object.keys(LIMITS) as LimitedField[])('%s has the schema bounds', (field) => {
    expect(schemaBounds(field)).toEqual(LIMITS[field]);
  });
});

describe('parseBoundedInt', () => {
  it('accepts whole numbers inside the bounds', () => {
    expect(parseBoundedInt('--concurrency', '1', 'fleet.concurrency')).toBe(1);
    expect(parseBoundedInt('--concurrency', '256', 'fleet.concurrency')).toBe(256);
    expect(parseBoundedInt('--batch-size', '500', 'fleet.batchSize')).toBe(500);
  });

  it.each([
    ['--concurrency', '0', 'fleet.concurrency'],
    ['--concurrency', '257', 'fleet.concurrency'],
    ['--concurrency', '1e3', 'fleet.concurrency'],
    ['--concurrency', '2.5', 'fleet.concurrency'],
    ['--concurrency', '', 'fleet.concurrency'],
    ['--batch-size', '501', 'fleet.batchSize'],
    ['--batch-size', '-1', 'fleet.batchSize'],
    ['--batch-size', 'ten', 'fleet.batchSize'],
    ['--batch-size', '99999999999999999999', 'fleet.batchSize'],
  ] as const)('%s %j is a usage error naming the flag and its bounds', (flag, value, field) => {
    let caught: unknown;
    try {
      parseBoundedInt(flag, value, field);
    } catch (error) {
      caught = error;
    }
    expect(isBerthError(caught) && caught.code).toBe('USAGE');
    const { min, max } = LIMITS[field];
    expect((caught as Error).message).toBe(
      `${flag} must be a whole number from ${min} to ${max} (the limits of ${field} in berth.yaml), got "${value}"`,
    );
  });
});

describe('the command line', () => {
  it.each([
    ['migrate', '--concurrency', '257'],
    ['migrate', '--batch-size', '501'],
    ['migrate', '--batch-size', '0'],
    ['pipeline', '--concurrency', '1000'],
  ])('berth %s %s %s exits 2 before loading any config', async (command, flag, value) => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const code = await main([
        'node',
        'berth',
        '--config',
        '/nonexistent/berth.yaml',
        command,
        '--all',
        flag,
        value,
      ]);
      expect(code).toBe(2);
      const printed = stderr.mock.calls.map((c) => String(c[0])).join('');
      expect(printed).toContain(`${flag} must be a whole number from`);
    } finally {
      stderr.mockRestore();
    }
  });
});
