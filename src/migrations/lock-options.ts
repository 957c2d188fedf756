/**
 * Lock-safe DDL: every migration task runs with a lock_timeout (and, when set, a
 * statement_timeout), so a statement that cannot get its lock gives up after
 * migrations.lockTimeout instead of queueing the application's queries behind it for as long
 * as the lock is held. They travel as PGOPTIONS, which libpq and node-postgres read at connect
 * time (README "Lock timeouts" says how each preset's tool takes them).
 *
 * A tenant whose migration failed that way, with nothing of it applied, can simply be tried
 * again: isLockTimeout() recognises it in the tool's output.
 */
import type { Config } from '../config/schema.js';

export function lockSettings(migrations: Config['migrations']): string[] {
  return [
    `-c lock_timeout=${migrations.lockTimeout}`,
    ...(migrations.statementTimeout ? [`-c statement_timeout=${migrations.statementTimeout}`] : []),
  ];
}

/**
 * The task's PGOPTIONS: berth's settings after any the app's own environment sets (the last
 * `-c` of a setting wins, so berth's apply).
 */
export function lockEnvironment(config: Pick<Config, 'migrations' | 'task'>): {
  PGOPTIONS: string;
} {
  const own = config.task.environment.PGOPTIONS?.trim();
  return { PGOPTIONS: [...(own ? [own] : []), ...lockSettings(config.migrations)].join(' ') };
}

/** PostgreSQL's lock_not_available (SQLSTATE 55P03), as tools print it. */
const LOCK_TIMEOUT = /55P03|canceling statement due to lock timeout|\block timeout\b/i;

export function isLockTimeout(lines: readonly string[]): boolean {
  return lines.some((line) => LOCK_TIMEOUT.test(line));
}
