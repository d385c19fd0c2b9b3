#!/usr/bin/env bash
# End-to-end check of the browser rig on plain trytond + party:
# create a database, initialise it, serve it with sao on a free loopback
# port, run smoke.mjs against it, check the party row in PostgreSQL, then
# stop the server and drop the database.
#
# Environment (all optional):
#   TRYTOND_BIN   folder holding trytond and trytond-admin (default: from PATH)
#   PGHOST PGPORT PGUSER  superuser connection (default 127.0.0.1 5432 postgres)
#   OUT           folder for screenshots and logs (default ./output/<db>)
#   DB_ROLE       'own' (default): the database belongs to a new login role
#                 used by trytond, so the server lists only that database and
#                 sao shows it prefilled; 'superuser': trytond connects as
#                 PGUSER and lists every Tryton database of the cluster, so
#                 sao shows a select
#   SELFTEST=1    also run selftest.mjs (every helper of sao.js)
#   KEEP=1        leave the server and database up at the end (prints how to
#                 stop them), for poking around by hand
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
if [ -n "${TRYTOND_BIN:-}" ]; then
    export PATH="$TRYTOND_BIN:$PATH"
fi
command -v trytond >/dev/null || { echo "trytond not found (set TRYTOND_BIN)" >&2; exit 2; }
[ -f "$HERE/sao/index.html" ] || { echo "run setup.sh first" >&2; exit 2; }

DB="ssbrowser_$(date +%s)_$$"
OUT="${OUT:-$HERE/output/$DB}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/ssbrowser.XXXXXX")"
mkdir -p "$OUT"
PARTY="Smoke Party $DB"
PASSWORD="admin-$RANDOM-$RANDOM"
SERVER_PID=""
ROLE=""

cleanup() {
    local rc=$?
    if [ "${KEEP:-0}" = 1 ]; then
        echo "KEEP=1: server pid $SERVER_PID on $URL, database $DB, work $WORK"
        echo "stop with: kill $SERVER_PID; dropdb --force $DB;" \
            "${ROLE:+dropuser $ROLE;} rm -rf $WORK"
        exit $rc
    fi
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID"
        for _ in $(seq 50); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$SERVER_PID" 2>/dev/null || true
    fi
    dropdb --if-exists --force "$DB" || true
    if [ -n "$ROLE" ]; then
        dropuser --if-exists "$ROLE" || true
    fi
    rm -rf "$WORK"
    exit $rc
}
trap cleanup EXIT INT TERM

PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
URL="http://127.0.0.1:$PORT/"

printf '%s' "$PASSWORD" > "$WORK/admin-password"
t0=$(date +%s)
case "${DB_ROLE:-own}" in
    own)
        ROLE="$DB"
        ROLE_PASSWORD="pw$RANDOM$RANDOM$RANDOM"
        psql -X -q -v ON_ERROR_STOP=1 -d postgres \
            -c "CREATE ROLE \"$ROLE\" LOGIN PASSWORD '$ROLE_PASSWORD'"
        createdb -O "$ROLE" "$DB"
        DB_URI="postgresql://$ROLE:$ROLE_PASSWORD@$PGHOST:$PGPORT/"
        ;;
    superuser)
        createdb "$DB"
        DB_URI="postgresql://$PGUSER${PGPASSWORD:+:$PGPASSWORD}@$PGHOST:$PGPORT/"
        ;;
    *) echo "DB_ROLE must be own or superuser" >&2; exit 2 ;;
esac
cat > "$WORK/trytond.conf" <<EOF
[database]
uri = $DB_URI
path = $WORK/filestore

[web]
listen = 127.0.0.1:$PORT
root = $HERE/sao
EOF

TRYTONPASSFILE="$WORK/admin-password" trytond-admin -c "$WORK/trytond.conf" -d "$DB" \
    --all -u party --activate-dependencies --email admin@example.com \
    > "$OUT/trytond-admin.log" 2>&1 \
    || { tail -n 40 "$OUT/trytond-admin.log" >&2; exit 1; }
echo "database $DB ready in $(( $(date +%s) - t0 ))s"

trytond -c "$WORK/trytond.conf" -d "$DB" > "$OUT/trytond.log" 2>&1 &
SERVER_PID=$!
up() {
    python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
        "$URL" 2>/dev/null
}
for _ in $(seq 150); do
    up && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$OUT/trytond.log" >&2; exit 1; }
    sleep 0.2
done
up || { echo "trytond does not answer on $URL" >&2; exit 1; }
echo "trytond serving sao on $URL"

t1=$(date +%s)
SAO_URL="$URL" SAO_DATABASE="$DB" SAO_USER=admin SAO_PASSWORD="$PASSWORD" \
SAO_PARTY_NAME="$PARTY" SAO_SCREENSHOTS="$OUT" \
    node "$HERE/smoke.mjs"
echo "smoke.mjs passed in $(( $(date +%s) - t1 ))s"

count="$(psql -d "$DB" -X -At -v name="$PARTY" \
    <<< "SELECT count(*) FROM party_party WHERE name = :'name'")"
if [ "$count" != 1 ]; then
    echo "expected 1 party named '$PARTY' in $DB, found $count" >&2
    exit 1
fi
echo "party '$PARTY' found in $DB; screenshots in $OUT"

if [ "${SELFTEST:-0}" = 1 ]; then
    SAO_URL="$URL" SAO_DATABASE="$DB" SAO_USER=admin SAO_PASSWORD="$PASSWORD" \
    SAO_SCREENSHOTS="$OUT" node "$HERE/selftest.mjs"
fi
