#!/usr/bin/env bash
# Background worker faults: a terminated scheduler or launcher comes back and carries on; a
# cancelled refresh is recorded; a server crash mid-refresh keeps the last committed membership,
# marks the run failed, and the next run succeeds with nothing lost or duplicated in the change log;
# a run orphaned by a dead session is recovered; a scheduler killed by SIGKILL comes back.
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/lib/pg.sh
source test/lib/worker.sh
trap pgs_stop EXIT
pgs_setup
pgs_start "${PGS_WORKER_CONF[@]}" "pg_segments.refresh_timeout = 0"
setup_db
wait_for 10 "scheduler idle in postgres" \
  "SELECT count(*) = 1 FROM segments.worker_status WHERE kind = 'scheduler' AND state = 'idle'"
create_spenders big 100 '1 second'
wait_for 5 "first refresh of big" "SELECT EXISTS (SELECT 1 FROM segments.members WHERE segment = 'big')"

# 1. pg_terminate_backend of the scheduler: it comes back and carries on.
old=$(scheduler_pid)
expect "terminate the scheduler" "$(q "SELECT pg_terminate_backend($old)")" t
wait_for 10 "a new scheduler after pg_terminate_backend" \
  "SELECT pid IS NOT NULL AND pid <> $old AND state = 'idle' FROM segments.worker_status WHERE database = 'postgres'"
ok "the scheduler came back (pid $old -> $(scheduler_pid))"
q "INSERT INTO shop.orders (customer_id, total) VALUES ('c2', 300)" >/dev/null
wait_for 5 "the new scheduler refreshes" "SELECT EXISTS (SELECT 1 FROM segments.members WHERE segment = 'big' AND customer_id = 'c2')"
ok "the new scheduler carries on"

# 2. pg_terminate_backend of the launcher: it comes back (bgw_restart_time), the scheduler keeps running.
sched=$(scheduler_pid)
launcher=$(q "SELECT pid FROM segments.worker_status WHERE kind = 'launcher'")
expect "terminate the launcher" "$(q "SELECT pg_terminate_backend($launcher)")" t
wait_for 15 "a new launcher" "SELECT count(*) = 1 FROM segments.worker_status WHERE kind = 'launcher' AND pid <> $launcher"
expect "the scheduler survived the launcher restart" "$(scheduler_pid)" "$sched"
# the new launcher adopts it: terminating the scheduler again still brings one back
q "SELECT pg_terminate_backend($sched)" >/dev/null
wait_for 10 "a scheduler after the launcher restart" \
  "SELECT pid IS NOT NULL AND pid <> $sched FROM segments.worker_status WHERE database = 'postgres'"
ok "the new launcher restarts schedulers"

# 3. pg_cancel_backend during a refresh: recorded as failed (57014), retried later.
create_unbuilt slow 'SELECT customer_id FROM shop.orders, (SELECT pg_sleep(2)) s WHERE total > 100' '1 second' 
wait_for 10 "slow refreshing" "SELECT state = 'refreshing' AND EXISTS (SELECT 1 FROM segments.runs r JOIN segments.segments s ON s.id = r.segment_id WHERE s.name = 'slow' AND r.status = 'running') FROM segments.worker_status WHERE database = 'postgres'"
q "SELECT pg_cancel_backend($(scheduler_pid))" >/dev/null
wait_for 5 "cancelled run recorded" \
  "SELECT EXISTS (SELECT 1 FROM segments.runs r JOIN segments.segments s ON s.id = r.segment_id WHERE s.name = 'slow' AND r.status = 'failed' AND r.sqlstate = '57014')"
ok "a cancelled refresh is recorded as failed"
wait_for 15 "slow refreshed after the cancel" "SELECT EXISTS (SELECT 1 FROM segments.members WHERE segment = 'slow')"
ok "the cancelled segment is refreshed later"

