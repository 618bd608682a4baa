#!/usr/bin/env bash
# The restore drill (deploy/OPERATIONS.md, "Restore drill"), as `make
# restore-drill` and .ci/run run it: a backup is only a backup once it has
# been restored. On the PostgreSQL server of ADMIN_URL (a superuser's URL; by
# default the test server), it
#
#   1. makes a scratch database owned by an owner role, as production has it
#      (deploy/postgres-init.sql), migrates it as that owner (`wanjia migrate
#      up`) and loads the Qixing demo district as the application role
#      (`wanjia demo`), which row-level security binds;
#   2. dumps it with pg_dump --format=custom, as deploy/README.md says;
#   3. restores the dump into a second, empty database with pg_restore
#      --no-owner --role=<owner>, as deploy/README.md says;
#   4. compares the two: the rows of every table, row security (ENABLE and
#      FORCE) and the policies of every table, the application role's
#      grants; and checks that the binary finds no migration pending on the
#      copy as the application role (the parts would boot on it);
#   5. drops both databases, also when a step fails.
#
# Usage: deploy/restore-drill.sh [ADMIN_URL]
#   ADMIN_URL    default $WANJIA_TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test?sslmode=disable
#   WANJIA_BIN   the wanjia binary; default: built into a temporary directory
#   DRILL_APP_ROLE     the application role (default wanjia_test_app, made if missing)
#   DRILL_OWNER_ROLE   the owner role (default wanjia_drill_owner, made if missing)
#   DRILL_MAX_SECONDS  the drill fails when it takes longer (default 60; the build is not counted)
# The roles connect without a password: the server must trust them from here
# (the test server does), or give them passwords through ~/.pgpass.
set -euo pipefail
cd "$(dirname "$0")/.."

ADMIN_URL=${1:-${WANJIA_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}}
APP_ROLE=${DRILL_APP_ROLE:-wanjia_test_app}
OWNER_ROLE=${DRILL_OWNER_ROLE:-wanjia_drill_owner}
MAX_SECONDS=${DRILL_MAX_SECONDS:-60}

for tool in psql pg_dump pg_restore; do
  command -v "$tool" >/dev/null || { echo "restore drill: $tool is not installed (apt-get install postgresql-client)" >&2; exit 1; }
done

tmp=$(mktemp -d)
stamp=$(date +%s)
SRC="wanjia_drill_${stamp}_$$_src"
DST="wanjia_drill_${stamp}_$$_dst"

