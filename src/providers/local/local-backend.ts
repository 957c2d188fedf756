/**
 * The local provider's side of a fleet run: the embedded PostgreSQL server, tenant databases
 * created on demand, probes over short-lived connections with bounded concurrency, a
 * session-level advisory lock per database, and tasks on the process (or container) runtime.
 */
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import pLimit from 'p-limit';
import type { Config } from '../../config/schema.js';
import { BerthError, errorMessage } from '../../core/errors.js';
import { loadKnownMigrations, type RecordedListings } from '../../fleet/known-migrations.js';
import { resolvePreset } from '../../migrations/presets.js';
import {
  claimDatabase,
  probeDatabase,
  tryMigrationLock,
  type HistorySpec,
  type LockKey,
} from '../../fleet/probe-sql.js';
import { absentProbe, isUpToDate } from '../../fleet/probe-result.js';
import type { Claim, FleetBackend, Lease, ProbeOptions, ProbeResult } from '../../fleet/types.js';
import { isScratchName } from '../../fleet/reference.js';
import type { TaskLocks, TaskRuntime, TaskSpec } from '../../tasks/task.js';
import { secretEnvironment } from './credentials.js';
import { localTaskSecrets } from './task-secrets.js';
import { clientConfig, type LocalPostgres, type ServerConnection } from './postgres-server.js';
import { lockEnvironment } from '../../migrations/lock-options.js';
import { ScramCachingClient } from './scram-client.js';
import { SessionWaker } from './session-waker.js';
import { ControlConnection } from './control-connection.js';
import { TaskRunningCheck } from './task-running-check.js';

/** Advisory lock key (two-int form): "bert" and 1 = the migration lock. */
export const MIGRATION_LOCK: LockKey = [0x62657274, 1];
/**
 * Class of the "task running" lock ("beru"), whose second key is a tenant database's OID: the
 * task's supervisor holds it, in the control database, for as long as any process of the task
 * lives — after berth (and its migration lock) died too. A claim or lock that finds it held
 * does not count as holding the database.
 */
export const TASK_LOCK_CLASS = 0x62657275;
/**
 * The advisory lock class of a scratch database's owner, held in the control database by the
 * verify that created it; its second key comes from the scratch name (scratchKey).
 */
const SCRATCH_LOCK_CLASS = 0x62657276;

/** berth_reference_<12 hex> → an int key from its first 7 hex digits. */
function scratchKey(database: string): number {
  return Number.parseInt(database.slice(-12, -5), 16);
}
const LOCK = MIGRATION_LOCK;
const LOCK_POLL_MS = 100;

export interface LocalBackendOptions {
  config: Config;
  configDir: string;
  postgres: LocalPostgres;
  runtime: TaskRuntime;
  /** Listings recorded per image (container tasks only: host processes have no image). */
  listings?: RecordedListings;
}

export class LocalBackend implements FleetBackend {
  readonly provider = 'local' as const;
  readonly runtime: TaskRuntime;
  private secret: ServerConnection | undefined;
  private known: Promise<string[] | undefined> | undefined;
  private historySpec: HistorySpec | undefined;
  /** task.secrets' values (task-secrets.ts), read once. */
  private appSecrets: Record<string, string> | undefined;
  /** Database -> server pid of the berth session holding its migration lock. */
  private readonly holders = new Map<string, number>();
  /** berth's one connection to the control database for the run (control-connection.ts). */
  private control: ControlConnection | undefined;
  /** Wakes parked claim sessions from the control connection (session-waker.ts). */
  private waker: SessionWaker | undefined;
  /** Asks, from the control connection, whether a task still runs on a database. */
  private taskCheck: TaskRunningCheck | undefined;

  constructor(private readonly options: LocalBackendOptions) {
    const inner = options.runtime;
    // Every task gets the locks of the databases berth holds for it, which its supervisor
    // takes and keeps for as long as the task can run.
    this.runtime = {
      name: inner.name,
      run: (spec, signal) => inner.run(spec, signal, this.taskLocks(spec)),
    };
  }

