-- Sharded mode API (docs/scale-out.md), on one server: the errors of add_shard / remove_shard /
-- shard_table, who may call what, and the shards' two steps run locally, which must give what a
-- plain refresh gives (test/harness/shards.sh runs the real thing on three clusters).
CREATE EXTENSION IF NOT EXISTS pg_segments;
CREATE EXTENSION IF NOT EXISTS postgres_fdw;
SET timezone = 'UTC';
\i test/regress/sql/error_of.psql
CREATE SCHEMA shard_shop;
CREATE TABLE shard_shop.orders (customer text, at timestamptz, amount numeric, ok boolean);
INSERT INTO shard_shop.orders
SELECT 'c' || (i % 40), timestamptz '2024-01-01' + (i * 37 % 300) * interval '1 day' + i * interval '1 minute',
       (i % 23) * 5 + 1, i % 17 <> 0
FROM generate_series(1, 600) i;
SELECT segments.map_source('orders', 'shard_shop.orders',
  '{"customer_id": "customer", "ordered_at": "at", "amount": "amount", "valid": "ok"}');
SELECT customers FROM segments.refresh_facts('2024-11-01');
CREATE TEMP TABLE plain_facts AS SELECT * FROM segments.customers;

-- A shard's step 1 (its statistics) and step 3 (its facts with given numbers), here with this
-- server's own numbers: the merged model is the plain fit, and the facts are the plain ones.
CREATE TEMP TABLE st AS SELECT * FROM segments_internal._shard_states('2024-11-01', '{}');
SELECT customers, orders, buyers, aov_sum / buyers = (SELECT avg(aov) FROM plain_facts WHERE orders > 0) AS same_mean,
       (SELECT bgnbd_fit_merge(bgnbd) FROM st) = (SELECT bgnbd_fit((rfm).frequency, (rfm).recency, (rfm).t)
         FROM segments_internal.order_facts('2024-11-01') WHERE rfm IS NOT NULL) AS same_bgnbd
FROM st;
SELECT customers FROM segments_internal._shard_refresh_facts('2024-11-01', (SELECT aov_sum / buyers FROM st),
  (SELECT bgnbd_fit_merge(bgnbd) FROM st), (SELECT gammagamma_fit_merge(gammagamma) FROM st), '{}');
SELECT count(*) AS differing FROM (SELECT * FROM plain_facts EXCEPT SELECT * FROM segments.customers) d;
SELECT count(*) AS globals_left FROM segments_internal.facts_globals;
-- With other numbers the bands and scores follow them (a mean of 1: every buyer is very high).
SELECT customers FROM segments_internal._shard_refresh_facts('2024-11-01', 1, NULL, NULL, '{}');
SELECT value_band, count(*), count(p_alive) AS scored FROM segments.customers GROUP BY 1 ORDER BY 1;
-- The incremental steps (step 1: the logged customers recomputed, with the AOV sums before and
-- after; step 2: the bands with the means from those sums), here with this server's sums, give
-- what a plain incremental refresh gives; without a full refresh since track_changes, step 1 refuses.
SELECT segments.track_changes();
SELECT pg_temp.error_of($$SELECT * FROM segments_internal._shard_recompute_changed('2024-11-01', '{}')$$) AS no_full_refresh;
SELECT customers FROM segments.refresh_facts('2024-11-01');
INSERT INTO shard_shop.orders VALUES ('c3', '2024-11-02', 900, true), ('c4', '2024-11-02', 1, true), ('new', '2024-11-02', 50, true);
UPDATE shard_shop.orders SET ok = false WHERE customer = 'c5';
BEGIN;
SELECT customers, inserted, updated, deleted FROM segments.refresh_facts('2024-11-03', incremental => true);
SELECT md5(string_agg(c::text, '|' ORDER BY customer_id)) AS plain_incremental FROM segments.customers c \gset
ROLLBACK;
CREATE TEMP TABLE st1 AS SELECT * FROM segments_internal._shard_recompute_changed('2024-11-03', '{}');
SELECT recomputed, customers, inserted, updated, deleted, old_sum / old_buyers = (SELECT avg(aov) FROM plain_facts WHERE orders > 0) AS old_mean_stored,
       (SELECT count(*) FROM segments_internal.facts_globals) AS ids_kept
