#!/usr/bin/env bash
# Load test on loopback: the release server on PostgreSQL with a synthetic
# set (2,000 partners by default), then wrk against
#   - Q1 at concurrency 1, 8 and 16, and Q1 without its funders (its
#     first four levels, which read the same rows on either set; the
#     funders' level reads one partner per distinct funder on the page,
#     at most the set's donors),
#   - the one-partner query (a partner's nested page) and a partner by
#     slug with two fields, at concurrency 1 and 16,
#   - a page of search hits for two words at concurrency 1 and 8,
# each with its latency and the server's CPU time per request; the
# server's peak RSS; and the floor: Q1's five statements, plain rows,
# through pgbench -M prepared at the same concurrencies, with Q1's ratio
# to it (and Q1 without funders against its own four); then the requests
# that read every matching row (totals, counts)
# and search pages for words of each kind, one at a time.
#
#   scripts/load.sh                          # 15 s per run, 2,000 partners
#   LOAD_DURATION=30s scripts/load.sh
#   LOAD_PARTNERS=10000 scripts/load.sh      # its own database, built once
#   LOAD_DONORS=2000 scripts/load.sh         # funders drawn from 2,000 partners, not seed's default
#   LOAD_BINARY=path/to/partnership-registry scripts/load.sh   # no build
#
# Every request goes to 127.0.0.1; every run is bounded by LOAD_DURATION,
# each query (and the floor) first sent for LOAD_WARMUP (3 s), not counted.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/load/common.sh

PG="${LOAD_POSTGRES_SERVER:-postgres://postgres@127.0.0.1:5432}"
PARTNERS="${LOAD_PARTNERS:-2000}"
DB=pr_load
[ "$PARTNERS" = 2000 ] || DB="pr_load_$PARTNERS"
DONORS="${LOAD_DONORS:-}"
[ -z "$DONORS" ] || DB="${DB}_donors_$DONORS"
PORT="${LOAD_PORT:-18080}"
DURATION="${LOAD_DURATION:-15s}"
WARMUP="${LOAD_WARMUP:-3s}"
URL="http://127.0.0.1:$PORT/graphql"

if ! command -v wrk >/dev/null; then
    echo "installing wrk (Debian package)" >&2
    apt-get install -y -qq wrk >/dev/null
fi
command -v pgbench >/dev/null || { echo "pgbench is needed (PostgreSQL client tools)" >&2; exit 1; }

if [ -n "${LOAD_BINARY:-}" ]; then
    BIN=$LOAD_BINARY
else
    cargo build --release --quiet
    BIN=target/release/partnership-registry
fi

if ! psql "$PG/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
    psql -q "$PG/postgres" -c "CREATE DATABASE $DB"
    DATABASE_URL="$PG/$DB" "$BIN" seed --synthetic --partners "$PARTNERS" ${DONORS:+--donors "$DONORS"} --seed 1
fi

# Logging every statement (with its parameters: thousands of ids per
# level) costs PostgreSQL more than running it, for the server and the
# floor alike; figures taken so say little about either.
logging=$(psql "$PG/$DB" -tAc "SHOW log_min_duration_statement")
if [ "$logging" != "-1" ]; then
    echo "warning: log_min_duration_statement is $logging on $DB: statements are logged, figures will be low" >&2
fi

DATABASE_URL="$PG/$DB" LISTEN_ADDR="127.0.0.1:$PORT" METRICS_ADDR=off BUDGET_PER_ADDRESS=0 RUST_LOG=warn "$BIN" serve &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true' EXIT
wait_ready "$PORT"

TICK=$(getconf CLK_TCK)
declare -A RPS

