"""berth_probe, the command berth runs on AWS to look into many tenant databases at once."""
import io
import json
import os
from unittest import mock

from django.core.management import CommandError, call_command
from django.db import connection
from django.test import TransactionTestCase

MARKER = "::berth-probe "


def probe(names):
    out = io.StringIO()
    with mock.patch.dict(os.environ, {"DATABASE_NAMES": names}):
        call_command("berth_probe", stdout=out)
    lines = out.getvalue().splitlines()
    assert all(line.startswith(MARKER) for line in lines), lines
    return [json.loads(line[len(MARKER):]) for line in lines]


class BerthProbeTests(TransactionTestCase):
    def test_reports_tables_and_applied_migrations_as_berths_django_preset_reads_them(self):
        test_db = connection.settings_dict["NAME"]
        [report] = probe(test_db)
        self.assertEqual(report["database"], test_db)
        self.assertIs(report["exists"], True)
        self.assertEqual(report["tables"], 57)
        with connection.cursor() as cursor:
            cursor.execute("SELECT app || '.' || name FROM django_migrations ORDER BY 1")
            self.assertEqual(report["applied"], [row[0] for row in cursor.fetchall()])
        self.assertIn("order.0001_initial", report["applied"])

    def test_a_missing_database_is_reported_absent_not_failed(self):
        [report] = probe("startupwebapp_no_such_tenant")
        self.assertEqual(report, {"database": "startupwebapp_no_such_tenant", "exists": False})

    def test_an_unreachable_server_is_an_error_line_without_the_password(self):
        with mock.patch.dict(
            connection.settings_dict, {"PORT": "1", "PASSWORD": "hunter2-secret"}
        ):
            [report] = probe("startupwebapp_prod")
        self.assertEqual(set(report), {"database", "error"})
        self.assertNotIn("hunter2-secret", report["error"])

    def test_refuses_an_empty_list_or_names_berth_would_not_accept(self):
        for names in ("", "Bad-Name", "a;drop"):
            with self.subTest(names=names):
                with self.assertRaises(CommandError):
                    probe(names)
