-- Issue 13: an honest `converged` (every case of the issue), standard errors and AIC/BIC, the new
-- functions against published values, the time unit in the model, no XX000 and no NaN or Infinity
-- from any BTYD function (the listed cases and a sweep of extreme inputs), MBG/NBD and BG/BB fits in
-- parallel, and the calibration/holdout helpers on CDNOW (FHL 2005's week-78 figure).
CREATE EXTENSION IF NOT EXISTS pg_segments;
SET timezone = 'UTC';
SET extra_float_digits = 0;
\i test/regress/sql/error_of.psql

CREATE TEMP TABLE cdnow(id int, x int, t_x float8, t float8, m float8);
\copy cdnow FROM 'test/data/cdnow/cdnow_customers_summary_with_transactions.csv' WITH (FORMAT csv, HEADER)

-- 1. converged is true only for an interior, identified maximum; otherwise false with the reason.
SELECT 'bgnbd_fit(0,0,0) x 1000' AS data, (m).converged, (m).status
FROM (SELECT bgnbd_fit(0, 0, 0) AS m FROM generate_series(1, 1000)) s
UNION ALL SELECT 'paretonbd_fit(0,0,0) x 1000', (m).converged, (m).status
FROM (SELECT paretonbd_fit(0, 0, 0) AS m FROM generate_series(1, 1000)) s
UNION ALL SELECT 'nobody repeating (bgnbd)', (m).converged, (m).status
FROM (SELECT bgnbd_fit(0, 0, 10 + g % 30) AS m FROM generate_series(1, 1000) g) s
UNION ALL SELECT 'nobody repeating (paretonbd)', (m).converged, (m).status
FROM (SELECT paretonbd_fit(0, 0, 10 + g % 30) AS m FROM generate_series(1, 1000) g) s
UNION ALL SELECT 'ten customers, nobody drops out', (m).converged, (m).status
FROM (SELECT bgnbd_fit(x, tx, t) AS m FROM (VALUES (0, 0, 38), (0, 0, 38), (0, 0, 38), (0, 0, 38), (1, 20, 38),
      (2, 30, 38), (3, 35, 38), (1, 37, 38), (5, 38, 38), (2, 36, 38)) v(x, tx, t)) s
UNION ALL SELECT 'one customer', (m).converged, (m).status FROM (SELECT bgnbd_fit(2, 30.43, 38.86) AS m) s
UNION ALL SELECT '1000 identical customers', (m).converged, (m).status
FROM (SELECT bgnbd_fit(2, 30.43, 38.86) AS m FROM generate_series(1, 1000)) s
UNION ALL SELECT 'CDNOW, repeaters with t_x = T (bgnbd)', (m).converged, (m).status
FROM (SELECT bgnbd_fit(x, CASE WHEN x > 0 THEN t ELSE 0 END, t) AS m FROM cdnow) s
UNION ALL SELECT 'CDNOW, repeaters with t_x = T (paretonbd)', (m).converged, (m).status
FROM (SELECT paretonbd_fit(x, CASE WHEN x > 0 THEN t ELSE 0 END, t) AS m FROM cdnow) s
UNION ALL SELECT 'CDNOW (bgnbd)', (m).converged, (m).status FROM (SELECT bgnbd_fit(x, t_x, t) AS m FROM cdnow) s
UNION ALL SELECT 'CDNOW (paretonbd)', (m).converged, (m).status FROM (SELECT paretonbd_fit(x, t_x, t) AS m FROM cdnow) s
UNION ALL SELECT 'CDNOW (mbgnbd)', (m).converged, (m).status FROM (SELECT mbgnbd_fit(x, t_x, t) AS m FROM cdnow) s
UNION ALL SELECT 'CDNOW (gammagamma)', (m).converged, (m).status FROM (SELECT gammagamma_fit(x, m) AS m FROM cdnow) s;

-- 2. Standard errors from the observed information: lifetimes' summary on CDNOW gives r 0.0126,
-- alpha 0.378, a 0.186, b 0.705. AIC = 2k - 2 LL, BIC = k ln(n) - 2 LL.
CREATE TEMP TABLE models AS
SELECT bgnbd_fit(x, t_x, t) AS bg, paretonbd_fit(x, t_x, t) AS pn, mbgnbd_fit(x, t_x, t) AS mbg,
       gammagamma_fit(x, m) AS gg FROM cdnow;
SELECT parameter, round(estimate::numeric, 4) AS estimate, round(std_error::numeric, 4) AS std_error,
       round(lower_95::numeric, 3) AS lower_95, round(upper_95::numeric, 3) AS upper_95
FROM models, model_summary(bg);
SELECT parameter, round(estimate::numeric, 3) AS estimate, round(std_error::numeric, 3) AS std_error
FROM models, model_summary(pn);
SELECT round((bg).aic::numeric, 2) AS bg_aic, round((bg).bic::numeric, 2) AS bg_bic,
       round((pn).aic::numeric, 2) AS pn_aic, round((mbg).aic::numeric, 2) AS mbg_aic,
       abs((bg).aic - (8 - 2 * (bg).log_likelihood)) < 1e-9 AS aic_ok,
       abs((bg).bic - (4 * ln(2357) - 2 * (bg).log_likelihood)) < 1e-9 AS bic_ok,
       (bg).unit, (gg).std_errors IS NOT NULL AS gg_has_se
FROM models;

-- 3. New functions against published values.
-- BG/NBD pmf (R BTYD, Hardie's note): P(X(39) = 0) = 0.5737864, P(X(2) = 10) = 1.07869e-07, and
-- P(X(30) = 11..20); the pmf sums to 1 with mean E[X(t)].
SELECT round(probability_of_purchases(bgnbd_model(0.243, 4.414, 0.793, 2.426), 39, 0)::numeric, 7) AS p39_0,
       round(probability_of_purchases(bgnbd_model(0.243, 4.414, 0.793, 2.426), 2, 10)::numeric, 12) AS p2_10;
SELECT n, round(probability_of_purchases(bgnbd_model(0.243, 4.414, 0.793, 2.426), 30, n)::numeric, 10) AS p
FROM generate_series(11, 20) n;
SELECT abs(sum(probability_of_purchases(m, 39, n)) - 1) < 1e-10 AS sums_to_1,
       abs(sum(n * probability_of_purchases(m, 39, n)) - expected_purchases_new(m, 39)) < 1e-8 AS mean_ok,
       abs(sum(probability_of_purchases(p, 39, n)) - 1) < 1e-9 AS pareto_sums_to_1,
       abs(sum(n * probability_of_purchases(p, 39, n)) - expected_purchases_new(p, 39)) < 1e-7 AS pareto_mean_ok
FROM (SELECT bg AS m, pn AS p FROM models) s, generate_series(0, 2999) n GROUP BY m, p;
-- Unconditional E[X(t)] at the fitted CDNOW model (Hardie's BG/NBD sheet: 0.0078, 0.0532, 0.1506,
-- 1.0405, 1.0437, 1.8576; its 78-week value is 3.7e-4 low, a truncated series).
SELECT t, round(expected_purchases_new(bg, t)::numeric, 4) AS bg, round(expected_purchases_new(pn, t)::numeric, 4) AS pn,
       round(expected_purchases_new(mbg, t)::numeric, 4) AS mbg,
       abs(expected_purchases_new(bg, t) - expected_purchases(bg, 0, 0, 0, t)) < 1e-15 AS same_as_conditional_at_0
FROM models, unnest(ARRAY[0.1429, 1, 3, 31.8571, 32, 78]) t;
-- A customer's log-likelihood; summed over customers it is the fit's.
SELECT round(customer_log_likelihood(bg, 2, 30.43, 38.86)::numeric, 6) AS ll_customer_1,
       abs(sum(customer_log_likelihood(bg, x, t_x, t)) - (bg).log_likelihood) < 1e-6 AS bg_sums,
       abs(sum(customer_log_likelihood(pn, x, t_x, t)) - (pn).log_likelihood) < 1e-6 AS pn_sums,
       abs(sum(customer_log_likelihood(mbg, x, t_x, t)) - (mbg).log_likelihood) < 1e-6 AS mbg_sums
FROM cdnow, models GROUP BY bg, pn, mbg;
-- MBG/NBD on CDNOW (BTYDplus: r 0.525, alpha 6.183, a 0.891, b 1.614); its p_alive is below 1
-- without repeat purchases; the conditional expectation for customer 1 is near the BG/NBD's 1.226.
SELECT round((mbg).r::numeric, 3) AS r, round((mbg).alpha::numeric, 3) AS alpha, round((mbg).a::numeric, 3) AS a,
       round((mbg).b::numeric, 3) AS b, round(p_alive(mbg, 0, 0, 38.86)::numeric, 4) AS alive_0,
       round(expected_purchases(mbg, 2, 30.43, 38.86, 39)::numeric, 3) AS e39,
       round(predicted_clv(mbg, gg, 2, 30.43, 38.86, 22.35)::numeric, 2) AS clv,
       round(time_to_next_order(mbg, 2, 30.43)::numeric, 2) AS weeks_to_next
FROM models;
-- BG/BB on the donations of FHS 2010 (Table 1, 11,104 donors, 6 years): alpha 1.204, beta 0.750,
-- gamma 0.657, delta 2.783, LL -33,225.6; P(alive in 2002) 0.11, 0.59, 0.93 (Table 6); 12,884.2
-- donations expected in the next 5 years; 3,454.9 and 1,253.1 donors with 0 and 6 repeat donations.
CREATE TEMP TABLE donations(x int, t_x int, n int, donors int);
INSERT INTO donations VALUES (0,0,6,3464), (1,1,6,1091), (1,2,6,277), (1,3,6,129), (1,4,6,78), (1,5,6,119),
  (1,6,6,129), (2,2,6,613), (2,3,6,255), (2,4,6,155), (2,5,6,173), (2,6,6,234), (3,3,6,322), (3,4,6,181),
  (3,5,6,225), (3,6,6,357), (4,4,6,240), (4,5,6,284), (4,6,6,512), (5,5,6,335), (5,6,6,728), (6,6,6,1203);
CREATE TEMP TABLE donors AS SELECT x, t_x, n FROM donations, generate_series(1, donors);
CREATE TEMP TABLE bb AS SELECT bgbb_fit(x, t_x, n) AS m FROM donors;
SELECT round((m).alpha::numeric, 3) AS alpha, round((m).beta::numeric, 3) AS beta, round((m).gamma::numeric, 3) AS gamma,
       round((m).delta::numeric, 3) AS delta, round((m).log_likelihood::numeric, 1) AS ll, (m).customers,
       (m).converged, (m).unit,
       round(p_alive(m, 0, 0, 6)::numeric, 2) AS alive_0_0, round(p_alive(m, 2, 4, 6)::numeric, 2) AS alive_2_4,
       round(p_alive(m, 6, 6, 6)::numeric, 2) AS alive_6_6,
       round(11104 * probability_of_purchases(m, 6, 0)::numeric, 1) AS donors_0,
       round(11104 * probability_of_purchases(m, 6, 6)::numeric, 1) AS donors_6,
       round(expected_purchases_new(m, 6)::numeric, 4) AS e6
FROM bb;
SELECT round(sum(donors * expected_purchases(m, x, t_x, n, 5))::numeric, 1) AS expected_next_5_years,
       abs(sum(donors * customer_log_likelihood(m, x, t_x, n)) - (m).log_likelihood) < 1e-6 AS ll_sums
FROM donations, bb GROUP BY m;
SELECT parameter, round(estimate::numeric, 3) AS estimate, round(std_error::numeric, 3) AS std_error FROM bb, model_summary(m);

-- 4. The unit is recorded in the model; scoring in another unit is refused, omitting it uses the model's.
CREATE TEMP TABLE unit_models AS
SELECT bgnbd_fit(x, t_x * 7, t * 7, 'days') AS bg_days, bgnbd_fit(x, t_x, t) AS bg_weeks FROM cdnow;
SELECT (bg_days).unit AS days_unit, (bg_weeks).unit AS default_unit,
       round(((bg_days).alpha / (bg_weeks).alpha)::numeric, 3) AS alpha_ratio,
       round(predicted_clv(bg_days, gg, 2, 30.43 * 7, 38.86 * 7, 22.35)::numeric, 2) AS clv_days_model,
       round(predicted_clv(bg_weeks, gg, 2, 30.43, 38.86, 22.35)::numeric, 2) AS clv_weeks_model,
       expected_next_order_at(bg_days, 2, 30.43 * 7, '2024-01-01')::date AS next_days,
       expected_next_order_at(bg_weeks, 2, 30.43, '2024-01-01')::date AS next_weeks
FROM unit_models, models;
SELECT q AS statement, pg_temp.error_of(q) AS error FROM (VALUES
  ($q$SELECT predicted_clv(bg_days, gg, 2, 30, 38, 22, 12, 0.01, 'weeks') FROM unit_models, models$q$),
  ($q$SELECT expected_next_order_at(bg_weeks, 2, 30, now(), 'days') FROM unit_models$q$),
  ($q$SELECT bgnbd_fit(x, tx, t, u) FROM (VALUES (1, 2, 3, 'days'), (1, 2, 3, 'weeks')) v(x, tx, t, u)$q$),
  ($q$SELECT bgnbd_fit(1, 2, 3, 'months')$q$),
  ($q$SELECT bgnbd_fit(1, 2, 3, NULL)$q$),
  ($q$SELECT bgbb_fit(2, 1, 6)$q$),
  ($q$SELECT bgbb_fit(1, 2.5, 6)$q$),
  ($q$SELECT probability_of_purchases(bgnbd_model(1, 1, 1, 1), 10, 1.5)$q$),
  ($q$SELECT probability_of_purchases(bgbb_model(1, 1, 1, 1), 6.5, 1)$q$),
  ($q$SELECT expected_purchases_new(bgnbd_model(1, 1, 1, 1), -1)$q$)
) t(q);
-- A model stored before 0.2 has no unit: scoring assumes weeks, as 0.1 did.
SELECT round(predicted_clv(ROW(0.243, 4.414, 0.793, 2.426, 0, 2357, true, 0, NULL, NULL, NULL, NULL, NULL)::bgnbd_model,
                           gg, 2, 30.43, 38.86, 22.35)::numeric, 2) AS clv_no_unit FROM models;

-- 5. The cases of the issue that gave XX000 or NaN: a class-22 error with a hint, or a finite value.
SELECT q AS statement, pg_temp.error_of(q) AS error FROM (VALUES
  ($q$SELECT gammagamma_fit(x, m) FROM (VALUES (1e308, 10.0), (2, 5), (3, 7)) v(x, m)$q$),
  ($q$SELECT expected_purchases(bgnbd_model(0.243, 4.414, 0.793, 2.426), 2, 30.43, 38.86, horizon => 1e308)$q$),
  ($q$SELECT p_alive(paretonbd_model(0.55, 10.58, 0.61, 11.67), 1e308, 30, 38)$q$),
  ($q$SELECT time_to_next_order(bgnbd_model('Infinity', 4, 1, 1), 2, 3)$q$),
  ($q$SELECT time_to_next_order(paretonbd_model(1, 'Infinity', 1, 1), 2, 3)$q$),
  ($q$SELECT p_alive(bgnbd_model(1e308, 4, 1, 1), 2, 3, 4)$q$),
  ($q$SELECT expected_spend(gammagamma_model(6, 3, 15), 2, 1e308)$q$)
) t(q);
-- Long horizons are fine up to 10,000 x (alpha + T): 1e6 weeks for a customer with T = 100.
SELECT round(expected_purchases(bgnbd_model(0.243, 4.414, 0.793, 2.426), 2, 30.43, 100, 1e6)::numeric, 6) AS e_1e6_weeks,
       -- with s < 1 the mean lifetime is infinite: about 3.2e117 purchases in 1e300 weeks, finite
       round(log(expected_purchases(paretonbd_model(0.553, 10.578, 0.606, 11.669), 2, 30.43, 100, 1e300)::numeric), 3) AS pn_log10_1e300;

-- A sweep: every BTYD scoring function with each argument in turn set to an extreme value (the
-- models' parameters too). Counts results that are NaN or infinite and errors outside class 22.
CREATE FUNCTION pg_temp.sweep() RETURNS TABLE (calls int, finite int, class22 int, nulls int, non_finite int, other_errors int)
LANGUAGE plpgsql AS $$
DECLARE
  extremes text[] := ARRAY['0', '1e-308', '1e-10', '0.5', '1', '38.86', '1e6', '1e15', '1e300', '1e308', '-1',
                           '''NaN''', '''Infinity''', '''-Infinity''', 'NULL'];
  templates text[] := ARRAY[
    'p_alive(bgnbd_model($1, $2, $3, $4), $5, $6, $7)',
    'p_alive(mbgnbd_model($1, $2, $3, $4), $5, $6, $7)',
    'p_alive(paretonbd_model($1, $2, $3, $4), $5, $6, $7)',
    'p_alive(bgbb_model($1, $2, $3, $4), $5, $6, $7)',
    'expected_purchases(bgnbd_model($1, $2, $3, $4), $5, $6, $7, $8)',
    'expected_purchases(mbgnbd_model($1, $2, $3, $4), $5, $6, $7, $8)',
    'expected_purchases(paretonbd_model($1, $2, $3, $4), $5, $6, $7, $8)',
    'expected_purchases(bgbb_model($1, $2, $3, $4), $5, $6, $7, $8)',
    'expected_purchases_new(bgnbd_model($1, $2, $3, $4), $5)',
    'expected_purchases_new(mbgnbd_model($1, $2, $3, $4), $5)',
    'expected_purchases_new(paretonbd_model($1, $2, $3, $4), $5)',
    'expected_purchases_new(bgbb_model($1, $2, $3, $4), $5)',
    'probability_of_purchases(bgnbd_model($1, $2, $3, $4), $5, $6)',
    'probability_of_purchases(mbgnbd_model($1, $2, $3, $4), $5, $6)',
    'probability_of_purchases(paretonbd_model($1, $2, $3, $4), $5, $6)',
    'probability_of_purchases(bgbb_model($1, $2, $3, $4), $5, $6)',
    'customer_log_likelihood(bgnbd_model($1, $2, $3, $4), $5, $6, $7)',
    'customer_log_likelihood(mbgnbd_model($1, $2, $3, $4), $5, $6, $7)',
    'customer_log_likelihood(paretonbd_model($1, $2, $3, $4), $5, $6, $7)',
    'customer_log_likelihood(bgbb_model($1, $2, $3, $4), $5, $6, $7)',
    'time_to_next_order(bgnbd_model($1, $2, $3, $4), $5, $6)',
    'time_to_next_order(paretonbd_model($1, $2, $3, $4), $5, $6)',
    -- ''infinity'' is this function's documented "never within the timestamp range": counted as 0.
    'extract(epoch FROM nullif(expected_next_order_at(bgnbd_model($1, $2, $3, $4), $5, $6, ''2024-01-01''), ''infinity'') - ''2024-01-01'')',
    'expected_spend(gammagamma_model($1, $2, $3), $4, $5)',
    'predicted_clv(bgnbd_model($1, $2, $3, $4), gammagamma_model(6.25, 3.74, 15.44), $5, $6, $7, $8)',
    'predicted_clv(paretonbd_model($1, $2, $3, $4), gammagamma_model($5, 3.74, 15.44), 2, 30.43, 38.86, $8, $6::int % 1201)'];
  -- Valid base values of $1..$8 per template kind: continuous models, BG/BB, Gamma-Gamma.
  base_cont text[] := ARRAY['0.243', '4.414', '0.793', '2.426', '2', '30.43', '38.86', '39'];
  base_bgbb text[] := ARRAY['1.204', '0.75', '0.657', '2.783', '2', '4', '6', '5'];
  base_gg text[] := ARRAY['6.25', '3.74', '15.44', '2', '22.35', '1', '1', '1'];
  tpl text; b text[]; args text[]; q text; v float8; k int; e text; st text;
BEGIN
  calls := 0; finite := 0; class22 := 0; nulls := 0; non_finite := 0; other_errors := 0;
  FOREACH tpl IN ARRAY templates LOOP
    b := CASE WHEN tpl LIKE '%bgbb_model%' THEN base_bgbb WHEN tpl LIKE 'expected_spend%' THEN base_gg
              WHEN tpl LIKE 'probability_of_purchases(bgbb%' THEN ARRAY['1.204', '0.75', '0.657', '2.783', '6', '2', '1', '1']
              WHEN tpl LIKE 'probability_of_purchases%' THEN ARRAY['0.243', '4.414', '0.793', '2.426', '39', '2', '1', '1']
              WHEN tpl LIKE 'expected_purchases_new%' THEN ARRAY['0.243', '4.414', '0.793', '2.426', '39', '1', '1', '1']
              WHEN tpl LIKE 'predicted_clv(pareto%' THEN ARRAY['0.553', '10.578', '0.606', '11.669', '6.25', '12', '1', '22.35']
              ELSE base_cont END;
    FOR k IN 0 .. 8 LOOP
      FOREACH e IN ARRAY CASE WHEN k = 0 THEN ARRAY['base'] ELSE extremes END LOOP
        args := b;
        IF k > 0 THEN args[k] := e; END IF;
        q := 'SELECT (' || tpl || ')::float8';
        FOR i IN REVERSE 8 .. 1 LOOP q := replace(q, '$' || i, args[i] || '::float8'); END LOOP;
        calls := calls + 1;
        BEGIN
          EXECUTE q INTO v;
          IF v IS NULL THEN nulls := nulls + 1;
          ELSIF v IN ('NaN'::float8, 'Infinity'::float8, '-Infinity'::float8) THEN
            non_finite := non_finite + 1; RAISE NOTICE 'non-finite: %', q;
          ELSE finite := finite + 1; END IF;
        EXCEPTION WHEN others THEN
          GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE;
          IF left(st, 2) = '22' THEN class22 := class22 + 1;
          ELSE other_errors := other_errors + 1; RAISE NOTICE '% from %', st, q; END IF;
        END;
      END LOOP;
    END LOOP;
  END LOOP;
  RETURN NEXT;
END $$;
SELECT calls > 3000 AS many_calls, finite > 1000 AS many_finite, class22 > 1000 AS many_class22, non_finite, other_errors
FROM pg_temp.sweep();

-- 6. The new fits run in parallel: partial aggregates give the serial answer.
CREATE TABLE btyd_models_par AS SELECT c.x, c.t_x, c.t, d.x AS bx, d.t_x AS btx, d.n AS bn
FROM cdnow c JOIN (SELECT row_number() OVER () AS i, * FROM donors) d ON d.i % 2357 = c.id % 2357;
ANALYZE btyd_models_par;
SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE par_serial AS SELECT mbgnbd_fit(x, t_x, t) AS mbg, bgbb_fit(bx, btx, bn) AS bb FROM btyd_models_par;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT mbgnbd_fit(x, t_x, t), bgbb_fit(bx, btx, bn) FROM btyd_models_par;
SELECT (p.mbg).customers, abs((p.mbg).log_likelihood - (s.mbg).log_likelihood) < 1e-6 AS same_mbg,
       abs((p.bb).log_likelihood - (s.bb).log_likelihood) < 1e-6 AS same_bgbb
FROM (SELECT mbgnbd_fit(x, t_x, t) AS mbg, bgbb_fit(bx, btx, bn) AS bb FROM btyd_models_par) p, par_serial s;
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
DROP TABLE btyd_models_par;

-- 7. Calibration vs holdout on the CDNOW orders (39 + 39 weeks). FHL 2005: by week 78 the cohort made
-- 4,339 repeat purchases and the BG/NBD expected 4,160.6.
CREATE SCHEMA btyd_holdout;
CREATE TABLE btyd_holdout.raw(line text);
\copy btyd_holdout.raw FROM 'test/data/cdnow/CDNOW_sample.txt' WITH (FORMAT text, DELIMITER '|')
CREATE TABLE btyd_holdout.orders AS
SELECT f[2]::int AS customer, to_date(f[3], 'YYYYMMDD')::timestamptz AS ordered_at, f[5]::numeric AS amount
FROM (SELECT regexp_split_to_array(btrim(line, E' \r'), '\s+') AS f FROM btyd_holdout.raw) s;
SELECT segments.map_source('orders', 'btyd_holdout.orders',
  '{"customer_id": "customer", "ordered_at": "ordered_at", "amount": "amount"}');
SELECT calibration_frequency, customers, actual_purchases, round(predicted_purchases::numeric, 1) AS predicted,
       round(actual_mean::numeric, 3) AS actual_mean, round(predicted_mean::numeric, 3) AS predicted_mean,
       round(mean_absolute_error::numeric, 3) AS mae, model_status
FROM segments.model_holdout('1997-09-30', '1998-06-30');
SELECT calibration_frequency, actual_purchases, round(predicted_purchases::numeric, 1) AS predicted
FROM segments.model_holdout('1997-09-30', '1998-06-30', 'paretonbd', 3);
SELECT week, week_end, actual_cumulative, round(expected_cumulative::numeric, 1) AS expected_cumulative, model_status
FROM segments.model_tracking('1997-09-30', '1998-06-30') WHERE week IN (1, 13, 26, 39, 52, 78);
SELECT q AS statement, pg_temp.error_of(q) AS error FROM (VALUES
  ($q$SELECT * FROM segments.model_holdout('1997-09-30', '1997-09-30')$q$),
  ($q$SELECT * FROM segments.model_holdout('1997-09-30', 'infinity')$q$),
  ($q$SELECT * FROM segments.model_holdout('1997-09-30', '1998-06-30', 'bgbb')$q$),
  ($q$SELECT * FROM segments.model_holdout('1997-09-30', '1998-06-30', 'bgnbd', 0)$q$)
) t(q);
-- A reader may run them (on data it can read).
GRANT USAGE ON SCHEMA btyd_holdout TO segments_reader;
GRANT SELECT ON btyd_holdout.orders TO segments_reader;
SET ROLE segments_reader;
SELECT calibration_frequency, actual_purchases FROM segments.model_holdout('1997-09-30', '1998-06-30') WHERE calibration_frequency = 'total';
SELECT max(week) AS weeks FROM segments.model_tracking('1997-09-30', '1998-06-30');
RESET ROLE;
SELECT segments.unmap_source('orders');
DROP SCHEMA btyd_holdout CASCADE;
