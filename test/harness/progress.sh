#!/usr/bin/env bash
# segments.progress shows long work from another session while it runs (shared memory, not at
# commit): a refresh_all and a CALL refresh_due() held at the one query segment of five (the four
# rules went first, in one pass), and a refresh_facts held in its facts query (each by a lock another session holds on a
# table it reads), watched by a segments_reader login.
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/lib/pg.sh
trap pgs_stop EXIT
pgs_setup
pgs_start "shared_preload_libraries = 'pg_segments'" "pg_segments.scheduler_enabled = off"
pgs_demo_shop prog 2000 200 3
pgs_psql >/dev/null <<'SQL'
SET pg_segments.facts_max_age = -1;
CREATE TABLE shop.gate (customer_id bigint);
SELECT segments.create_segment('p1', rule => 'orders >= 1');
SELECT segments.create_segment('p2', rule => 'orders >= 2');
SELECT segments.create_segment('p3 gated', query => 'SELECT customer_id FROM shop.gate');
SELECT segments.create_segment('p4', rule => 'orders >= 4');
SELECT segments.create_segment('p5', rule => 'orders >= 5');
CREATE ROLE progress_watcher LOGIN IN ROLE segments_reader;
SQL
watch() { pgs_psql -At -U progress_watcher -F '|' -c "SELECT command, phase, coalesce(segment, ''), coalesce(done::text, ''), coalesce(total::text, ''), extract(epoch FROM elapsed) FROM segments.progress"; }
[ -z "$(watch)" ] || fail "progress before any work: $(watch)"

# held_by TABLE SECONDS: another session locks TABLE for SECONDS (returns once the lock is held).
held_by() {
  pgs_psql -c "BEGIN" -c "LOCK TABLE $1 IN ACCESS EXCLUSIVE MODE" -c "SELECT pg_sleep($2)" -c "COMMIT" >/dev/null &
  holder=$!
  for _ in $(seq 100); do
    [ "$(pgs_psql -At -c "SELECT count(*) FROM pg_locks WHERE relation = '$1'::regclass AND mode = 'AccessExclusiveLock' AND granted")" = 1 ] && return
    sleep 0.1
  done
  fail "could not lock $1"
}
# expect_while PID PATTERN: while PID runs, segments.progress shows PATTERN, and its elapsed grows.
expect_while() {
  local row="" first="" second=""
  for _ in $(seq 100); do row=$(watch); [[ "$row" =~ $2 ]] && break; sleep 0.1; done
  [[ "$row" =~ $2 ]] || fail "segments.progress shows '$row', expected /$2/"
  first=${row##*|}; sleep 0.5; row=$(watch); second=${row##*|}
  kill -0 "$1" 2>/dev/null || fail "the work ended before it was seen running"
  awk -v a="$first" -v b="$second" 'BEGIN { exit !(b > a) }' || fail "elapsed did not grow: $first then $second"
  echo "$row"
}

# held_refresh SQL COMMAND: SQL held at the gated query segment shows COMMAND, segment k of 5 after
# the four rules' one pass (prints what a reader saw), and leaves no progress behind.
held_refresh() {
  held_by shop.gate 3
  pgs_psql -c "SET pg_segments.facts_max_age = -1" -c "$1" >/dev/null &
  work=$!
  row=$(expect_while $work "^$2\\|refreshing segments\\|p3 gated\\|4\\|5\\|")
  wait $work $holder
  [ -z "$(watch)" ] || fail "progress left after $2: $(watch)"
  echo "$row"
}
row=$(held_refresh "SELECT count(*) FROM segments.refresh_all()" refresh_all)  # an assignment: a failure inside stops the harness
ok "during refresh_all, another session (a reader) saw: $row  (command|phase|segment|done|total|elapsed s)"

# The refresh-due policy (cron's CALL refresh_due(), the worker alike) refreshes everything due in
# one batch: the same one pass and progress as refresh_all, under its own command name.
pgs_psql -c "UPDATE segments.segments SET next_refresh_at = now() - interval '1 minute'" >/dev/null
row=$(held_refresh "CALL segments.refresh_due()" refresh_due)
ok "during CALL refresh_due(), a reader saw: $row"
[ "$(pgs_psql -At -c "SELECT count(*) || ' runs, ' || count(DISTINCT xmin::text) || ' transaction' FROM segments.runs WHERE trigger = 'cron'")" = "5 runs, 1 transaction" ] \
  || fail "refresh_due did not refresh the five due segments in one transaction"

held_by shop.orders 3
pgs_psql -c "SELECT segments.refresh_facts()" >/dev/null &
work=$!
row=$(expect_while $work '^refresh_facts\|computing facts\|\|\|\|')
wait $work $holder
ok "during refresh_facts, a reader saw: $row"
[ -z "$(watch)" ] || fail "progress left after refresh_facts: $(watch)"

# A command cancelled while it reports (statement_timeout, waiting for the lock) leaves nothing either.
held_by shop.orders 2
pgs_psql -c "SET statement_timeout = '1s'" -c "SELECT segments.refresh_facts()" >/dev/null 2>&1 \
  && fail "refresh_facts was not cancelled"
wait $holder
[ -z "$(watch)" ] || fail "progress left after a cancelled command: $(watch)"
ok "progress cleared at the end of the work (committed or cancelled)"
