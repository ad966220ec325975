-- Insights (docs/insights.md): Life cycle on a past date; new vs returning vs lapsed.

CREATE OR REPLACE FUNCTION segments.lifecycle_on(as_of timestamptz)
RETURNS TABLE(customer_id text, lifecycle @extschema@.lifecycle, orders bigint, last_order_at timestamptz)
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
  SELECT o.customer_id, @extschema@.lifecycle_stage(o.ordered_at, as_of), count(*), max(o.ordered_at)
  FROM segments.purchases o
  WHERE o.ordered_at <= as_of
  GROUP BY o.customer_id
$$;
COMMENT ON FUNCTION segments.lifecycle_on(timestamptz) IS
  'Each customer''s life-cycle stage on a past date, from the purchases (segments.purchases) placed up to it';

CREATE OR REPLACE FUNCTION segments.new_returning_lapsed_series(from_at timestamptz, to_at timestamptz,
                                                     step interval DEFAULT '1 month')
RETURNS TABLE(period_start timestamptz, period_end timestamptz, status text, customers bigint,
              orders bigint, revenue numeric)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE bounds timestamptz[];
BEGIN
  PERFORM segments_internal._insights_check_range(from_at, to_at, 'new_returning_lapsed range');
  IF step IS NULL OR step <= interval '0' THEN
    RAISE EXCEPTION 'step must be a positive interval' USING ERRCODE = '22023',
      HINT = 'E.g. interval ''1 month'' or ''7 days''.';
  END IF;
  -- counted up to 1001 only: a tiny step over a long range must not generate billions first
  IF (SELECT count(*) FROM (SELECT generate_series(from_at, to_at - interval '1 microsecond', step) LIMIT 1001) g) > 1000 THEN
    RAISE EXCEPTION 'more than 1000 periods' USING ERRCODE = '54000',
      HINT = 'Use a longer step or a shorter range.';
  END IF;
  -- Period i is [bounds[i], bounds[i + 1]); width_bucket finds it.
  bounds := ARRAY(SELECT generate_series(from_at, to_at - interval '1 microsecond', step)) || to_at;
  RETURN QUERY
  WITH o AS (  -- one pass over the purchases: first order, next order, moment of lapsing; kept:
               -- the orders in the range and those whose lapse moment is in it
    SELECT * FROM (
      SELECT s.customer_id, s.ordered_at, s.amount, first_value(s.ordered_at) OVER w AS first_at,
             lead(s.ordered_at) OVER w AS next_at, @extschema@.lifecycle_lost_at(s.ordered_at) OVER w AS lost_at
      FROM segments.purchases s
      WHERE s.ordered_at < to_at
      -- COLLATE "C": partitions only need grouping, and byte order is the cheapest
      WINDOW w AS (PARTITION BY s.customer_id COLLATE "C" ORDER BY s.ordered_at, s.order_id)) x
    WHERE x.ordered_at >= from_at OR (x.lost_at >= from_at AND x.lost_at < to_at)),
  refunds AS (  -- valid rows that are not purchases, per period: they reduce that period's revenue
    SELECT width_bucket(s.ordered_at, bounds) AS i, s.customer_id, sum(s.amount) AS rev
    FROM segments.source_orders s
    WHERE s.valid AND NOT segments.is_purchase(s.valid, s.amount) AND s.customer_id IS NOT NULL
      AND s.ordered_at >= from_at AND s.ordered_at < to_at
    GROUP BY 1, 2),
  active AS (  -- customers purchasing in a period: new if their first purchase is in it
    SELECT a.i, a.customer_id, a.first_at, a.n, a.rev + coalesce(r.rev, 0) AS rev
    FROM (SELECT width_bucket(o.ordered_at, bounds) AS i, o.customer_id, min(o.first_at) AS first_at,
                 count(*) AS n, @extschema@.clv(o.amount) AS rev
          FROM o WHERE o.ordered_at >= from_at GROUP BY 1, 2) a
    LEFT JOIN refunds r ON r.i = a.i AND r.customer_id = a.customer_id),
  lapsed AS (  -- the last order before a period; lost during the period; next order not before its end
    SELECT x.i, x.customer_id FROM (
      SELECT width_bucket(o.lost_at, bounds) AS i, o.customer_id, o.ordered_at, o.next_at
      FROM o WHERE o.lost_at >= from_at AND o.lost_at < to_at) x
    WHERE x.ordered_at < bounds[x.i] AND (x.next_at IS NULL OR x.next_at >= bounds[x.i + 1])),
  classified AS (
    SELECT a.i, CASE WHEN a.first_at >= bounds[a.i] THEN 'new' ELSE 'returning' END AS st, a.n, a.rev FROM active a
    UNION ALL
    SELECT l.i, 'lapsed', 0, 0 FROM lapsed l)
  SELECT bounds[p.i], bounds[p.i + 1], k.st, count(c.st), coalesce(sum(c.n), 0)::bigint, coalesce(sum(c.rev), 0)
  FROM generate_series(1, cardinality(bounds) - 1) p(i)
  CROSS JOIN (VALUES (1, 'new'), (2, 'returning'), (3, 'lapsed')) k(n, st)
  LEFT JOIN classified c ON c.i = p.i AND c.st = k.st
  GROUP BY p.i, k.n, k.st ORDER BY p.i, k.n;
