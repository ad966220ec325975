#!/usr/bin/env bash
# Two-session tests of the segment engine: a reader is never blocked while a refresh holds its
# transaction open, two refreshes of one segment never interleave (the second waits, or with
# wait => false is skipped), and change ids become visible in commit order across segments.
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/lib/pg.sh
trap pgs_stop EXIT
pgs_setup
pgs_start

q() { pgs_psql -At -c "$1"; }
now() { date +%s.%N; }
elapsed_ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%d", (b - a) * 1000 }'; }
# Waits until the session with application_name $1 is waiting on a lock (at most 10 s).
wait_for_lock_wait() {
  for _ in $(seq 100); do
    n=$(q "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND application_name = '$1'")
    [ "$n" -ge 1 ] && return 0
    sleep 0.1
  done
  return 1
}

pgs_psql >/dev/null <<'SQL'
CREATE EXTENSION pg_segments;
SET pg_segments.facts_max_age = -1;
CREATE SCHEMA shop;
CREATE TABLE shop.orders(customer text, at timestamptz, amount numeric);
INSERT INTO shop.orders SELECT 'c' || (i % 2000), timestamptz '2024-01-01' + i * interval '20 minutes', (i % 97)
FROM generate_series(1, 10000) i;
SELECT segments.map_source('orders', 'shop.orders', '{"customer_id": "customer", "ordered_at": "at", "amount": "amount"}');
SELECT segments.refresh_facts('2024-06-01');
SELECT segments.create_segment('big', 'revenue > 250');
SELECT segments.create_segment('small', 'revenue <= 250');
ALTER DATABASE postgres SET pg_segments.facts_max_age = -1;
SQL
before=$(q "SELECT count(*) FROM segments.members WHERE segment = 'big'")
[ "$before" -gt 0 ] || fail "segment big is empty"

# 1. A refresh holds its transaction open for 3 s after changing the membership; a reader with a
#    1 s statement_timeout reads the old membership at once, then the new one after commit.
q "UPDATE shop.orders SET amount = amount + 100 WHERE customer IN (SELECT 'c' || i FROM generate_series(0, 299) i)"
q "SELECT segments.refresh_facts('2024-06-01')" >/dev/null
pgs_psql -c "BEGIN; SELECT segments.refresh('big'); SELECT pg_sleep(3); COMMIT;" >/dev/null &
writer=$!
sleep 1
t0=$(now)
during=$(PGOPTIONS='-c statement_timeout=1000' q "SELECT count(*) FROM segments.members WHERE segment = 'big'")
during_view=$(PGOPTIONS='-c statement_timeout=1000' q "SELECT count(*) FROM segment_members.big")
PGOPTIONS='-c statement_timeout=1000' q "SELECT customers FROM segments.overview WHERE segment = 'big'" >/dev/null
PGOPTIONS='-c statement_timeout=1000' q "SELECT count(*) FROM segments.changes" >/dev/null
t1=$(now)
kill -0 $writer 2>/dev/null || fail "the refresh finished before the readers ran; the test proves nothing"
wait $writer
after=$(q "SELECT count(*) FROM segments.members WHERE segment = 'big'")
[ "$during" = "$before" ] && [ "$during_view" = "$before" ] || fail "reader saw $during/$during_view during the refresh, expected the old $before"
[ "$after" -gt "$before" ] || fail "after commit: $after members, expected more than $before"
ok "readers not blocked by an open refresh: old membership $during read in $(elapsed_ms "$t0" "$t1") ms, $after after commit"

# 2. Readers of the facts are not blocked by a facts refresh held open either.
pgs_psql -c "BEGIN; SELECT segments.refresh_facts('2024-06-02'); SELECT pg_sleep(2); COMMIT;" >/dev/null &
writer=$!
sleep 0.7
t0=$(now)
as_of=$(PGOPTIONS='-c statement_timeout=1000' q "SELECT max(refreshed_at)::date FROM segments.customers")
t1=$(now)
kill -0 $writer 2>/dev/null || fail "facts refresh finished too early"
wait $writer
[ "$as_of" = 2024-06-01 ] || fail "reader saw facts as of $as_of during the facts refresh"
ok "facts readers not blocked by an open facts refresh ($(elapsed_ms "$t0" "$t1") ms)"
q "SELECT segments.refresh_facts('2024-06-01')" >/dev/null

