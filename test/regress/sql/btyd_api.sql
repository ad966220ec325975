-- BTYD API: rfm_summary rules, NULLs and empty input, bad input (SQLSTATE and hint), parallel
-- aggregation, cancellation of a long fit.
CREATE EXTENSION IF NOT EXISTS pg_segments;
SET timezone = 'UTC';

-- Same-day orders count once (amounts summed), orders after the cut-off day are ignored, a NULL
-- amount is an order without spend, a NULL date is no order.
CREATE TEMP TABLE bo(customer int, ordered_at timestamptz, amount numeric);
INSERT INTO bo VALUES
  (1, '2024-01-01 09:00', 10), (1, '2024-01-01 18:00', 5), (1, '2024-01-08', 20), (1, '2024-01-08 12:00', 4),
  (1, '2024-01-22', 30), (1, '2024-03-01', 99),
  (2, '2024-01-15', 50),
  (3, '2024-01-10', NULL), (3, '2024-01-17', NULL), (3, NULL, 7),
  (4, '2024-02-20', 12);
SELECT customer, (rfm_summary(ordered_at, amount, '2024-01-29')).* FROM bo GROUP BY customer ORDER BY customer;
SELECT customer, (rfm_summary(ordered_at, amount, '2024-01-29 23:59', 'days')).* FROM bo GROUP BY customer ORDER BY customer;
-- Days are calendar days in the session time zone: 23:30 UTC on 1 January is 00:30 on 2 January in
-- Berlin, the same day as the second order.
CREATE TEMP TABLE btz AS SELECT * FROM (VALUES ('2024-01-01 23:30+00'::timestamptz), ('2024-01-02 00:30+00')) v(ordered_at);
SELECT (rfm_summary(ordered_at, 1, '2024-01-10')).frequency AS utc_repeat_days FROM btz;
SET timezone = 'Europe/Berlin';
SELECT (rfm_summary(ordered_at, 1, '2024-01-10')).frequency AS berlin_repeat_days FROM btz;
SET timezone = 'UTC';
SELECT rfm_summary(ordered_at, amount, '2024-01-29') IS NULL AS no_orders FROM bo WHERE false;

-- Fits over nothing are NULL; NULL rows are skipped; only repeat buyers count for Gamma-Gamma.
SELECT bgnbd_fit(x, tx, t) IS NULL AS bg_empty, paretonbd_fit(x, tx, t) IS NULL AS pn_empty,
       gammagamma_fit(x, m) IS NULL AS gg_empty
FROM (VALUES (1.0, 2.0, 3.0, 4.0)) v(x, tx, t, m) WHERE false;
SELECT (gammagamma_fit(x, m)).customers AS gg_customers, gammagamma_fit(x, m) IS NULL AS gg_no_repeat_buyers
FROM (VALUES (0, 0.0), (0, 5.0)) v(x, m);
SELECT (bgnbd_fit(x, tx, t)).customers FROM (VALUES (1, 2, 10), (NULL, 1, 10), (0, 0, 10), (2, NULL, 5)) v(x, tx, t);
-- Data that do not identify the model (every customer bought x times, the last at T): nobody drops
-- out, and the fit says it did not converge, and why (btyd_models has every case of issue 13).
SELECT (m).converged, (m).status
FROM (SELECT bgnbd_fit(x, 10, 10) AS m FROM generate_series(1, 50) x) s;

-- A model is a composite: fields are readable, scores are scalar functions of model and summary.
CREATE TEMP TABLE bm AS SELECT bgnbd_model(0.243, 4.414, 0.793, 2.426) AS bg,
                               paretonbd_model(0.553, 10.578, 0.606, 11.669) AS pn,
                               gammagamma_model(6.25, 3.74, 15.44) AS gg;
SELECT (bg).r, (pn).s, (gg).gamma FROM bm;
SELECT round(p_alive(bg, 2, 30.43, 38.86)::numeric, 6) AS bg_alive,
       round(p_alive(pn, 2, 30.43, 38.86)::numeric, 6) AS pn_alive,
       round(expected_purchases(bg, 2, 30.43, 38.86, 52)::numeric, 6) AS bg_52,
       round(expected_purchases(pn, 2, 30.43, 38.86, 52)::numeric, 6) AS pn_52,
       expected_purchases(bg, 2, 30.43, 38.86, 0) AS bg_0,
       round(expected_spend(gg, 2, 22.35)::numeric, 6) AS spend,
       round(predicted_clv(bg, gg, 2, 30.43, 38.86, 22.35)::numeric, 4) AS bg_clv,
       round(predicted_clv(pn, gg, 2, 30.43, 38.86, 22.35, 24, 0.0, 'weeks')::numeric, 4) AS pn_clv_24_undiscounted,
       predicted_clv(bg, gg, 2, 30.43, 38.86, 22.35, 0) AS clv_0_months
