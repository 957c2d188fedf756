/**
 * Whether a task is still running on a tenant database: its "task running" advisory lock
 * (class TASK_LOCK_CLASS, second key the database's OID), which the task's supervisor holds in
 * the control database for as long as any process of the task lives, held by anyone.
 *
 * A claim asks this for every database with work, after it took the migration lock. Asked on
 * the tenant's own session, as it was, the `pg_locks` scan on a backend that has just started
 * was about a quarter of the claim's server CPU (about 25 ms of 80-90 on a slow VM: the view
 * is expanded and its catalog loaded afresh in every backend; bench/README.md). Here the
 * checks of one tick go together, in one query on the run's control connection, whose
 * backend has all of that loaded. When the control connection fails, each database is checked
 * on its own session as before, so a claim never depends on it.
 */
import type pg from 'pg';
import { taskLockHeldSql, taskRunningInSession } from '../../fleet/probe-sql.js';
import type { ControlConnection } from './control-connection.js';
import { TickBatch } from './tick-batch.js';

interface Ask {
  database: string;
  resolve: (busy: boolean) => void;
  reject: (error: unknown) => void;
}

/** The databases among `$1` (names) on which a task of class `taskClass` still runs. */
const busySql = (taskClass: number) =>
  `SELECT d.datname FROM pg_catalog.pg_database d
    WHERE d.datname = ANY($1::text[]) AND ${taskLockHeldSql(taskClass, 'd.oid')}`;

export class TaskRunningCheck {
  private readonly batch = new TickBatch<Ask>((asks) => this.flush(asks));
  private readonly sql: string;

  constructor(
    private readonly control: ControlConnection,
    private readonly taskClass: number,
  ) {
    // Checks the class (an integer: it is written into the SQL).
    this.sql = busySql(taskClass);
  }

  /** Whether a task still runs on `database`; `session` (connected to it) is the fallback. */
  async busy(database: string, session: pg.ClientBase): Promise<boolean> {
    try {
      return await new Promise<boolean>((resolve, reject) =>
        this.batch.add({ database, resolve, reject }),
      );
    } catch {
      return taskRunningInSession(session, this.taskClass);
    }
  }

  private async flush(asks: Ask[]): Promise<void> {
    try {
      const names = [...new Set(asks.map((a) => a.database))];
      const { rows } = await this.control.query<{ datname: string }>(this.sql, [names]);
      const busy = new Set(rows.map((r) => r.datname));
      for (const a of asks) a.resolve(busy.has(a.database));
    } catch (error) {
      for (const a of asks) a.reject(error);
    }
  }
}
