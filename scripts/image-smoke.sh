#!/usr/bin/env bash
# Builds berth's own image (the Dockerfile at the repository root) in the container lab and
# runs it as a CI system that runs steps in containers would: `berth --version`, then, on a
# small sample project mounted at /work, `berth init`, `migrate --all` (twice: the second is
# a no-op), `verify --all` and `local stop`, on the embedded PostgreSQL inside the image (the
# binaries of the image's platform). Every build and run uses --network host (the lab has no
# bridge network). Needs the lab's environment: eval "$(bash ../shared/container-lab.sh start)".
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
: "${CONTAINER_LAB_NODE_IMAGE:?start the container lab first (eval \"\$(bash ../shared/container-lab.sh start)\")}"
image="${BERTH_SMOKE_IMAGE:-berth-cli:smoke}"
version="$(node -p 'require(process.argv[1]).version' "$repo/package.json")"
work="$(mktemp -d "${TMPDIR:-/tmp}/berth-image-smoke.XXXXXX")"
app="$work/app"
mkdir -p "$app"
# The image runs as `node` (uid 1000): the mounted project must be writable by it.
chmod 0777 "$app"

ok=false
run() { docker run --rm --network host -v "$app:/work" -e NO_COLOR=1 "$image" berth "$@"; }
cleanup() {
  if [ -f "$app/berth.yaml" ]; then run local stop >/dev/null 2>&1 || true; fi
  if [ "$ok" = true ]; then rm -rf "$work"; else echo "image-smoke: FAILED; files kept in $work" >&2; fi
}
trap cleanup EXIT
step() { echo "--- image-smoke: $*"; }
fail() {
  echo "image-smoke: $*" >&2
  exit 1
}

step "docker build (base image $CONTAINER_LAB_NODE_IMAGE)"
secret=()
if [ -n "${CONTAINER_LAB_EXTRA_CA:-}" ] && [ -s "$CONTAINER_LAB_EXTRA_CA" ]; then
  secret=(--secret "id=npm_ca,src=$CONTAINER_LAB_EXTRA_CA")
fi
DOCKER_BUILDKIT=1 docker build --network host --progress plain \
  --build-arg "BASE_IMAGE=$CONTAINER_LAB_NODE_IMAGE" "${secret[@]}" -t "$image" "$repo" \
  >"$work/build.log" 2>&1 || { tail -n 40 "$work/build.log" >&2; fail "docker build failed"; }
echo "$image: $(docker image inspect "$image" --format '{{.Size}}' | awk '{ printf "%.0f MB", $1 / 1e6 }')"

step "berth --version"
[ "$(run --version)" = "$version" ] || fail "berth --version in the image is not $version"

step "berth init, and a sample project"
run init
# No migration tool here, so the starter is `custom` with marked lines to fill in: point it at
# this app's migrate script and its history table, count its tables, use two tenants (the
# starter names one after the app's folder, /work), and run tasks as host processes.
grep -q 'No migration tool was recognised' "$app/berth.yaml" || fail "berth init did not say it recognised no tool"
sed -i.bak \
  -e 's/^  command: \[\.\/migrate\] .*$/  command: [node, migrate.cjs]/' \
  -e 's/^  # expectedTables: N .*$/  expectedTables: 3/' \
  -e 's/^    - work$/    - work_prod\n    - work_staging/' \
  -e 's/^  table: schema_migrations .*$/  table: pgmigrations/' \
  -e 's/^  nameColumns: \[version\] .*$/  nameColumns: [name]/' \
  "$app/berth.yaml"
printf 'local:\n  runtime: process\n' >>"$app/berth.yaml"
grep -q 'command: \[node, migrate.cjs\]' "$app/berth.yaml" || fail "berth.yaml has no task.command to replace"
grep -q 'expectedTables: 3' "$app/berth.yaml" || fail "berth.yaml has no database.expectedTables to replace"
grep -q -- '- work_staging' "$app/berth.yaml" || fail "berth.yaml has no work tenant (named after /work) to replace"
grep -q '^  table: pgmigrations$' "$app/berth.yaml" || fail "berth.yaml has no migrations.table to replace"
grep -q '^  nameColumns: \[name\]$' "$app/berth.yaml" || fail "berth.yaml has no migrations.nameColumns to replace"
mkdir -p "$app/migrations"
cat >"$app/migrations/0001_users.sql" <<'SQL'
CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL UNIQUE);
SQL
cat >"$app/migrations/0002_orders.sql" <<'SQL'
CREATE TABLE orders (id serial PRIMARY KEY, user_id int NOT NULL REFERENCES users (id));
SQL
cat >"$app/migrate.cjs" <<'JS'
// The sample app's migration tool: migrations/*.sql in order, recorded in pgmigrations. The
// sample has no node_modules of its own, so it borrows the image's `pg` (berth's dependency).
const { readdirSync, readFileSync } = require('node:fs');
const pg = require('/opt/berth/node_modules/pg');
const env = process.env;
(async () => {
  const client = new pg.Client({
    host: env.DATABASE_HOST, port: Number(env.DATABASE_PORT), user: env.DATABASE_USER,
    password: env.DATABASE_PASSWORD, database: env.DATABASE_NAME,
  });
  await client.connect();
  await client.query(
    'CREATE TABLE IF NOT EXISTS pgmigrations (id serial PRIMARY KEY, name text NOT NULL UNIQUE, run_on timestamptz NOT NULL DEFAULT now())',
  );
  const done = new Set((await client.query('SELECT name FROM pgmigrations')).rows.map((r) => r.name));
  for (const file of readdirSync('migrations').filter((f) => f.endsWith('.sql')).sort()) {
    const name = file.replace(/\.sql$/, '');
    if (done.has(name)) continue;
    await client.query('BEGIN');
    await client.query(readFileSync(`migrations/${file}`, 'utf8'));
    await client.query('INSERT INTO pgmigrations (name) VALUES ($1)', [name]);
    await client.query('COMMIT');
    console.log(`${env.DATABASE_NAME}: applied ${name}`);
  }
  await client.end();
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
JS
chmod -R a+rwX "$app"

step "berth migrate --all twice, verify --all, local stop: in one container"
# One container for the whole job, ending with `berth local stop`, as a CI step should: the
# local server runs with synchronous_commit=off (speed over durability), so a container that
# exits with the server still running may lose its last commits.
docker run --rm --network host -v "$app:/work" -e NO_COLOR=1 "$image" sh -ec '
  berth migrate --all
  berth migrate --all --json | tail -n 1 | node -e "
    const s = JSON.parse(require(\"fs\").readFileSync(0, \"utf8\"));
    if (s.type !== \"summary\" || s.counts.total !== 2 || s.counts.upToDate !== 2) {
      console.error(\"image-smoke: the second migrate was not a no-op on 2 databases:\", JSON.stringify(s));
      process.exit(1);
    }
    console.log(\"second run: \" + s.counts.upToDate + \" of 2 up to date\");"
  berth verify --all
  berth local stop
' || fail "berth in the image failed"

ok=true
step "passed"
