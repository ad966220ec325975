-- The aggregates run in parallel (Partial Aggregate) and give the same answers as serially.
CREATE EXTENSION IF NOT EXISTS pg_segments;
SET timezone = 'UTC';
CREATE TABLE par_orders AS
SELECT (i % 500) AS customer,
       '2023-01-01'::timestamptz + (i * 37 % 700) * interval '1 day' + (i % 13) * interval '1 hour' AS ordered_at,
       ((i * 7919) % 10000) / 100.0 AS amount
FROM generate_series(1, 60000) i;
ANALYZE par_orders;

CREATE TEMP TABLE serial_answer AS
SELECT clv(amount) AS clv, order_latency(ordered_at) AS latency,
       lifecycle_stage(ordered_at, '2024-06-01') AS stage, count(*) AS n
FROM par_orders;
CREATE TEMP TABLE serial_grouped AS
SELECT customer % 7 AS g, clv(amount) AS clv, order_latency(ordered_at) AS latency,
       lifecycle_stage(ordered_at, '2024-06-01') AS stage, lifecycle_changes_at(ordered_at, '2024-06-01') AS changes,
       second_order_at(ordered_at, '2024-06-01') AS second
FROM par_orders GROUP BY 1;
-- second_order_at is the second row of a numbering window, without the window.
SELECT count(*) AS second_differing_from_window FROM (
  SELECT g, min(ordered_at) FILTER (WHERE n = 2) AS w
  FROM (SELECT customer % 7 AS g, ordered_at,
               count(*) OVER (PARTITION BY customer % 7 ORDER BY ordered_at ROWS UNBOUNDED PRECEDING) AS n
        FROM par_orders WHERE ordered_at <= '2024-06-01') x GROUP BY 1) a
JOIN serial_grouped s USING (g) WHERE a.w IS DISTINCT FROM s.second;

SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF)
SELECT clv(amount), order_latency(ordered_at), lifecycle_stage(ordered_at, '2024-06-01') FROM par_orders;

SELECT (SELECT clv FROM serial_answer) = clv(amount) AS same_clv,
       abs((SELECT latency FROM serial_answer) - order_latency(ordered_at)) < 1e-9 AS same_latency,
       (SELECT stage FROM serial_answer) = lifecycle_stage(ordered_at, '2024-06-01') AS same_stage
FROM par_orders;

SET enable_hashagg = off;
EXPLAIN (COSTS OFF)
SELECT customer % 7, clv(amount), order_latency(ordered_at), lifecycle_stage(ordered_at, '2024-06-01')
FROM par_orders GROUP BY 1;
SELECT count(*) AS groups_differing FROM (
  SELECT customer % 7 AS g, clv(amount) AS clv, order_latency(ordered_at) AS latency,
         lifecycle_stage(ordered_at, '2024-06-01') AS stage, lifecycle_changes_at(ordered_at, '2024-06-01') AS changes,
         second_order_at(ordered_at, '2024-06-01') AS second
  FROM par_orders GROUP BY 1) p
JOIN serial_grouped s USING (g)
WHERE p.clv <> s.clv OR abs(p.latency - s.latency) > 1e-9 OR p.stage <> s.stage OR p.changes IS DISTINCT FROM s.changes
   OR p.second IS DISTINCT FROM s.second;
DROP TABLE par_orders;
