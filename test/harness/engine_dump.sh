#!/usr/bin/env bash
# pg_dump / restore keeps the segment engine's catalog (pg_extension_config_dump): source mappings,
# segments with owners and schedules, membership, change log, history, runs; the restored database
# rebuilds its source views and facts and refreshes segments as a diff against the restored members.
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/lib/pg.sh
trap pgs_stop EXIT
pgs_setup
pgs_start

q() { PGS_DB=${DB:-postgres} pgs_psql -At -c "$1"; }

pgs_psql -c "CREATE ROLE regress_engine_owner" -c "CREATE DATABASE src" -c "CREATE DATABASE dst" >/dev/null
PGS_DB=src pgs_psql >/dev/null <<'SQL'
CREATE EXTENSION pg_segments;
GRANT segments_editor TO regress_engine_owner;
SET pg_segments.facts_max_age = -1;
CREATE SCHEMA shop;
CREATE TABLE shop.orders(customer text, at timestamptz, amount numeric, state text);
INSERT INTO shop.orders SELECT 'c' || (i % 50), timestamptz '2024-01-01' + i * interval '1 day', i, 'paid'
FROM generate_series(1, 140) i;
GRANT USAGE ON SCHEMA shop TO regress_engine_owner;
GRANT SELECT ON shop.orders TO regress_engine_owner;
SELECT segments.map_source('orders', 'shop.orders',
  '{"customer_id": "customer", "ordered_at": "at", "amount": "amount", "valid": "state = ''paid''"}');
SELECT segments.refresh_facts('2024-06-01');
SELECT segments.create_segment('big spenders', 'revenue > 300', refresh_interval => '6 hours', timezone => 'Europe/Berlin');
SET ROLE regress_engine_owner;
SELECT segments.create_segment('recent', query => $$SELECT customer_id FROM segments.source_orders WHERE ordered_at > '2024-05-01'$$);
RESET ROLE;
UPDATE shop.orders SET amount = amount * 2 WHERE customer IN ('c1', 'c2', 'c3');
SELECT segments.refresh_facts('2024-06-01');
SELECT segments.refresh_all();
SQL
snapshot="SELECT (SELECT string_agg(format('%s|%s|%s|%s|%s|%s', name, rule, query, owner, refresh_interval, timezone), ';' ORDER BY id) FROM segments.segments),
  (SELECT string_agg(format('%s:%s', segment_id, customer_id), ',' ORDER BY segment_id, customer_id) FROM segments.membership),
  (SELECT string_agg(format('%s:%s:%s:%s', id, segment_id, customer_id, change), ',' ORDER BY id) FROM segments.changes),
  (SELECT count(*) FROM segments.history), (SELECT count(*) FROM segments.runs),
  (SELECT string_agg(kind || '=' || source::text, ',' ORDER BY kind) FROM segments.source_map)"
before=$(DB=src q "$snapshot")
"$PGS_BIN/pg_dump" -d src -Fc -f "$PGS_ROOT/src.dump"
"$PGS_BIN/pg_restore" -d dst "$PGS_ROOT/src.dump" 2> "$PGS_ROOT/restore.err" || { cat "$PGS_ROOT/restore.err"; fail "pg_restore"; }
after=$(DB=dst q "$snapshot")
[ "$before" = "$after" ] || fail "catalog differs after restore:
$before
$after"
ok "segments, owners, schedules, membership, changes, history, runs and source mappings survive pg_dump/restore"

[ "$(DB=dst q "SELECT count(*) FROM segments.customers")" = 0 ] || fail "facts were dumped (they are derived)"
# Before the facts are rebuilt the overview says so (facts_stale) and still counts the members.
overview="SELECT string_agg(format('%s:%s:%s', segment, customers, facts_stale), ',' ORDER BY id) FROM segments.overview"
src_overview=$(DB=src q "$overview")
stale=$(DB=dst q "$overview")
[ "$stale" = "${src_overview//:f/:t}" ] && [[ "$src_overview" != *:t* ]] \
  || fail "overview after restore: $stale, expected the source's counts with facts_stale ($src_overview)"
ok "after restore, before refresh_facts: overview keeps the member counts and says facts_stale ($stale)"
PGS_DB=dst pgs_psql >/dev/null <<'SQL'
SET pg_segments.facts_max_age = -1;
SELECT segments.refresh_facts('2024-06-01');
SQL
[ "$(DB=dst q "SELECT count(*) FROM segments.source_orders")" = 140 ] || fail "source view not rebuilt after restore"
[ "$(DB=dst q "$overview")" = "$src_overview" ] || fail "overview after refresh_facts: $(DB=dst q "$overview")"
runs=$(DB=dst q "SET pg_segments.facts_max_age = -1; SELECT string_agg(format('%s:%s:%s:%s', status, joined, \"left\", size), ',' ORDER BY segment_id) FROM segments.refresh_all()")
sizes=$(DB=src q "SELECT string_agg(format('succeeded:0:0:%s', n), ',' ORDER BY segment_id) FROM (SELECT segment_id, count(*) AS n FROM segments.membership GROUP BY 1) x")
[ "$runs" = "$sizes" ] || fail "refresh after restore: $runs, expected $sizes (no joins or leaves)"
owner=$(DB=dst q "SELECT relowner::regrole FROM pg_class WHERE oid = (SELECT format('segment_rules.s_%s', id)::regclass FROM segments.segments WHERE name = 'recent')")
[ "$owner" = regress_engine_owner ] || fail "rule view owned by $owner after restore"
next_change=$(DB=dst q "SELECT nextval('segments.changes_id_seq') > (SELECT max(id) FROM segments.changes)")
[ "$next_change" = t ] || fail "change id sequence not restored"
ok "after restore: source views and facts rebuilt, rules still run as their owner, refresh finds nothing to change, ids continue"

pgs_psql -c "DROP DATABASE src" -c "DROP DATABASE dst" -c "DROP ROLE regress_engine_owner" >/dev/null
