// The probe a berth task runs inside the VPC to read many tenant databases at once (berth's
// probe line protocol, see berth's docs/aws.md):
//
//   DATABASE_NAMES=a,b,c node dist/probe.js
//
// prints, for every database, one line on stdout:
//
//   ::berth-probe {"database":"a","exists":true,"tables":57,"applied":["0001_auth",...]}
//   ::berth-probe {"database":"b","exists":false}
//   ::berth-probe {"database":"c","error":"..."}
//
// with the same DATABASE_HOST/PORT/USER/PASSWORD as the migrate command. It only reads:
// the table count of the public schema and node-pg-migrate's history table — and, when berth
// sets BERTH_PROBE_SCHEMA=1 (verify), the schema's catalog, berth's CATALOG_SQL, printed as
// `"schemaTables":N` on the probe line and one `::berth-schema {"database","table"}` line per
// table, view, function or enum type (a whole schema on one line would be cut by the log
// driver). Exit code 0 when
// every database got its line (an unreadable database is a line, not a crash), 2 when the
// environment is unusable. Nothing printed may contain the password.
import pg from 'pg';
import { ConfigError, loadDatabaseConfig, redact, toClientConfig } from './config.js';

const MARKER = '::berth-probe';
const SCHEMA_MARKER = '::berth-schema';
/** berth's CATALOG_SQL (src/migrations/fingerprint.ts), unchanged: berth's tests compare them. */
const CATALOG_SQL = `SELECT (SELECT coalesce(json_agg(o.entry ORDER BY o.kind, o.name), '[]'::json) FROM (
     SELECT '' AS kind, c.relname::text AS name, json_build_object(
            'name', c.relname,
            'columns', (SELECT coalesce(json_agg(json_build_object(
                          'name', a.attname,
                          'type', pg_catalog.format_type(a.atttypid, a.atttypmod),
                          'nullable', NOT a.attnotnull,
                          'default', pg_catalog.pg_get_expr(d.adbin, d.adrelid),
                          'identity', a.attidentity,
                          'generated', a.attgenerated) ORDER BY a.attname), '[]'::json)
                          FROM pg_catalog.pg_attribute a
                          LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                         WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
            'indexes', (SELECT coalesce(json_agg(json_build_object(
                          'name', i.relname,
                          'definition', pg_catalog.pg_get_indexdef(x.indexrelid)) ORDER BY i.relname), '[]'::json)
                          FROM pg_catalog.pg_index x JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
                         WHERE x.indrelid = c.oid),
            'constraints', (SELECT coalesce(json_agg(json_build_object(
                          'name', k.conname,
                          'definition', pg_catalog.pg_get_constraintdef(k.oid)) ORDER BY k.conname), '[]'::json)
                          FROM pg_catalog.pg_constraint k
                         WHERE k.conrelid = c.oid AND k.contype IN ('p', 'u', 'f', 'c', 'x')),
            'triggers', (SELECT coalesce(json_agg(json_build_object(
                          'name', t.tgname,
                          'definition', pg_catalog.pg_get_triggerdef(t.oid)) ORDER BY t.tgname), '[]'::json)
                          FROM pg_catalog.pg_trigger t
                         WHERE t.tgrelid = c.oid AND NOT t.tgisinternal)) AS entry
       FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')
     UNION ALL
     SELECT 'view', c.relname::text, json_build_object(
            'kind', CASE c.relkind WHEN 'v' THEN 'view' ELSE 'materialized view' END,
            'name', c.relname,
            'definition', pg_catalog.pg_get_viewdef(c.oid),
            'columns', '[]'::json,
            'indexes', (SELECT coalesce(json_agg(json_build_object(
                          'name', i.relname,
                          'definition', pg_catalog.pg_get_indexdef(x.indexrelid)) ORDER BY i.relname), '[]'::json)
                          FROM pg_catalog.pg_index x JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
                         WHERE x.indrelid = c.oid),
            'constraints', '[]'::json)
       FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('v', 'm')
        AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend e
                   WHERE e.classid = 'pg_catalog.pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e')
     UNION ALL
     SELECT 'function', p.proname || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')', json_build_object(
            'kind', 'function',
            'name', p.proname || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')',
            'definition', md5(pg_catalog.pg_get_functiondef(p.oid)),
            'columns', '[]'::json, 'indexes', '[]'::json, 'constraints', '[]'::json)
       FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = $1 AND p.prokind IN ('f', 'p')
        AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend e
                   WHERE e.classid = 'pg_catalog.pg_proc'::regclass AND e.objid = p.oid AND e.deptype = 'e')
     UNION ALL
     SELECT CASE t.typtype WHEN 'e' THEN 'type' WHEN 'd' THEN 'domain' ELSE 'composite type' END,
            t.typname::text, json_build_object(
            'kind', CASE t.typtype WHEN 'e' THEN 'type' WHEN 'd' THEN 'domain' ELSE 'composite type' END,
            'name', t.typname,
            'definition', CASE t.typtype
              WHEN 'e' THEN 'enum (' || (SELECT string_agg(quote_literal(l.enumlabel), ', ' ORDER BY l.enumsortorder)
                                           FROM pg_catalog.pg_enum l WHERE l.enumtypid = t.oid) || ')'
              WHEN 'd' THEN pg_catalog.format_type(t.typbasetype, t.typtypmod)
                            || CASE WHEN t.typnotnull THEN ' not null' ELSE '' END
                            || coalesce(' default ' || t.typdefault, '')
                            || coalesce((SELECT string_agg(' constraint ' || k.conname || ' ' || pg_catalog.pg_get_constraintdef(k.oid), '' ORDER BY k.conname)
                                           FROM pg_catalog.pg_constraint k WHERE k.contypid = t.oid), '')
              ELSE '(' || coalesce((SELECT string_agg(quote_ident(a.attname) || ' ' || pg_catalog.format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum)
                                      FROM pg_catalog.pg_attribute a
                                     WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped), '') || ')'
            END,
            'columns', '[]'::json, 'indexes', '[]'::json, 'constraints', '[]'::json)
       FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
      WHERE n.nspname = $1
        AND (t.typtype IN ('e', 'd')
             OR (t.typtype = 'c' AND (SELECT c.relkind FROM pg_catalog.pg_class c WHERE c.oid = t.typrelid) = 'c'))
        AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend e
                   WHERE e.classid = 'pg_catalog.pg_type'::regclass AND e.objid = t.oid AND e.deptype = 'e')
     UNION ALL
     SELECT 'extension', e.extname::text, json_build_object(
            'kind', 'extension',
            'name', e.extname,
            'definition', e.extversion,
            'columns', '[]'::json, 'indexes', '[]'::json, 'constraints', '[]'::json)
       FROM pg_catalog.pg_extension e
     UNION ALL
     SELECT 'sequence', c.relname::text, json_build_object(
            'kind', 'sequence',
            'name', c.relname,
            'definition', pg_catalog.format_type(s.seqtypid, NULL)
                          || ' increment ' || s.seqincrement || ' minvalue ' || s.seqmin
                          || ' maxvalue ' || s.seqmax || ' start ' || s.seqstart || ' cache ' || s.seqcache
                          || CASE WHEN s.seqcycle THEN ' cycle' ELSE '' END
                          || coalesce((SELECT ' owned by ' || t.relname || '.' || a.attname
                                         FROM pg_catalog.pg_depend d
                                         JOIN pg_catalog.pg_class t ON t.oid = d.refobjid
                                         JOIN pg_catalog.pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                                        WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid
                                          AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.deptype = 'a'), ''),
            'columns', '[]'::json, 'indexes', '[]'::json, 'constraints', '[]'::json)
       FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_catalog.pg_sequence s ON s.seqrelid = c.oid
      WHERE n.nspname = $1 AND c.relkind = 'S'
        AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend e
                   WHERE e.classid = 'pg_catalog.pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e')
        AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                         WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'i')
     UNION ALL
     SELECT 'catalog', 'version', json_build_object(
            'kind', 'catalog', 'name', 'version', 'definition', '3',
            'columns', '[]'::json, 'indexes', '[]'::json, 'constraints', '[]'::json)
   ) o) AS schema`;
