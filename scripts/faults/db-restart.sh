#!/usr/bin/env bash
# PostgreSQL restarted under a write load: every write the server
# acknowledged is kept, every other is answered with an error (none is
# reported as a success it is not), and nothing is half-written.
#
#   scripts/faults/db-restart.sh          # 8 writers for 12 s, PostgreSQL restarted at 4 s
#
# It restarts the local cluster (pg_ctlcluster), so it runs alone: not
# beside the test suite or anything else using this PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/load/common.sh

PG=${PG:-postgres://postgres@127.0.0.1:5432}
DB=pr_fault_restart
PORT=${PORT:-8093}
SECONDS_OF_LOAD=${SECONDS_OF_LOAD:-12}
RESTART_AT=${RESTART_AT:-4}
CLUSTER=${CLUSTER:-$(ls /etc/postgresql | head -n1)}
work=$(mktemp -d)

cargo build --release --quiet
BIN=target/release/partnership-registry
psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
export DATABASE_URL="$PG/$DB"
TOKEN=$("$BIN" token create --name fault-writers --role EDITOR 2>/dev/null)
LISTEN_ADDR="127.0.0.1:$PORT" METRICS_ADDR=off RUST_LOG=warn "$BIN" serve &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
wait_ready "$PORT"

python3 scripts/faults/writers.py write "http://127.0.0.1:$PORT/graphql" "$TOKEN" "$SECONDS_OF_LOAD" "$work/log.json" &
writers=$!
sleep "$RESTART_AT"
echo "restarting PostgreSQL ($CLUSTER main) under the load"
started=$(date +%s%N)
pg_ctlcluster --skip-systemctl-redirect "$CLUSTER" main restart
echo "PostgreSQL back after $(( ($(date +%s%N) - started) / 1000000 )) ms"
wait "$writers"
wait_ready "$PORT"
python3 scripts/faults/writers.py check "http://127.0.0.1:$PORT/graphql" "$TOKEN" "$work/log.json"
