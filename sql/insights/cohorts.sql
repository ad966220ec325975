-- Insights (docs/insights.md): Cohorts.

CREATE OR REPLACE FUNCTION segments.cohorts(period text DEFAULT 'month', from_at timestamptz DEFAULT NULL,
                                 to_at timestamptz DEFAULT NULL)
RETURNS TABLE(cohort date, cohort_size bigint, period_number int, period_start date,
              active_customers bigint, retention numeric, orders bigint, revenue numeric)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE step interval;
BEGIN
  IF period IS NULL OR period NOT IN ('week', 'month', 'quarter', 'year') THEN
    RAISE EXCEPTION 'unknown cohort period "%"', period USING ERRCODE = '22023',
      HINT = 'Use week, month, quarter or year.';
  END IF;
  step := CASE period WHEN 'quarter' THEN interval '3 months' ELSE ('1 ' || period)::interval END;
  RETURN QUERY
  WITH cp AS (  -- one row per customer and period with a valid row: n purchases (segments.is_purchase),
                -- revenue with the refunds (negative), like segments.customers.revenue
    SELECT s.customer_id, date_trunc(period, s.ordered_at) AS p,
           count(*) FILTER (WHERE segments.is_purchase(s.valid, s.amount)) AS n, @extschema@.clv(s.amount) AS rev
    FROM segments.source_orders s WHERE s.valid AND s.customer_id IS NOT NULL AND s.ordered_at IS NOT NULL
    GROUP BY 1, 2),
  firsts AS (SELECT cp.customer_id, min(cp.p) AS c FROM cp WHERE cp.n > 0 GROUP BY cp.customer_id),
  chosen AS (SELECT * FROM firsts f WHERE (from_at IS NULL OR f.c >= date_trunc(period, from_at))
                                      AND (to_at IS NULL OR f.c < to_at)),
  sizes AS (SELECT ch.c, count(*) AS n FROM chosen ch GROUP BY ch.c),
  activity AS (
    SELECT ch.c, cp.p, count(*) FILTER (WHERE cp.n > 0) AS active, sum(cp.n)::bigint AS orders, sum(cp.rev) AS revenue
    FROM cp JOIN chosen ch USING (customer_id) GROUP BY ch.c, cp.p),
  grid AS (
    SELECT sz.c, sz.n, g.p, (row_number() OVER (PARTITION BY sz.c ORDER BY g.p) - 1)::int AS k
    FROM sizes sz CROSS JOIN LATERAL generate_series(sz.c, (SELECT max(cp.p) FROM cp), step) g(p))
  SELECT g.c::date, g.n, g.k, g.p::date, coalesce(a.active, 0), round(coalesce(a.active, 0)::numeric / g.n, 4),
         coalesce(a.orders, 0), coalesce(a.revenue, 0)
  FROM grid g LEFT JOIN activity a ON a.c = g.c AND a.p = g.p
  ORDER BY g.c, g.k;
END $$;
COMMENT ON FUNCTION segments.cohorts(text, timestamptz, timestamptz) IS
  'Retention by first-order period: for each cohort and each period since, the customers with a purchase (segments.is_purchase), their share of the cohort, orders and revenue (zeros included, up to the latest order)';
