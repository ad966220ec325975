# Helpers for the background-worker harnesses (test/harness/worker_*.sh). Source after pg.sh.
# Every wait is bounded: a harness fails with a clear message instead of hanging.

PGS_WORKER_CONF=("shared_preload_libraries = 'pg_segments'" "pg_segments.naptime = 1")

# pg.sh's fail, plus the worker's own view of itself.
fail() {
  echo "FAIL: $*" >&2
  if [ -n "${PGS_DATA:-}" ] && [ -f "$PGS_DATA/server.log" ]; then
    echo "--- worker status" >&2
    pgs_psql -c "SELECT * FROM segments.worker_status" >&2 2>/dev/null || true
    echo "--- last server log lines" >&2
    tail -40 "$PGS_DATA/server.log" >&2
  fi
  exit 1
}


now_s() { date +%s.%N; }
elapsed_since() { awk -v a="$1" -v b="$(now_s)" 'BEGIN { printf "%.2f", b - a }'; }

# q SQL: one value, unaligned (in $PGS_DB, default postgres)
q() { pgs_psql -tA -c "$1"; }

# wait_for SECONDS WHAT SQL: polls SQL (every 0.1 s) until it returns t; fails after SECONDS.
wait_for() {
  local limit=$1 what=$2 sql=$3 start r
  start=$(now_s)
  while :; do
    r=$(pgs_psql -tA -c "$sql" 2>/dev/null || true)
    [ "$r" = t ] && return 0
    if awk -v a="$start" -v b="$(now_s)" -v l="$limit" 'BEGIN { exit !(b - a > l) }'; then
      fail "timed out after ${limit}s waiting for: $what"
    fi
    sleep 0.1
  done
}

# expect WHAT ACTUAL EXPECTED
expect() {
  [ "$2" = "$3" ] || fail "$1: expected [$3], got [$2]"
  ok "$1"
}

scheduler_pid() { q "SELECT pid FROM segments.worker_status WHERE kind = 'scheduler' AND database = '${1:-postgres}'"; }

# The extension plus a tiny shop in database ${PGS_DB:-postgres}. Segments are queries over it.
setup_db() {
  pgs_psql -c "CREATE EXTENSION IF NOT EXISTS pg_segments" >/dev/null
  pgs_psql >/dev/null <<'SQL'
CREATE SCHEMA shop;
CREATE TABLE shop.orders (order_id serial PRIMARY KEY, customer_id text NOT NULL, total numeric NOT NULL);
INSERT INTO shop.orders (customer_id, total) VALUES ('c1', 200), ('c2', 50), ('c3', 20);
SQL
}

# create_spenders NAME THRESHOLD INTERVAL: a segment of customers with an order above THRESHOLD
# (built at once by create_segment).
create_spenders() {
  q "SELECT segments.create_segment('$1', query => 'SELECT customer_id FROM shop.orders WHERE total > $2', refresh_interval => '$3')" >/dev/null
}

# create_unbuilt NAME QUERY INTERVAL: a segment left for the worker to build (due at once).
create_unbuilt() {
  q "SELECT segments.create_segment('$1', query => \$q\$$2\$q\$, refresh_interval => '$3', build => false)" >/dev/null
}

members() { q "SELECT coalesce(string_agg(customer_id, ',' ORDER BY customer_id), '') FROM segments.members WHERE segment = '$1'"; }

# The change log replays to the membership: per (segment, customer) changes alternate
# joined/left starting with joined, and the customers whose last change is 'joined' are exactly
# the members. Prints t or f.
changes_consistent() {
  q "WITH c AS (
       SELECT segment, customer_id, change,
              lag(change) OVER (PARTITION BY segment, customer_id ORDER BY id) AS prev,
              row_number() OVER (PARTITION BY segment, customer_id ORDER BY id DESC) AS rn
         FROM segments.changes),
     replay AS (SELECT segment, customer_id FROM c WHERE rn = 1 AND change = 'joined')
     SELECT NOT EXISTS (SELECT 1 FROM c WHERE change = prev OR (prev IS NULL AND change <> 'joined'))
        AND NOT EXISTS (SELECT segment, customer_id FROM replay EXCEPT SELECT segment, customer_id FROM segments.members)
        AND NOT EXISTS (SELECT segment, customer_id FROM segments.members EXCEPT SELECT segment, customer_id FROM replay)"
}

# No crash in the server log (a backend killed by a signal, an assertion, a PANIC).
no_crash() {
  if grep -E "terminated by signal|PANIC|TRAP:" "$PGS_DATA/server.log" >&2; then fail "server log shows a crash"; fi
  ok "no crash in the server log"
}
