#!/usr/bin/env bash
# Write throughput on PostgreSQL, and what numbering the history in commit
# order costs: 8 writers (scripts/faults/writers.py: a partner created, then
# updated twice, over and over) for SECONDS against a release build, once
# as shipped and once with the numbering trigger's advisory lock taken out
# of this scratch database (ids then follow insert order, not commit order:
# a measurement only, never a way to run).
#
#   scripts/load/writes.sh            # 10 s each way, back to back
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/load/common.sh

PG=${PG:-postgres://postgres@127.0.0.1:5432}
DB=pr_load_writes
PORT=${PORT:-8094}
SECONDS_OF_LOAD=${SECONDS_OF_LOAD:-10}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cargo build --release --quiet
BIN=target/release/partnership-registry

run() {
    local label=$1 unlock=$2
    psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
    export DATABASE_URL="$PG/$DB"
    "$BIN" migrate up >/dev/null 2>&1
    if [ "$unlock" = yes ]; then
        psql "$PG/$DB" -q <<'SQL'
CREATE OR REPLACE FUNCTION change_log_number_in_commit_order() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.id := nextval('change_log_id_seq');
    RETURN NEW;
END
$$;
SQL
    fi
    local token
    token=$("$BIN" token create --name load-writers --role EDITOR 2>/dev/null)
    LISTEN_ADDR="127.0.0.1:$PORT" METRICS_ADDR=off BUDGET_PER_TOKEN=0 RUST_LOG=warn "$BIN" serve &
    local server=$!
    wait_ready "$PORT"
    python3 scripts/faults/writers.py write "http://127.0.0.1:$PORT/graphql" "$token" "$SECONDS_OF_LOAD" "$work/$label.json"
    kill "$server"
    wait "$server" 2>/dev/null || true
    python3 - "$work/$label.json" "$SECONDS_OF_LOAD" "$label" <<'PY'
import json, sys
log = json.load(open(sys.argv[1]))
acknowledged = sum(1 for w in log if w["outcome"] == "acknowledged")
print(f"{sys.argv[3]}: {len(log)} writes attempted, {acknowledged} acknowledged, {acknowledged / float(sys.argv[2]):.0f} writes/s")
PY
}

run "numbered in commit order" no
run "numbering lock taken out" yes
psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB"