  /** The task locks for a task's databases that berth holds the migration lock of. */
  taskLocks(spec: TaskSpec): TaskLocks | undefined {
    if (!this.secret) return undefined;
    const databases = spec.databases.flatMap((name) => {
      const holderPid = this.holders.get(name);
      return holderPid === undefined ? [] : [{ name, holderPid }];
    });
    if (databases.length === 0) return undefined;
    const config = clientConfig(this.secret, 'postgres');
    return {
      connection: {
        host: String(config.host),
        port: Number(config.port),
        user: String(config.user),
        password: this.secret.password,
      },
      controlDatabase: 'postgres',
      taskClass: TASK_LOCK_CLASS,
      migrationKey: MIGRATION_LOCK,
      databases,
    };
  }

  /** Connections berth itself may use at once, leaving room for the tasks' own. */
  get probeConcurrency(): number {
    return Math.max(2, Math.min(32, Math.floor(this.options.config.local.maxConnections / 4)));
  }

  get claimConcurrency(): number {
    return this.probeConcurrency;
  }

  /**
   * The code's migrations: the preset's directory, or its listing command (Django's
   * `showmigrations --plan`) run once per backend as a task, never once per tenant.
   */
  migrations(): Promise<string[] | undefined> {
    this.known ??= loadKnownMigrations({
      config: this.options.config,
      configDir: this.options.configDir,
      runtime: this.runtime,
      environment: async () => {
        await this.connectionSecret();
        return this.taskEnvironment();
      },
      ...(this.options.listings ? { listings: this.options.listings } : {}),
    });
    return this.known;
  }

  private get history(): HistorySpec {
    this.historySpec ??= {
      schema: this.options.config.database.schema,
      preset: resolvePreset(this.options.config.migrations),
    };
    return this.historySpec;
  }

  async connectionSecret(): Promise<ServerConnection> {
    this.secret ??= await this.options.postgres.ensureRunning();
    return this.secret;
  }

