import { describe, expect, it } from 'vitest';
import { isLockTimeout, lockEnvironment } from '../../src/migrations/lock-options.js';

const config = (migrations: Record<string, unknown>, environment: Record<string, string> = {}) =>
  ({
    migrations: { lockTimeout: '5s', lockRetries: 3, ...migrations },
    task: { environment },
  }) as unknown as Parameters<typeof lockEnvironment>[0];

describe('lock-safe DDL settings', () => {
  it('gives every task PGOPTIONS with lock_timeout, and statement_timeout when set', () => {
    expect(lockEnvironment(config({}))).toEqual({ PGOPTIONS: '-c lock_timeout=5s' });
    expect(lockEnvironment(config({ lockTimeout: '2s', statementTimeout: '15min' }))).toEqual({
      PGOPTIONS: '-c lock_timeout=2s -c statement_timeout=15min',
    });
  });

  it("keeps the app's own PGOPTIONS, with berth's settings last (the last one wins)", () => {
    expect(lockEnvironment(config({}, { PGOPTIONS: '-c search_path=app' }))).toEqual({
      PGOPTIONS: '-c search_path=app -c lock_timeout=5s',
    });
  });

  it('recognises a lock timeout as tools print it', () => {
    expect(isLockTimeout(['error: canceling statement due to lock timeout'])).toBe(true);
    expect(isLockTimeout(['psycopg2.errors.LockNotAvailable: SQLSTATE 55P03'])).toBe(true);
    expect(isLockTimeout(['ERROR: relation "x" does not exist', 'statement timeout'])).toBe(false);
  });
});
