"""`python3 manage.py berth_probe`: berth's probe (task.probeCommand) for this app.

On AWS berth cannot reach the tenant databases, so it starts this once, inside the VPC, for
many of them:

    DATABASE_NAMES=a,b,c python3 manage.py berth_probe

and reads one line per database from stdout (berth's docs/aws.md, "The probe"):

    ::berth-probe {"database":"a","exists":true,"tables":57,"applied":["admin.0001_initial",...]}
    ::berth-probe {"database":"b","exists":false}
    ::berth-probe {"database":"c","error":"..."}

`tables` counts the base tables of the public schema (django_migrations included); `applied`
is django_migrations as `app.name`, as berth's django preset reads it. It only reads, with the
same DATABASE_HOST/PORT/USER/PASSWORD (or PG*) as the migrate command. Exit 0 when every
database got its line (an unreadable database is a line, not a crash), 2 when the
environment is unusable. No output contains the password.
"""
import json
import os
import re

import psycopg2
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

MARKER = "::berth-probe"
SCHEMA = "public"
# berth's rule for database names: they end up in JSON berth validates.
DATABASE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# The server's answer to a connection to a database that does not exist (invalid_catalog_name;
# psycopg2 has no SQLSTATE for errors raised while connecting, only the message).
NO_SUCH_DATABASE = re.compile(r'database ".*" does not exist')


def probe(database, server):
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
                [SCHEMA],
            )
            tables = cursor.fetchone()[0]
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [SCHEMA + ".django_migrations"])
            applied = []
            if cursor.fetchone()[0]:
                cursor.execute(
                    "SELECT app || '.' || name AS id FROM django_migrations ORDER BY id"
                )
                applied = [row[0] for row in cursor.fetchall()]
        return {"database": database, "exists": True, "tables": tables, "applied": applied}
    except psycopg2.Error as error:
        return {"database": database, "error": redact(str(error).strip(), server)}
    finally:
        connection.close()


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
        invalid = [n for n in names if not DATABASE_NAME.match(n)]
        if invalid:
            raise CommandError("not database names: %s" % ", ".join(invalid), returncode=2)
        # The server the migrate command uses (settings read DATABASE_*, else PG*).
        default = settings.DATABASES["default"]
        server = {
            "host": default["HOST"],
            "port": default["PORT"],
            "user": default["USER"],
            "password": default["PASSWORD"],
        }
        for name in names:
            self.stdout.write("%s %s" % (MARKER, json.dumps(probe(name, server))))