# 4. Server crash (immediate restart) in the middle of a refresh of 'slow'.
before=$(members slow)
changes_before=$(q "SELECT count(*) FROM segments.changes")
q "INSERT INTO shop.orders (customer_id, total) VALUES ('c7', 999)" >/dev/null
q "DELETE FROM shop.orders WHERE customer_id = 'c1'" >/dev/null
wait_for 10 "slow refreshing again" "SELECT EXISTS (SELECT 1 FROM segments.runs r JOIN segments.segments s ON s.id = r.segment_id WHERE s.name = 'slow' AND r.status = 'running' AND r.started_at < clock_timestamp() - interval '0.3 s')"
running_run=$(q "SELECT r.id FROM segments.runs r JOIN segments.segments s ON s.id = r.segment_id WHERE s.name = 'slow' AND r.status = 'running'")
pgs_ctl restart -m immediate
# The new scheduler's first refresh of 'slow' needs at least 2 s (its query sleeps): look now.
expect "after the crash, membership of slow is the last committed one" "$(members slow)" "$before"
wait_for 10 "interrupted run $running_run marked failed" "SELECT status = 'failed' FROM segments.runs WHERE id = $running_run"
ok "the interrupted run is marked failed"
wait_for 15 "next run of slow succeeds" \
  "SELECT EXISTS (SELECT 1 FROM segments.runs WHERE segment_id = (SELECT id FROM segments.segments WHERE name = 'slow') AND id > $running_run AND status = 'succeeded')"
expect "membership of slow after the next run" "$(members slow)" "c2,c7"
expect "change log replays to the membership (no loss, no duplicate)" "$(changes_consistent)" t
expect "the crash added no change rows of its own" \
  "$(q "SELECT count(*) FROM segments.changes WHERE run_id = $running_run")" 0
[ "$(q "SELECT count(*) FROM segments.changes")" -gt "$changes_before" ] || fail "no changes after the restart"
no_crash_before=$(grep -c "terminated by signal" "$PGS_DATA/server.log" || true)
[ "$no_crash_before" = 0 ] || fail "a process was terminated by a signal"
ok "no process killed by a signal"

# 5. A run left 'running' by a session that died without a server crash (a cron job's
#    CALL segments.refresh_due() killed mid-run) is recovered by the running scheduler (every
#    10 minutes, and at a reload), so its segment becomes due again.
orphan=$(q "INSERT INTO segments.runs (segment_id, trigger, backend_pid) SELECT id, 'cron', 0 FROM segments.segments WHERE name = 'big' RETURNING id")
q "SELECT pg_reload_conf()" >/dev/null
wait_for 5 "orphaned run $orphan recovered" "SELECT status = 'failed' FROM segments.runs WHERE id = $orphan"
q "INSERT INTO shop.orders (customer_id, total) VALUES ('c9', 999)" >/dev/null
wait_for 5 "big refreshed again after the recovery" "SELECT EXISTS (SELECT 1 FROM segments.members WHERE segment = 'big' AND customer_id = 'c9')"
ok "a run orphaned by a dead session does not block its segment"

# 6. The scheduler crashes (SIGKILL): the postmaster reinitializes, the launcher and a scheduler
#    come back, the interrupted run (if any) is marked failed and refreshing carries on.
sched=$(scheduler_pid)
kill -KILL "$sched"
wait_for 30 "a scheduler after the crash" \
  "SELECT pid IS NOT NULL AND pid <> $sched AND state = 'idle' FROM segments.worker_status WHERE database = 'postgres'"
grep -q "pg_segments scheduler\" (PID $sched) was terminated by signal 9" "$PGS_DATA/server.log" \
  || fail "the log does not show the killed scheduler"
q "INSERT INTO shop.orders (customer_id, total) VALUES ('c10', 999)" >/dev/null
wait_for 10 "big refreshed after the crash" "SELECT EXISTS (SELECT 1 FROM segments.members WHERE segment = 'big' AND customer_id = 'c10')"
expect "no run left running after the crash" "$(q "SELECT count(*) FROM segments.runs WHERE status = 'running' AND backend_pid = $sched")" 0
expect "change log still replays to the membership" "$(changes_consistent)" t
ok "a crashed scheduler comes back and carries on"
