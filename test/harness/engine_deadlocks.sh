#!/usr/bin/env bash
# No deadlocks: the background worker at a 1 s nap time refreshing segments due every second, while
# for PGS_DEADLOCK_SECONDS (default 60) other sessions loop in parallel over refresh_all(),
# refresh(name), refresh_now(name), and a writer inserts orders and refreshes the facts. Every
# engine transaction takes the facts lock, then segment rows in id order, then the change-log lock
# (sql/engine/locks.sql), so there must be 0 deadlocks, 0 failed runs and 0 client errors, and the
# change log must still replay to the membership.
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/lib/pg.sh
source test/lib/worker.sh
trap 'kill $(jobs -p) 2>/dev/null || true; pgs_stop' EXIT
pgs_setup
pgs_start "${PGS_WORKER_CONF[@]}" "pg_segments.refresh_timeout = '120s'" "deadlock_timeout = '100ms'" \
  "log_lock_waits = on"
SECONDS_TO_RUN=${PGS_DEADLOCK_SECONDS:-60}

pgs_psql -q -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
CREATE EXTENSION pg_segments;
SET client_min_messages = error;
ALTER DATABASE postgres SET pg_segments.facts_max_age = '3s';
CREATE SCHEMA shop;
CREATE TABLE shop.orders (customer text, at timestamptz DEFAULT now(), amount numeric);
INSERT INTO shop.orders SELECT 'c' || (i % 500), now() - i * interval '1 hour', i % 97 FROM generate_series(1, 5000) i;
SELECT segments.map_source('orders', 'shop.orders', '{"customer_id": "customer", "ordered_at": "at", "amount": "amount"}');
SELECT segments.refresh_facts();
SELECT segments.create_segment('s' || i, format('revenue > %s', i * 40), refresh_interval => '1 second') FROM generate_series(1, 6) i;
SELECT segments.create_segment('recent', 'last_order_at > now() - interval ''2 days''', refresh_interval => '1 second');
SELECT segments.create_segment('query', query => 'SELECT customer FROM shop.orders WHERE amount > 90', refresh_interval => '1 second');
SQL
wait_for 10 "the scheduler" "SELECT count(*) = 1 FROM segments.worker_status WHERE kind = 'scheduler' AND state <> 'starting'"

errs=$PGS_ROOT/deadlock-errors.log
: > "$errs"
end=$(( $(date +%s) + SECONDS_TO_RUN ))
loop() {  # name sql...: runs the statements until the end time, errors to $errs
  local name=$1; shift
  while [ "$(date +%s)" -lt "$end" ]; do
    pgs_psql -At -v ON_ERROR_STOP=1 -c "SET client_min_messages = error" "$@" >/dev/null 2>>"$errs.$name" || echo "$name" >> "$errs"
  done
}
pick="(SELECT name FROM segments.segments ORDER BY random() LIMIT 1)"
loop refresh_all -c "SELECT count(*) FROM segments.refresh_all()" &
loop refresh -c "SELECT segments.refresh($pick)" &
loop refresh_now -c "SELECT segments.refresh_now($pick), pg_sleep(0.05)" &
loop writer -c "INSERT INTO shop.orders SELECT 'c' || (random() * 600)::int, now(), (random() * 100)::int FROM generate_series(1, 20)" \
            -c "SELECT segments.refresh_facts() WHERE random() < 0.3" &
wait

deadlocks=$(grep -c 'deadlock detected' "$PGS_DATA/server.log" || true)
failed_clients=$(wc -l < "$errs")
runs=$(q "SELECT string_agg(trigger || ' ' || n, ', ' ORDER BY trigger) FROM (SELECT trigger, count(*) n FROM segments.runs WHERE status = 'succeeded' GROUP BY 1) r")
failed_runs=$(q "SELECT count(*) FROM segments.runs WHERE status = 'failed'")
if [ "$deadlocks" != 0 ] || [ "$failed_clients" != 0 ] || [ "$failed_runs" != 0 ]; then
  grep -h -m5 'ERROR\|DETAIL' "$errs".* "$PGS_DATA/server.log" >&2 || true
  q "SELECT trigger, sqlstate, message FROM segments.runs WHERE status = 'failed' LIMIT 5" >&2
  fail "$deadlocks deadlocks, $failed_runs failed runs, $failed_clients failed client calls in ${SECONDS_TO_RUN}s"
fi
[ "$(q "SELECT count(*) FROM segments.runs WHERE trigger = 'worker' AND status = 'succeeded'")" -gt 5 ] || fail "the worker hardly ran: $runs"
replay=$(q "SELECT count(*) FROM (SELECT DISTINCT ON (segment_id, customer_id) segment_id, customer_id, change FROM segments.changes
  ORDER BY segment_id, customer_id, id DESC) l FULL JOIN segments.membership m USING (segment_id, customer_id)
  WHERE (l.change = 'joined') IS DISTINCT FROM (m.customer_id IS NOT NULL)")
[ "$replay" = 0 ] || fail "the change log does not replay to the membership ($replay differences)"
ok "${SECONDS_TO_RUN}s of worker (nap 1 s) + refresh_all + refresh + refresh_now + writer: 0 deadlocks, 0 failed runs, 0 client errors; succeeded runs: $runs"
rm -f "$errs" "$errs".*
