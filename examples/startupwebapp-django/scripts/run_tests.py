#!/usr/bin/env python3
"""Runs StartupWebApp's Django tests against a real PostgreSQL.

Where the database comes from:
  * DATABASE_HOST (or PGHOST) set: that server, with DATABASE_USER/PASSWORD/PORT (or PG*),
    as in a CI job with a postgres service, or inside the development image;
  * otherwise berth's own local server: `berth local start --json` (initialised on first use,
    the same embedded PostgreSQL 16 the local provider migrates the tenants on), with the
    credentials from the file it names. $BERTH overrides the `berth` command (e.g.
    `BERTH="npx berth"`).

Django's runner creates its own `test_<DATABASE_NAME>` database and drops it afterwards, so the
tenant databases are never touched. Extra arguments go to `manage.py test`.
Usage: python3 scripts/run_tests.py [test labels or options]
"""
import json
import os
import shlex
import subprocess
import sys

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def berth_database():
    """Credentials of berth's local PostgreSQL server, started if it is not running."""
    berth = shlex.split(os.environ.get("BERTH", "berth"))
    try:
        run = subprocess.run(
            berth + ["local", "start", "--json"],
            cwd=HERE,
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError:
        sys.exit(
            "run_tests: no database: set DATABASE_HOST (and DATABASE_USER, DATABASE_PASSWORD,"
            " DATABASE_PORT), or install berth (`berth local start` gives a local PostgreSQL);"
            " $BERTH names the berth command"
        )
    if run.returncode != 0:
        sys.stderr.write(run.stderr)
        sys.exit("run_tests: `%s local start` exited %d" % (" ".join(berth), run.returncode))
    started = json.loads(run.stdout.strip().splitlines()[-1])
    with open(os.path.join(HERE, started["secretFile"])) as f:
        secret = json.load(f)
    return {
        "DATABASE_HOST": str(secret["host"]),
        "DATABASE_PORT": str(secret["port"]),
        "DATABASE_USER": secret["username"],
        "DATABASE_PASSWORD": secret["password"],
    }


def main(argv):
    env = dict(os.environ)
    if not (env.get("DATABASE_HOST") or env.get("PGHOST")):
        env.update(berth_database())
    # Names the test database (test_startupwebapp); no tenant database is used.
    env.setdefault("DATABASE_NAME", "startupwebapp")
    env.setdefault("DJANGO_SETTINGS_MODULE", "StartupWebApp.settings")
    env.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    command = [sys.executable, "manage.py", "test", "--noinput", "--verbosity", "2"] + argv
    return subprocess.run(command, cwd=HERE, env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
