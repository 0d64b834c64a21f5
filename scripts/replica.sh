#!/usr/bin/env bash
# A streaming replica of the local PostgreSQL cluster, for the read-replica
# tests: a pg_basebackup of it, served on a second port. Does nothing but
# resume replay when one already runs there. Needs root (or the postgres
# user): it lets loopback connections replicate (pg_hba.conf) and runs the
# standby as postgres.
#
#   scripts/replica.sh      # primary TEST_POSTGRES_URL's server, replica on REPLICA_PORT (5433)
set -euo pipefail

PRIMARY="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
hostport="${PRIMARY#*@}"
hostport="${hostport%%/*}"
primary_host="${hostport%%:*}"
primary_port="${hostport##*:}"
[ "$primary_port" = "$hostport" ] && primary_port=5432
REPLICA_PORT="${REPLICA_PORT:-5433}"
# Absolute, as the server reports its data_directory: that is how a running
# replica is told apart from another server on the port.
DIR=$(realpath -m -- "${REPLICA_DIR:-/var/tmp/partnership-registry-replica}")
replica_sql() { psql -h 127.0.0.1 -p "$REPLICA_PORT" -U postgres -d postgres -Atc "$1"; }
replica_state() { pg_isready -q -h 127.0.0.1 -p "$REPLICA_PORT" && echo 0 || echo $?; }
# A standby refuses connections until its replay is consistent, so during
# that time only its postmaster.pid (pid, directory, start time, port) tells
# that the server on the port is ours.
ours_starting() {
    local pid port
    [ -f "$DIR/postmaster.pid" ] || return 1
    pid=$(sed -n 1p "$DIR/postmaster.pid")
    port=$(sed -n 4p "$DIR/postmaster.pid")
    [ "$port" = "$REPLICA_PORT" ] && [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

as_postgres() {
    if [ "$(id -un)" = postgres ]; then
        "$@"
    elif [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        echo "FATAL: starting a replica needs root or the postgres user" >&2
        exit 1
    fi
}

# pg_isready: 0 accepting, 1 refusing (starting up), 2 nothing that answers
# the PostgreSQL protocol.
state=$(replica_state)
if [ "$state" = 1 ] && ours_starting; then
    for _ in $(seq 1 60); do
        state=$(replica_state)
        [ "$state" = 1 ] || break
        sleep 0.5
    done
fi
if [ "$state" = 0 ]; then
    # Ours only if it serves our directory: another cluster may own the port.
    if [ "$(replica_sql 'SHOW data_directory' 2>/dev/null)" != "$DIR" ]; then
        echo "FATAL: port $REPLICA_PORT is taken by another PostgreSQL (not $DIR); choose another with REPLICA_PORT" >&2
        exit 1
    fi
    if [ "$(replica_sql 'SELECT pg_is_in_recovery()')" = t ]; then
        # A test stopped half-way may have left replay paused.
        replica_sql 'SELECT pg_wal_replay_resume()' >/dev/null
        echo "replica running on port $REPLICA_PORT"
        exit 0
    fi
elif [ "$state" = 1 ] && ours_starting; then
    : # Ours but stuck refusing connections: it is rebuilt below.
elif [ "$state" = 1 ]; then
    echo "FATAL: port $REPLICA_PORT is taken by another PostgreSQL, which refuses connections (not $DIR); choose another with REPLICA_PORT" >&2
    exit 1
elif (exec 3<>"/dev/tcp/127.0.0.1/$REPLICA_PORT") 2>/dev/null; then
    echo "FATAL: port $REPLICA_PORT is taken by something that is not PostgreSQL; choose another with REPLICA_PORT" >&2
    exit 1
fi

major=$(psql "$PRIMARY" -Atc "SELECT current_setting('server_version_num')::int / 10000")
bin="/usr/lib/postgresql/$major/bin"
[ -x "$bin/pg_ctl" ] || bin="$(dirname "$(command -v pg_basebackup)")"

# Loopback may replicate, as it may already connect (trust). pg_hba.conf is
# first-match, and stock files allow replication with a password further up,
# so the line goes before every rule.
hba=$(psql "$PRIMARY" -Atc "SHOW hba_file")
line="host replication all 127.0.0.1/32 trust"
first=$(awk '!/^[[:space:]]*(#|$)/ { print NR ":" $0; exit }' "$hba")
first_rule="${first%%:*}"
if [ "${first#*:}" != "$line" ]; then
    if [ ! -w "$hba" ]; then
        echo "FATAL: $hba must start with \"$line\" and this user cannot write it (run as root or postgres)" >&2
        exit 1
    fi
    echo "letting 127.0.0.1 replicate ($hba)"
    edited=$(mktemp)
    awk -v line="$line" -v at="${first_rule:-0}" 'NR == at { print line } $0 != line { print } END { if (at == 0) print line }' \
        "$hba" >"$edited"
    # Written in place: the file keeps its owner and mode.
    cat "$edited" >"$hba"
    rm -f "$edited"
fi
# Every time: the file may have been edited since the server last read it.
psql "$PRIMARY" -qAtc "SELECT pg_reload_conf()" >/dev/null
# A file with an error is not loaded at all: the server keeps its old rules.
broken=$(psql "$PRIMARY" -Atc "SELECT line_number || ': ' || error FROM pg_hba_file_rules
    WHERE error IS NOT NULL ORDER BY line_number LIMIT 1")
if [ -n "$broken" ]; then
    echo "FATAL: PostgreSQL ignores $hba, which has an error at line $broken" >&2
    exit 1
fi
# The rule the server applies to a replication connection from 127.0.0.1,
# with or without SSL, for any user: the first that matches it. CASE, not
# AND: an IPv6 address cannot be masked with an IPv4 one, and SQL does not
# promise to test the address's form first.
applied=$(psql "$PRIMARY" -At -F ' ' -c "SELECT line_number, auth_method FROM pg_hba_file_rules
    WHERE type IN ('host', 'hostssl', 'hostnossl') AND 'replication' = ANY (database)
      AND CASE WHEN address ~ '^[0-9.]+$'
               THEN ('127.0.0.1'::inet & netmask::inet) = (address::inet & netmask::inet)
               ELSE address IN ('all', 'samehost', 'samenet') END
    ORDER BY line_number LIMIT 1")
applied_line="${applied%% *}"
applied_method="${applied#* }"
if [ -z "$applied" ] || [ "$applied_method" != trust ] || [ "$(sed -n "${applied_line}p" "$hba")" != "$line" ]; then
    rule="none"
    [ -n "$applied" ] && rule="line $applied_line, $applied_method"
    echo "FATAL: replication from 127.0.0.1 is not let in by \"$line\" in $hba (first matching rule: $rule)" >&2
    exit 1
fi

if [ -f "$DIR/postmaster.pid" ]; then
    as_postgres "$bin/pg_ctl" -D "$DIR" stop -m fast >/dev/null 2>&1 || true
fi
rm -rf "$DIR"
mkdir -p "$DIR"
chown postgres:postgres "$DIR" 2>/dev/null || true
chmod 700 "$DIR"
echo "copying the cluster at $primary_host:$primary_port into $DIR"
as_postgres "$bin/pg_basebackup" -h "$primary_host" -p "$primary_port" -U postgres -D "$DIR" -R -X stream -c fast

# A standby needs at least the primary's values of these.
settings=$(psql "$PRIMARY" -Atc "SELECT string_agg(name || ' = ' || setting, E'\n') FROM pg_settings
    WHERE name IN ('max_connections', 'max_worker_processes', 'max_wal_senders', 'max_prepared_transactions',
                   'max_locks_per_transaction')")
as_postgres tee "$DIR/postgresql.conf" >/dev/null <<CONF
port = $REPLICA_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$DIR'
hot_standby = on
$settings
CONF
as_postgres tee "$DIR/pg_hba.conf" >/dev/null <<'HBA'
local all all trust
host all all 127.0.0.1/32 trust
HBA
as_postgres touch "$DIR/pg_ident.conf"
as_postgres "$bin/pg_ctl" -D "$DIR" -l "$DIR/server.log" -w -t 60 start >/dev/null
for _ in $(seq 1 60); do
    [ "$(replica_sql 'SELECT pg_is_in_recovery()' 2>/dev/null)" = t ] && break
    sleep 0.5
done
if [ "$(replica_sql 'SELECT pg_is_in_recovery()' 2>/dev/null)" != t ]; then
    echo "FATAL: the replica on port $REPLICA_PORT did not come up as a standby (see $DIR/server.log)" >&2
    exit 1
fi
echo "replica running on port $REPLICA_PORT"
