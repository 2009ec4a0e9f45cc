#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests and development, in a directory of its own.
#
#   tests/support/postgres.sh start   # initdb (first time) and start; prints the URL
#   tests/support/postgres.sh url     # the URL of the running cluster
#   tests/support/postgres.sh stop    # stop it (the data directory stays until `destroy`)
#   tests/support/postgres.sh destroy # stop it and remove its directory
#
# The engine test suites run against it when PROVISIONER_TEST_POSTGRES_URL is set:
#   PROVISIONER_TEST_POSTGRES_URL="$(tests/support/postgres.sh start)" cargo test -p provisioner-engine
#
# Settings (environment): PROVISIONER_PG_DIR (default: $TMPDIR/provisioner-pg), PROVISIONER_PG_PORT
# (default: 54329). The cluster listens on 127.0.0.1 and on a socket in its directory, with
# `trust` authentication for the local user `provisioner` (a test cluster, never a production one),
# and the C locale, so text orders bytewise as in SQLite.
# PostgreSQL's server binaries must be installed (Debian: `apt-get install -y postgresql`).
# PostgreSQL refuses to run as root; run as root, the cluster belongs to the `postgres` user.
set -euo pipefail

dir="${PROVISIONER_PG_DIR:-${TMPDIR:-/tmp}/provisioner-pg}"
port="${PROVISIONER_PG_PORT:-54329}"
user=provisioner
url="postgres://$user@127.0.0.1:$port/postgres"

pg_bin() {
    if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
        dirname "$(command -v pg_ctl)"
        return
    fi
    local found
    found="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    if [[ -z "$found" ]]; then
        echo "postgres.sh: PostgreSQL's server binaries (initdb, pg_ctl) are not installed;" \
            "install them (Debian: apt-get install -y postgresql) and run this again" >&2
        exit 1
    fi
    echo "$found"
}

# Runs a command as the cluster's owner: the current user, or `postgres` when that is root.
as_owner() {
    if [[ "$(id -u)" == 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

bin="$(pg_bin)"

start() {
    if [[ ! -s "$dir/data/PG_VERSION" ]]; then
        mkdir -p "$dir"
        [[ "$(id -u)" == 0 ]] && chown postgres "$dir"
        as_owner "$bin/initdb" --pgdata "$dir/data" --username "$user" --auth trust \
            --encoding UTF8 --locale C --no-instructions >"$dir/initdb.log" 2>&1 ||
            { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    if ! as_owner "$bin/pg_ctl" --pgdata "$dir/data" status >/dev/null 2>&1; then
        # Settings for a disposable cluster: durability is not the point, speed and many
        # test databases are.
        as_owner "$bin/pg_ctl" --pgdata "$dir/data" --log "$dir/server.log" --wait \
            -o "-k $dir -p $port -h 127.0.0.1 -c max_connections=400 -c fsync=off \
                -c synchronous_commit=off -c full_page_writes=off" start >/dev/null ||
            { cat "$dir/server.log" >&2; exit 1; }
    fi
    echo "$url"
}

stop() {
    if [[ -s "$dir/data/PG_VERSION" ]]; then
        as_owner "$bin/pg_ctl" --pgdata "$dir/data" --mode fast stop >/dev/null 2>&1 || true
    fi
}

case "${1:-}" in
start) start ;;
stop) stop ;;
url) echo "$url" ;;
destroy)
    stop
    rm -rf "$dir"
    ;;
*)
    echo "usage: $0 start|stop|url|destroy" >&2
    exit 2
    ;;
esac
