# Shared by scripts/load.sh, compare.sh and instructions.sh (sourced).

# A GraphQL document file as a JSON request body.
graphql_body() {
    python3 -c 'import json,sys; print(json.dumps({"query": open(sys.argv[1]).read()}))' "$1"
}

# Waits (up to a minute) until the server on PORT says it is ready.
wait_ready() {
    for _ in $(seq 1 600); do
        curl -sf "http://127.0.0.1:$1/ready" >/dev/null && return 0
        sleep 0.1
    done
    echo "the server on port $1 did not become ready" >&2
    return 1
}

# A process's CPU time so far (user + system), in clock ticks.
cpu_ticks() {
    awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# A process's peak resident set so far, in MiB.
peak_rss() {
    awk '/VmHWM/ { printf "%.1f MiB", $2 / 1024 }' "/proc/$1/status"
}
