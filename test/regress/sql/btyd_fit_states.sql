-- Mergeable fit states (docs/scale-out.md#mergeable-states): CDNOW split over three "shards" by
-- customer; the models merged from the shards' states equal the fits over everyone, bit for bit,
-- for all five models (BG/BB on FHS 2010's donors); hostile bytes give class-22 errors. Also
-- rfm_summary's time_unit overload.
CREATE EXTENSION IF NOT EXISTS pg_segments;
SET timezone = 'UTC';
\i test/regress/sql/cdnow_orders.psql

-- The time_unit overload gives the text overload's summaries.
SELECT count(*) AS customers,
       count(*) FILTER (WHERE a IS NOT DISTINCT FROM b AND c IS NOT DISTINCT FROM d) AS same_summaries
FROM (SELECT rfm_summary(ordered_at, amount, '1997-09-30', 'weeks') a,
             rfm_summary(ordered_at, amount, '1997-09-30', 'weeks'::time_unit) b,
             rfm_summary(ordered_at, amount, '1997-09-30', 'days') c,
             rfm_summary(ordered_at, amount, '1997-09-30', 'days'::time_unit) d
      FROM cdnow_orders GROUP BY customer) q;

CREATE TEMP TABLE fs_summary AS
SELECT customer, (rfm_summary(ordered_at, amount, '1997-09-30', 'weeks'::time_unit)).* FROM cdnow_orders GROUP BY customer;
-- Each shard's states.
CREATE TEMP TABLE fs_states AS
SELECT customer % 3 AS shard, count(*) AS customers,
       bgnbd_fit_state(frequency, recency, t) AS bg, paretonbd_fit_state(frequency, recency, t) AS pn,
       gammagamma_fit_state(frequency, monetary) AS gg
FROM fs_summary GROUP BY 1;
SELECT count(*) AS shards, sum(customers) AS customers, bool_and(bg = pn) AS bg_pn_states_alike FROM fs_states;
SELECT (SELECT bgnbd_fit(frequency, recency, t) FROM fs_summary) = (SELECT bgnbd_fit_merge(bg) FROM fs_states) AS bgnbd_equal,
       (SELECT paretonbd_fit(frequency, recency, t) FROM fs_summary) = (SELECT paretonbd_fit_merge(pn) FROM fs_states) AS paretonbd_equal,
       (SELECT gammagamma_fit(frequency, monetary) FROM fs_summary) = (SELECT gammagamma_fit_merge(gg) FROM fs_states) AS gammagamma_equal,
       -- BG/NBD and Pareto/NBD states hold the same summaries: either fits either model.
       (SELECT paretonbd_fit(frequency, recency, t) FROM fs_summary) = (SELECT paretonbd_fit_merge(bg) FROM fs_states) AS pn_from_bg_state;
SELECT (bgnbd_fit_merge(bg)).customers FROM fs_states;
-- MBG/NBD: its own states, and the BG/NBD's (the same summaries).
SELECT (SELECT mbgnbd_fit(frequency, recency, t) FROM fs_summary)
         = (SELECT mbgnbd_fit_merge(s) FROM (SELECT mbgnbd_fit_state(frequency, recency, t) AS s FROM fs_summary GROUP BY customer % 3) q)
         AS mbgnbd_equal,
       (SELECT mbgnbd_fit(frequency, recency, t) FROM fs_summary) = (SELECT mbgnbd_fit_merge(bg) FROM fs_states) AS mbg_from_bg_state,
       (SELECT bool_and(s = bg) FROM (SELECT customer % 3 AS shard, mbgnbd_fit_state(frequency, recency, t) AS s FROM fs_summary GROUP BY 1) q
        JOIN fs_states USING (shard)) AS mbg_bg_states_alike;
-- BG/BB: discrete (frequency, recency, periods) states of their own, on FHS 2010's 11,104 donors.
CREATE TEMP TABLE fs_donations(x int, t_x int, n int, donors int);
INSERT INTO fs_donations VALUES (0,0,6,3464), (1,1,6,1091), (1,2,6,277), (1,3,6,129), (1,4,6,78), (1,5,6,119),
  (1,6,6,129), (2,2,6,613), (2,3,6,255), (2,4,6,155), (2,5,6,173), (2,6,6,234), (3,3,6,322), (3,4,6,181),
  (3,5,6,225), (3,6,6,357), (4,4,6,240), (4,5,6,284), (4,6,6,512), (5,5,6,335), (5,6,6,728), (6,6,6,1203);
CREATE TEMP TABLE fs_donors AS SELECT row_number() OVER () AS id, x, t_x, n FROM fs_donations, generate_series(1, donors);
CREATE TEMP TABLE fs_bb AS SELECT id % 3 AS shard, bgbb_fit_state(x, t_x, n) AS bb FROM fs_donors GROUP BY 1;
SELECT (SELECT bgbb_fit(x, t_x, n) FROM fs_donors) = (SELECT bgbb_fit_merge(bb) FROM fs_bb) AS bgbb_equal,
       (SELECT (bgbb_fit_merge(bb)).customers FROM fs_bb) AS bgbb_customers;

-- Parallel merging (Partial Aggregate, combine, serialize) gives the same model.
-- (a plain table: temporary ones are never scanned in parallel)
CREATE TABLE fs_many AS SELECT s.bg, s.gg FROM fs_states s, generate_series(1, 2000) g;
SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT bgnbd_fit_merge(bg) FROM fs_many;
CREATE TEMP TABLE fs_par AS SELECT bgnbd_fit_merge(bg) AS bg, gammagamma_fit_merge(gg) AS gg FROM fs_many;
RESET max_parallel_workers_per_gather;
SELECT (SELECT bg FROM fs_par) = (SELECT bgnbd_fit_merge(bg) FROM fs_many) AS parallel_bg_equal,
       (SELECT gg FROM fs_par) = (SELECT gammagamma_fit_merge(gg) FROM fs_many) AS parallel_gg_equal,
       ((SELECT bg FROM fs_par)).customers AS customers_times_2000;
RESET parallel_setup_cost; RESET parallel_tuple_cost; RESET min_parallel_table_scan_size;
DROP TABLE fs_many;

-- Empty input: the state of no rows merges into nothing; NULL states are skipped.
SELECT length(bgnbd_fit_state(frequency, recency, t)) AS empty_state_bytes FROM fs_summary WHERE false;
SELECT bgnbd_fit_merge(s) IS NULL AS no_model
FROM (SELECT bgnbd_fit_state(frequency, recency, t) s FROM fs_summary WHERE false UNION ALL SELECT NULL) q;

-- Hostile bytes: class-22 errors with a hint, never a crash.
\i test/regress/sql/error_of.psql
CREATE TEMP TABLE fs_one AS SELECT bg, gg FROM fs_states WHERE shard = 0;
SELECT q AS statement, pg_temp.error_of(q) AS error FROM (VALUES
  ($$SELECT bgnbd_fit_merge('\x00'::bytea)$$),
  ($$SELECT bgnbd_fit_merge(''::bytea)$$),
  ($$SELECT bgnbd_fit_merge(substr(bg, 1, 30)) FROM fs_one$$),
  ($$SELECT bgnbd_fit_merge(bg || '\x01'::bytea) FROM fs_one$$),
  ($$SELECT bgnbd_fit_merge(overlay(bg placing '\x09'::bytea from 5)) FROM fs_one$$),
  ($$SELECT bgnbd_fit_merge(overlay(bg placing '\x07'::bytea from 6)) FROM fs_one$$),
  ($$SELECT bgnbd_fit_merge(overlay(bg placing '\xffffffffffffff7f'::bytea from 9)) FROM fs_one$$),
  ($$SELECT bgnbd_fit_merge(overlay(bg placing '\x000000000000f87f'::bytea from 17)) FROM fs_one$$),
  ($$SELECT bgnbd_fit_merge(overlay(bg placing '\x000000000000f0bf'::bytea from 25)) FROM fs_one$$),
  ($$SELECT bgnbd_fit_merge(overlay(bg placing '\x0000000000000000'::bytea from 41)) FROM fs_one$$),
  ($$SELECT bgnbd_fit_merge(overlay(bg placing '\x0000000000000080'::bytea from 41)) FROM fs_one$$),
  ($$SELECT gammagamma_fit_merge(bg) FROM fs_one$$),
  ($$SELECT bgnbd_fit_merge(gg) FROM fs_one$$),
  ($$SELECT gammagamma_fit_merge(overlay(gg placing '\x0000000000000000'::bytea from 17)) FROM fs_one$$),
  ($$SELECT bgbb_fit_merge(bg) FROM fs_one$$),
  ($$SELECT mbgnbd_fit_merge(bb) FROM fs_bb WHERE shard = 0$$),
  -- a BG/BB state whose first row is not a whole-period summary (recency 0.5)
  ($$SELECT bgbb_fit_merge(overlay(bb placing '\x000000000000e03f'::bytea from 25)) FROM fs_bb WHERE shard = 0$$)
) v(q);
-- Random corruption: every flipped byte gives a model or a class-22 error.
SELECT count(*) AS trials, count(*) FILTER (WHERE e = 'no error' OR e LIKE '22%') AS model_or_class_22
FROM (SELECT pg_temp.error_of(format($$SELECT bgnbd_fit_merge(set_byte(%L::bytea, %s, %s))$$,
                                     (SELECT bg FROM fs_one), (i * 7919) % length((SELECT bg FROM fs_one)),
                                     (i * 31) % 256)) AS e
      FROM generate_series(1, 120) i) q;
