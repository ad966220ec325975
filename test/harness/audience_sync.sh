#!/usr/bin/env bash
# The reference audience sync (examples/sync/audience_sync.py) under fire: while a stream of
# refreshes changes a segment's membership (rule changes, new orders, a rolled-back change, a refresh
# that changes nothing), the consumer is killed with SIGKILL at random points and restarted. At the
# end the destination audience must equal the SHA-256 identifiers of the segment's members: 0 lost,
# 0 duplicated, 0 left over. A listener checks NOTIFY pg_segments_changes against the runs meanwhile
# (test/harness/notify_listen.py).
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/lib/pg.sh
work=$(mktemp -d /tmp/pg_segments_sync.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; pgs_stop; }
trap cleanup EXIT
pgs_setup
pgs_start "shared_preload_libraries = 'pg_segments'" "pg_segments.scheduler_enabled = off"
t0=$SECONDS
pgs_demo_shop sync_shop 6000 600 5
seg='sync target'
pgs_psql -c "SELECT segments.create_segment('$seg', rule => 'revenue >= 300')" \
  -c "SELECT segments.create_segment('not refreshed', rule => 'orders >= 1')" \
  -c "CREATE ROLE sync_job LOGIN IN ROLE segments_reader, segments_pii" >/dev/null
dsn="host=$PGS_SOCK port=$PGS_PORT dbname=sync_shop user=sync_job"

/usr/bin/python3 test/harness/notify_listen.py "$dsn" "$seg" "$work/listening" > "$work/listen.out" 2>&1 &
listener=$!; pids+=("$listener")
for _ in $(seq 100); do [ -s "$work/listening" ] && break; sleep 0.1; done
[ -s "$work/listening" ] || fail "the NOTIFY listener did not start"

start_consumer() {  # exec: $! is then the consumer itself, which the kills must hit
  exec /usr/bin/python3 examples/sync/audience_sync.py --dsn "$dsn" --segment "$seg" --state "$work/state" \
    --batch-size 25 --request-size 10 --request-delay 0.02 --poll 2 "$@" >> "$work/consumer.log" 2>&1
}
start_consumer & consumer=$!; pids+=("$consumer")

# The stream: 40 refreshes of the segment, each committed on its own.
rounds=40
(
  for r in $(seq "$rounds"); do
    case $((r % 10)) in
      3) pgs_psql -c "INSERT INTO shop.orders (customer_id, created_at, status, total, items)
                      SELECT customer_id, now(), 'paid', 150, 1 FROM shop.customers ORDER BY random() LIMIT 40" \
                  -c "SELECT segments.refresh_facts()" -c "SELECT segments.refresh('$seg')" ;;
      6) pgs_psql -c "SELECT segments.refresh('$seg')" ;;   # nothing changed since the last one
      8) pgs_psql -c "BEGIN" -c "SELECT segments.alter_segment('$seg', rule => 'revenue >= 1')" -c "ROLLBACK" ;;
      *) pgs_psql -c "SELECT segments.alter_segment('$seg', rule => format('revenue >= %s',
                        (SELECT percentile_disc(0.2 + random() * 0.6) WITHIN GROUP (ORDER BY revenue)
                         FROM segments.customers WHERE orders > 0)))" ;;
    esac
    sleep 0.$((RANDOM % 5 + 1))
  done
) > "$work/stream.log" 2>&1 &
stream=$!; pids+=("$stream")

# Kill the consumer at random points while the stream runs, and a few times more while it catches up.
kills=0
while kill -0 "$stream" 2>/dev/null || [ "$kills" -lt 20 ]; do
  sleep "0.$((RANDOM % 9 + 2))"
  kill -9 "$consumer" 2>/dev/null || true
  wait "$consumer" 2>/dev/null || true
  kills=$((kills + 1))
  start_consumer & consumer=$!; pids+=("$consumer")
done
wait "$stream" || { cat "$work/stream.log"; fail "the stream of refreshes failed"; }
pgs_psql -c "NOTIFY harness_done" >/dev/null
wait "$listener" || { cat "$work/listen.out"; fail "NOTIFY check"; }
cat "$work/listen.out"

# Let it catch up undisturbed, then stop it and check the audience.
kill -9 "$consumer" 2>/dev/null || true; wait "$consumer" 2>/dev/null || true
(start_consumer --once) || { tail -20 "$work/consumer.log"; fail "the consumer's final catch-up"; }
pgs_psql -At -c "SELECT DISTINCT segments.audience_identifier(c.email) FROM segments.membership m
                 JOIN segments.segments s ON s.id = m.segment_id JOIN segments.customers c ON c.customer_id = m.customer_id
                 WHERE s.name = '$seg' AND c.email IS NOT NULL" > "$work/members.txt"
read -r last_change streamed < <(pgs_psql -At -F ' ' -c "SELECT max(c.id), count(*) FROM segments.changes c
                 JOIN segments.segments s ON s.id = c.segment_id WHERE s.name = '$seg'")
/usr/bin/python3 - "$work" "$last_change" "$streamed" "$kills" <<'PY' || fail "destination differs from the segment"
import sqlite3, sys
work, last_change, streamed, kills = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
members = set(open(f"{work}/members.txt").read().split())
dest = sqlite3.connect(f"{work}/state/audience.db")
rows = [r[0] for r in dest.execute("SELECT identifier FROM audience")]
cursor = sqlite3.connect(f"{work}/state/state.db").execute("SELECT last_id FROM cursor").fetchone()[0]
lost, extra, dup = len(members - set(rows)), len(set(rows) - members), len(rows) - len(set(rows))
reqs = list(dest.execute("SELECT first_change, last_change FROM requests ORDER BY n"))
replayed, high = 0, 0
for first, last in reqs:
    replayed += first <= high  # sent again after a kill
    high = max(high, last)
print(f"figures: {streamed} changes streamed, {kills} kills, {len(reqs)} requests of which {replayed} replayed after a kill;"
      f" audience {len(rows)} = members with e-mail {len(members)}: {lost} lost, {dup} duplicated, {extra} left over;"
      f" cursor {cursor} = last change {last_change}")
assert lost == dup == extra == 0 and cursor == last_change and streamed > 0
assert replayed > 0, "no kill landed mid-batch: the test did not test resuming"
PY
ok "audience sync survived $kills kills: destination equals the segment (0 lost, 0 duplicated) in $((SECONDS - t0))s"
