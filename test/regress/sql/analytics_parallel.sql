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
RESET enable_hashagg;

-- Fed in order (ORDER BY ordered_at inside the call), lifecycle_stage and its twins and
-- rfm_summary keep O(1) state (order_latency's is O(1) anyway); the answers are the unordered
-- form's, to the bit. Random customers
-- with ties, NULL times and amounts, refunds, single orders, orders after as_of, and a group of
-- only NULL times.
SELECT setseed(0.16);
CREATE TABLE ord_orders AS
SELECT (random() * 400)::int AS customer,
       CASE WHEN random() < 0.05 THEN NULL
            ELSE '2023-01-01'::timestamptz + (random() * 600)::int * interval '1 day'
                 + (random() < 0.5)::int * (random() * 86400)::int * interval '1 second' END AS ordered_at,
       CASE WHEN random() < 0.05 THEN NULL ELSE round((random() * 220 - 20)::numeric, 2) END AS amount
FROM generate_series(1, 8000);
INSERT INTO ord_orders SELECT customer, ordered_at, amount FROM ord_orders WHERE random() < 0.2;  -- ties
INSERT INTO ord_orders VALUES (1001, '2023-05-01 10:00', 10), (1002, NULL, 5), (1002, NULL, 6),
  (1003, '2023-03-01', -40), (1003, '2023-03-01', 60), (1004, '2024-05-01', 1);
SELECT count(*) AS customers,
       count(*) FILTER (WHERE (u.stage, u.changes, u.second, u.rfm, u.rfm_days, u.latency)
                              IS DISTINCT FROM (o.stage, o.changes, o.second, o.rfm, o.rfm_days, o.latency)) AS differing,
       count(*) FILTER (WHERE u.stage90 IS DISTINCT FROM o.stage90 OR u.rfm_unit IS DISTINCT FROM o.rfm_unit) AS differing_typed
FROM (SELECT customer, lifecycle_stage(ordered_at, '2024-03-01') AS stage,
             lifecycle_stage(ordered_at, '2024-03-01', interval '90 days') AS stage90,
             lifecycle_changes_at(ordered_at, '2024-03-01') AS changes, second_order_at(ordered_at, '2024-03-01') AS second,
             rfm_summary(ordered_at, amount, '2024-03-01') AS rfm, rfm_summary(ordered_at, amount, '2024-03-01', 'days') AS rfm_days,
             rfm_summary(ordered_at, amount, '2024-03-01', 'days'::time_unit) AS rfm_unit,
             order_latency(ordered_at) AS latency
      FROM ord_orders GROUP BY 1) u
JOIN (SELECT customer, lifecycle_stage(ordered_at, '2024-03-01' ORDER BY ordered_at) AS stage,
             lifecycle_stage(ordered_at, '2024-03-01', interval '90 days' ORDER BY ordered_at) AS stage90,
             lifecycle_changes_at(ordered_at, '2024-03-01' ORDER BY ordered_at) AS changes,
             second_order_at(ordered_at, '2024-03-01' ORDER BY ordered_at, amount) AS second,
             rfm_summary(ordered_at, amount, '2024-03-01' ORDER BY ordered_at) AS rfm,
             rfm_summary(ordered_at, amount, '2024-03-01', 'days' ORDER BY ordered_at) AS rfm_days,
             rfm_summary(ordered_at, amount, '2024-03-01', 'days'::time_unit ORDER BY ordered_at) AS rfm_unit,
             order_latency(ordered_at ORDER BY ordered_at) AS latency
      FROM ord_orders GROUP BY 1) o USING (customer);
-- Both forms in one query (their states are not shared), any other ORDER BY (the buffered state),
-- and over a whole table.
SELECT count(*) FILTER (WHERE a IS DISTINCT FROM b OR a IS DISTINCT FROM c OR a IS DISTINCT FROM d) AS differing
FROM (SELECT customer, lifecycle_stage(ordered_at, '2024-01-01') a, lifecycle_stage(ordered_at, '2024-01-01' ORDER BY ordered_at) b,
             lifecycle_stage(ordered_at, '2024-01-01' ORDER BY ordered_at DESC) c,
             lifecycle_stage(ordered_at, '2024-01-01' ORDER BY amount) d
      FROM ord_orders GROUP BY 1) x;
-- Grouping sets (each set's groups sorted on their own), DISTINCT and FILTER.
SELECT count(*) AS groups, count(*) FILTER (WHERE (a, c, e) IS DISTINCT FROM (b, d, f)) AS differing
FROM (SELECT customer % 3, customer,
             lifecycle_stage(ordered_at, '2024-03-01') a, lifecycle_stage(ordered_at, '2024-03-01' ORDER BY ordered_at) b,
             rfm_summary(ordered_at, amount, '2024-03-01') c, rfm_summary(ordered_at, amount, '2024-03-01' ORDER BY ordered_at) d,
             lifecycle_stage(DISTINCT ordered_at, '2024-03-01') FILTER (WHERE amount > 50) e,
             lifecycle_stage(DISTINCT ordered_at, '2024-03-01' ORDER BY ordered_at) FILTER (WHERE amount > 50) f
      FROM ord_orders GROUP BY ROLLUP (customer % 3, customer)) x;
SELECT lifecycle_stage(ordered_at, '2024-03-01') = lifecycle_stage(ordered_at, '2024-03-01' ORDER BY ordered_at) AS same_stage,
       rfm_summary(ordered_at, amount, '2024-03-01') = rfm_summary(ordered_at, amount, '2024-03-01' ORDER BY ordered_at) AS same_rfm
FROM ord_orders;
-- A later order on an earlier local day: DST ends at 00:30 here, so 00:20+02 is followed by 23:40+01
-- of the day before, which becomes the first purchase day.
SET timezone = 'AAA-1BBB,M3.5.0/0:30,M10.5.0/0:30';
SELECT rfm_summary(t, a, '2023-11-30', 'days') AS unordered, rfm_summary(t, a, '2023-11-30', 'days' ORDER BY t) AS ordered
FROM (SELECT '2023-10-28 22:00 UTC'::timestamptz + i * interval '20 minutes' t, i a FROM generate_series(0, 6) i) x;
SET timezone = 'UTC';
DROP TABLE ord_orders;
