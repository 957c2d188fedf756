"""berth's batch mode for Django: migrate many tenant databases in one Python process.

Installed by `berth snippet django --app APP` as APP/management/commands/berth_migrate.py,
and run by berth as `task.batchCommand: [python3, manage.py, berth_migrate]`.

For each database in DATABASE_NAMES (comma-separated), in order, it:
  1. prints `::berth-begin DB`;
  2. points the `default` connection (or --database ALIAS) at DB, closing the previous one;
  3. takes berth's migration lock, pg_try_advisory_lock(0x62657274, 1), on that connection,
     unless BERTH_LOCK_HELD=1 says berth already holds it for this task (the local
     provider). Not granted: another session is migrating DB, so it prints `::berth-locked`,
     reports 75 and does not touch DB. The lock lives as long as this session, so a task that
     outlives a killed berth still keeps a second run away from its tenant;
  4. runs Django's own `migrate` (call_command), output and errors in this tenant's section;
  5. prints `::berth-end DB CODE`: 0 applied or nothing to do, 1 failed, 75 locked; then
     releases the lock by closing the connection.
A failure in one tenant does not stop the others unless BERTH_ON_ERROR=stop (berth's
fleet.onError). The exit code is 0 when every tenant ended 0, else the last non-zero code.

lock_timeout / statement_timeout: berth sets PGOPTIONS for the task; psycopg2 (libpq) reads
it at every connect, so each tenant's connection has them. An `options` entry in
DATABASES[...]["OPTIONS"] replaces PGOPTIONS: append berth's settings to it there if you set
one. This file is berth's (see its README, "Django: one Python process per batch"); edit it if
you must, `berth snippet django --app APP --force` writes it again.
"""
import os
import sys
import traceback

from django.apps import apps
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

BEGIN_MARKER = "::berth-begin"
END_MARKER = "::berth-end"
LOCKED_MARKER = "::berth-locked"
LOCKED_EXIT = 75
MIGRATION_LOCK_KEY = (0x62657274, 1)


class Command(BaseCommand):
    help = "Migrate every database in DATABASE_NAMES in this one process, with berth's markers."

    def add_arguments(self, parser):
        parser.add_argument(
            "--database",
            default=DEFAULT_DB_ALIAS,
            help="The connection alias whose NAME is switched per tenant (default: default).",
        )

    def handle(self, *args, **options):
        names = [n.strip() for n in os.environ.get("DATABASE_NAMES", "").split(",") if n.strip()]
        if not names:
            raise CommandError("DATABASE_NAMES is empty: berth sets it to the batch's databases")
        alias = options["database"]
        stop_on_error = os.environ.get("BERTH_ON_ERROR") == "stop"
        take_lock = os.environ.get("BERTH_LOCK_HELD") != "1"
        self.verbosity = options["verbosity"]
        worst = 0
        for name in names:
            code = self.migrate_one(alias, name, take_lock)
            self.emit("%s %s %d" % (END_MARKER, name, code))
            if code != 0:
                worst = code
                if stop_on_error:
                    break
        connections[alias].close()
        if worst:
            sys.exit(worst)

    def emit(self, line):
        # Markers and Django's output share stdout, flushed, so each line lands in its section.
        self.stdout.write(line)
        self.stdout.flush()

    def migrate_one(self, alias, name, take_lock):
        self.emit("%s %s" % (BEGIN_MARKER, name))
        connection = connections[alias]
        connection.close()
        connection.settings_dict["NAME"] = name
        os.environ["DATABASE_NAME"] = name
        forget_cached_rows(alias)
        try:
            if take_lock and not try_lock(connection):
                self.emit(LOCKED_MARKER)
                return LOCKED_EXIT
            call_command(
                "migrate",
                database=alias,
                interactive=False,
                verbosity=self.verbosity,
                stdout=self.stdout,
                stderr=self.stdout,
            )
            return 0
        except Exception:  # one tenant's failure is that tenant's result, never the batch's
            for line in traceback.format_exc().rstrip().splitlines():
                self.emit(line)
            return 1
        finally:
            # Ending the session releases the advisory lock, whatever state it is in; a
            # session already lost (the server went away) has nothing left to release.
            try:
                connection.close()
            except Exception:
                pass


def try_lock(connection):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", MIGRATION_LOCK_KEY)
        return bool(cursor.fetchone()[0])


def forget_cached_rows(alias):
    """Managers cache rows per connection alias, and the alias stays `default` from tenant to
    tenant: a cached row of the previous tenant must never stand for this one's. Django's own
    post_migrate handlers clear the ContentType cache themselves; an app's handler that runs
    first would not, so it is cleared here for every tenant."""
    if apps.is_installed("django.contrib.contenttypes"):
        from django.contrib.contenttypes.models import ContentType

        ContentType.objects.clear_cache()
    if apps.is_installed("django.contrib.sites"):
        from django.contrib.sites.models import Site

        Site.objects.clear_cache()