echo "$PARTNERS partners, $(psql "$PG/$DB" -tAc "SELECT COUNT(*) FROM project") projects, $(psql "$PG/$DB" -tAc "SELECT COUNT(DISTINCT funder_id) FROM funding") funders; $DURATION a run"
printf '%-18s %5s %10s %9s %9s %12s\n' query conc "req/s" "p50" "p99" "server CPU"
for run in q1:1,8,16 q1-without-funders:1,8,16 one-partner:1,16 partner-by-slug:1,16 search:1,8; do
    name=${run%%:*}
    file=$(mktemp)
    graphql_body "scripts/load/$name.graphql" >"$file"
    # The query must answer without errors before it is measured.
    if curl -s "$URL" -H 'content-type: application/json' --data @"$file" | grep -q '"errors"'; then
        echo "$name answered with errors" >&2
        exit 1
    fi
    # A warm-up of each query, not counted: the first seconds after the
    # server starts (allocator, connections, PostgreSQL's caches) are not
    # the pace it keeps.
    WRK_BODY_FILE="$file" wrk -t1 -c1 -d"$WARMUP" -s scripts/load/post.lua "$URL" >/dev/null
    concs=${run##*:}
    for c in ${concs//,/ }; do
        threads=$((c < 2 ? 1 : 2))
        before=$(cpu_ticks "$SERVER")
        out=$(WRK_BODY_FILE="$file" wrk -t"$threads" -c"$c" -d"$DURATION" --timeout 30s --latency -s scripts/load/post.lua "$URL")
        rps=$(awk '/^Requests\/sec/ { print $2 }' <<<"$out")
        p50=$(awk '$1 == "50%" { print $2 }' <<<"$out")
        p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
        errors=$(awk '/Non-2xx|Socket errors/' <<<"$out")
        # What one request cost the server's CPU, whatever the machine's load.
        requests=$(awk '/requests in/ { print $1 }' <<<"$out")
        cpu=$(awk -v t="$(($(cpu_ticks "$SERVER") - before))" -v hz="$TICK" -v n="$requests" \
            'BEGIN { if (n > 0) printf "%.2f ms/req", t * 1000 / hz / n }')
        printf '%-18s %5s %10s %9s %9s %12s %s\n' "$name" "$c" "$rps" "$p50" "$p99" "$cpu" "$errors"
        RPS[$name:$c]=$rps
    done
    rm -f "$file"
done

echo "server peak RSS: $(peak_rss "$SERVER")"

# The floor's parents, level by level, worked out once by running its own
# statements: the first column of each level's rows is the next level's key.
mapfile -t STATEMENTS < <(grep -Ev '^(--|$)' scripts/load/q1-floor.sql)
vars=()
defines=()
for i in "${!STATEMENTS[@]}"; do
    [ "$i" -lt 4 ] || break
    name=$(awk -v i="$i" 'BEGIN { split("partners agreements projects funders", n); print n[i + 1] }')
    ids=$(psql "$PG/$DB" -tA "${vars[@]}" <<<"${STATEMENTS[$i]}" | cut -d'|' -f1 | sort -un | paste -sd,)
    vars+=(-v "$name='{$ids}'")
    defines+=(-D "$name={$ids}")
done

# Each query's floor: its statements, bound to the parents worked out above.
for query in q1 q1-without-funders; do
    script=scripts/load/$query-floor.sql
    pgbench -n -M prepared -c 1 -j 1 -T "${WARMUP%s}" "${defines[@]}" -f "$script" "$PG/$DB" >/dev/null 2>&1
    for conc in 1 8 16; do
        threads=$((conc < 2 ? 1 : 2))
        tps=$(pgbench -n -M prepared -c "$conc" -j "$threads" -T "${DURATION%s}" "${defines[@]}" \
            -f "$script" "$PG/$DB" 2>/dev/null | awk '/^tps/ { print $3 }')
        printf 'floor of %s (its statements, plain rows, pgbench -M prepared) conc %2s: %s transactions/s; %s / floor = %s\n' \
            "$query" "$conc" "$tps" "$query" \
            "$(awk -v q="${RPS[$query:$conc]:-0}" -v f="$tps" 'BEGIN { if (f > 0) printf "%.2f", q / f }')"
    done
done

# Work that reads every matching row, whatever the page: one request at a
# time, the median of five.
for name in count-fundings totals-by-currency search-total; do
    file=$(mktemp)
    graphql_body "scripts/load/$name.graphql" >"$file"
    times=$(for _ in 1 2 3 4 5; do
        curl -s -o /dev/null -w '%{time_total}\n' "$URL" -H 'content-type: application/json' --data @"$file"
    done | sort -n | sed -n 3p)
    printf '%-20s one at a time: median %.1f ms\n' "$name" "$(awk -v t="$times" 'BEGIN { print t * 1000 }')"
    rm -f "$file"
done

# A search page for words of each kind, one at a time, the median of
# seven: words the trigram indexes serve, and words that make the search
# read rows (under three letters; a phrase every project's name holds).
for words in "border security" "sp1234" "partner 1999" "cyber" "la" "synthetic project"; do
    file=$(mktemp)
    python3 -c 'import json, sys; text = open(sys.argv[1]).read(); print(json.dumps({"query": text.replace("\"border security\"", json.dumps(sys.argv[2]))}))' \
        scripts/load/search.graphql "$words" >"$file"
    times=$(for _ in 1 2 3 4 5 6 7; do
        curl -s -o /dev/null -w '%{time_total}\n' "$URL" -H 'content-type: application/json' --data @"$file"
    done | sort -n | sed -n 4p)
    printf '%-20s search page, one at a time: median %.1f ms\n' "\"$words\"" "$(awk -v t="$times" 'BEGIN { print t * 1000 }')"
    rm -f "$file"
done
