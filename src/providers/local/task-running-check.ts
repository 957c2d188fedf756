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
import { taskRunningInSession } from '../../fleet/probe-sql.js';
import type { ControlConnection } from './control-connection.js';
import { TickBatch } from './tick-batch.js';

interface Ask {
  database: string;
  resolve: (busy: boolean) => void;
  reject: (error: unknown) => void;
}

// The same test as taskRunningInSession, for every database asked (ANY: the names of a tick).
const BUSY_SQL = `SELECT d.datname FROM pg_catalog.pg_database d
                   WHERE d.datname = ANY($1::text[])
                     AND EXISTS (SELECT 1 FROM pg_catalog.pg_locks l
                                  WHERE l.locktype = 'advisory' AND l.objsubid = 2
                                    AND l.classid = $2::int::oid
                                    AND l.objid = (d.oid::int8 & 2147483647)::oid)`;

export class TaskRunningCheck {
  private readonly batch = new TickBatch<Ask>((asks) => this.flush(asks));

  constructor(
    private readonly control: ControlConnection,
    private readonly taskClass: number,
  ) {
    if (!Number.isInteger(taskClass)) throw new Error(`invalid advisory lock class ${taskClass}`);
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
      const { rows } = await this.control.query<{ datname: string }>(BUSY_SQL, [
        names,
        this.taskClass,
      ]);
      const busy = new Set(rows.map((r) => r.datname));
      for (const a of asks) a.resolve(busy.has(a.database));
    } catch (error) {
      for (const a of asks) a.reject(error);
    }
  }
}