FROM bm;
-- The BG/NBD alive probability by hand: 1 / (1 + a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)).
SELECT abs(p_alive(bg, 2, 30.43, 38.86) - 1 / (1 + 0.793 / 3.426 * ((4.414 + 38.86) / (4.414 + 30.43)) ^ 2.243)) < 1e-12 AS alive_by_hand
FROM bm;
-- Undiscounted CLV over 24 months is expected spend x expected purchases in 24 x 4.345 weeks.
SELECT abs(predicted_clv(pn, gg, 2, 30.43, 38.86, 22.35, 24, 0.0)
           - expected_spend(gg, 2, 22.35) * expected_purchases(pn, 2, 30.43, 38.86, 24 * 4.345)) < 1e-9 AS clv_consistent
FROM bm;
-- Next order: median wait (alpha + t_x)(2^(1/(r+x)) - 1) periods after the last order.
SELECT round(time_to_next_order(bg, 2, 30.43)::numeric, 4) AS weeks,
       round(((4.414 + 30.43) * (2 ^ (1 / 2.243) - 1))::numeric, 4) AS by_hand,
       date_trunc('minute', expected_next_order_at(bg, 2, 30.43, '2024-01-01')) AS next_order,
       date_trunc('minute', expected_next_order_at(bgnbd_model(0.243, 4.414, 0.793, 2.426, 'days'), 2, 30.43, '2024-01-01')) AS next_order_days,
       date_trunc('minute', expected_next_order_at(pn, 0, 0, '2024-01-01')) AS pareto_first_timer,
       expected_next_order_at(bgnbd_model(1e-5, 4, 1, 1), 0, 0, '2024-01-01') AS never
FROM bm;
-- Large frequencies and zero recency stay finite.
SELECT p_alive(bg, 100000, 38, 38.86) BETWEEN 0 AND 1 AS large_x_alive,
       expected_purchases(pn, 5000, 38.5, 38.86, 10) > 0 AS large_x_pn,
       p_alive(pn, 0, 0, 0) AS brand_new
FROM bm;

-- Bad input: SQLSTATE, message and hint.
\i test/regress/sql/error_of.psql
SELECT q AS statement, pg_temp.error_of(q) AS error FROM (VALUES
  ($q$SELECT bgnbd_fit(x, tx, t) FROM (VALUES (2, 40, 38)) v(x, tx, t)$q$),
  ($q$SELECT bgnbd_fit(x, tx, t) FROM (VALUES (-1, 0, 38)) v(x, tx, t)$q$),
  ($q$SELECT paretonbd_fit(x, tx, t) FROM (VALUES (0, 3, 38)) v(x, tx, t)$q$),
  ($q$SELECT paretonbd_fit(x, tx, t) FROM (VALUES (1.5, 3, 38)) v(x, tx, t)$q$),
  ($q$SELECT bgnbd_fit(x, tx, t) FROM (VALUES (1, 3, 'Infinity'::float8)) v(x, tx, t)$q$),
  ($q$SELECT gammagamma_fit(x, m) FROM (VALUES (2, 0.0)) v(x, m)$q$),
  ($q$SELECT p_alive(bg, 3, 50, 40) FROM bm$q$),
  ($q$SELECT expected_purchases(pn, 3, 5, 40, -1) FROM bm$q$),
  ($q$SELECT p_alive(bgnbd_model(-1, 4, 1, 1), 1, 1, 2)$q$),
  ($q$SELECT p_alive(paretonbd_model(NULL, 4, 1, 1), 1, 1, 2)$q$),
  ($q$SELECT expected_spend(gammagamma_model(6, 0.9, 15), 2, 10)$q$),
  ($q$SELECT predicted_clv(bg, gg, 2, 30, 38, 22, 12, 0.01, 'months') FROM bm$q$),
  ($q$SELECT predicted_clv(bg, gg, 2, 30, 38, 22, -1) FROM bm$q$),
  ($q$SELECT predicted_clv(bg, gg, 2, 30, 38, 22, 12, -1) FROM bm$q$),
  ($q$SELECT time_to_next_order(bg, 0, 3) FROM bm$q$),
  ($q$SELECT rfm_summary(now(), 1, now(), 'hours')$q$),
  ($q$SELECT rfm_summary(now(), 1, NULL)$q$),
  ($q$SELECT rfm_summary(now(), 'NaN', now())$q$),
  ($q$SELECT rfm_summary('infinity', 1, now())$q$),
  ($q$SELECT rfm_summary(o, 1, c) FROM (VALUES (now(), now()), (now(), now() + interval '2 days')) v(o, c)$q$)
) t(q);