# url_for DB [USER]: ADMIN_URL pointed at database DB, as USER (default:
# ADMIN_URL's own user and password).
url_for() {
  local db=$1 user=${2:-} rest=${ADMIN_URL#*://} scheme=${ADMIN_URL%%://*} userinfo="" query=""
  if [[ $rest == *@* ]]; then userinfo=${rest%@*}@; rest=${rest##*@}; fi
  if [[ $rest == *\?* ]]; then query="?${rest#*\?}"; rest=${rest%%\?*}; fi
  [[ -n $user ]] && userinfo="$user@"
  echo "$scheme://$userinfo${rest%%/*}/$db$query"
}
admin() { psql "$ADMIN_URL" -X -v ON_ERROR_STOP=1 -qtA "$@"; }

cleanup() {
  local rc=$?
  for db in "$SRC" "$DST"; do
    admin -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || echo "restore drill: could not drop $db" >&2
  done
  rm -rf "$tmp"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

admin -c 'SELECT 1' >/dev/null || { echo "restore drill: cannot connect to $ADMIN_URL as a superuser" >&2; exit 1; }

# Databases a killed drill left behind (their name carries their start time)
# go once they are an hour old: never a running drill's.
admin -c "SELECT datname FROM pg_database WHERE datname ~ '^wanjia_drill_[0-9]+_'" | while read -r db; do
  started=${db#wanjia_drill_}; started=${started%%_*}
  if (( stamp - started > 3600 )); then
    admin -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null && echo "restore drill: dropped $db, left by an earlier run"
  fi
done

if [[ -z ${WANJIA_BIN:-} ]]; then
  echo "restore drill: building wanjia"
  "${GO:-go}" build -o "$tmp/wanjia" ./cmd/wanjia
  WANJIA_BIN=$tmp/wanjia
fi

SECONDS=0
step() { printf 'restore drill: %-58s (%2ds)\n' "$1" "$SECONDS"; }

# The roles, as production has them: one owns the tables, the other owns
# nothing and has only row privileges (no superuser, no BYPASSRLS).
admin -c "DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$OWNER_ROLE') THEN
    CREATE ROLE $OWNER_ROLE LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$APP_ROLE') THEN
    CREATE ROLE $APP_ROLE LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END \$\$"
for db in "$SRC" "$DST"; do
  admin -c "CREATE DATABASE $db OWNER $OWNER_ROLE"
done
step "created $SRC and $DST"

# The source, laid out like deploy/postgres-init.sql, migrated by the owner,
# the demo loaded by the application role.
psql "$(url_for "$SRC")" -X -v ON_ERROR_STOP=1 -q -c "GRANT USAGE ON SCHEMA public TO $APP_ROLE" \
  -c "ALTER DEFAULT PRIVILEGES FOR ROLE $OWNER_ROLE IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO $APP_ROLE"
WANJIA_DATABASE_URL=$(url_for "$SRC" "$OWNER_ROLE") "$WANJIA_BIN" migrate up >"$tmp/migrate.log" 2>&1 \
  || { cat "$tmp/migrate.log" >&2; exit 1; }
step "migrated ($(grep -c '^applied' "$tmp/migrate.log") migrations, as $OWNER_ROLE)"
size_empty=$(admin -c "SELECT pg_database_size('$SRC')")
# A throwaway secret key: the demo's signing key is encrypted with it, and
# nothing reads it after the drill.
WANJIA_DATABASE_URL=$(url_for "$SRC" "$APP_ROLE") WANJIA_REDIS_URL= WANJIA_DEMO_PASSWORD=restore-drill-demo \
  WANJIA_SECRET_KEY="restore-drill-$stamp-0123456789abcdefghijklmnopqrstuvwxyz" "$WANJIA_BIN" demo >"$tmp/demo.log" 2>&1 \
  || { cat "$tmp/demo.log" >&2; exit 1; }
size_demo=$(admin -c "SELECT pg_database_size('$SRC')")
step "loaded the demo district (as $APP_ROLE)"

pg_dump --format=custom --no-owner --file="$tmp/wanjia.dump" "$(url_for "$SRC")"
step "pg_dump --format=custom: $(du -h "$tmp/wanjia.dump" | cut -f1)"
pg_restore --no-owner --role="$OWNER_ROLE" --exit-on-error --dbname="$(url_for "$DST")" "$tmp/wanjia.dump"
step "pg_restore --no-owner --role=$OWNER_ROLE into $DST"

# What must survive the round trip. Counted as the superuser, whom row
# security does not bind (the application role would count nothing outside
# a community's transaction).
inventory() {
  psql "$(url_for "$1")" -X -v ON_ERROR_STOP=1 -qtA -F ' ' <<SQL
SELECT 'rows', c.relname,
       (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM public.%I', c.relname), false, true, '')))[1]::text
  FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') ORDER BY c.relname;
SELECT 'security', c.relname, c.relrowsecurity, c.relforcerowsecurity, pg_get_userbyid(c.relowner)
  FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') ORDER BY c.relname;
SELECT 'policy', tablename, policyname, cmd, roles::text, md5(coalesce(qual, '') || '|' || coalesce(with_check, ''))
  FROM pg_policies WHERE schemaname = 'public' ORDER BY tablename, policyname;
SELECT 'grant', table_name, string_agg(privilege_type, ',' ORDER BY privilege_type)
  FROM information_schema.role_table_grants WHERE grantee = '$APP_ROLE' AND table_schema = 'public'
  GROUP BY table_name ORDER BY table_name;
SQL
}
inventory "$SRC" >"$tmp/src.txt"
inventory "$DST" >"$tmp/dst.txt"
if ! diff -u "$tmp/src.txt" "$tmp/dst.txt" >"$tmp/diff.txt"; then
  echo "restore drill: the restored database differs from the source (- source, + restored):" >&2
  cat "$tmp/diff.txt" >&2
  exit 1
fi
tables=$(grep -c '^rows ' "$tmp/src.txt")
rows=$(awk '$1 == "rows" { n += $3 } END { print n + 0 }' "$tmp/src.txt")
policies=$(grep -c '^policy ' "$tmp/src.txt" || true)
households=$(awk '$1 == "rows" && $2 == "households" { print $3 }' "$tmp/src.txt")
# Guard against a vacuous pass: an empty source restores into an empty copy.
if (( ${households:-0} < 1000 )) || (( policies < 10 )); then
  echo "restore drill: the source holds ${households:-no} households and $policies policies: the demo did not load" >&2
  exit 1
fi
step "compared: $tables tables, $rows rows, $policies policies: identical"

# The parts boot only on a current schema: the copy must be one, seen as the
# application role.
WANJIA_DATABASE_URL=$(url_for "$DST" "$APP_ROLE") "$WANJIA_BIN" migrate status >"$tmp/status.txt" 2>&1 \
  || { cat "$tmp/status.txt" >&2; exit 1; }
if grep -q 'pending' "$tmp/status.txt"; then
  echo "restore drill: migrations pending on the restored copy:" >&2
  grep pending "$tmp/status.txt" >&2
  exit 1
fi
step "no migration pending on the copy (as $APP_ROLE)"

if (( SECONDS > MAX_SECONDS )); then
  echo "restore drill: took ${SECONDS}s, over its ${MAX_SECONDS}s budget" >&2
  exit 1
fi
# For the capacity table of deploy/OPERATIONS.md: what the demo's
# households add to the database, each (tasks, attempts, residents, cases
# and check-ins included).
echo "restore drill: database $((size_empty / 1024)) KiB migrated, $((size_demo / 1024)) KiB with the demo: $(( (size_demo - size_empty) / households )) bytes a household"
echo "restore drill: ok in ${SECONDS}s ($households households; the databases are dropped now)"
