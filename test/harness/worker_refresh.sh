#!/usr/bin/env bash
# Background worker, normal operation: segments refresh with nobody calling refresh, refresh_now is
# picked up at once, settings reload on SIGHUP, a broken or slow segment fails alone (recorded, with
# back-off) while the others keep refreshing, old runs are pruned.
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/lib/pg.sh
source test/lib/worker.sh
trap pgs_stop EXIT
pgs_setup
pgs_start "${PGS_WORKER_CONF[@]}" "pg_segments.refresh_timeout = '2s'"

setup_db
wait_for 10 "a scheduler serving database postgres" \
  "SELECT count(*) = 1 FROM segments.worker_status WHERE kind = 'scheduler' AND database = 'postgres' AND state = 'idle'"
ok "launcher and scheduler run (worker_status)"
expect "worker_preloaded()" "$(q 'SELECT segments.worker_preloaded()')" t
expect "worker_serves()" "$(q 'SELECT segments.worker_serves()')" t

# 1. Scheduled refresh with no manual call.
create_spenders big 100 '1 second'
wait_for 5 "first refresh of big" "SELECT segments_members = 'c1' FROM (SELECT string_agg(customer_id, ',') segments_members FROM segments.members WHERE segment = 'big') m"
t0=$(now_s)
q "INSERT INTO shop.orders (customer_id, total) VALUES ('c3', 500)" >/dev/null
wait_for 5 "c3 to join big after a data change (naptime 1 s)" \
  "SELECT EXISTS (SELECT 1 FROM segments.members WHERE segment = 'big' AND customer_id = 'c3')"
lag_nap=$(elapsed_since "$t0")
ok "data change reached membership with no manual call in ${lag_nap}s (naptime 1 s)"
q "DELETE FROM shop.orders WHERE customer_id = 'c1'" >/dev/null
wait_for 5 "c1 to leave big" "SELECT NOT EXISTS (SELECT 1 FROM segments.members WHERE segment = 'big' AND customer_id = 'c1')"
expect "changes of big" "$(q "SELECT string_agg(customer_id || ':' || change, ',' ORDER BY id) FROM segments.changes WHERE segment = 'big'")" \
  "c1:joined,c3:joined,c1:left"
expect "the first run was create_segment's, the others the worker's" \
  "$(q "SELECT string_agg(DISTINCT trigger, ',') || ':' || bool_and(status = 'succeeded' AND finished_at >= started_at) FROM segments.runs")" "create,worker:true"

# 2. SIGHUP: a long nap time takes effect; refresh_now is picked up at once anyway.
q "ALTER SYSTEM SET pg_segments.naptime = '60s'" >/dev/null
q "SELECT pg_reload_conf()" >/dev/null
sleep 1.5   # let the scheduler finish the nap it is in and start the 60 s one
q "SELECT segments.create_segment('vip', query => 'SELECT customer_id FROM shop.orders WHERE total > 300', refresh_interval => '1 day')" >/dev/null
expect "vip built at creation" "$(members vip)" "c3"
q "INSERT INTO shop.orders (customer_id, total) VALUES ('c2', 900)" >/dev/null
sleep 3
expect "with naptime 60 s nothing refreshes within 3 s (reload applied)" \
  "$(q "SELECT count(*) FROM segments.members WHERE customer_id = 'c2'")" 0
t0=$(now_s)
expect "refresh_now reports a scheduler to wake" "$(q "SELECT segments.wake_worker()")" t
q "SELECT segments.refresh_now('vip')" >/dev/null
wait_for 5 "refresh_now('vip') picked up" "SELECT members = 'c2,c3' FROM (SELECT string_agg(customer_id, ',' ORDER BY customer_id) members FROM segments.members WHERE segment = 'vip') m"
lag_now=$(elapsed_since "$t0")
expect "the run is recorded as trigger refresh_now" \
  "$(q "SELECT trigger FROM segments.runs WHERE segment_id = (SELECT id FROM segments.segments WHERE name = 'vip') ORDER BY id DESC LIMIT 1")" refresh_now
