#!/usr/bin/env bash
# Instructions per request, whole server process, under callgrind: each
# build serves the load database (scripts/load.sh builds it) once with no
# request and once with N, and the difference over N is what one request
# costs, from the socket read to the response write. Counts, unlike times,
# do not move with what else the machine is doing, so two builds compare
# to within a fraction of a percent.
#
#   scripts/instructions.sh scripts/load/one-partner.graphql 200 OLD_BINARY NEW_BINARY
#   scripts/instructions.sh scripts/load/q1.graphql 5 target/release/partnership-registry
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/load/common.sh

[ $# -ge 3 ] || { echo "usage: $0 QUERY_FILE REQUESTS BINARY [BINARY…]" >&2; exit 2; }
query=$1 requests=$2
shift 2
command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install valgrind)" >&2; exit 1; }
PG="${LOAD_POSTGRES_SERVER:-postgres://postgres@127.0.0.1:5432}"
DB="${LOAD_DATABASE:-pr_load}"
PORT="${LOAD_PORT:-18191}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
graphql_body "$query" >"$work/body.json"

# Instructions the server ran serving `n` requests, start and stop included.
count() {
    local binary=$1 n=$2 out="$work/callgrind.$RANDOM"
    DATABASE_URL="$PG/$DB" LISTEN_ADDR="127.0.0.1:$PORT" METRICS_ADDR=off BUDGET_PER_ADDRESS=0 RUST_LOG=warn \
        valgrind --tool=callgrind --callgrind-out-file="$out" "$binary" serve >/dev/null 2>&1 &
    local server=$!
    wait_ready "$PORT"
    for _ in $(seq 1 "$n"); do
        curl -sf "http://127.0.0.1:$PORT/graphql" -H 'content-type: application/json' --data @"$work/body.json" >/dev/null
    done
    kill -INT "$server"
    wait "$server" 2>/dev/null || true
    awk '/^summary:/ { print $2 }' "$out"
}

for binary in "$@"; do
    idle=$(count "$binary" 0)
    busy=$(count "$binary" "$requests")
    awk -v b="$binary" -v q="$query" -v i="$idle" -v s="$busy" -v n="$requests" \
        'BEGIN { printf "%-50s %-36s %8.3f M instructions a request\n", b, q, (s - i) / n / 1e6 }'
done
