#!/usr/bin/env bash
# Upgrade 0.1 -> 0.2, as a user does it: a server running the 0.1 library (built from the 0.1
# release commit) with its worker on, a shop with mapped sources, packs, a tracked custom segment,
# refreshes by hand and by the worker; then the 0.2 build installed, the server restarted (the
# worker says the database still needs ALTER EXTENSION ... UPDATE), the update, and:
#   - no membership, change, history or run row (nor segment, mapping) lost or changed by it;
#   - the change-id sequence continues;
#   - the schema equals a fresh 0.2 install's (test/lib/schema_snapshot.sql: every routine,
#     relation, column, grant, comment, policy, trigger, type of the extension): the differential
#     test that catches a missing migration, printed line by line;
#   - the same data change and refresh give the same facts and membership as on a fresh install;
#   - the worker refreshes again after the update; pg_dump / pg_restore of the updated database.
# PGS_UPGRADE_FROM_COMMIT (default: the release commit of 0.1) gives the old library; without git
# history (a shallow clone) the 0.1 script runs on the 0.2 library instead, and the harness says so.
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/lib/pg.sh
source test/lib/worker.sh
unset PGS_ROOT    # its own install tree: it installs the old release into it
trap pgs_stop EXIT
pgs_setup
from_commit=${PGS_UPGRADE_FROM_COMMIT:-354b88b}
snapshot_sql=$PGS_REPO/test/lib/schema_snapshot.sql
work=$PGS_ROOT/upgrade
mkdir -p "$work"
chmod 777 "$work"
t_start=$(now_s)

# 1. The 0.1 release: its own build, installed over this tree (library, control file, script).
old_lib=no
if git -C "$PGS_REPO" cat-file -e "$from_commit^{commit}" 2>/dev/null; then
  mkdir -p "$work/src-0.1"
  git -C "$PGS_REPO" archive "$from_commit" | tar -x -C "$work/src-0.1"
  (cd "$work/src-0.1" && make -s -j"$(nproc)" >/dev/null 2>&1 && make -s install DESTDIR="$PGS_ROOT" >/dev/null) \
    || fail "building the 0.1 release ($from_commit)"
  cmp -s "$work/src-0.1/pg_segments--0.1.sql" "$PGS_REPO/pg_segments--0.1.sql" \
    || fail "the frozen pg_segments--0.1.sql differs from what $from_commit builds"
  ok "0.1 built from $from_commit in $(elapsed_since "$t_start")s; its script equals the frozen pg_segments--0.1.sql"
  old_lib=yes
else
  echo "note: commit $from_commit not available (shallow clone?): 0.1's script runs on the 0.2 library"
fi
pgs_start "${PGS_WORKER_CONF[@]}"

# 2. A 0.1 database in use.
pgs_psql -c "CREATE DATABASE up" -c "CREATE DATABASE fresh" >/dev/null
# shop DB: the same shop, mapping, packs and custom segment (run in both databases)
load_shop() {
  PGS_DB=$1 pgs_psql -v orders=3000 -v customers=400 -v seed=12 -v end_date="$(date -u +%F)" -v quiet=on \
    -f scripts/generate_shop.sql >/dev/null
  PGS_DB=$1 pgs_psql >/dev/null <<'SQL'
SET client_min_messages = warning;
SELECT segments.map_source('orders', 'shop.orders', $${
  "customer_id": "customer_id", "order_id": "order_id", "ordered_at": "created_at",
  "amount": "total", "valid": "status IN ('paid', 'refund')"}$$);
SELECT segments.map_source('contacts', 'shop.customers', $${
  "customer_id": "customer_id", "email": "email", "opted_in": "accepts_marketing",
  "created_at": "created_at", "first_name": "first_name", "last_name": "last_name"}$$);
SELECT segments.map_source('events', 'shop.events', $${"customer_id": "customer_id", "kind": "event", "at": "occurred_at"}$$);
SELECT segments.map_source('subscriptions', 'shop.subscriptions', $${
  "customer_id": "customer_id", "started_at": "started_at", "is_trial": "trial", "status": "status",
  "engagement_rating": "engagement_rating", "last_seen_at": "last_seen_at"}$$);
SELECT segments.map_source('deals', 'shop.deals', $${
  "customer_id": "customer_id", "deal_id": "deal_id", "created_at": "created_at",
  "updated_at": "updated_at", "state": "stage", "updates_30d": "updates_last_30d"}$$);
SELECT count(*) FROM unnest(ARRAY['ecommerce', 'payments', 'crm', 'lifecycle']) p, segments.install_pack(p);
SELECT segments.create_segment('big spenders', 'revenue > 300');
SELECT segments.create_segment('recent buyers', query => $$SELECT customer_id FROM segments.source_orders WHERE ordered_at > now() - interval '60 days'$$,
                               refresh_interval => '1 hour', timezone => 'Europe/Berlin');
SELECT segments.track_changes();
SQL
}
PGS_DB=up pgs_psql -c "CREATE EXTENSION pg_segments VERSION '0.1'" >/dev/null
load_shop up
expect "0.1 installed" "$(PGS_DB=up q "SELECT extversion FROM pg_extension WHERE extname = 'pg_segments'")" 0.1
# Life under 0.1: a data change, a manual refresh, a refresh by the 0.1 worker (refresh_now).
# (the same orders go into the fresh database later, so both hold the same shop)
new_orders() {  # new_orders DB AGO TOTAL N: N paid orders AGO before the current hour
  PGS_DB=$1 pgs_psql -c "INSERT INTO shop.orders (customer_id, created_at, status, total, items)
    SELECT customer_id, date_trunc('hour', now()) - interval '$2', 'paid', $3, 1
    FROM shop.customers ORDER BY customer_id $5 LIMIT $4" >/dev/null
}
new_orders up '1 day' 900 5 ASC
PGS_DB=up pgs_psql >/dev/null <<'SQL'
SELECT segments.refresh('big spenders');
SELECT segments.refresh_now('recent buyers');
SQL
PGS_DB=up wait_for 20 "the 0.1 worker serves refresh_now" \
  "SELECT count(*) > 0 FROM segments.runs WHERE trigger = 'refresh_now' AND status = 'succeeded'"