# 3. Two refreshes of one segment: the second waits for the first to commit, then finds nothing
#    left to change; no change is logged twice.
q "UPDATE shop.orders SET amount = amount + 100 WHERE customer IN (SELECT 'c' || i FROM generate_series(300, 599) i)"
q "SELECT segments.refresh_facts('2024-06-01')" >/dev/null
changes_before=$(q "SELECT count(*) FROM segments.changes")
pgs_psql -At -c "BEGIN; SELECT joined FROM segments.refresh('big'); SELECT pg_sleep(2); COMMIT;" > "$PGS_ROOT/first.out" &
first=$!
sleep 0.5
t0=$(now)
PGAPPNAME=engine_second pgs_psql -At -c "SELECT 'second', status, joined, \"left\" FROM segments.refresh('big')" > "$PGS_ROOT/second.out" &
second=$!
wait_for_lock_wait engine_second || fail "the second refresh did not wait for the first"
kill -0 $first 2>/dev/null || fail "first refresh ended before the second was seen waiting"
wait $first; wait $second
t1=$(now)
first_joined=$(grep -E '^[0-9]+$' "$PGS_ROOT/first.out" | head -1)
second_line=$(grep '^second' "$PGS_ROOT/second.out")
[ "$first_joined" -gt 0 ] || fail "first refresh joined nobody"
[ "$second_line" = "second|succeeded|0|0" ] || fail "second refresh: $second_line (expected nothing left to do)"
dups=$(q "SELECT count(*) FROM (SELECT c.change, lag(c.change) OVER (PARTITION BY c.segment_id, c.customer_id ORDER BY c.id) AS prev FROM segments.changes c) d WHERE change = prev")
[ "$dups" = 0 ] || fail "$dups changes logged twice in a row"
logged=$(( $(q "SELECT count(*) FROM segments.changes") - changes_before ))
[ "$logged" = "$first_joined" ] || fail "logged $logged changes, the first refresh joined $first_joined"
ok "second refresh of one segment waited ($(elapsed_ms "$t0" "$t1") ms), then had nothing to do; $logged changes, no duplicates"

# 4. wait => false: an overlapping refresh is skipped at once and recorded as such.
pgs_psql -c "BEGIN; SELECT segments.refresh('big'); SELECT pg_sleep(2); COMMIT;" >/dev/null &
first=$!
sleep 0.5
t0=$(now)
skipped=$(PGOPTIONS='-c statement_timeout=1000' q "SELECT status FROM segments.refresh('big', wait => false)")
t1=$(now)
wait $first
[ "$skipped" = skipped ] || fail "overlapping refresh with wait => false: $skipped"
ok "overlapping refresh with wait => false skipped in $(elapsed_ms "$t0" "$t1") ms"

# 5. Change ids become visible in commit order: while one segment's refresh holds the change-log
#    lock, another segment's refresh waits, so a consumer reading id > cursor never skips an id
#    that commits later.
q "UPDATE shop.orders SET amount = amount + 100 WHERE customer IN (SELECT 'c' || i FROM generate_series(600, 899) i)"
q "SELECT segments.refresh_facts('2024-06-01')" >/dev/null
cursor=$(q "SELECT coalesce(max(id), 0) FROM segments.changes")
pgs_psql -c "BEGIN; SELECT segments.refresh('big'); SELECT pg_sleep(2); COMMIT;" >/dev/null &
first=$!
sleep 0.5
PGAPPNAME=engine_small pgs_psql -c "SELECT segments.refresh('small')" >/dev/null &
second=$!
wait_for_lock_wait engine_small || fail "the other segment's refresh did not wait for the change-log lock"
visible=$(q "SELECT count(*) FROM segments.changes WHERE id > $cursor")
[ "$visible" = 0 ] || fail "$visible changes visible before the first refresh committed"
wait $first; wait $second
order_ok=$(q "SELECT max(id) FILTER (WHERE segment = 'big') < min(id) FILTER (WHERE segment = 'small') FROM segments.changes WHERE id > $cursor")
[ "$order_ok" = t ] || fail "change ids not in commit order"
ok "change ids of concurrent refreshes of two segments are in commit order"

# The oracle after all that: each segment equals its rule, and the change log replays to it.
bad=$(q "SELECT count(*) FROM segments.segments s, LATERAL (
  SELECT customer_id FROM segments.customers c WHERE CASE s.name WHEN 'big' THEN c.revenue > 250 ELSE c.revenue <= 250 END
  EXCEPT SELECT customer_id FROM segments.membership m WHERE m.segment_id = s.id) d")
replay=$(q "SELECT count(*) FROM (SELECT DISTINCT ON (segment_id, customer_id) segment_id, customer_id, change FROM segments.changes
  ORDER BY segment_id, customer_id, id DESC) l FULL JOIN segments.membership m USING (segment_id, customer_id)
  WHERE (l.change = 'joined') IS DISTINCT FROM (m.customer_id IS NOT NULL)")
[ "$bad" = 0 ] && [ "$replay" = 0 ] || fail "oracle: $bad missing members, $replay replay mismatches"
ok "membership equals the rules and the change log replays to it"
