/**
 * Batching: one task migrates several tenants in sequence with a generic POSIX shell loop
 * over the configured migrate command. Each tenant's part of the log is framed by markers
 * berth parses back into exact per-tenant results, whatever the runtime (process, container,
 * Fargate).
 */
export const BEGIN_MARKER = '::berth-begin';
export const END_MARKER = '::berth-end';
/** Printed inside a tenant's section when another session holds its migration lock. */
export const LOCKED_MARKER = '::berth-locked';
/** The section's exit code when the lock was held elsewhere (EX_TEMPFAIL). */
export const LOCKED_EXIT = 75;
/**
 * The migration lock's key, per database: the same two-int advisory lock the local provider
 * takes (local-backend.ts), so a local run and a task in the VPC exclude each other too.
 */
export const MIGRATION_LOCK_KEY = [0x62657274, 1] as const;

const quote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;

/**
 * One tenant's migration under its advisory lock, taken inside the VPC by the task itself
 * (migrations.taskLock: psql): psql holds the session — and so the lock — while its `\!`
 * runs the migrate command, and the session's end releases it whatever the command does.
 * Another session holding it: the task prints LOCKED_MARKER and exits LOCKED_EXIT for that
 * tenant, without running the command. Needs `psql` (9.6+... \if: 10+) in the image; the
 * connection comes from PG* or DATABASE_HOST/PORT/USER/PASSWORD.
 */
function lockedRun(command: string[]): string[] {
  const [a, b] = MIGRATION_LOCK_KEY;
  return [
    `  BERTH_CMD=${quote(command.map(quote).join(' '))}`,
    '  BERTH_RC="${TMPDIR:-/tmp}/berth-rc.$$"',
    '  echo 1 > "$BERTH_RC"',
    '  export BERTH_CMD BERTH_RC DATABASE_NAME="$db"',
    '  PGHOST="${PGHOST:-$DATABASE_HOST}" PGPORT="${PGPORT:-${DATABASE_PORT:-5432}}" \\',
    '  PGUSER="${PGUSER:-$DATABASE_USER}" PGPASSWORD="${PGPASSWORD:-$DATABASE_PASSWORD}" \\',
    '  PGDATABASE="$db" psql -X -q -v ON_ERROR_STOP=1 2>&1 <<\'BERTH_SQL\'',
    `SELECT pg_try_advisory_lock(${a}, ${b}) AS berth_got \\gset`,
    '\\if :berth_got',
    '\\! sh -c "$BERTH_CMD" 2>&1; echo $? > "$BERTH_RC"',
    '\\else',
    `\\echo '${LOCKED_MARKER}'`,
    `\\! echo ${LOCKED_EXIT} > "$BERTH_RC"`,
    '\\endif',
    'BERTH_SQL',
    '  code=$(cat "$BERTH_RC"); rm -f "$BERTH_RC"',
  ];
}

export function batchCommand(
  command: string[],
  databases: string[],
  stopOnError: boolean,
  options: { lock?: boolean } = {},
): string[] {
  const script = [
    'for db in "$@"; do',
    `  echo "${BEGIN_MARKER} $db"`,
    ...(options.lock
      ? lockedRun(command)
      : [
          // stderr joins stdout so a tenant's errors stay inside its own markers.
          `  DATABASE_NAME="$db" ${command.map(quote).join(' ')} 2>&1`,
          '  code=$?',
        ]),
    `  echo "${END_MARKER} $db $code"`,
    stopOnError ? '  [ "$code" -eq 0 ] || exit "$code"' : '',
    'done',
  ]
    .filter(Boolean)
    .join('\n');
  // "$0" is the name shown in ps; the databases follow as "$@".
  return ['sh', '-c', script, 'berth-batch', ...databases];
}

export interface BatchSection {
  database: string;
  exitCode: number | null;
  /** The task found the tenant's lock held by another session and did not migrate it. */
  locked?: boolean;
  /** Last lines of this tenant's output. */
  tail: string[];
}

/** Splits a batch log into per-tenant sections; a tenant with no end marker has exitCode null. */
export class BatchLogParser {
  private readonly sections = new Map<string, BatchSection>();
  private current: BatchSection | undefined;

  constructor(private readonly tailSize: number) {}

  line(text: string): void {
    if (text.startsWith(`${BEGIN_MARKER} `)) {
      const database = text.slice(BEGIN_MARKER.length + 1).trim();
      this.current = { database, exitCode: null, tail: [] };
      this.sections.set(database, this.current);
      return;
    }
    if (text.startsWith(`${END_MARKER} `)) {
      const [database, code] = text
        .slice(END_MARKER.length + 1)
        .trim()
        .split(/\s+/);
      const section = database ? this.sections.get(database) : undefined;
      if (section) section.exitCode = Number.parseInt(code ?? '', 10);
      this.current = undefined;
      return;
    }
    if (this.current && text.trim() === LOCKED_MARKER) {
      this.current.locked = true;
      return;
    }
    if (this.current) {
      this.current.tail.push(text);
      if (this.current.tail.length > this.tailSize) this.current.tail.shift();
    }
  }

  section(database: string): BatchSection | undefined {
    return this.sections.get(database);
  }
}
