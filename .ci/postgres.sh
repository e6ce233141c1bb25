#!/usr/bin/env bash
# A throw-away PostgreSQL server for the store tests: `.ci/postgres.sh start|stop|status`.
#
#   export MODELMON_TEST_POSTGRES_URI="$(.ci/postgres.sh start)"
#   .venv/bin/pytest tests/store
#   .ci/postgres.sh stop
#
# `start` installs Debian's postgresql package if it is missing, initialises an isolated cluster
# (not the system's 15/main) under $MODELMON_PG_ROOT, listens on 127.0.0.1:$MODELMON_PG_PORT only,
# with trust auth and fsync off (test data is disposable), creates the database and prints its URI
# on stdout; everything else goes to stderr. Both commands are idempotent.
set -euo pipefail

ROOT=${MODELMON_PG_ROOT:-/tmp/modelmon-ci-postgres}
PORT=${MODELMON_PG_PORT:-55432}
DB=${MODELMON_PG_DB:-modelmon_test}
URI="postgresql://postgres@127.0.0.1:${PORT}/${DB}"

log() { echo "postgres.sh: $*" >&2; }

find_bindir() {
    # The newest installed server version; Debian keeps each under /usr/lib/postgresql/<major>/bin.
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [[ -n "$dir" && -x "$dir/initdb" ]]; then echo "$dir"; fi
}

# initdb refuses to run as root, so as root every server command runs as the postgres user.
as_owner() {
    if [[ $(id -u) -eq 0 ]]; then
        su postgres -s /bin/bash -c "$(printf '%q ' "$@")"
    else
        "$@"
    fi
}

install_postgres() {
    if [[ $(id -u) -ne 0 ]]; then
        log "PostgreSQL is not installed and installing it needs root: apt-get install -y postgresql"
        exit 1
    fi
    log "installing Debian's postgresql package"
    export DEBIAN_FRONTEND=noninteractive
    # The package lists are refreshed only when the plain install fails: usually they are current.
    if ! apt-get install -y -q postgresql >&2; then
        apt-get update -q >&2
        apt-get install -y -q postgresql >&2
    fi
}

start() {
    local bin
    bin=$(find_bindir)
    if [[ -z "$bin" ]]; then
        install_postgres
        bin=$(find_bindir)
    fi
    mkdir -p "$ROOT"
    if [[ $(id -u) -eq 0 ]]; then chown postgres:postgres "$ROOT"; fi
    if [[ ! -f "$ROOT/data/PG_VERSION" ]]; then
        log "initialising a cluster in $ROOT/data"
        as_owner "$bin/initdb" -D "$ROOT/data" -A trust -U postgres -E UTF8 --no-instructions >&2
    fi
    if as_owner "$bin/pg_ctl" -D "$ROOT/data" status >/dev/null 2>&1; then
        log "already running on port $PORT"
    else
        as_owner "$bin/pg_ctl" -D "$ROOT/data" -l "$ROOT/log" -w -t 60 \
            -o "-p $PORT -k $ROOT -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
            start >&2
    fi
    local psql="$bin/psql"
    if ! "$psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -tAc \
        "select 1 from pg_database where datname = '$DB'" | grep -q 1; then
        "$psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -qc "create database \"$DB\"" >&2
    fi
    echo "$URI"
}

stop() {
    local bin
    bin=$(find_bindir)
    if [[ -z "$bin" || ! -f "$ROOT/data/PG_VERSION" ]]; then
        log "nothing to stop"
        return 0
    fi
    if as_owner "$bin/pg_ctl" -D "$ROOT/data" status >/dev/null 2>&1; then
        as_owner "$bin/pg_ctl" -D "$ROOT/data" -m fast -w stop >&2
    else
        log "not running"
    fi
}

status() {
    local bin
    bin=$(find_bindir)
    if [[ -n "$bin" && -f "$ROOT/data/PG_VERSION" ]] && as_owner "$bin/pg_ctl" -D "$ROOT/data" status >/dev/null 2>&1; then
        echo "$URI"
    else
        log "not running"
        return 3
    fi
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
