-- The aggregates' fast paths give the plain answers exactly, serially and in parallel:
-- - clv keeps an int64 at a fixed scale, widens to int128 and falls back to numeric beyond 18
--   decimals or 128 bits:
--   its value and display scale equal sum(numeric)'s at and across those limits;
-- - rfm_summary (exact fixed-scale spend) and lifecycle_stage give the same answers whatever order
--   the rows arrive in (time order, reversed, shuffled).
CREATE EXTENSION IF NOT EXISTS pg_segments;
SET timezone = 'UTC';

-- Amount kinds around the fast path's limits, 40 groups mixing them.
CREATE TABLE exact_amounts AS
SELECT i, i % 40 AS k, i % 12 AS kind, CASE i % 12
  WHEN 0 THEN ((i * 7919) % 200000 - 50000) / 100.0                      -- cents, refunds negative
  WHEN 1 THEN round(((i * 7919) % 100000)::numeric / 997, i % 25)        -- display scale 0..24
  WHEN 2 THEN 170141183460469231731687303715884105727::numeric           -- int128 max
  WHEN 3 THEN -170141183460469231731687303715884105728::numeric          -- int128 min
  WHEN 4 THEN 99999999999999999999.999999999999999999                    -- 38 digits at scale 18
  WHEN 5 THEN 0.000000000000000001                                       -- scale 18: fast
  WHEN 6 THEN -0.0000000000000000001                                     -- scale 19: numeric
  WHEN 7 THEN NULL
  WHEN 8 THEN 1e30 + i                                                   -- fits only at small scales
  WHEN 9 THEN 12345678901234567890123456789012345678901234567890.5      -- wider than 128 bits
  WHEN 10 THEN 0.50
  ELSE -0.5000
END AS x
FROM generate_series(1, 6000) i;
ANALYZE exact_amounts;

SELECT count(*) AS groups, count(*) FILTER (WHERE a IS DISTINCT FROM b) AS differing
FROM (SELECT k, clv(x)::text AS a, sum(x)::text AS b FROM exact_amounts GROUP BY k) s;
SELECT kind, clv(x)::text = sum(x)::text AS same, clv(x) FROM exact_amounts GROUP BY kind ORDER BY kind;
SELECT clv(x)::text = sum(x)::text AS same_total FROM exact_amounts;
-- Past int64 units (the 16-byte state widens to int128), overflow of int128 by one unit, scale kept
-- through cancellation, scale widened by a later row.
SELECT clv(x), sum(x) FROM (VALUES (92233720368547758.07::numeric), (0.01), (-0.02)) t(x);
SELECT clv(x), sum(x) FROM (VALUES (-92233720368547758.08::numeric), (-0.01)) t(x);
SELECT clv(x), sum(x) FROM (VALUES (170141183460469231731687303715884105727::numeric), (1)) t(x);
SELECT clv(x), sum(x) FROM (VALUES (1.50::numeric), (2.250), (-3.75)) t(x);
SELECT clv(x), sum(x) FROM (VALUES (99999999999999999999.99::numeric), (0.000000000000000001)) t(x);
SELECT clv(x) IS NULL AS null_over_nulls FROM (VALUES (NULL::numeric), (NULL)) t(x);

-- The same orders in time order, reversed and shuffled.
CREATE TABLE exact_orders AS
SELECT i, 'c' || (i % 300) AS customer,
       timestamptz '2023-01-01' + ((i * 7919) % 500000) * interval '1 minute' AS ordered_at,
       ((i * 104729) % 50000) / 100.0 - 20 AS amount
FROM generate_series(1, 9000) i;
CREATE TABLE exact_in_time_order AS SELECT * FROM exact_orders ORDER BY ordered_at;
CREATE TABLE exact_reversed AS SELECT * FROM exact_orders ORDER BY ordered_at DESC;
CREATE TABLE exact_shuffled AS SELECT * FROM exact_orders ORDER BY md5(i::text);
CREATE TEMP VIEW exact_answers AS
SELECT 'time order' AS input, customer, rfm_summary(ordered_at, amount, '2024-06-01', 'days') AS rfm,
       lifecycle_stage(ordered_at, '2024-03-01') AS stage, clv(amount) AS clv FROM exact_in_time_order GROUP BY customer
UNION ALL
SELECT 'reversed', customer, rfm_summary(ordered_at, amount, '2024-06-01', 'days'),
       lifecycle_stage(ordered_at, '2024-03-01'), clv(amount) FROM exact_reversed GROUP BY customer
UNION ALL
SELECT 'shuffled', customer, rfm_summary(ordered_at, amount, '2024-06-01', 'days'),
       lifecycle_stage(ordered_at, '2024-03-01'), clv(amount) FROM exact_shuffled GROUP BY customer;
CREATE TEMP TABLE exact_serial AS SELECT * FROM exact_answers;
SELECT a.input, count(*) AS customers,
       count(*) FILTER (WHERE (a.rfm, a.stage, a.clv::text) IS DISTINCT FROM (t.rfm, t.stage, t.clv::text)) AS differing
FROM exact_serial a JOIN exact_serial t USING (customer) WHERE t.input = 'time order'
GROUP BY a.input ORDER BY a.input;
SELECT stage, count(*) AS customers FROM exact_serial WHERE input = 'time order' GROUP BY stage ORDER BY stage;
-- rfm_summary against its definition in plain SQL (days; monetary = mean spend of the repeat days).
SELECT count(*) AS customers,
       count(*) FILTER (WHERE ((a.rfm).frequency, (a.rfm).recency, (a.rfm).t) IS DISTINCT FROM (p.f, p.r, p.t)
                           OR abs((a.rfm).monetary - p.m) > 1e-9 * greatest(1, abs(p.m))) AS differing
FROM exact_serial a
JOIN (SELECT customer, (count(*) - 1)::int AS f, (max(d) - min(d))::float8 AS r, (date '2024-06-01' - min(d))::float8 AS t,
             CASE WHEN count(*) > 1 THEN ((sum(s) - sum(s) FILTER (WHERE d = fd)) / (count(*) - 1))::float8 ELSE 0 END AS m
      FROM (SELECT customer, d, sum(amount) AS s, min(d) OVER (PARTITION BY customer) AS fd
            FROM (SELECT customer, ordered_at::date AS d, amount FROM exact_orders WHERE ordered_at::date <= '2024-06-01') o
            GROUP BY 1, 2) x
      GROUP BY 1) p USING (customer)
WHERE a.input = 'shuffled';

-- In parallel (Partial Aggregate, states serialized between processes): the same answers.
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT k, clv(x) FROM exact_amounts GROUP BY k;
SELECT count(*) AS groups, count(*) FILTER (WHERE a IS DISTINCT FROM b) AS differing
FROM (SELECT k, clv(x)::text AS a, sum(x)::text AS b FROM exact_amounts GROUP BY k) s;
SELECT clv(x)::text = sum(x)::text AS same_total FROM exact_amounts;
EXPLAIN (COSTS OFF)
SELECT customer, rfm_summary(ordered_at, amount, '2024-06-01', 'days') FROM exact_shuffled GROUP BY customer;
SELECT count(*) AS customers, count(*) FILTER (WHERE (s.rfm, s.stage, s.clv::text) IS DISTINCT FROM (p.rfm, p.stage, p.clv::text)) AS differing
FROM exact_answers p JOIN exact_serial s USING (input, customer);
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;

DROP VIEW exact_answers;
DROP TABLE exact_amounts, exact_orders, exact_in_time_order, exact_reversed, exact_shuffled;
