#!/usr/bin/env bash
# The whole test suite, on SQLite and on PostgreSQL, with what it needs:
# PostgreSQL reachable (started if it is installed but down) and Debian's
# Chromium for the GraphiQL browser test (installed if missing), and a
# streaming replica of that PostgreSQL on a second port (scripts/replica.sh).
# Fails, never skips, when any cannot be had.
#
#   scripts/test.sh                 # everything
#   scripts/test.sh subscriptions   # arguments go to `cargo test` as a filter
set -euo pipefail
cd "$(dirname "$0")/.."

export TEST_POSTGRES_URL="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
hostport="${TEST_POSTGRES_URL#*@}"
hostport="${hostport%%/*}"
pg_host="${hostport%%:*}"
pg_port="${hostport##*:}"
[ "$pg_port" = "$hostport" ] && pg_port=5432

pg_up() {
    if command -v pg_isready >/dev/null 2>&1; then
        pg_isready -q -h "$pg_host" -p "$pg_port"
    else
        (exec 3<>"/dev/tcp/$pg_host/$pg_port") 2>/dev/null
    fi
}

if ! pg_up; then
    echo "PostgreSQL is down at $pg_host:$pg_port; starting it"
    if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
        pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    fi
    for _ in $(seq 1 30); do
        pg_up && break
        sleep 1
    done
fi
if ! pg_up; then
    echo "FATAL: PostgreSQL is not reachable at $pg_host:$pg_port; the PostgreSQL half of the suite cannot run" >&2
    exit 1
fi

# A streaming replica of that cluster on a second port, for the read-replica tests.
if ! bash scripts/replica.sh; then
    echo "FATAL: no streaming replica could be started; the read-replica tests cannot run" >&2
    exit 1
fi
export TEST_POSTGRES_REPLICA_PORT="${REPLICA_PORT:-5433}"

CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ]; then
    echo "Chromium is missing at $CHROMIUM; installing Debian's chromium for the browser test"
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null ||
            { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
    fi
fi
if [ ! -x "$CHROMIUM" ]; then
    echo "FATAL: Chromium is needed at $CHROMIUM for the GraphiQL browser test (apt-get install chromium, or set CHROMIUM)" >&2
    exit 1
fi
export CHROMIUM

# Databases left behind by an interrupted earlier run.
if command -v psql >/dev/null 2>&1; then
    psql "$TEST_POSTGRES_URL" -Atc "SELECT datname FROM pg_database WHERE datname LIKE 'pr\_test\_%'" |
        while read -r db; do psql -q "$TEST_POSTGRES_URL" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)"; done
fi

exec cargo test --workspace --locked "$@"
