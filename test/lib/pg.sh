# Shared by the test, demo and bench scripts: a private PostgreSQL 15 install tree with this build
# installed into it, and throwaway servers run as the `postgres` user (PostgreSQL refuses root).
#
# The private tree is a copy of the system's PostgreSQL under $PGS_ROOT; PostgreSQL finds its share
# and lib directories relative to its own binary, so `make install DESTDIR=$PGS_ROOT` lands where
# that copy looks and the system installation is never touched. Several checkouts can therefore
# test side by side on different ports.
#
# Use: source test/lib/pg.sh; pgs_setup; pgs_start [conf lines...]; pgs_psql -c ...; pgs_stop
set -euo pipefail

PGS_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PGS_PORT=${PGS_PORT:-54329}
PGS_SYSBIN=$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)

pgs_log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# Creates $PGS_ROOT (a temp dir unless set), copies PostgreSQL into it, builds and installs the
# extension there. Sets PGS_BIN, PGS_DATA, PGS_SOCK. Whoever created the temp dir removes it
# (pgs_stop); a script given PGS_ROOT by its caller (test/run's harnesses) leaves it to the caller.
pgs_setup() {
  if [ -z "${PGS_ROOT:-}" ]; then
    PGS_ROOT=$(mktemp -d /tmp/pg_segments.XXXXXX)
    pgs_created_root=1
  fi
  mkdir -p "$PGS_ROOT"
  chmod 755 "$PGS_ROOT"
  local sysbin sysshare
  sysbin=$(pg_config --bindir); sysshare=$(pg_config --sharedir)
  local libroot=${sysbin%/bin}
  if [ ! -x "$PGS_ROOT$sysbin/postgres" ]; then
    mkdir -p "$PGS_ROOT$(dirname "$libroot")" "$PGS_ROOT$(dirname "$sysshare")"
    cp -a "$libroot" "$PGS_ROOT$libroot"
    cp -a "$sysshare" "$PGS_ROOT$sysshare"
  fi
  PGS_BIN=$PGS_ROOT$sysbin
  PGS_DATA=$PGS_ROOT/data
  PGS_SOCK=$PGS_ROOT/sock
  mkdir -p "$PGS_SOCK"
  chown postgres:postgres "$PGS_SOCK"
  (cd "$PGS_REPO" && make -s -j"$(nproc)" >/dev/null && make -s install DESTDIR="$PGS_ROOT" >/dev/null)
  export PGHOST=$PGS_SOCK PGPORT=$PGS_PORT PGUSER=postgres
}

# Starts a fresh cluster; each argument is one postgresql.conf line (e.g. shared_preload_libraries).
pgs_start() {
  pgs_stop_quiet
  rm -rf "$PGS_DATA"
  mkdir -p "$PGS_DATA"
  chown postgres:postgres "$PGS_DATA"
  runuser -u postgres -- "$PGS_BIN/initdb" -D "$PGS_DATA" -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
  {
    echo "port = $PGS_PORT"
    echo "listen_addresses = ''"
    echo "unix_socket_directories = '$PGS_SOCK'"
    echo "timezone = 'UTC'"
    echo "max_worker_processes = 16"
    echo "max_parallel_workers_per_gather = 2"
    for line in "$@"; do echo "$line"; done
  } >> "$PGS_DATA/postgresql.conf"
  pgs_ctl start
}

pgs_restart() { pgs_ctl restart -m fast; }

pgs_ctl() {
  runuser -u postgres -- "$PGS_BIN/pg_ctl" -D "$PGS_DATA" -l "$PGS_DATA/server.log" -w -t 60 "$@" >/dev/null \
    || { tail -20 "$PGS_DATA/server.log" >&2; return 1; }
}

pgs_stop_quiet() {
  if [ -n "${PGS_DATA:-}" ] && [ -f "$PGS_DATA/postmaster.pid" ]; then
    runuser -u postgres -- "$PGS_BIN/pg_ctl" -D "$PGS_DATA" -w -t 60 stop -m fast >/dev/null 2>&1 || true
  fi
}

# Stops the server and removes the private tree if pgs_setup created it (PGS_KEEP=1 keeps it, to
# look at a failed run).
pgs_stop() {
  pgs_stop_quiet
  if [ "${pgs_created_root:-0}" = 1 ] && [ "${PGS_KEEP:-0}" != 1 ] && [[ "$PGS_ROOT" == /tmp/pg_segments.* ]]; then
    rm -rf "$PGS_ROOT"
  fi
}

pgs_psql() { "$PGS_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "${PGS_DB:-postgres}" "$@"; }

# A small generated shop for a harness: database $1 with about $2 orders of $3 customers
# (scripts/generate_shop.sql, seed $4), its tables mapped as sources (demo/map_sources.sql) and
# the facts refreshed. Sets PGS_DB to it.
pgs_demo_shop() {  # db orders customers seed
  pgs_psql -c "CREATE DATABASE $1" >/dev/null
  export PGS_DB=$1
  pgs_psql -v orders="$2" -v customers="$3" -v seed="$4" -f "$PGS_REPO/scripts/generate_shop.sql" >/dev/null
  pgs_psql -f "$PGS_REPO/demo/map_sources.sql" -c "SELECT segments.refresh_facts()" >/dev/null
}

# For harnesses: report a passed check, or fail with the server log's last lines and exit.
ok() { echo "ok - $*"; }
fail() {
  echo "FAIL: $*" >&2
  if [ -n "${PGS_DATA:-}" ] && [ -f "$PGS_DATA/server.log" ]; then
    echo "--- last server log lines" >&2
    tail -40 "$PGS_DATA/server.log" >&2
  fi
  exit 1
}