awk -v l="$lag_now" 'BEGIN { exit !(l < 5) }' || fail "refresh_now took ${lag_now}s"
ok "refresh_now picked up in ${lag_now}s with naptime 60 s"
# a refresh_now in a transaction that rolls back wakes nobody and refreshes nothing
q "INSERT INTO shop.orders (customer_id, total) VALUES ('c6', 1000)" >/dev/null
pgs_psql -c "BEGIN" -c "SELECT segments.refresh_now('big')" -c "ROLLBACK" >/dev/null
sleep 1.5
expect "rolled-back refresh_now does not refresh" "$(q "SELECT count(*) FROM segments.members WHERE customer_id = 'c6'")" 0
# Idle after being woken: the scheduler sleeps in WaitLatch instead of spinning.
sched=$(scheduler_pid)
t_before=$(awk '{ print $14 + $15 }' "/proc/$sched/stat")
sleep 3
t_used=$(( $(awk '{ print $14 + $15 }' "/proc/$sched/stat") - t_before ))
[ "$t_used" -le $(( $(getconf CLK_TCK) / 5 )) ] || fail "idle scheduler used $t_used clock ticks in 3 s"
expect "idle scheduler waits on its latch" \
  "$(q "SELECT wait_event FROM pg_stat_activity WHERE pid = $sched")" Extension
q "ALTER SYSTEM SET pg_segments.naptime = '1s'" >/dev/null
q "SELECT pg_reload_conf()" >/dev/null
q "SELECT segments.wake_worker()" >/dev/null   # ends the 60 s nap
wait_for 5 "big refreshed again after naptime back to 1 s" \
  "SELECT EXISTS (SELECT 1 FROM segments.members WHERE segment = 'big' AND customer_id = 'c6')"
ok "naptime back to 1 s"

# 3. A segment that breaks (here: division by zero once a 13 arrives) fails alone, with SQLSTATE,
#    message and back-off, keeping its last good membership; the others keep refreshing.
create_spenders broken_base 0 '1 second'
q "SELECT segments.create_segment('broken', query => 'SELECT customer_id FROM shop.orders WHERE 100 / (total - 13) > 0', refresh_interval => '1 second')" >/dev/null
broken_before=$(members broken)
[ -n "$broken_before" ] || fail "broken has no members before it breaks"
q "INSERT INTO shop.orders (customer_id, total) VALUES ('c13', 13)" >/dev/null
wait_for 5 "broken segment recorded as failed" \
  "SELECT EXISTS (SELECT 1 FROM segments.runs r JOIN segments.segments s ON s.id = r.segment_id WHERE s.name = 'broken' AND r.status = 'failed' AND r.sqlstate = '22012' AND r.message LIKE '%division by zero%')"
expect "broken keeps its last good membership" "$(members broken)" "$broken_before"
expect "broken segment status" "$(q "SELECT status FROM segments.segments WHERE name = 'broken'")" failed
expect "back-off: broken is not due again at once" "$(q "SELECT next_refresh_at > now() FROM segments.segments WHERE name = 'broken'")" t
q "INSERT INTO shop.orders (customer_id, total) VALUES ('c4', 700)" >/dev/null
wait_for 5 "big keeps refreshing beside the broken segment" \
  "SELECT EXISTS (SELECT 1 FROM segments.members WHERE segment = 'big' AND customer_id = 'c4')"
ok "a broken segment fails alone"
wait_for 5 "worker_status shows the last error" \
  "SELECT last_error LIKE '%22012%division by zero%' AND runs_failed > 0 FROM segments.worker_status WHERE database = 'postgres'"
ok "worker_status.last_error names the failure"
q "SELECT segments.deactivate_segment('broken')" >/dev/null
wait_for 5 "broken_base with c13 (it keeps refreshing)" "SELECT EXISTS (SELECT 1 FROM segments.members WHERE segment = 'broken_base' AND customer_id = 'c13')"

# 4. refresh_timeout: a refresh running longer is cancelled (57014) and recorded; others go on.
create_unbuilt sleepy 'SELECT customer_id FROM shop.orders, (SELECT pg_sleep(30)) s' '1 second' 
wait_for 8 "sleepy cancelled by refresh_timeout" \
  "SELECT EXISTS (SELECT 1 FROM segments.runs r JOIN segments.segments s ON s.id = r.segment_id WHERE s.name = 'sleepy' AND r.status = 'failed' AND r.sqlstate = '57014' AND r.message LIKE '%statement timeout%')"
