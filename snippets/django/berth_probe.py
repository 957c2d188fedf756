"""berth's probe for Django: read many tenant databases in one Python process, without migrating.

Installed by `berth snippet django-probe --app APP` as APP/management/commands/berth_probe.py,
and run by berth as `task.probeCommand: [python3, manage.py, berth_probe]`. On AWS berth cannot
reach the databases itself: it starts this once, inside the VPC, for a batch of them

    DATABASE_NAMES=a,b,c python3 manage.py berth_probe

and reads one line per database from stdout (berth's docs/aws.md, "The probe"):

    ::berth-probe {"database":"a","exists":true,"tables":57,"applied":["admin.0001_initial",...]}
    ::berth-probe {"database":"b","exists":false}
    ::berth-probe {"database":"c","error":"..."}

`tables` counts the base tables of the schema (BERTH_DATABASE_SCHEMA, which berth sets from
database.schema; public by default), django_migrations included; `applied` is django_migrations
as `app.name`, as berth's django preset reads it. When berth sets BERTH_PROBE_SCHEMA=1 (verify),
it also reads the schema's catalog with berth's own query (CATALOG_SQL below) and prints it as
`"schemaTables":N` on the probe line and one `::berth-schema {"database","table"}` line per
entry: a whole schema on one line would be cut by the log driver (16 KiB).

It only reads, with the server of settings.DATABASES["default"] (HOST, PORT, USER, PASSWORD),
the one the migrate command uses. Exit 0 when every database got its line (an unreadable
database is a line, not a crash), 2 when the environment is unusable. No output contains the
password. This file is berth's; `berth snippet django-probe --app APP --force` writes it again
(after upgrading berth, so that CATALOG_SQL matches what berth compares).
"""
import json
import os
import re

import psycopg2
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

MARKER = "::berth-probe"
SCHEMA_MARKER = "::berth-schema"
# berth's rule for database and schema names: they end up in JSON berth validates.
NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# The server's answer to a connection to a database that does not exist (invalid_catalog_name;
# psycopg2 has no SQLSTATE for errors raised while connecting, only the message).
NO_SUCH_DATABASE = re.compile(r'database ".*" does not exist')

# berth's CATALOG_SQL (src/migrations/fingerprint.ts), unchanged: berth's tests compare them.
# `$1` is the schema, several times; psycopg2 takes it as %(schema)s.
CATALOG_SQL = """SELECT (SELECT coalesce(json_agg(o.entry ORDER BY o.kind, o.name), '[]'::json) FROM (
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
   ) o) AS schema"""


def probe(database, server, schema, with_catalog):
    """What one database holds; never raises."""
    try:
        connection = psycopg2.connect(dbname=database, connect_timeout=10, **server)
    except psycopg2.Error as error:
        if NO_SUCH_DATABASE.search(str(error)):
            return {"database": database, "exists": False}
        return {"database": database, "error": redact(str(error).strip(), server)}
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM information_schema.tables"
                " WHERE table_schema = %s AND table_type = 'BASE TABLE'",
                [schema],
            )
            tables = cursor.fetchone()[0]
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [schema + ".django_migrations"])
            applied = []
            if cursor.fetchone()[0]:
                cursor.execute(
                    "SELECT app || '.' || name AS id FROM %s.django_migrations ORDER BY id"
                    % schema
                )
                applied = [row[0] for row in cursor.fetchall()]
            report = {"database": database, "exists": True, "tables": tables, "applied": applied}
            if with_catalog:
                cursor.execute(CATALOG_SQL.replace("$1", "%(schema)s"), {"schema": schema})
                report["schema"] = cursor.fetchone()[0]
        return report
    except psycopg2.Error as error:
        return {"database": database, "error": redact(str(error).strip(), server)}
    finally:
        connection.close()


def lines(report):
    """The probe line, then (when the catalog was read) one line per entry of it."""
    schema = report.pop("schema", None)
    if schema is None:
        return ["%s %s" % (MARKER, json.dumps(report))]
    head = dict(report, schemaTables=len(schema))
    return ["%s %s" % (MARKER, json.dumps(head))] + [
        "%s %s" % (SCHEMA_MARKER, json.dumps({"database": report["database"], "table": entry}))
        for entry in schema
    ]


def redact(message, server):
    password = server.get("password")
    return message.replace(password, "***") if password else message


class Command(BaseCommand):
    help = "Print berth's probe line for each database in DATABASE_NAMES (read only)."
    requires_system_checks = []
    requires_migrations_checks = False

    def handle(self, *args, **options):
        names = [n.strip() for n in os.environ.get("DATABASE_NAMES", "").split(",") if n.strip()]
        if not names:
            raise CommandError(
                "DATABASE_NAMES must list the databases to probe (a,b,c)", returncode=2
            )
        invalid = [n for n in names if not NAME.match(n)]
        if invalid:
            raise CommandError("not database names: %s" % ", ".join(invalid), returncode=2)
        schema = os.environ.get("BERTH_DATABASE_SCHEMA") or "public"
        if not NAME.match(schema):
            raise CommandError(
                "BERTH_DATABASE_SCHEMA is not a schema name: %s" % schema, returncode=2
            )
        with_catalog = os.environ.get("BERTH_PROBE_SCHEMA") == "1"
        # The server the migrate command uses (settings read DATABASE_*, else PG*).
        default = settings.DATABASES["default"]
        server = {
            "host": default["HOST"],
            "port": default["PORT"],
            "user": default["USER"],
            "password": default["PASSWORD"],
        }
        for name in names:
            for line in lines(probe(name, server, schema, with_catalog)):
                self.stdout.write(line)
