-- clv, order_latency, lifecycle_stage, value_band: answers, NULLs, empty groups, bad input.
CREATE EXTENSION IF NOT EXISTS pg_segments;
SET timezone = 'UTC';

CREATE TEMP TABLE o(customer int, ordered_at timestamptz, amount numeric);
INSERT INTO o VALUES
  (1, '2024-01-01', 100), (1, '2024-01-11', 50.5), (1, '2024-01-31', -20), (1, NULL, NULL),
  (2, '2024-03-01', 10),
  (3, NULL, NULL),
  (4, '2024-02-01 12:00', 30), (4, '2024-02-01', 30), (4, '2024-02-02', 40);

-- clv is sum; order_latency is (last - first) / (n - 1) in days.
SELECT customer, clv(amount), sum(amount) AS plain_sum, order_latency(ordered_at),
       extract(epoch FROM max(ordered_at) - min(ordered_at)) / 86400 / nullif(count(ordered_at) - 1, 0) AS plain_latency
FROM o GROUP BY customer ORDER BY customer;

-- No rows at all: NULL like sum.
SELECT clv(amount), order_latency(ordered_at) FROM o WHERE false;

-- Running latency as a window aggregate.
SELECT customer, ordered_at, order_latency(ordered_at) OVER (PARTITION BY customer ORDER BY ordered_at),
       clv(amount) OVER (PARTITION BY customer ORDER BY ordered_at ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS moving_clv
FROM o WHERE customer IN (1, 4) AND ordered_at IS NOT NULL ORDER BY customer, ordered_at;

-- Life cycle: weekly buyer vs twice-a-year buyer, both silent 60 days.
CREATE TEMP TABLE c(customer text, ordered_at timestamptz);
INSERT INTO c SELECT 'weekly', '2024-01-01'::timestamptz + i * interval '7 days' FROM generate_series(0, 19) i;
INSERT INTO c SELECT 'twice_a_year', '2022-01-01'::timestamptz + i * interval '182 days' FROM generate_series(0, 3) i;
INSERT INTO c VALUES ('once', '2024-01-01');
SELECT customer, max(ordered_at) AS last_order,
       lifecycle_stage(ordered_at, max_at + interval '60 days') AS after_60_days,
       lifecycle_stage(ordered_at, max_at + interval '10 days') AS after_10_days
FROM c JOIN (SELECT customer, max(ordered_at) AS max_at FROM c GROUP BY 1) m USING (customer)
GROUP BY customer, max_at ORDER BY customer;

-- Orders after as_of are ignored: the stage on a past date.
SELECT lifecycle_stage(ordered_at, '2024-01-20') FROM c WHERE customer = 'weekly';
SELECT lifecycle_stage(ordered_at, '2023-12-01') IS NULL AS no_orders_yet FROM c WHERE customer = 'weekly';

-- One-order customers: typical latency from the argument, else the setting.
SELECT lifecycle_stage(ordered_at, '2024-05-01', interval '200 days') AS with_arg,
       lifecycle_stage(ordered_at, '2024-05-01') AS with_setting
FROM c WHERE customer = 'once';
SET pg_segments.typical_latency_days = 365;
SELECT lifecycle_stage(ordered_at, '2024-05-01') AS with_longer_setting FROM c WHERE customer = 'once';
RESET pg_segments.typical_latency_days;
SET pg_segments.lifecycle_just_ordered_days = 200;
SELECT lifecycle_stage(ordered_at, '2024-05-01') AS within_just_ordered FROM c WHERE customer = 'once';
RESET pg_segments.lifecycle_just_ordered_days;

-- Never improves as as_of moves forward.
SELECT bool_and(s >= prev) AS monotone, max(s) AS final_stage FROM (
  SELECT s, lag(s, 1, s) OVER (ORDER BY d) AS prev FROM (
    SELECT d, (SELECT lifecycle_stage(ordered_at, d) FROM c WHERE customer = 'weekly') AS s
    FROM generate_series('2024-05-20'::timestamptz, '2024-09-01', interval '1 day') d) x) y;

-- value_band: window over the partition mean and the scalar form.
CREATE TEMP TABLE v(customer int, aov numeric);
INSERT INTO v VALUES (1, 10), (2, 74), (3, 75), (4, 125), (5, 126), (6, 250), (7, 251), (8, NULL), (9, 114);
SELECT customer, aov, value_band(aov) OVER () AS band, value_band(aov, 100) AS scalar_band FROM v ORDER BY customer;
SELECT avg(aov) FROM v;
SELECT value_band(NULL, 100) IS NULL AS null_gives_null;

-- Bad input: SQLSTATE, message and hint.
\i test/regress/sql/error_of.psql
SELECT q AS statement, pg_temp.error_of(q) AS error FROM (VALUES
  ($q$SELECT clv(x) FROM (VALUES (1::numeric), ('NaN')) t(x)$q$),
  ($q$SELECT clv(x) FROM (VALUES (1::numeric), ('Infinity')) t(x)$q$),
  ($q$SELECT order_latency(x) FROM (VALUES (now()), ('infinity'::timestamptz)) t(x)$q$),
  ($q$SELECT lifecycle_stage(now(), '-infinity')$q$),
  ($q$SELECT lifecycle_stage(now(), NULL)$q$),
  ($q$SELECT lifecycle_stage(now() - interval '1 day', now(), interval '-3 days')$q$),
  ($q$SELECT lifecycle_stage(x, y) FROM (VALUES (now(), now()), (now(), now() - interval '1 day')) t(x, y)$q$),
  ($q$SELECT value_band(10, 0)$q$),
  ($q$SELECT value_band(10, -1)$q$),
  ($q$SELECT value_band('NaN', 10)$q$),
  ($q$SELECT value_band(x) OVER () FROM (VALUES (0::numeric), (0)) t(x)$q$),
  ($q$SET LOCAL pg_segments.lifecycle_lost_sigmas = 0.5; SELECT lifecycle_stage(now() - interval '40 days', now())$q$),
) t(q);
-- The session is still usable after each error.
SELECT clv(amount) FROM o;