ok "refresh_timeout cancels a slow refresh and records it"
expect "membership of the cancelled segment stays the last committed (empty)" "$(q "SELECT count(*) FROM segments.members WHERE segment = 'sleepy'")" 0
q "INSERT INTO shop.orders (customer_id, total) VALUES ('c5', 800)" >/dev/null
wait_for 8 "big refreshes despite the slow segment" \
  "SELECT EXISTS (SELECT 1 FROM segments.members WHERE segment = 'big' AND customer_id = 'c5')"
ok "a slow segment does not stop the others"
q "SELECT segments.deactivate_segment('sleepy')" >/dev/null
# A session idling in a transaction with a segment's row locked does not stall the scheduler: the
# refresh-due policy skips a locked segment (due again next pass) and the others keep refreshing.
pgs_psql -c "BEGIN" -c "SELECT 1 FROM segments.segments WHERE name = 'big' FOR UPDATE" -c "SELECT pg_sleep(8)" -c "COMMIT" >/dev/null &
locker=$!
sleep 0.5
q "INSERT INTO shop.orders (customer_id, total) VALUES ('c14', 14)" >/dev/null
wait_for 7 "broken_base refreshed while big's row is locked" \
  "SELECT EXISTS (SELECT 1 FROM segments.members WHERE segment = 'broken_base' AND customer_id = 'c14')"
expect "the locked segment was skipped, not failed" \
  "$(q "SELECT count(*) FROM segments.runs r JOIN segments.segments s ON s.id = r.segment_id WHERE s.name = 'big' AND r.status = 'failed'")" 0
wait "$locker"
q "INSERT INTO shop.orders (customer_id, total) VALUES ('c15', 1500)" >/dev/null
wait_for 5 "big refreshed once its row is free" "SELECT EXISTS (SELECT 1 FROM segments.members WHERE segment = 'big' AND customer_id = 'c15')"
ok "a locked segment row does not stall the scheduler"

# 5. Retention: old runs are pruned when run_retention shrinks (applies at reload).
before=$(q "SELECT count(*) FROM segments.runs")
[ "$before" -gt 5 ] || fail "expected several runs before pruning, got $before"
sleep 1
q "ALTER SYSTEM SET pg_segments.run_retention = '1s'" >/dev/null
q "SELECT pg_reload_conf()" >/dev/null
wait_for 5 "runs older than 1 s pruned" \
  "SELECT count(*) < $before AND count(*) FILTER (WHERE finished_at < now() - interval '3 s') = 0 FROM segments.runs"
ok "run_retention prunes old runs"

# 6. The worker (a superuser) refreshes a segment with its owner's privileges, not its own.
pgs_psql >/dev/null <<'SQL'
CREATE ROLE alice LOGIN;
GRANT segments_editor TO alice;
GRANT USAGE ON SCHEMA shop TO alice;
GRANT SELECT ON shop.orders TO alice;
SQL
PGUSER=alice q "SELECT segments.create_segment('alices', query => 'SELECT customer_id FROM shop.orders WHERE total > 600', refresh_interval => '1 second')" >/dev/null
q "INSERT INTO shop.orders (customer_id, total) VALUES ('c8', 650)" >/dev/null
wait_for 5 "alice's segment refreshed by the worker" "SELECT EXISTS (SELECT 1 FROM segments.members WHERE segment = 'alices' AND customer_id = 'c8')"
q "REVOKE SELECT ON shop.orders FROM alice" >/dev/null
wait_for 5 "alice's segment failing once she may not read the orders" \
  "SELECT EXISTS (SELECT 1 FROM segments.runs r JOIN segments.segments s ON s.id = r.segment_id WHERE s.name = 'alices' AND r.trigger = 'worker' AND r.status = 'failed' AND r.sqlstate = '42501')"
ok "the worker refreshes a segment with its owner's privileges"
expect "worker_status hides error messages from roles without pg_read_all_stats" \
  "$(PGUSER=alice q "SELECT count(*) FILTER (WHERE last_error IS NOT NULL) || '/' || count(*) FROM segments.worker_status WHERE kind = 'scheduler'")" "0/1"
expect "a superuser sees them" "$(q "SELECT last_error LIKE '%42501%' FROM segments.worker_status WHERE kind = 'scheduler'")" t
q "SELECT segments.deactivate_segment('alices')" >/dev/null

grep -E "terminated by signal|PANIC|TRAP:" "$PGS_DATA/server.log" && fail "server log shows a crash"
echo "figures: lag data change -> membership: ${lag_nap}s with naptime 1 s; ${lag_now}s with refresh_now (naptime 60 s)"
