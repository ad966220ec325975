#!/usr/bin/env bash
# Background worker across databases: one scheduler per database (a database without the extension
# idles and is picked up once the extension is created), pg_segments.databases chooses which
# (reloaded on SIGHUP, a wrong name warns), DROP EXTENSION / DROP DATABASE while the worker runs
# neither crash nor hang, and without shared_preload_libraries nothing pretends to run.
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/lib/pg.sh
source test/lib/worker.sh
trap pgs_stop EXIT
pgs_setup
pgs_start "${PGS_WORKER_CONF[@]}" "pg_segments.refresh_timeout = 0"
for db in shop_a shop_b empty_db; do q "CREATE DATABASE $db" >/dev/null; done
for db in shop_a shop_b; do PGS_DB=$db setup_db; done
PGS_DB=shop_a create_spenders big 100 '1 second'
PGS_DB=shop_b create_spenders big 10 '1 second'
q "CREATE EXTENSION pg_segments" >/dev/null   # in postgres, to read worker_status

wait_for 10 "schedulers in postgres, shop_a, shop_b, empty_db" \
  "SELECT string_agg(database || ':' || state, ',' ORDER BY database) = 'empty_db:no extension,postgres:idle,shop_a:idle,shop_b:idle' FROM segments.worker_status WHERE kind = 'scheduler'"
ok "one scheduler per database; empty_db (no extension) idles"
expect "templates are not served" "$(q "SELECT count(*) FROM segments.worker_status WHERE database LIKE 'template%'")" 0

# 1. Two databases refresh independently.
PGS_DB=shop_a q "INSERT INTO shop.orders (customer_id, total) VALUES ('a9', 500)" >/dev/null
PGS_DB=shop_b q "INSERT INTO shop.orders (customer_id, total) VALUES ('b9', 15)" >/dev/null
PGS_DB=shop_a wait_for 5 "shop_a refreshed" "SELECT EXISTS (SELECT 1 FROM segments.members WHERE customer_id = 'a9')"
PGS_DB=shop_b wait_for 5 "shop_b refreshed" "SELECT EXISTS (SELECT 1 FROM segments.members WHERE customer_id = 'b9')"
expect "shop_a members" "$(PGS_DB=shop_a members big)" "a9,c1"
expect "shop_b members" "$(PGS_DB=shop_b members big)" "b9,c1,c2,c3"
ok "two databases served"

# 2. pg_segments.databases restricts (SIGHUP); a name that does not exist warns in the log; bad
#    list syntax is refused.
err=$(pgs_psql -c "ALTER SYSTEM SET pg_segments.databases = '\"unterminated'" 2>&1 || true)
[[ "$err" == *'invalid value for parameter "pg_segments.databases"'*'List syntax is invalid'* ]] \
  || fail "bad list syntax not refused clearly: $err"
ok "pg_segments.databases with bad list syntax is refused"
q "ALTER SYSTEM SET pg_segments.databases = 'shop_a, no_such_db'" >/dev/null
q "SELECT pg_reload_conf()" >/dev/null
wait_for 10 "only shop_a served" \
  "SELECT string_agg(database, ',') = 'shop_a' FROM segments.worker_status WHERE kind = 'scheduler'"
ok "pg_segments.databases limits the served databases"
wait_for 5 "warning about no_such_db" "SELECT pg_read_file('$PGS_DATA/server.log') LIKE '%pg_segments.databases names database \"no_such_db\", which does not exist%'"
ok "a database name that does not exist is reported"
expect "worker_serves(shop_b) is false now" "$(q "SELECT segments.worker_serves('shop_b')")" f
expect "worker_serves(shop_a)" "$(q "SELECT segments.worker_serves('shop_a')")" t
runs_b=$(PGS_DB=shop_b q "SELECT count(*) FROM segments.runs")
sleep 2.5
expect "shop_b is not refreshed while unlisted" "$(PGS_DB=shop_b q "SELECT count(*) FROM segments.runs")" "$runs_b"
expect "wake_worker in an unserved database returns false" "$(PGS_DB=shop_b q "SELECT segments.wake_worker()")" f
warn=$(PGS_DB=shop_b pgs_psql -c "SELECT segments.create_segment('unlisted', rule => 'true')" 2>&1 >/dev/null)
[[ "$warn" == *'WARNING:  segment "unlisted" will not refresh automatically: pg_segments.databases does not list database "shop_b"'* ]] \
  || fail "no warning creating a segment in an unlisted database: $warn"
ok "creating a segment in an unlisted database warns"
q "ALTER SYSTEM RESET pg_segments.databases" >/dev/null
q "SELECT pg_reload_conf()" >/dev/null
wait_for 10 "all four served again" "SELECT count(*) = 4 FROM segments.worker_status WHERE kind = 'scheduler' AND pid IS NOT NULL"
ok "back to every database"

# 3. CREATE EXTENSION in a database whose scheduler idled: picked up within a few nap times.
PGS_DB=empty_db setup_db
PGS_DB=empty_db create_spenders big 100 '1 second'
PGS_DB=empty_db wait_for 8 "empty_db refreshed after CREATE EXTENSION" "SELECT EXISTS (SELECT 1 FROM segments.members)"
ok "a scheduler idling without the extension starts refreshing once it exists"

