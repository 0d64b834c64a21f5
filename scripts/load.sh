#!/usr/bin/env bash
# Load test on loopback: the release server on PostgreSQL with the
# 2,000-partner synthetic set; Q1 and a one-partner query at concurrency 1
# and 16 (wrk); the server's peak RSS; and the floor — the same data by
# hand-written SQL through pgbench at the same concurrency.
#
#   scripts/load.sh                  # 15 s per run
#   LOAD_DURATION=30s scripts/load.sh
#
# Every request goes to 127.0.0.1; every run is bounded by LOAD_DURATION.
set -euo pipefail
cd "$(dirname "$0")/.."

PG="${LOAD_POSTGRES_SERVER:-postgres://postgres@127.0.0.1:5432}"
DB=pr_load
PORT="${LOAD_PORT:-18080}"
DURATION="${LOAD_DURATION:-15s}"
URL="http://127.0.0.1:$PORT/graphql"

if ! command -v wrk >/dev/null; then
    echo "installing wrk (Debian package)" >&2
    apt-get install -y -qq wrk >/dev/null
fi
command -v pgbench >/dev/null || { echo "pgbench is needed (PostgreSQL client tools)" >&2; exit 1; }

cargo build --release --quiet
BIN=target/release/partnership-registry

if ! psql "$PG/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
    psql -q "$PG/postgres" -c "CREATE DATABASE $DB"
    DATABASE_URL="$PG/$DB" "$BIN" seed --synthetic --partners 2000 --seed 1
fi

# Logging every statement (with its parameters: thousands of ids per
# level) costs PostgreSQL more than running it, for the server and the
# floor alike; figures taken so say little about either.
logging=$(psql "$PG/$DB" -tAc "SHOW log_min_duration_statement")
if [ "$logging" != "-1" ]; then
    echo "warning: log_min_duration_statement is $logging on $DB: statements are logged, figures will be low" >&2
fi

DATABASE_URL="$PG/$DB" LISTEN_ADDR="127.0.0.1:$PORT" RUST_LOG=warn "$BIN" serve &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$PORT/ready" >/dev/null && break
    sleep 0.1
done

body() {
    python3 -c 'import json,sys; print(json.dumps({"query": open(sys.argv[1]).read()}))' "$1"
}

# The server's CPU time (user + system, in clock ticks) so far.
server_ticks() {
    awk '{ print $14 + $15 }' "/proc/$SERVER/stat"
}
TICK=$(getconf CLK_TCK)
declare -A Q1_RPS

printf '%-12s %5s %10s %9s %9s %12s\n' query conc "req/s" "p50" "p99" "server CPU"
for name in q1 one-partner; do
    file=$(mktemp)
    body "scripts/load/$name.graphql" >"$file"
    # The query must answer without errors before it is measured.
    if curl -s "$URL" -H 'content-type: application/json' --data @"$file" | grep -q '"errors"'; then
        echo "$name answered with errors" >&2
        exit 1
    fi
    for conc in 1 16; do
        threads=$((conc < 2 ? 1 : 2))
        before=$(server_ticks)
        out=$(WRK_BODY_FILE="$file" wrk -t"$threads" -c"$conc" -d"$DURATION" --timeout 30s --latency -s scripts/load/post.lua "$URL")
        rps=$(awk '/^Requests\/sec/ { print $2 }' <<<"$out")
        p50=$(awk '$1 == "50%" { print $2 }' <<<"$out")
        p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
        errors=$(awk '/Non-2xx|Socket errors/' <<<"$out")
        # What one request cost the server's CPU, whatever the machine's load.
        requests=$(awk '/requests in/ { print $1 }' <<<"$out")
        cpu=$(awk -v t="$(( $(server_ticks) - before ))" -v hz="$TICK" -v n="$requests" \
            'BEGIN { if (n > 0) printf "%.1f ms/req", t * 1000 / hz / n }')
        printf '%-12s %5s %10s %9s %9s %12s %s\n' "$name" "$conc" "$rps" "$p50" "$p99" "$cpu" "$errors"
        [ "$name" = q1 ] && Q1_RPS[$conc]=$rps
    done
    rm -f "$file"
done

echo "server peak RSS: $(awk '/VmHWM/ { printf "%.1f MiB", $2 / 1024 }' "/proc/$SERVER/status")"

for conc in 1 16; do
    threads=$((conc < 2 ? 1 : 2))
    tps=$(pgbench -n -c "$conc" -j "$threads" -T "${DURATION%s}" -f scripts/load/q1-floor.sql "$PG/$DB" 2>/dev/null |
        awk '/^tps/ { print $3 }')
    printf 'floor (pgbench, Q1 by hand) conc %2s: %s transactions/s; Q1 / floor = %s\n' "$conc" "$tps" \
        "$(awk -v q="${Q1_RPS[$conc]:-0}" -v f="$tps" 'BEGIN { if (f > 0) printf "%.2f", q / f }')"
done