-- Parallel: partial aggregates merge their count maps (fits) and order lists (rfm_summary). The
-- CDNOW summaries four times over have the same maximum-likelihood estimates as the sample itself.
CREATE TABLE btyd_par(id int, x int, tx float8, t float8, m float8);
\copy btyd_par FROM 'test/data/cdnow/cdnow_customers_summary_with_transactions.csv' WITH (FORMAT csv, HEADER)
INSERT INTO btyd_par SELECT id + k * 10000, x, tx, t, m FROM btyd_par, generate_series(1, 3) k;
CREATE TABLE btyd_par_orders AS
SELECT i % 3000 AS customer, '2024-01-01'::timestamptz + ((i * 7919) % 365) * interval '1 day' AS ordered_at,
       (i % 50) + 0.5 AS amount
FROM generate_series(1, 30000) i;
ANALYZE btyd_par;
ANALYZE btyd_par_orders;
SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE btyd_serial AS
SELECT bgnbd_fit(x, tx, t) AS bg, paretonbd_fit(x, tx, t) AS pn, gammagamma_fit(x, m) AS gg FROM btyd_par;
CREATE TEMP TABLE btyd_serial_rfm AS
SELECT customer, rfm_summary(ordered_at, amount, '2024-10-01') AS s FROM btyd_par_orders GROUP BY customer;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT bgnbd_fit(x, tx, t), paretonbd_fit(x, tx, t), gammagamma_fit(x, m) FROM btyd_par;
SELECT (p.bg).customers, (p.gg).customers AS repeat_buyers, (p.bg).converged, (p.pn).converged, (p.gg).converged,
       round((p.bg).r::numeric, 3) AS bg_r, round((p.pn).beta::numeric, 3) AS pn_beta, round((p.gg).q::numeric, 2) AS gg_q,
       abs((p.bg).r / (s.bg).r - 1) < 1e-6 AND abs((p.bg).b / (s.bg).b - 1) < 1e-6 AS same_bg,
       abs((p.pn).s / (s.pn).s - 1) < 1e-6 AND abs((p.pn).log_likelihood - (s.pn).log_likelihood) < 1e-6 AS same_pn,
       abs((p.gg).q / (s.gg).q - 1) < 1e-6 AS same_gg
FROM (SELECT bgnbd_fit(x, tx, t) AS bg, paretonbd_fit(x, tx, t) AS pn, gammagamma_fit(x, m) AS gg FROM btyd_par) p,
     btyd_serial s;
SET enable_hashagg = off;
EXPLAIN (COSTS OFF)
SELECT customer, rfm_summary(ordered_at, amount, '2024-10-01') FROM btyd_par_orders GROUP BY customer;
SELECT count(*) AS customers, count(*) FILTER (WHERE p.s IS DISTINCT FROM s.s) AS differing
FROM (SELECT customer, rfm_summary(ordered_at, amount, '2024-10-01') AS s FROM btyd_par_orders GROUP BY customer) p
JOIN btyd_serial_rfm s USING (customer);
RESET enable_hashagg;
RESET max_parallel_workers_per_gather;

-- A long fit polls for interrupts: statement_timeout cancels it (57014) and the session goes on.
-- (40,000 distinct summaries: the first likelihood evaluation alone takes longer than the timeout.)
CREATE TEMP TABLE btyd_many AS
SELECT (i % 40) AS x, CASE WHEN i % 40 = 0 THEN 0 ELSE 1 + (i % 997) / 25.0 END AS tx, 41 + i / 1000.0 AS t
FROM generate_series(1, 40000) i;
SET statement_timeout = '300ms';
SELECT paretonbd_fit(x, tx, t) FROM btyd_many;
RESET statement_timeout;
SELECT (bgnbd_fit(x, tx, t)).customers AS still_works FROM (SELECT * FROM btyd_many LIMIT 500) s;

DROP TABLE btyd_par, btyd_par_orders;
