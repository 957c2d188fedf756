/**
 * SQL that only the migration tool can produce, for `berth lint`: Django's `manage.py
 * sqlmigrate APP NAME` per pending migration, Alembic's offline mode (`alembic upgrade
 * FROM:TO --sql`) over the pending range. Here: the command that prints it (one `sh -c` script,
 * run once as a task by src/fleet/lint-pending.ts), the parsing of its log into one SQL text
 * per migration, and the migration file each belongs to, for annotations. Pure apart from the
 * file search, whose file system comes in as a parameter.
 */
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { MigrationTool } from '../config/schema.js';
import type { SqlMigration } from './lint.js';

/** Tools whose SQL berth gets by running the tool in a task. */
export type SqlTool = 'django' | 'alembic';

export function isSqlTool(tool: MigrationTool): tool is SqlTool {
  return tool === 'django' || tool === 'alembic';
}

const MARK = '@@berth-sql';

const quote = (arg: string) =>
  /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
const shell = (argv: string[]) => argv.map(quote).join(' ');

/**
 * The tool's own command prefix from the listing command: `python3 manage.py showmigrations
 * --plan` → `python3 manage.py`; `alembic -c x.ini history` → `alembic -c x.ini`.
 */
export function toolPrefix(tool: SqlTool, listing: string[]): string[] {
  if (tool === 'django') {
    const at = listing.findIndex((a) => a.endsWith('manage.py'));
    return at >= 0 ? listing.slice(0, at + 1) : ['python3', 'manage.py'];
  }
  const at = listing.lastIndexOf('history');
  return at > 0 ? listing.slice(0, at) : ['alembic'];
}

/**
 * One section per unit: its SQL on stdout, stderr dropped; when the command fails, a failed
 * marker and the command again with stderr, so the log says why.
 */
function section(id: string, argv: string[]): string[] {
  const cmd = shell(argv);
  return [
    `printf '%s\\n' ${quote(`${MARK} begin ${id}`)}`,
    `${cmd} 2>/dev/null || { printf '%s\\n' ${quote(`${MARK} failed ${id}`)}; ${cmd} 2>&1; }`,
    `printf '%s\\n' ${quote(`${MARK} end ${id}`)}`,
  ];
}

export interface SqlTaskPlan {
  /** The task's command: `sh -c SCRIPT`. */
  command: string[];
  /** What it prints, in words (the report's scope and errors). */
  describe: string;
}

/**
 * The task that prints the SQL of `pending` (in the tool's order). Alembic: the range from the
 * revision before the first pending one (`known` is the history in order) to the last.
 */
export function sqlTask(
  tool: SqlTool,
  listing: string[],
  pending: string[],
  known: string[],
): SqlTaskPlan {
  const prefix = toolPrefix(tool, listing);
  if (tool === 'django') {
    const lines = pending.flatMap((id) => {
      const dot = id.indexOf('.');
      return section(id, [...prefix, 'sqlmigrate', id.slice(0, dot), id.slice(dot + 1)]);
    });
    return {
      command: ['sh', '-c', lines.join('\n')],
      describe: `${shell(prefix)} sqlmigrate APP NAME`,
    };
  }
  const first = pending[0] ?? '';
  const at = known.indexOf(first);
  const from = at > 0 ? known[at - 1] : undefined;
  const to = pending.at(-1) ?? 'head';
  const argv = [...prefix, 'upgrade', from ? `${from}:${to}` : to, '--sql'];
  return {
    command: ['sh', '-c', section('range', argv).join('\n')],
    describe: shell(argv),
  };
}

export interface ParsedSql {
  /** SQL per migration ID. */
  sql: Map<string, string>;
  /** Migration IDs whose SQL the tool did not print, with the log's words why. */
  failed: Map<string, string>;
}

/** The sections of the task's log: SQL per ID, or the failure's output. */
function sections(log: string): Map<string, { failed: boolean; lines: string[] }> {
  const found = new Map<string, { failed: boolean; lines: string[] }>();
  let current: { failed: boolean; lines: string[] } | undefined;
  for (const line of log.split('\n')) {
    const m = new RegExp(`^${MARK} (begin|failed|end) (\\S+)\\s*$`).exec(line);
    if (m?.[1] === 'begin' && m[2]) {
      current = { failed: false, lines: [] };
      found.set(m[2], current);
    } else if (m?.[1] === 'failed' && current) current.failed = true;
    else if (m?.[1] === 'end') current = undefined;
    else current?.lines.push(line);
  }
  return found;
}

const why = (lines: string[]) =>
  lines
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-3)
    .join(' | ') || 'no output';

