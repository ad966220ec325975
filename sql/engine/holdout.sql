-- BTYD calibration vs holdout on the mapped orders source (docs/predictive.md#calibration-vs-holdout):
-- what every BTYD paper shows before trusting a model. Purchases are segments.purchases (the one
-- definition), counted as rfm_summary counts them (purchase days in the session time zone), in weeks.

-- One row per customer whose first purchase is on or before calibration_end: the calibration
-- summary and the purchase days in (calibration_end, holdout_end].
CREATE OR REPLACE FUNCTION segments_internal.holdout_customers(calibration_end timestamptz, holdout_end timestamptz)
RETURNS TABLE (customer_id text, first_day date, rfm @extschema@.rfm, holdout_purchases bigint)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT so.customer_id,
         min(so.ordered_at::date),
         @extschema@.rfm_summary(so.ordered_at, so.amount, calibration_end, 'weeks')
           FILTER (WHERE so.ordered_at::date <= calibration_end::date),
         count(DISTINCT so.ordered_at::date) FILTER (WHERE so.ordered_at::date > calibration_end::date)
  FROM segments.purchases so
  WHERE so.ordered_at::date <= holdout_end::date
  GROUP BY so.customer_id
  HAVING min(so.ordered_at::date) <= calibration_end::date
$$;
COMMENT ON FUNCTION segments_internal.holdout_customers(timestamptz, timestamptz) IS
  'Internal: calibration summary (weeks) and holdout purchase days of each customer of the calibration cohort';

-- The model fitted on the calibration summaries, as the one kind asked for (others NULL).
CREATE OR REPLACE FUNCTION segments_internal.holdout_check(calibration_end timestamptz, holdout_end timestamptz,
    model text)
RETURNS void LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF calibration_end IS NULL OR holdout_end IS NULL OR NOT isfinite(calibration_end) OR NOT isfinite(holdout_end)
     OR holdout_end::date <= calibration_end::date THEN
    RAISE EXCEPTION 'the holdout must end on a later day than the calibration period'
      USING ERRCODE = '22023', HINT = 'Pass finite times, e.g. model_holdout(''1997-09-30'', ''1998-06-30'').';
  END IF;
  IF model IS NULL OR model NOT IN ('bgnbd', 'mbgnbd', 'paretonbd') THEN
    RAISE EXCEPTION 'unknown model "%"', model
      USING ERRCODE = '22023', HINT = 'Use ''bgnbd'', ''mbgnbd'' or ''paretonbd''.';
  END IF;
END $$;
COMMENT ON FUNCTION segments_internal.holdout_check(timestamptz, timestamptz, text) IS
  'Internal: argument checks shared by model_holdout and model_tracking';

CREATE OR REPLACE FUNCTION segments.model_holdout(calibration_end timestamptz, holdout_end timestamptz,
    model text DEFAULT 'bgnbd', max_frequency integer DEFAULT 7)
RETURNS TABLE (calibration_frequency text, customers bigint, actual_purchases bigint,
               predicted_purchases double precision, actual_mean double precision,
               predicted_mean double precision, mean_absolute_error double precision, model_status text)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM segments_internal.holdout_check(calibration_end, holdout_end, model);
  IF max_frequency IS NULL OR max_frequency < 1 OR max_frequency > 1000 THEN
    RAISE EXCEPTION 'max_frequency must be between 1 and 1000' USING ERRCODE = '22023',
      HINT = 'Frequencies from max_frequency on are grouped in one "max_frequency+" row; 7 is the papers'' choice.';
  END IF;
  RETURN QUERY
  WITH c AS MATERIALIZED (SELECT * FROM segments_internal.holdout_customers(calibration_end, holdout_end)),
  m AS (
    SELECT @extschema@.bgnbd_fit((c.rfm).frequency, (c.rfm).recency, (c.rfm).t) FILTER (WHERE model = 'bgnbd') AS bg,
           @extschema@.mbgnbd_fit((c.rfm).frequency, (c.rfm).recency, (c.rfm).t) FILTER (WHERE model = 'mbgnbd') AS mbg,
           @extschema@.paretonbd_fit((c.rfm).frequency, (c.rfm).recency, (c.rfm).t) FILTER (WHERE model = 'paretonbd') AS pn
    FROM c),
  r AS (
    SELECT (c.rfm).frequency AS x, c.holdout_purchases AS actual,
           coalesce(@extschema@.expected_purchases(m.bg, (c.rfm).frequency, (c.rfm).recency, (c.rfm).t, h.weeks),
                    @extschema@.expected_purchases(m.mbg, (c.rfm).frequency, (c.rfm).recency, (c.rfm).t, h.weeks),
                    @extschema@.expected_purchases(m.pn, (c.rfm).frequency, (c.rfm).recency, (c.rfm).t, h.weeks))
             AS predicted
    FROM c, m, (SELECT (holdout_end::date - calibration_end::date) / 7.0 AS weeks) h)
  SELECT CASE WHEN g.b IS NULL THEN 'total' WHEN g.b >= max_frequency THEN max_frequency || '+' ELSE g.b::text END,
         g.n, g.actual, g.predicted, g.actual::float8 / g.n, g.predicted / g.n, g.mae,
         (SELECT coalesce((m.bg).status, (m.mbg).status, (m.pn).status) FROM m)
  FROM (SELECT least(r.x, max_frequency) AS b, count(*) AS n, sum(r.actual)::bigint AS actual,
               sum(r.predicted) AS predicted, avg(abs(r.predicted - r.actual)) AS mae
        FROM r GROUP BY ROLLUP (least(r.x, max_frequency))) g
  ORDER BY g.b IS NULL, g.b;
END $$;
COMMENT ON FUNCTION segments.model_holdout(timestamptz, timestamptz, text, integer) IS
  'Calibration vs holdout: fits the model (bgnbd, mbgnbd or paretonbd) on the orders up to calibration_end (weeks) and compares, per calibration frequency (max_frequency+ grouped) and in total, the purchase days each customer made in (calibration_end, holdout_end] with the model''s conditional expectation; model_status is the fit''s status';

-- The tracking plot: cumulative repeat purchases of the calibration cohort week by week from its
-- first purchase to holdout_end, actual and as the model expects (unconditional, from each
-- customer's first purchase day), the model fitted on the calibration period.
CREATE OR REPLACE FUNCTION segments.model_tracking(calibration_end timestamptz, holdout_end timestamptz,
    model text DEFAULT 'bgnbd')
RETURNS TABLE (week integer, week_end date, actual_cumulative bigint, expected_cumulative double precision,
               model_status text)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM segments_internal.holdout_check(calibration_end, holdout_end, model);
  RETURN QUERY
  WITH c AS MATERIALIZED (SELECT * FROM segments_internal.holdout_customers(calibration_end, holdout_end)),
  m AS (
    SELECT @extschema@.bgnbd_fit((c.rfm).frequency, (c.rfm).recency, (c.rfm).t) FILTER (WHERE model = 'bgnbd') AS bg,
           @extschema@.mbgnbd_fit((c.rfm).frequency, (c.rfm).recency, (c.rfm).t) FILTER (WHERE model = 'mbgnbd') AS mbg,
           @extschema@.paretonbd_fit((c.rfm).frequency, (c.rfm).recency, (c.rfm).t) FILTER (WHERE model = 'paretonbd') AS pn,
           min(c.first_day) AS start
    FROM c),
  -- Repeat purchase days of the cohort, each after its customer's first day.
  d AS (
    SELECT DISTINCT so.customer_id, so.ordered_at::date AS day
    FROM segments.purchases so JOIN c USING (customer_id)
    WHERE so.ordered_at::date > c.first_day AND so.ordered_at::date <= holdout_end::date),
  w AS (
    SELECT k::int AS k, least(m.start + 7 * k::int, holdout_end::date) AS e
    FROM m, generate_series(1, ceil((holdout_end::date - m.start) / 7.0)::int) k),
  cohort AS (SELECT c.first_day, count(*) AS n FROM c GROUP BY c.first_day)
  SELECT w.k, w.e,
         (SELECT count(*) FROM d WHERE d.day <= w.e),
         (SELECT sum(cohort.n * coalesce(@extschema@.expected_purchases_new(m.bg, (w.e - cohort.first_day) / 7.0),
                                         @extschema@.expected_purchases_new(m.mbg, (w.e - cohort.first_day) / 7.0),
                                         @extschema@.expected_purchases_new(m.pn, (w.e - cohort.first_day) / 7.0)))
          FROM cohort, m WHERE cohort.first_day <= w.e),
         (SELECT coalesce((m.bg).status, (m.mbg).status, (m.pn).status) FROM m)
  FROM w ORDER BY w.k;
END $$;
COMMENT ON FUNCTION segments.model_tracking(timestamptz, timestamptz, text) IS
  'Tracking plot: week by week from the cohort''s first purchase to holdout_end, the cumulative repeat purchase days of the customers who bought by calibration_end, actual and expected by the model fitted on the calibration period';
