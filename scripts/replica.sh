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
DIR="${REPLICA_DIR:-/var/tmp/partnership-registry-replica}"
replica_sql() { psql -h 127.0.0.1 -p "$REPLICA_PORT" -U postgres -d postgres -Atc "$1"; }

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

if pg_isready -q -h 127.0.0.1 -p "$REPLICA_PORT"; then
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
first_rule=$(grep -nEv '^[[:space:]]*(#|$)' "$hba" | head -n1 | cut -d: -f1)
if [ "$(sed -n "${first_rule:-0}p" "$hba")" != "$line" ]; then
    echo "letting 127.0.0.1 replicate ($hba)"
    edited=$(mktemp)
    awk -v line="$line" -v at="${first_rule:-0}" 'NR == at { print line } $0 != line { print } END { if (at == 0) print line }' \
        "$hba" >"$edited"
    # Written in place: the file keeps its owner and mode.
    cat "$edited" >"$hba"
    rm -f "$edited"
    psql "$PRIMARY" -qAtc "SELECT pg_reload_conf()" >/dev/null
fi
# What the server now applies to a replication connection from 127.0.0.1.
applied=$(psql "$PRIMARY" -Atc "SELECT auth_method FROM pg_hba_file_rules
    WHERE error IS NULL AND type IN ('host', 'hostnossl') AND 'replication' = ANY (database)
      AND (address = 'all' OR (address ~ '^[0-9.]+$'
           AND ('127.0.0.1'::inet & netmask::inet) = (address::inet & netmask::inet)))
    ORDER BY line_number LIMIT 1")
if [ "$applied" != trust ]; then
    echo "FATAL: $hba does not let 127.0.0.1 replicate without a password (first matching rule: ${applied:-none})" >&2
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
