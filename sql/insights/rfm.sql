-- Insights (docs/insights.md): RFM.

CREATE OR REPLACE FUNCTION segments.rfm_group(r_score int, f_score int) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE  -- not STRICT, so that it is inlined; NULL scores give NULL
    WHEN r_score IS NULL OR f_score IS NULL THEN NULL
    WHEN r_score >= 5 AND f_score >= 4 THEN 'champions'
    WHEN r_score >= 3 AND f_score >= 4 THEN 'loyal'
    WHEN r_score >= 4 AND f_score >= 2 THEN 'potential_loyalists'
    WHEN r_score >= 5 THEN 'new_customers'
    WHEN r_score = 4 THEN 'promising'
    WHEN r_score = 3 AND f_score = 3 THEN 'need_attention'
    WHEN r_score = 3 THEN 'about_to_sleep'
    WHEN f_score >= 5 THEN 'cant_lose'
    WHEN f_score >= 3 THEN 'at_risk'
    ELSE 'hibernating' END;
COMMENT ON FUNCTION segments.rfm_group(int, int) IS
  'Named RFM group from recency and frequency scores on a 1-5 scale (the usual R x F map: champions, loyal, potential_loyalists, new_customers, promising, need_attention, about_to_sleep, cant_lose, at_risk, hibernating)';

CREATE OR REPLACE FUNCTION segments_internal._insights_check_buckets(buckets int) RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF buckets IS NULL OR buckets < 2 OR buckets > 100 THEN
    RAISE EXCEPTION 'buckets must be between 2 and 100, not %', coalesce(buckets::text, 'NULL')
      USING ERRCODE = '22023', HINT = '5 gives the usual quintiles.';
  END IF;
END $$;
COMMENT ON FUNCTION segments_internal._insights_check_buckets(int) IS 'Internal: validates an RFM bucket count';

CREATE OR REPLACE FUNCTION segments.rfm_cut_points(buckets int DEFAULT 5)
RETURNS TABLE(dimension text, cut_points float8[])
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE fr float8[];
BEGIN
  PERFORM segments_internal._insights_check_buckets(buckets);
  fr := ARRAY(SELECT i::float8 / buckets FROM generate_series(1, buckets - 1) i);
  RETURN QUERY
  SELECT x.d, x.cuts FROM (
    SELECT percentile_disc(fr) WITHIN GROUP (ORDER BY c.days_since_last_order) AS r,
           percentile_disc(fr) WITHIN GROUP (ORDER BY c.orders::float8) AS f,
           percentile_disc(fr) WITHIN GROUP (ORDER BY c.revenue::float8) AS m
    FROM segments.customers c WHERE c.orders > 0) q
  CROSS JOIN LATERAL (VALUES (1, 'recency', q.r), (2, 'frequency', q.f), (3, 'monetary', q.m)) x(n, d, cuts)
  ORDER BY x.n;
END $$;
COMMENT ON FUNCTION segments.rfm_cut_points(int) IS
  'The quantile cut points segments.rfm uses by default (recency days, valid orders, revenue over customers with a valid order)';

CREATE OR REPLACE FUNCTION segments_internal._insights_check_cuts(cuts float8[], buckets int, what text) RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF cuts IS NULL THEN RETURN; END IF;
  IF coalesce(cardinality(cuts), 0) <> buckets - 1 OR array_ndims(cuts) <> 1 THEN
    RAISE EXCEPTION '% cut points: % given, % needed for % buckets', what, coalesce(cardinality(cuts), 0),
      buckets - 1, buckets USING ERRCODE = '22023', HINT = 'segments.rfm_cut_points() shows the default ones.';
  END IF;
  IF EXISTS (SELECT 1 FROM unnest(cuts) WITH ORDINALITY a(v, i)
             JOIN unnest(cuts) WITH ORDINALITY b(v, i) ON b.i = a.i + 1
             WHERE a.v IS NULL OR b.v IS NULL OR b.v < a.v OR a.v = 'NaN' OR b.v = 'NaN') THEN
    RAISE EXCEPTION '% cut points must be ascending and not NULL: %', what, cuts USING ERRCODE = '22023',
      HINT = 'E.g. ARRAY[1, 2, 3, 5] for frequency.';
  END IF;
END $$;
COMMENT ON FUNCTION segments_internal._insights_check_cuts(float8[], int, text) IS 'Internal: validates RFM cut points';

CREATE OR REPLACE FUNCTION segments.rfm(buckets int DEFAULT 5, recency_cuts float8[] DEFAULT NULL,
  frequency_cuts float8[] DEFAULT NULL, monetary_cuts float8[] DEFAULT NULL)
RETURNS TABLE(customer_id text, recency_days float8, frequency int, monetary numeric,
              r_score int, f_score int, m_score int, rfm_score text, rfm_group text)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
  PERFORM segments_internal._insights_check_buckets(buckets);
  PERFORM segments_internal._insights_check_cuts(recency_cuts, buckets, 'recency');
  PERFORM segments_internal._insights_check_cuts(frequency_cuts, buckets, 'frequency');
  PERFORM segments_internal._insights_check_cuts(monetary_cuts, buckets, 'monetary');
  RETURN QUERY
  WITH s AS (
    -- A score is 1 + the number of cut points strictly below the value (recency: reversed). Default cut
    -- points are the quantiles (percentile_disc); with rank() = 1 + rows strictly below, that count is
    -- floor(buckets * (rank - 1) / customers), capped at buckets - 1: ties always share a score.
    SELECT c.customer_id, c.days_since_last_order AS r, c.orders AS f, c.revenue AS m,
      CASE WHEN recency_cuts IS NULL
        THEN least(buckets - 1, (buckets * (rank() OVER (ORDER BY c.days_since_last_order) - 1)) / count(*) OVER ())
        ELSE (SELECT count(*) FROM unnest(recency_cuts) x WHERE x < c.days_since_last_order) END AS r_below,
      CASE WHEN frequency_cuts IS NULL
        THEN least(buckets - 1, (buckets * (rank() OVER (ORDER BY c.orders) - 1)) / count(*) OVER ())
        ELSE (SELECT count(*) FROM unnest(frequency_cuts) x WHERE x < c.orders) END AS f_below,
      CASE WHEN monetary_cuts IS NULL
        THEN least(buckets - 1, (buckets * (rank() OVER (ORDER BY c.revenue::float8) - 1)) / count(*) OVER ())
        ELSE (SELECT count(*) FROM unnest(monetary_cuts) x WHERE x < c.revenue::float8) END AS m_below
    FROM segments.customers c WHERE c.orders > 0)
  SELECT s.customer_id, s.r, s.f, s.m, (buckets - s.r_below)::int, (1 + s.f_below)::int, (1 + s.m_below)::int,
         CASE WHEN buckets <= 9 THEN concat(buckets - s.r_below, 1 + s.f_below, 1 + s.m_below)
              ELSE concat_ws('-', buckets - s.r_below, 1 + s.f_below, 1 + s.m_below) END,
         segments.rfm_group(round(1 + (buckets - s.r_below - 1) * 4.0 / (buckets - 1))::int,
                            round(1 + s.f_below * 4.0 / (buckets - 1))::int)
  FROM s;
END $$;
COMMENT ON FUNCTION segments.rfm(int, float8[], float8[], float8[]) IS
  'RFM scores (1 = worst, buckets = best) of every customer with a valid order: recency = days since last order, frequency = valid orders, monetary = revenue; quantile cut points unless given; with the named RFM group';
