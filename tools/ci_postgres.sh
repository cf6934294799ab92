#!/usr/bin/env bash
# Install (Debian's postgresql package) and start a throw-away PostgreSQL server on 127.0.0.1 for
# the oracle's storage tests, create the test database, and print the line to export:
#
#   eval "$(tools/ci_postgres.sh)"      # sets WATTNET_TEST_PG_DSN
#
# Idempotent: reuses the cluster in $WATTNET_PG_DIR (default var/pg, git-ignored) and a running
# server. Logs go to stderr; stdout carries only the export line. Stop it with
#   tools/ci_postgres.sh stop
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PGDIR="${WATTNET_PG_DIR:-$ROOT/var/pg}"
# A port chosen once per cluster (a free one, unless WATTNET_PG_PORT says) and remembered beside it,
# so clusters of two checkouts never collide and a rerun finds its own server again.
if [[ -n "${WATTNET_PG_PORT:-}" ]]; then
  PORT="$WATTNET_PG_PORT"
elif [[ -f "$PGDIR/port" ]]; then
  PORT="$(cat "$PGDIR/port")"
else
  PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
fi
DB="${WATTNET_PG_DB:-wattnet_test}"
log() { echo "ci_postgres: $*" >&2; }

find_bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

BINDIR="$(find_bindir || true)"
if [[ -z "$BINDIR" || ! -x "$BINDIR/initdb" ]]; then
  log "installing postgresql with apt-get"
  SUDO=""; [[ "$(id -u)" != 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >&2
  BINDIR="$(find_bindir)"
fi

# PostgreSQL refuses to run as root: as root, the cluster belongs to the 'postgres' system user.
if [[ "$(id -u)" == 0 ]]; then
  RUNAS=(runuser -u postgres --); DBUSER=postgres
else
  RUNAS=(); DBUSER="$(id -un)"
fi
run() { "${RUNAS[@]}" "$@"; }

if [[ "${1:-}" == "stop" ]]; then
  run "$BINDIR/pg_ctl" -D "$PGDIR/data" -m fast stop >&2 || true
  exit 0
fi

mkdir -p "$PGDIR"
[[ -f "$PGDIR/port" ]] || echo "$PORT" > "$PGDIR/port"
[[ "$(id -u)" == 0 ]] && chown postgres:postgres "$PGDIR"
if [[ ! -f "$PGDIR/data/PG_VERSION" ]]; then
  log "initdb in $PGDIR/data"
  run "$BINDIR/initdb" -D "$PGDIR/data" -U "$DBUSER" --auth=trust -E UTF8 --locale=C.UTF-8 >&2
fi
if ! run "$BINDIR/pg_ctl" -D "$PGDIR/data" status >/dev/null 2>&1; then
  log "starting server on 127.0.0.1:$PORT"
  run "$BINDIR/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -c port=$PORT -c unix_socket_directories=$PGDIR -c fsync=on -c max_connections=200" \
    start >&2
fi
if ! run "$BINDIR/psql" -h 127.0.0.1 -p "$PORT" -U "$DBUSER" -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
  run "$BINDIR/createdb" -h 127.0.0.1 -p "$PORT" -U "$DBUSER" "$DB" >&2
fi
echo "export WATTNET_TEST_PG_DSN=postgresql://$DBUSER@127.0.0.1:$PORT/$DB"