END $$;
COMMENT ON FUNCTION segments.new_returning_lapsed_series(timestamptz, timestamptz, interval) IS
  'segments.new_returning_lapsed for each step-long period of [from_at, to_at), in one pass, for charting';

-- One range: two lifecycle_stage aggregates per customer (one hash aggregate over the orders) cost
-- less than the window pass the series needs; both are checked against the same oracle.
CREATE OR REPLACE FUNCTION segments.new_returning_lapsed(from_at timestamptz, to_at timestamptz)
RETURNS TABLE(status text, customers bigint, orders bigint, revenue numeric)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
  PERFORM segments_internal._insights_check_range(from_at, to_at, 'new_returning_lapsed range');
  RETURN QUERY
  WITH per AS (  -- purchases (segments.is_purchase) decide; revenue counts the range's refunds too
    SELECT o.customer_id, min(o.ordered_at) FILTER (WHERE o.pur) AS first_at,
           count(*) FILTER (WHERE o.pur AND o.ordered_at >= from_at) AS n_in,
           @extschema@.clv(o.amount) FILTER (WHERE o.ordered_at >= from_at) AS rev_in,
           @extschema@.lifecycle_stage(o.ordered_at, from_at) FILTER (WHERE o.pur AND o.ordered_at < from_at) AS stage_from,
           @extschema@.lifecycle_stage(o.ordered_at, to_at) FILTER (WHERE o.pur AND o.ordered_at < from_at) AS stage_to
    FROM (SELECT s.customer_id, s.ordered_at, s.amount, segments.is_purchase(s.valid, s.amount) AS pur
          FROM segments.source_orders s
          WHERE s.valid AND s.customer_id IS NOT NULL AND s.ordered_at < to_at) o
    GROUP BY o.customer_id
    HAVING count(*) FILTER (WHERE o.pur) > 0),
  classified AS (
    SELECT CASE WHEN p.first_at >= from_at THEN 'new'
                WHEN p.n_in > 0 THEN 'returning'
                WHEN p.stage_to = 'lost' AND p.stage_from <> 'lost' THEN 'lapsed' END AS st,
           p.n_in, p.rev_in
    FROM per p)
  SELECT k.st, count(c.st), coalesce(sum(c.n_in), 0)::bigint, coalesce(sum(c.rev_in), 0)
  FROM (VALUES (1, 'new'), (2, 'returning'), (3, 'lapsed')) k(n, st)
  LEFT JOIN classified c ON c.st = k.st
  GROUP BY k.n, k.st ORDER BY k.n;
END $$;
COMMENT ON FUNCTION segments.new_returning_lapsed(timestamptz, timestamptz) IS
  'Ometria new vs returning vs lapsed customers in [from_at, to_at), mutually exclusive: new = first purchase (segments.is_purchase) in range; returning = ordered in range, not new; lapsed = no order in range and became lost during it';
