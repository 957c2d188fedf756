/**
 * Batching: one task migrates several tenants in sequence with a generic POSIX shell loop
 * over the configured migrate command. Each tenant's part of the log is framed by markers
 * berth parses back into exact per-tenant results, whatever the runtime (process, container,
 * Fargate).
 */
export const BEGIN_MARKER = '::berth-begin';
export const END_MARKER = '::berth-end';

const quote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;

export function batchCommand(
  command: string[],
  databases: string[],
  stopOnError: boolean,
): string[] {
  const script = [
    'for db in "$@"; do',
    `  echo "${BEGIN_MARKER} $db"`,
    // stderr joins stdout so a tenant's errors stay inside its own markers.
    `  DATABASE_NAME="$db" ${command.map(quote).join(' ')} 2>&1`,
    '  code=$?',
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
    if (this.current) {
      this.current.tail.push(text);
      if (this.current.tail.length > this.tailSize) this.current.tail.shift();
    }
  }

  section(database: string): BatchSection | undefined {
    return this.sections.get(database);
  }
}
