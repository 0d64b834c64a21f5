#!/usr/bin/env bash
# Two builds back to back on the same machine: each serves the 2,000-partner
# synthetic set on PostgreSQL in turn, and wrk sends it Q1 (concurrency 8)
# and the one-partner query (concurrency 16). What is compared is the
# server's CPU time per request, which the load generator and PostgreSQL
# sharing the cores disturb less than requests per second; the builds
# alternate, so a drift of the machine falls on both.
#
#   scripts/compare.sh OLD_BINARY NEW_BINARY            # 3 rounds of 15 s a query
#   ROUNDS=5 DURATION=20s scripts/compare.sh A B
#   scripts/compare.sh A B "FAST_PATH=false B"         # a third, with its environment
#
# The database (pr_load) is the one scripts/load.sh builds; it is built here
# too when missing, with the first binary.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/load/common.sh

[ $# -ge 2 ] || { echo "usage: $0 BINARY BINARY [\"ENV=VALUE BINARY\"…]" >&2; exit 2; }
PG="${LOAD_POSTGRES_SERVER:-postgres://postgres@127.0.0.1:5432}"
DB=pr_load
PORT="${LOAD_PORT:-18090}"
URL="http://127.0.0.1:$PORT/graphql"
ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-15s}"
command -v wrk >/dev/null || { echo "wrk is needed (apt-get install wrk)" >&2; exit 1; }

first=${1##* }
if ! psql "$PG/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
    psql -q "$PG/postgres" -c "CREATE DATABASE $DB"
    DATABASE_URL="$PG/$DB" "$first" seed --synthetic --partners 2000 --seed 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for name in q1 one-partner; do
    graphql_body "scripts/load/$name.graphql" >"$work/$name.json"
done

# Serves with one build ("ENV=VALUE … BINARY") and measures both queries.
measure() {
    env DATABASE_URL="$PG/$DB" LISTEN_ADDR="127.0.0.1:$PORT" METRICS_ADDR=off BUDGET_PER_ADDRESS=0 RUST_LOG=warn $1 serve &
    local server=$!
    wait_ready "$PORT"
    for run in q1:8 one-partner:16; do
        local name=${run%%:*} conc=${run##*:}
        # A short warm-up, not counted.
        WRK_BODY_FILE="$work/$name.json" wrk -t2 -c"$conc" -d3s -s scripts/load/post.lua "$URL" >/dev/null
        local before after out
        before=$(cpu_ticks "$server")
        out=$(WRK_BODY_FILE="$work/$name.json" wrk -t2 -c"$conc" -d"$DURATION" --timeout 30s -s scripts/load/post.lua "$URL")
        after=$(cpu_ticks "$server")
        awk -v label="$1" -v name="$name" -v conc="$conc" -v ticks=$((after - before)) -v hz="$(getconf CLK_TCK)" '
            /requests in/ { n = $1 } /^Requests\/sec/ { rps = $2 } /Non-2xx|Socket errors/ { err = err " " $0 }
            END { printf "%-40s %-12s c=%-3s %9s req/s %9.2f ms CPU/req%s\n", label, name, conc, rps, ticks * 1000 / hz / n, err }' <<<"$out"
    done
    echo "$1: peak RSS $(peak_rss "$server")"
    kill "$server"
    wait "$server" 2>/dev/null || true
}

for round in $(seq 1 "$ROUNDS"); do
    echo "== round $round"
    for build in "$@"; do
        measure "$build"
    done
done