# 4. scheduler_enabled = off stops every scheduler; on brings them back.
q "ALTER SYSTEM SET pg_segments.scheduler_enabled = off" >/dev/null
q "SELECT pg_reload_conf()" >/dev/null
wait_for 10 "no scheduler while disabled" "SELECT count(*) = 0 FROM segments.worker_status WHERE kind = 'scheduler' AND pid IS NOT NULL"
expect "worker_serves() is false while disabled" "$(q "SELECT segments.worker_serves()")" f
q "ALTER SYSTEM RESET pg_segments.scheduler_enabled" >/dev/null
q "SELECT pg_reload_conf()" >/dev/null
wait_for 10 "schedulers back after enabling" "SELECT count(*) = 4 FROM segments.worker_status WHERE kind = 'scheduler' AND pid IS NOT NULL"
ok "scheduler_enabled switches the worker off and on"

# 5. DROP EXTENSION while a refresh runs in shop_b: waits for that refresh, no crash, then idles.
PGS_DB=shop_b create_unbuilt slow 'SELECT customer_id FROM shop.orders, (SELECT pg_sleep(2)) s' '1 second' 
wait_for 10 "shop_b refreshing slow" "SELECT state = 'refreshing' FROM segments.worker_status WHERE database = 'shop_b'"
sched_b=$(scheduler_pid shop_b)
t0=$(now_s)
PGS_DB=shop_b timeout 30 "$PGS_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d shop_b -c "SET client_min_messages = warning" -c "DROP EXTENSION pg_segments CASCADE" \
  || fail "DROP EXTENSION during a refresh failed or hung"
ok "DROP EXTENSION during a refresh finished in $(elapsed_since "$t0")s"
# DROP EXTENSION stopped the refreshing scheduler first (no deadlock with its locks); the launcher
# brings a new one back after the pause, and it idles.
wait_for 40 "shop_b scheduler back, idling without the extension" \
  "SELECT state = 'no extension' AND pid <> $sched_b FROM segments.worker_status WHERE database = 'shop_b'"
ok "the scheduler of shop_b came back after DROP EXTENSION and idles"

# 6. DROP DATABASE while its scheduler runs (here: in the middle of a refresh).
PGS_DB=shop_a create_unbuilt slow 'SELECT customer_id FROM shop.orders, (SELECT pg_sleep(2)) s' '1 second' 
wait_for 10 "shop_a refreshing slow" "SELECT state = 'refreshing' FROM segments.worker_status WHERE database = 'shop_a'"
t0=$(now_s)
timeout 30 "$PGS_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE shop_a" \
  || fail "DROP DATABASE shop_a failed or hung"
ok "DROP DATABASE during a refresh finished in $(elapsed_since "$t0")s"
timeout 30 "$PGS_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE empty_db" \
  || fail "DROP DATABASE empty_db (idle scheduler) failed or hung"
ok "DROP DATABASE with an idle scheduler"
wait_for 10 "schedulers of dropped databases gone" \
  "SELECT string_agg(database, ',' ORDER BY database) = 'postgres,shop_b' FROM segments.worker_status WHERE kind = 'scheduler'"
ok "no scheduler left for dropped databases"
# renaming a served database works too (needs no other connection)
timeout 30 "$PGS_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d postgres -c "ALTER DATABASE shop_b RENAME TO shop_c" \
  || fail "ALTER DATABASE RENAME of a served database failed or hung"
wait_for 25 "shop_c served after the rename" "SELECT pid IS NOT NULL FROM segments.worker_status WHERE database = 'shop_c'"
ok "a renamed database is served under its new name"
timeout 30 "$PGS_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE shop_copy TEMPLATE shop_c" \
  || fail "CREATE DATABASE ... TEMPLATE of a served database failed or hung"
wait_for 25 "shop_copy and shop_c served" \
  "SELECT count(*) = 2 FROM segments.worker_status WHERE database IN ('shop_c', 'shop_copy') AND pid IS NOT NULL"
ok "a served database can be used as a template"
no_crash

# 7. Without shared_preload_libraries: nothing runs, and the functions say so.
sed -i "/^shared_preload_libraries/d" "$PGS_DATA/postgresql.conf"
pgs_restart
expect "worker_preloaded() without preload" "$(q "SELECT segments.worker_preloaded()")" f
expect "worker_serves() without preload" "$(q "SELECT segments.worker_serves()")" f
expect "wake_worker() without preload" "$(q "SELECT segments.wake_worker()")" f
expect "worker_status without preload" "$(q "SELECT count(*) FROM segments.worker_status")" 0
expect "no pg_segments process" "$(q "SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'pg_segments%'")" 0
warn=$(pgs_psql -c "SELECT segments.create_segment('unscheduled', rule => 'true')" 2>&1 >/dev/null)
[[ "$warn" == *'WARNING:  segment "unscheduled" will not refresh automatically: pg_segments is not in shared_preload_libraries'*'HINT:'* ]] \
  || fail "no warning creating a segment without shared_preload_libraries: $warn"
expect "the segment is created all the same" "$(q "SELECT count(*) FROM segments.segments WHERE name = 'unscheduled'")" 1
ok "creating a segment without shared_preload_libraries works and warns"