export function parseSqlLog(tool: SqlTool, log: string, pending: string[]): ParsedSql {
  const sql = new Map<string, string>();
  const failed = new Map<string, string>();
  const parts = sections(log);
  if (tool === 'django') {
    for (const id of pending) {
      const part = parts.get(id);
      if (!part) failed.set(id, 'the task printed nothing for it');
      else if (part.failed) failed.set(id, why(part.lines));
      else sql.set(id, `${part.lines.join('\n').trim()}\n`);
    }
    return { sql, failed };
  }
  const range = parts.get('range');
  if (!range || range.failed) {
    const reason = range ? why(range.lines) : 'the task printed nothing';
    for (const id of pending) failed.set(id, reason);
    return { sql, failed };
  }
  // `-- Running upgrade A -> B` opens each revision's statements; the bookkeeping of
  // alembic_version and the run's BEGIN/COMMIT are Alembic's, not the revision's.
  const revisions = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of range.lines) {
    const m = /^-- Running upgrade\s+.*->\s*(\w+)\s*$/.exec(line);
    if (m?.[1]) {
      current = [];
      revisions.set(m[1], current);
    } else if (!/alembic_version/.test(line) && !/^\s*(BEGIN|COMMIT);\s*$/.test(line))
      current?.push(line);
  }
  for (const id of pending) {
    const lines = revisions.get(id);
    if (lines) sql.set(id, `${lines.join('\n').trim()}\n`);
    else failed.set(id, 'not in the offline SQL');
  }
  return { sql, failed };
}

export interface ProjectFiles {
  list(dir: string): Promise<{ name: string; isDirectory(): boolean }[]>;
  read(file: string): Promise<string>;
}

const realFiles: ProjectFiles = {
  list: (dir) => readdir(dir, { withFileTypes: true }).catch(() => []),
  read: (file) => readFile(file, 'utf8').catch(() => ''),
};

const SKIP = new Set([
  'node_modules',
  '.git',
  '.berth',
  '__pycache__',
  '.venv',
  'venv',
  'site-packages',
]);

/** Files under `root` (depth-limited, skipping dependency and state folders) that `match`. */
async function findFiles(
  root: string,
  match: (file: string) => boolean,
  fs: ProjectFiles,
  depth = 5,
): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string, left: number): Promise<void> => {
    for (const entry of await fs.list(dir)) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (left > 0 && !SKIP.has(entry.name) && !entry.name.startsWith('.'))
          await walk(full, left - 1);
      } else if (match(full)) found.push(full);
    }
  };
  await walk(root, depth);
  return found.sort();
}

/**
 * The file each migration ID lives in, searched under `roots` (local.workdir, berth.yaml's
 * directory): Django `APP/migrations/NAME.py` (the app's folder named as its label),
 * Alembic the `.py` file that declares `revision = 'ID'`. Absent when not found.
 */
export async function migrationFiles(
  tool: SqlTool,
  ids: string[],
  roots: string[],
  fs: ProjectFiles = realFiles,
): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const unique = [...new Set(roots.map((r) => path.resolve(r)))];
  if (tool === 'django') {
    const wanted = new Map(
      ids.map((id) => {
        const dot = id.indexOf('.');
        return [path.join(id.slice(0, dot), 'migrations', `${id.slice(dot + 1)}.py`), id];
      }),
    );
    for (const root of unique) {
      const hits = await findFiles(
        root,
        (f) => wanted.has(path.join(...f.split(path.sep).slice(-3))),
        fs,
      );
      for (const hit of hits) {
        const id = wanted.get(path.join(...hit.split(path.sep).slice(-3)));
        if (id && !files.has(id)) files.set(id, hit);
      }
    }
    return files;
  }
  const revision = /^\s*revision\s*(?::\s*str\s*)?=\s*['"](\w+)['"]/m;
  for (const root of unique) {
    const candidates = await findFiles(root, (f) => f.endsWith('.py'), fs);
    for (const file of candidates) {
      const id = revision.exec(await fs.read(file))?.[1];
      if (id && ids.includes(id) && !files.has(id)) files.set(id, file);
    }
  }
  return files;
}

/** The SQL migrations to lint, each attributed to its file (or its ID when not found). */
export function toSqlMigrations(
  parsed: ParsedSql,
  files: Map<string, string>,
  pending: string[],
  generatedBy: string,
): SqlMigration[] {
  return pending.flatMap((id) => {
    const sql = parsed.sql.get(id);
    return sql === undefined ? [] : [{ id, file: files.get(id) ?? id, sql, generatedBy }];
  });
}