const SCHEMA = 'public';
const HISTORY_TABLE = 'pgmigrations';
/** Same rule as berth's: the names end up in JSON berth validates, and in SQL. */
const DATABASE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
/** Databases read at once: a few connections, never a burst against the server. */
const CONCURRENCY = 4;

const EXIT_OK = 0;
const EXIT_USAGE = 2;

type Report =
  | {
      database: string;
      exists: true;
      tables: number;
      applied: string[];
      /** The catalog (one element per table), read only when berth asks for it. */
      schema?: unknown[];
      /** On the printed line instead of `schema`: how many table lines follow. */
      schemaTables?: number;
    }
  | { database: string; exists: false }
  | { database: string; error: string };

type Env = Readonly<Record<string, string | undefined>>;

/** Reads one database; never throws. */
export async function probeDatabase(database: string, env: Env): Promise<Report> {
  let config;
  try {
    config = loadDatabaseConfig({ ...env, DATABASE_NAME: database });
  } catch (error) {
    return { database, error: error instanceof Error ? error.message : String(error) };
  }
  const client = new pg.Client({
    ...toClientConfig(config),
    application_name: 'startupwebapp-probe',
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const head = await client.query<{ tables: number; history: boolean }>(
      `SELECT (SELECT count(*)::int FROM information_schema.tables
                WHERE table_schema = $1 AND table_type = 'BASE TABLE') AS tables,
              to_regclass($2) IS NOT NULL AS history`,
      [SCHEMA, `${SCHEMA}.${HISTORY_TABLE}`],
    );
    const row = head.rows[0] ?? { tables: 0, history: false };
    let applied: string[] = [];
    if (row.history) {
      const names = await client.query<{ name: string }>(
        `SELECT name FROM ${SCHEMA}.${HISTORY_TABLE} ORDER BY run_on, id`,
      );
      applied = names.rows.map((r) => r.name);
    }
    if (env.BERTH_PROBE_SCHEMA !== '1')
      return { database, exists: true, tables: row.tables, applied };
    const catalog = await client.query<{ schema: unknown[] }>(CATALOG_SQL, [SCHEMA]);
    const schema = catalog.rows[0]?.schema ?? [];
    return { database, exists: true, tables: row.tables, applied, schema };
  } catch (error) {
    // 3D000: invalid_catalog_name, the database does not exist.
    if ((error as { code?: string }).code === '3D000') return { database, exists: false };
    const message = error instanceof Error ? error.message : String(error);
    return { database, error: redact(message, config) };
  } finally {
    await client.end().catch(() => undefined);
  }
}

export function probeLine(report: Report): string {
  return `${MARKER} ${JSON.stringify(report)}`;
}

/** The probe line, then (when the schema was read) one line per table of it. */
export function probeLines(report: Report): string[] {
  if (!('schema' in report) || report.schema === undefined) return [probeLine(report)];
  const { schema, ...rest } = report;
  return [
    probeLine({ ...rest, schemaTables: schema.length }),
    ...schema.map(
      (table) => `${SCHEMA_MARKER} ${JSON.stringify({ database: report.database, table })}`,
    ),
  ];
}

async function main(env: Env): Promise<number> {
  const names = (env.DATABASE_NAMES ?? '')
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  if (names.length === 0) {
    process.stderr.write('Error: DATABASE_NAMES must list the databases to probe (a,b,c)\n');
    return EXIT_USAGE;
  }
  const invalid = names.filter((n) => !DATABASE_NAME.test(n));
  if (invalid.length > 0) {
    process.stderr.write(`Error: not database names: ${invalid.join(', ')}\n`);
    return EXIT_USAGE;
  }
  // Missing connection settings are one problem, not one per database.
  try {
    loadDatabaseConfig({ ...env, DATABASE_NAME: names[0] });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`Error: ${error.message}\n`);
    return EXIT_USAGE;
  }
  let next = 0;
  const worker = async () => {
    while (next < names.length) {
      const database = names[next++] as string;
      const lines = probeLines(await probeDatabase(database, env));
      process.stdout.write(`${lines.join('\n')}\n`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, names.length) }, worker));
  return EXIT_OK;
}

// Only when run as a program (the tests import probeDatabase and probeLine).
if (process.argv[1] && /probe\.js$/.test(process.argv[1])) {
  main(process.env).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      const secret = { password: process.env.DATABASE_PASSWORD ?? '' };
      process.stderr.write(
        `Error: ${redact(error instanceof Error ? error.message : String(error), secret)}\n`,
      );
      process.exitCode = 1;
    },
  );
}