  async prepare(
    databases: string[],
    options: { create: boolean; onCreated?: (done: number, total: number) => void },
  ): Promise<void> {
    const secret = await this.connectionSecret();
    if (!options.create) return;
    const client = new pg.Client(clientConfig(secret, 'postgres'));
    await client.connect();
    try {
      const existing = new Set(
        (await client.query<{ datname: string }>('SELECT datname FROM pg_database')).rows.map(
          (r) => r.datname,
        ),
      );
      const missing = databases.filter((d) => !existing.has(d));
      let done = 0;
      for (const database of missing) {
        try {
          await client.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`);
        } catch (error) {
          // Another berth created it in the meantime: that is the state we wanted.
          const code = (error as { code?: string }).code;
          if (code !== '42P04' && code !== '23505') throw error;
        }
        // 200 new tenants take ~30 s: the CLI shows how far creation is.
        options.onCreated?.(++done, missing.length);
      }
    } finally {
      await client.end();
    }
  }

  async probe(
    databases: string[],
    onResult: (result: ProbeResult) => void,
    signal?: AbortSignal,
    options: ProbeOptions = {},
  ): Promise<void> {
    const secret = await this.connectionSecret();
    const known = options.withoutKnown ? undefined : await this.migrations();
    const history = this.history;
    const fingerprint = options.fingerprint === true;
    const limit = pLimit(this.probeConcurrency);
    await Promise.all(
      databases.map((database) =>
        limit(async () => {
          if (signal?.aborted) return;
          const client = tenantClient(secret, database);
          try {
            await client.connect();
            onResult(await probeDatabase(client, database, history, known, { fingerprint }));
          } catch (error) {
            onResult(unreadable(database, error, known));
          } finally {
            await client.end().catch(() => undefined);
          }
        }),
      ),
    );
  }

  async claim(database: string): Promise<Claim> {
    const secret = await this.connectionSecret();
    const known = await this.migrations();
    const client = tenantClient(secret, database);
    try {
      await client.connect();
      const { locked, probe } = await claimDatabase(
        client,
        database,
        this.history,
        known,
        LOCK,
        (session) => this.taskCheckFor().busy(database, session),
      );
      if (locked && !isUpToDate(probe))
        return { probe, lease: this.leaseOn(client, database, known, { park: true }) };
      // Up to date (or locked by another session): nothing to hold. Ending the session
      // releases its advisory lock: the server frees a session's locks before it closes the
      // socket, so the lock is gone when end() resolves, one round trip sooner than an unlock.
      await client.end().catch(() => undefined);
      return { probe };
    } catch (error) {
      await client.end().catch(() => undefined);
      return { probe: unreadable(database, error, known) };
    }
  }

  async lock(database: string, waitMs: number, signal?: AbortSignal): Promise<Lease | undefined> {
    const secret = await this.connectionSecret();
    const known = await this.migrations();
    const client = tenantClient(secret, database);
    await client.connect();
    const deadline = Date.now() + waitMs;
    try {
      for (;;) {
        if (await tryMigrationLock(client, LOCK, TASK_LOCK_CLASS)) {
          // Probed under the lock at once, by the batch about to run: nothing to park.
          return this.leaseOn(client, database, known, { park: false });
        }
        if (Date.now() >= deadline || signal?.aborted) break;
        await new Promise((r) => setTimeout(r, LOCK_POLL_MS));
      }
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    await client.end().catch(() => undefined);
    return undefined;
  }

  /**
   * The lock held by `client`'s session: held until released or until the connection dies
   * with berth. `park`: a claim's session waits for its batch parked (ParkedSession).
   */
  private leaseOn(
    client: pg.Client,
    database: string,
    known: string[] | undefined,
    { park }: { park: boolean },
  ): Lease {
    const history = this.history;
    // pg records the server's pid for the session (BackendKeyData); its typings omit it.
    const holder = (client as unknown as { processID: number | null }).processID;
    if (holder !== null) this.holders.set(database, holder);
    const parked = park ? new ParkedSession(client, this.wakerFor()) : undefined;
    const awake = <T>(work: () => Promise<T>): Promise<T> =>
      parked ? parked.afterWake(work) : work();
    return {
      probe: () =>
        awake(() => probeDatabase(client, database, history, known, { countTables: false })),
      release: async () => {
        if (this.holders.get(database) === holder) this.holders.delete(database);
        try {
          // Woken first: a backend asleep in pg_sleep reads the Terminate only after the sleep.
          await awake(() => Promise.resolve());
        } finally {
          // Ending the session releases its lock, as for an up-to-date claim: the server frees
          // a session's locks before it closes the socket, one round trip sooner than an
          // unlock, which was a query per tenant.
          await client.end().catch(() => undefined);
        }
      },
    };
  }

  private controlFor(): ControlConnection {
    const secret = this.secret;
    if (!secret) throw new BerthError('INTERNAL', 'a control query before connectionSecret()');
    this.control ??= new ControlConnection(() => tenantClient(secret, 'postgres'));
    return this.control;
  }

  private wakerFor(): SessionWaker {
    this.waker ??= new SessionWaker(this.controlFor());
    return this.waker;
  }

  private taskCheckFor(): TaskRunningCheck {
    this.taskCheck ??= new TaskRunningCheck(this.controlFor(), TASK_LOCK_CLASS);
    return this.taskCheck;
  }

  async holdScratch(database: string): Promise<() => Promise<void>> {
    if (!isScratchName(database))
      throw new BerthError('INTERNAL', `refusing to hold ${database}: not a scratch database`);
    const client = tenantClient(await this.connectionSecret(), 'postgres');
    await client.connect();
    try {
      // Blocking: a cleanup that holds it for a moment (it found no owner) gives it back.
      await client.query('SELECT pg_advisory_lock($1::int, $2::int)', [
        SCRATCH_LOCK_CLASS,
        scratchKey(database),
      ]);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    // Ending the session releases the lock, as it would if berth died.
    return () => client.end().catch(() => undefined);
  }

  async dropStaleScratch(): Promise<string[]> {
    const client = tenantClient(await this.connectionSecret(), 'postgres');
    await client.connect();
    const dropped: string[] = [];
    try {
      const { rows } = await client.query<{ datname: string }>(
        "SELECT datname FROM pg_database WHERE datname LIKE 'berth\\_reference\\_%' ORDER BY datname",
      );
      for (const { datname } of rows) {
        if (!isScratchName(datname)) continue;
        const key = [SCRATCH_LOCK_CLASS, scratchKey(datname)];
        const got = await client.query<{ ok: boolean }>(
          'SELECT pg_try_advisory_lock($1::int, $2::int) AS ok',
          key,
        );
        // Held: a live verify is using it.
        if (!got.rows[0]?.ok) continue;
        try {
          await client.query(
            `DROP DATABASE IF EXISTS ${pg.escapeIdentifier(datname)} WITH (FORCE)`,
          );
          dropped.push(datname);
        } finally {
          await client.query('SELECT pg_advisory_unlock($1::int, $2::int)', key);
        }
      }
    } finally {
      await client.end().catch(() => undefined);
    }
    return dropped;
  }

  /** Drops verify's scratch reference database; refuses any other name. */
  async dropScratch(database: string): Promise<void> {
    if (!isScratchName(database))
      throw new BerthError('INTERNAL', `refusing to drop ${database}: not a scratch database`);
    const client = tenantClient(await this.connectionSecret(), 'postgres');
    await client.connect();
    try {
      // FORCE: a connection a stopped task left behind must not keep it alive.
      await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(database)} WITH (FORCE)`);
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  async unreachable(): Promise<string | undefined> {
    const client = tenantClient(await this.connectionSecret(), 'postgres');
    try {
      await client.connect();
      await client.query('SELECT 1');
      return undefined;
    } catch (error) {
      return errorMessage(error);
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  async connectionBudget(): Promise<number> {
    const secret = await this.connectionSecret();
    const client = new pg.Client(clientConfig(secret, 'postgres'));
    await client.connect();
    try {
      const { rows } = await client.query<{ max: number; reserved: number }>(
        "SELECT current_setting('max_connections')::int AS max, current_setting('superuser_reserved_connections')::int AS reserved",
      );
      const row = rows[0] ?? { max: 100, reserved: 3 };
      // Probes keep their share; locks and the tasks' own connections get the rest. Each task
      // also has its supervisor's task-lock connection, which migrate's plan (one lock per
      // database of a batch + the task's own) does not count: reporting two thirds keeps it
      // within the server's limit whatever the batch size (at batch size 1 a task needs 3).
      const rest = row.max - row.reserved - this.probeConcurrency;
      return Math.max(2, Math.floor((rest * 2) / 3));
    } finally {
      await client.end();
    }
  }

  taskEnvironment(): Record<string, string> {
    if (!this.secret) throw new BerthError('INTERNAL', 'taskEnvironment() before prepare()');
    // The provider checked task.secrets before a migrate run began; a listing or a check
    // command (migrate --plan, verify) is refused here the same way.
    this.appSecrets ??= localTaskSecrets(this.options.config);
    return {
      ...this.options.config.task.environment,
      ...this.appSecrets,
      ...secretEnvironment(this.secret, this.options.config.database.secret.keys),
      // lock_timeout / statement_timeout for the tool's connections (lock-options.ts).
      ...lockEnvironment(this.options.config),
    };
  }

  async close(): Promise<void> {
    // Connections are per operation, except the control connection; the server keeps running
    // for the next command.
    await this.control?.close();
    this.control = undefined;
    this.waker = undefined;
    this.taskCheck = undefined;
  }
}

/** How long a parked statement sleeps before it parks again (a run may hold a database longer). */
const PARK_SECONDS = 3600;
/** How long to wait for a cancelled parked statement to end before cancelling again. */
const WAKE_RETRY_MS = 1000;
/** The protocol's CancelRequest code (1234 << 16 | 5678). */
const CANCEL_REQUEST_CODE = 80877102;
/** SQLSTATE of a statement ended by a cancel request. */
const QUERY_CANCELED = '57014';

/**
 * A held session kept busy in `SELECT pg_sleep(...)` while it waits for its batch, and woken
 * (cancelled) when berth needs it again. Why: an idle backend must read every catalog
 * invalidation that any other backend's DDL sends (PostgreSQL signals it to catch up), so the
 * dozens of sessions a fleet run holds while its tasks create tables elsewhere cost the server
 * a third more CPU (bench/README.md). A backend inside a statement does not catch up: it falls
 * behind, is marked for a cache reset, and pays one cheap reset when it next runs a query.
 * The advisory lock is the session's and is untouched by the statement or its cancel; a
 * berth that dies leaves the backend to notice within client_connection_check_interval (1 s).
 * The cancel comes from the run's SessionWaker, one query for all the sessions a batch wakes.
 * Exported for its test (test/integration/parked-session.test.ts).
 */
export class ParkedSession {
  private sleeping!: Promise<void>;
  private awake = false;
  /** Cancellations that may still land on the statements after the sleep (afterWake). */
  private stray = 0;

  constructor(
    private readonly client: pg.Client,
    private readonly waker: SessionWaker,
  ) {
    this.park();
  }

  private park(): void {
    const query = new pg.Query(`SELECT pg_sleep(${PARK_SECONDS})`);
    this.sleeping = new Promise<boolean>((resolve) => {
      query.on('end', () => resolve(true));
      query.on('error', () => resolve(false));
    }).then((sleptFully) => {
      // Slept its full time with nobody waking it: park again. An error (the cancel, or a
      // session that died) leaves it for the next query to report.
      if (sleptFully && !this.awake) this.park();
    });
    // Submitted, not awaited: its end is `sleeping`.
    void this.client.query(query);
  }

  /**
   * `work` on the session once it is awake. A cancel can end more than one statement: the
   * protocol's CancelRequest (the waker's fallback) makes the postmaster signal the backend
   * and then its process group (the backend itself), so the second signal may arrive after the
   * first ended the sleep and cancel the statement that follows (seen at 200 fresh tenants:
   * one request, the sleep and the probe after it both cancelled); `pg_cancel_backend`, the
   * waker's usual way, signals once, but a cancel repeated while the first was on its way can.
   * Such a statement is run again, at most twice per request sent: the probe only reads and
   * the unlock had not run, so a stray cancel never fails either.
   */
  async afterWake<T>(work: () => Promise<T>): Promise<T> {
    await this.wake();
    for (;;) {
      try {
        return await work();
      } catch (error) {
        if ((error as { code?: string }).code !== QUERY_CANCELED || this.stray === 0) throw error;
        this.stray--;
      }
    }
  }

  /** Ends the parked statement (a cancel request, repeated until it lands); then the session is free. */
  private async wake(): Promise<void> {
    if (this.awake) return;
    this.awake = true;
    const sleeping = this.sleeping;
    let ended = false;
    void sleeping.then(() => (ended = true));
    let sent = 0;
    while (!ended) {
      // A cancel that reaches the backend before the statement started is ignored: retry.
      const { processID } = this.client as unknown as { processID: number | null };
      if (processID === null) sendCancel(this.client);
      else this.waker.wake(processID, () => sendCancel(this.client));
      sent++;
      // The retry timer is cleared once the statement ends: left pending, the last wake of a
      // run kept berth's process alive for up to WAKE_RETRY_MS after its summary.
      let retry: NodeJS.Timeout | undefined;
      await Promise.race([sleeping, new Promise((r) => (retry = setTimeout(r, WAKE_RETRY_MS)))]);
      clearTimeout(retry);
    }
    this.stray = 2 * sent - 1;
  }
}

/**
 * The protocol's CancelRequest for `client`'s session, over a connection of its own (what
 * node-postgres's deprecated Client#cancel does, without the warning it prints): the server
 * reads the 16 bytes, signals the backend and closes the connection.
 */
function sendCancel(client: pg.Client): void {
  const { host, port, processID, secretKey } = client as unknown as {
    host: string;
    port: number;
    processID: number;
    secretKey: number;
  };
  const packet = Buffer.alloc(16);
  packet.writeInt32BE(16, 0);
  packet.writeInt32BE(CANCEL_REQUEST_CODE, 4);
  packet.writeInt32BE(processID, 8);
  packet.writeInt32BE(secretKey, 12);
  const socket = host.startsWith('/')
    ? net.connect(path.join(host, `.s.PGSQL.${port}`))
    : net.connect(port, host);
  socket.on('error', () => undefined);
  socket.end(packet);
}

/**
 * A connection to one tenant database. A backend that dies while berth holds the client idle
 * (a server restart, the reaper) emits 'error'; the next query reports it instead.
 */
function tenantClient(secret: ServerConnection, database: string): pg.Client {
  // One login per tenant database: the SCRAM key derivation is done once per process.
  const client = new ScramCachingClient(clientConfig(secret, database));
  client.on('error', () => undefined);
  return client;
}

/** The probe result for a database that could not be read: missing (3D000) or an error. */
function unreadable(database: string, error: unknown, known: string[] | undefined): ProbeResult {
  const missing = (error as { code?: string }).code === '3D000';
  return absentProbe(database, known, missing ? undefined : errorMessage(error));
}