FROM st1;
SELECT segments_internal._shard_reband_facts((SELECT old_sum / old_buyers FROM st1), (SELECT aov_sum / buyers FROM st1));
SELECT md5(string_agg(c::text, '|' ORDER BY customer_id)) = :'plain_incremental' AS same_as_plain,
       (SELECT count(*) FROM segments_internal.facts_globals) AS globals_left
FROM segments.customers c;
SELECT segments.track_changes(false);
-- The coordinator's settings hold for the shard's transaction; only pg_segments ones and TimeZone.
BEGIN;
SELECT segments_internal._shard_settings('{"pg_segments.lifecycle_just_ordered_days": "365", "TimeZone": "Asia/Tokyo"}')
  AS own_values;
SELECT current_setting('pg_segments.lifecycle_just_ordered_days') AS just_ordered, current_setting('TimeZone') AS tz;
ROLLBACK;
SELECT q AS statement, pg_temp.error_of(q) AS error FROM (VALUES
  ($$SELECT segments_internal._shard_settings('{"work_mem": "1GB"}')$$),
  ($$SELECT segments_internal._shard_settings('{"pg_segments.no_such_thing": "1"}')$$),
  ($$SELECT segments.add_shard('no_such_server')$$),
  ($$SELECT segments.remove_shard('no_such_server')$$),
  ($$SELECT segments.shard_table('shard_shop.orders')$$)
) v(q);
CREATE FOREIGN DATA WRAPPER regress_other_fdw;
CREATE SERVER regress_other FOREIGN DATA WRAPPER regress_other_fdw;
CREATE SERVER regress_pg FOREIGN DATA WRAPPER postgres_fdw OPTIONS (dbname 'nowhere');
SELECT q AS statement, pg_temp.error_of(q) AS error FROM (VALUES
  ($$SELECT segments.add_shard('regress_other')$$),
  ($$SELECT segments.add_shard('regress_pg')$$)  -- dblink is not installed here
) v(q);

-- Shard management is for segments_admin (who may use the server); the shards' steps for nobody
-- but the extension owner.
CREATE ROLE regress_shards_editor IN ROLE segments_editor;
CREATE ROLE regress_shards_admin IN ROLE segments_admin;
SET ROLE regress_shards_editor;
SELECT q AS statement, pg_temp.error_of(q) AS error FROM (VALUES
  ($$SELECT segments.add_shard('regress_pg')$$),
  ($$SELECT segments.remove_shard('regress_pg')$$),
  ($$SELECT segments.shard_table('segments.customers')$$),
  ($$SELECT * FROM segments_internal._shard_states('2024-11-01', '{}')$$),
  ($$SELECT segments_internal._shard_refresh_facts('2024-11-01', 1, NULL, NULL, '{}')$$),
  ($$SELECT * FROM segments_internal._shard_recompute_changed('2024-11-01', '{}')$$),
  ($$SELECT segments_internal._shard_reband_facts(1, 2)$$),
  ($$SELECT segments_internal._refresh_sharded_facts(now(), false)$$)
) v(q);
SELECT count(*) AS shards_visible FROM segments.shards;
SET ROLE regress_shards_admin;
SELECT pg_temp.error_of($$SELECT segments.add_shard('regress_pg')$$) AS admin_without_server_usage;
RESET ROLE;
DROP ROLE regress_shards_editor, regress_shards_admin;
DROP SERVER regress_other; DROP SERVER regress_pg; DROP FOREIGN DATA WRAPPER regress_other_fdw;
SELECT segments.unmap_source('orders');
SELECT customers FROM segments.refresh_facts('2024-11-01');
DROP SCHEMA shard_shop CASCADE;