ok "0.1 in use: $(PGS_DB=up q "SELECT count(*) FROM segments.segments") segments, $(PGS_DB=up q "SELECT count(*) FROM segments.membership") members, $(PGS_DB=up q "SELECT count(*) FROM segments.runs") runs"

# Every row the update must keep, as text, sorted (the catalog tables registered for pg_dump).
# $2: a comma-separated list of table.column to show (the columns 0.1 had: columns 0.2 adds are
# not part of the rows the update keeps); empty: every column.
data_snapshot() {
  PGS_DB=$1 pgs_psql -qAt -v cols="${2:-}" <<'SQL'
SELECT set_config('pgs.cols', :'cols', false) \g /dev/null
CREATE FUNCTION pg_temp.kept(tbl text, r jsonb) RETURNS text LANGUAGE sql AS $$
  SELECT CASE WHEN current_setting('pgs.cols') = '' THEN r::text
              ELSE (SELECT jsonb_object_agg(e.key, e.value)::text FROM jsonb_each(r) e
                    WHERE tbl || '.' || e.key = ANY (string_to_array(current_setting('pgs.cols'), ','))) END $$;
SELECT line FROM (
SELECT 'segment|' || pg_temp.kept('segments', to_jsonb(s)) AS line FROM segments.segments s
UNION ALL SELECT 'member|' || pg_temp.kept('membership', to_jsonb(m)) FROM segments.membership m
UNION ALL SELECT 'change|' || pg_temp.kept('changes', to_jsonb(c)) FROM segments.changes c
UNION ALL SELECT 'history|' || pg_temp.kept('history', to_jsonb(h)) FROM segments.history h
UNION ALL SELECT 'run|' || pg_temp.kept('runs', to_jsonb(r)) FROM segments.runs r
UNION ALL SELECT 'source|' || kind || '|' || source::text || '|' || columns::text FROM segments.source_map
) t ORDER BY line COLLATE "C";
SQL
}
# Wait until nothing refreshes, then take the "before" picture.
PGS_DB=up wait_for 20 "no run in progress" "SELECT NOT EXISTS (SELECT 1 FROM segments.runs WHERE status = 'running')"
cols_01=$(PGS_DB=up q "SELECT string_agg(c.relname || '.' || a.attname, ',') FROM pg_attribute a
  JOIN pg_class c ON c.oid = a.attrelid WHERE c.relnamespace = 'segments'::regnamespace
  AND c.relname IN ('segments', 'membership', 'changes', 'history', 'runs') AND a.attnum > 0 AND NOT a.attisdropped")
data_snapshot up "$cols_01" > "$work/before.txt"
seq_before=$(PGS_DB=up q "SELECT last_value FROM segments.changes_id_seq")
max_change_before=$(PGS_DB=up q "SELECT coalesce(max(id), 0) FROM segments.changes")

# 3. The 0.2 build replaces the library; the server restarts (as after a package upgrade).
(cd "$PGS_REPO" && make -s install DESTDIR="$PGS_ROOT" >/dev/null)
log_mark=$(wc -l < "$PGS_DATA/server.log")
pgs_restart
PGS_DB=up wait_for 20 "the 0.2 worker reporting that database up needs the update" \
  "SELECT state = 'needs update' FROM segments.worker_status WHERE database = 'up'"
tail -n +"$log_mark" "$PGS_DATA/server.log" | grep -q 'database "up" has pg_segments 0.1 but the library is 0.2' \
  || fail "no log line naming the version mismatch"
ok "after the restart the worker says: $(tail -n +"$log_mark" "$PGS_DATA/server.log" | grep -m1 -o 'database "up" has pg_segments 0.1.*')"

# A view of the user's own over 0.1's facts table stops the update (it would follow the moved table,
# not the new view segments.customers) with a clear error, and the update rolls back entirely.
PGS_DB=up pgs_psql -c "CREATE VIEW public.my_recency AS SELECT customer_id, days_since_last_order FROM segments.customers" >/dev/null
if PGS_DB=up pgs_psql -c "ALTER EXTENSION pg_segments UPDATE" >/dev/null 2> "$work/update.err"; then
  fail "the update went through a user's view over segments.customers"
fi
grep -q 'views over segments.customers stop the update to 0.2: my_recency' "$work/update.err" \
  || { cat "$work/update.err"; fail "no clear error for a user's view over segments.customers"; }
expect "still 0.1 after the refused update" "$(PGS_DB=up q "SELECT extversion FROM pg_extension WHERE extname = 'pg_segments'")" 0.1
PGS_DB=up pgs_psql -c "DROP VIEW public.my_recency" >/dev/null
ok "a user's view over segments.customers stops the update: $(grep -o 'ERROR: .*' "$work/update.err" | head -1)"

t_update=$(now_s)
PGS_DB=up pgs_psql -c "ALTER EXTENSION pg_segments UPDATE" >/dev/null 2> "$work/update.err" \
  || { cat "$work/update.err"; fail "ALTER EXTENSION pg_segments UPDATE"; }
ok "ALTER EXTENSION pg_segments UPDATE in $(elapsed_since "$t_update")s"
expect "updated to 0.2" "$(PGS_DB=up q "SELECT extversion FROM pg_extension WHERE extname = 'pg_segments'")" 0.2

# No row lost or changed by the update itself.
data_snapshot up "$cols_01" > "$work/after.txt"
if ! diff "$work/before.txt" "$work/after.txt" > "$work/data.diff"; then
  cat "$work/data.diff" | head -40
  fail "the update changed or lost catalog rows (above: < before, > after)"
fi
ok "every segment, member, change, history row, run and mapping kept as it was ($(wc -l < "$work/before.txt") rows)"

# 4. The schema equals a fresh install's.
PGS_DB=fresh pgs_psql -c "CREATE EXTENSION pg_segments" >/dev/null
load_shop fresh
new_orders fresh '1 day' 900 5 ASC
PGS_DB=up pgs_psql -At -f "$snapshot_sql" > "$work/schema-up.txt"
PGS_DB=fresh pgs_psql -At -f "$snapshot_sql" > "$work/schema-fresh.txt"
if ! diff "$work/schema-up.txt" "$work/schema-fresh.txt" > "$work/schema.diff"; then
  echo "--- schema: < upgraded from 0.1, > fresh 0.2 install ($(grep -c '^[<>]' "$work/schema.diff") lines differ)"
  grep '^[<>]' "$work/schema.diff" | cut -c1-400
  fail "the upgraded schema differs from a fresh install: complete sql/updates/0.1--0.2/"
fi
ok "upgraded schema equals a fresh install: $(wc -l < "$work/schema-up.txt") properties compared"
# The rule relations and member views the update rebuilt belong to their segments, not the extension.
expect "per-segment relations that are extension members" "$(PGS_DB=up q "SELECT count(*) FROM pg_depend d
  JOIN pg_class c ON c.oid = d.objid WHERE d.classid = 'pg_class'::regclass AND d.deptype = 'e'
  AND c.relnamespace IN ('segment_rules'::regnamespace, 'segment_members'::regnamespace)")" 0
ok "rebuilt rule relations ($(PGS_DB=up q "SELECT count(*) FROM pg_class WHERE relnamespace = 'segment_rules'::regnamespace")) and member views are the segments' own"

# 5. The same change and refresh after the update and on the fresh install give the same answers.
# Segments installed from 0.1's packs keep 0.1's definitions (an update never changes what a
# segment means behind its users' backs); installing the packs again takes 0.2's (CHANGELOG.md).
changed_packs=$(PGS_DB=fresh q "SELECT string_agg(name || '=' || md5(coalesce(rule, '') || coalesce(query, '')), ' ' ORDER BY name) FROM segments.segments WHERE pack IS NOT NULL")
changed_packs=$(PGS_DB=up q "SELECT count(*) FROM segments.segments s, unnest(string_to_array('$changed_packs', ' ')) f
  WHERE s.pack IS NOT NULL AND split_part(f, '=', 1) = s.name AND split_part(f, '=', 2) <> md5(coalesce(s.rule, '') || coalesce(s.query, ''))")
ok "$changed_packs pack segments have a new definition in 0.2; kept as installed until install_pack runs again"
PGS_DB=up pgs_psql -c "SET client_min_messages = warning" \
  -c "SELECT count(*) FROM unnest(ARRAY['ecommerce', 'payments', 'crm', 'lifecycle']) p, segments.install_pack(p)" >/dev/null
for db in up fresh; do
  new_orders $db '2 hours' 450 7 DESC
  PGS_DB=$db pgs_psql >/dev/null <<'SQL'
SET client_min_messages = warning;
SELECT segments.refresh_facts(date_trunc('hour', now()));
SELECT count(*) FROM segments.refresh_all();
SQL
done
facts_q="SELECT (c.*)::text FROM (SELECT * FROM segments.customers) c ORDER BY customer_id"
members_q="SELECT s.name || '|' || m.customer_id FROM segments.membership m JOIN segments.segments s ON s.id = m.segment_id ORDER BY (s.name || '|' || m.customer_id) COLLATE \"C\""
for what in facts members; do
  qvar=${what}_q
  PGS_DB=up q "${!qvar}" > "$work/$what-up.txt"
  PGS_DB=fresh q "${!qvar}" > "$work/$what-fresh.txt"
  diff "$work/$what-up.txt" "$work/$what-fresh.txt" > "$work/$what.diff" \
    || { head -20 "$work/$what.diff"; fail "$what after the update differ from a fresh install's"; }
done
ok "after the same change and refresh: facts ($(wc -l < "$work/facts-up.txt") customers) and membership ($(wc -l < "$work/members-up.txt") rows in $(PGS_DB=up q "SELECT count(*) FROM segments.segments") segments) equal a fresh install's"
seq_after=$(PGS_DB=up q "SELECT last_value FROM segments.changes_id_seq")
min_new=$(PGS_DB=up q "SELECT min(id) FROM segments.changes WHERE id > $max_change_before")
[ -n "$min_new" ] || fail "the refresh after the update logged no change"
[ "$seq_after" -gt "$seq_before" ] && [ "$min_new" -gt "$max_change_before" ] \
  || fail "change ids restarted: before max $max_change_before (sequence $seq_before), new from $min_new (sequence $seq_after)"
ok "change ids continue: last before the update $max_change_before, first after $min_new"

# 6. The worker refreshes again.
PGS_DB=up wait_for 20 "the worker idle in up after the update" \
  "SELECT state = 'idle' FROM segments.worker_status WHERE database = 'up'"
# The run must be a new one (the 0.1 worker's refresh_now run is seconds old), and finished before
# the dump below, or the dump catches it 'running'.
last_run=$(PGS_DB=up q "SELECT coalesce(max(id), 0) FROM segments.runs")
PGS_DB=up q "SELECT segments.refresh_now('big spenders')" >/dev/null
PGS_DB=up wait_for 20 "refresh_now served after the update" \
  "SELECT EXISTS (SELECT 1 FROM segments.runs WHERE id > $last_run AND trigger = 'refresh_now' AND status = 'succeeded')
     AND NOT EXISTS (SELECT 1 FROM segments.runs WHERE status = 'running')"
ok "the worker kept running across the update and serves refresh_now again (library $([ $old_lib = yes ] && echo 0.1 then 0.2 || echo 0.2))"

# 7. pg_dump / pg_restore of the updated database.
"$PGS_BIN/pg_dump" -d up -Fc -f "$work/up.dump"
pgs_psql -c "CREATE DATABASE restored" >/dev/null
"$PGS_BIN/pg_restore" -d restored "$work/up.dump" 2> "$work/restore.err" || { cat "$work/restore.err"; fail "pg_restore"; }
PGS_DB=up wait_for 20 "no run in progress" "SELECT NOT EXISTS (SELECT 1 FROM segments.runs WHERE status = 'running')"
data_snapshot up > "$work/dumped.txt"
data_snapshot restored > "$work/restored.txt"
diff "$work/dumped.txt" "$work/restored.txt" > "$work/restore.diff" || { head -20 "$work/restore.diff"; fail "restored rows differ"; }
expect "restored extension version" "$(PGS_DB=restored q "SELECT extversion FROM pg_extension WHERE extname = 'pg_segments'")" 0.2
ok "pg_dump / pg_restore of the updated database keeps all $(wc -l < "$work/restored.txt") catalog rows"
echo "figures: upgrade harness $(elapsed_since "$t_start")s in all"
