-- Customer insights (docs/insights.md): Ometria's breakdown, dimension matrix, new/returning/lapsed
-- and customer events; RFM scores and groups; cohorts; as-of membership; segment overlap.
-- Everything reads the engine's interfaces only: segments.customers, segments.source_*,
-- segments.segments, segments.members, segments.changes, segments.create_segment.

CREATE SCHEMA IF NOT EXISTS segments;

-- ---------------------------------------------------------------------------------------------
-- Small helpers
-- ---------------------------------------------------------------------------------------------

-- The id of a segment by name; a clear error when there is none.
CREATE FUNCTION segments._insights_segment_id(segment text) RETURNS bigint
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE sid bigint;
BEGIN
  IF segment IS NULL THEN
    RAISE EXCEPTION 'segment name must not be NULL' USING ERRCODE = '22004',
      HINT = 'Pass the name of a segment listed in segments.segments.';
  END IF;
  SELECT s.id INTO sid FROM segments.segments s WHERE s.name = segment;
  IF sid IS NULL THEN
    RAISE EXCEPTION 'segment "%" does not exist', segment USING ERRCODE = '42704',
      HINT = 'segments.segments lists the segments; names are case-sensitive.';
  END IF;
  RETURN sid;
END $$;
COMMENT ON FUNCTION segments._insights_segment_id(text) IS
  'Internal: id of the named segment, or error 42704';

-- A date range must be finite and non-empty.
CREATE FUNCTION segments._insights_check_range(from_at timestamptz, to_at timestamptz, what text)
RETURNS void LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF from_at IS NULL OR to_at IS NULL OR NOT isfinite(from_at) OR NOT isfinite(to_at) THEN
    RAISE EXCEPTION '% must have finite, non-NULL bounds', what USING ERRCODE = '22023',
      HINT = 'Pass timestamps, e.g. ''2024-01-01'' and ''2024-02-01'' (the end is exclusive).';
  END IF;
  IF to_at <= from_at THEN
    RAISE EXCEPTION '% is empty: % is not before %', what, from_at, to_at USING ERRCODE = '22023',
      HINT = 'Ranges are half-open [from, to): the end must come after the start.';
  END IF;
END $$;
COMMENT ON FUNCTION segments._insights_check_range(timestamptz, timestamptz, text) IS
  'Internal: raises 22023 unless from < to, both finite';

-- ---------------------------------------------------------------------------------------------
-- Email engagement
-- ---------------------------------------------------------------------------------------------

-- SQL-standard bodies (RETURN ...) are parsed once, at creation, and are inlined into the calling
-- query: no per-row function call. STABLE, not IMMUTABLE: timestamptz - interval is only stable, and
-- an IMMUTABLE wrapper around it would not be inlined.
CREATE FUNCTION segments.email_engagement_level(opted_in boolean, last_open_at timestamptz,
                                                last_click_at timestamptz, as_of timestamptz)
RETURNS text LANGUAGE sql STABLE PARALLEL SAFE
RETURN CASE
    WHEN opted_in IS FALSE THEN 'unsubscribed'
    WHEN last_click_at > as_of - interval '30 days' THEN 'high'
    WHEN last_click_at > as_of - interval '90 days' OR last_open_at > as_of - interval '30 days' THEN 'medium'
    WHEN last_open_at > as_of - interval '90 days' THEN 'low'
    ELSE 'none' END;
COMMENT ON FUNCTION segments.email_engagement_level(boolean, timestamptz, timestamptz, timestamptz) IS
  'Email engagement bucket from the last open and click before as_of: unsubscribed (opted out), high (click in 30 days), medium (click in 90 or open in 30 days), low (open in 90 days), none';

-- ---------------------------------------------------------------------------------------------
-- Dimensions: named groupings of customers, used by breakdown, dimension_matrix and matrix rules
-- ---------------------------------------------------------------------------------------------

CREATE VIEW segments.dimensions(dimension, kind, labels, description) AS VALUES
  ('lifecycle', 'rule', ARRAY['lead', 'just_ordered', 'active', 'slipping_away', 'lost'],
   'Life-cycle stage from segments.customers; contacts without a valid order are lead'),
  ('value_band', 'rule', ARRAY['no_orders', 'low', 'medium', 'high', 'very_high'],
   'Ometria value band (customer AOV against the mean AOV); no_orders without a valid order'),
  ('frequency', 'rule', ARRAY['no_orders', 'one_time', 'repeat', 'loyal', 'very_loyal'],
   'Valid orders: 0 no_orders, 1 one_time, 2-3 repeat, 4-6 loyal, 7 or more very_loyal'),
  ('email_engagement', 'rule', ARRAY['unsubscribed', 'none', 'low', 'medium', 'high'],
   'Latest email open and click (segments.customers) against the facts'' as-of time: see segments.email_engagement_level'),
  ('rfm_group', 'query', ARRAY['champions', 'loyal', 'potential_loyalists', 'new_customers', 'promising',
     'need_attention', 'about_to_sleep', 'cant_lose', 'at_risk', 'hibernating', 'no_orders'],
   'Named RFM group from segments.rfm() (default quintiles); no_orders without a valid order'),
  ('segment', 'query', NULL::text[],
   'Segment membership (segments.members); a customer in several segments counts in each, one in none is left out');
COMMENT ON VIEW segments.dimensions IS
  'Named dimensions for segments.breakdown and segments.dimension_matrix (any column of segments.customers works too): labels in display order; kind rule = cells become a rule segment, query = a query segment';

-- SQL pieces of one dimension, over alias c (segments.customers) and join alias a:
-- label_sql (text), sort_sql (sortable), join_sql (extra FROM clause or '').
CREATE FUNCTION segments._insights_dimension(dimension text, a text,
  OUT label_sql text, OUT sort_sql text, OUT join_sql text, OUT kind text)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE labels text[];
BEGIN
  SELECT d.labels, d.kind INTO labels, kind FROM segments.dimensions d WHERE d.dimension = _insights_dimension.dimension;
  join_sql := '';
  CASE dimension
    WHEN 'lifecycle' THEN
      label_sql := 'coalesce(c.lifecycle::text, ''lead'')';
    WHEN 'value_band' THEN
      label_sql := 'coalesce(c.value_band::text, ''no_orders'')';
    WHEN 'frequency' THEN
      label_sql := 'CASE WHEN c.orders >= 7 THEN ''very_loyal'' WHEN c.orders >= 4 THEN ''loyal'' '
                   'WHEN c.orders >= 2 THEN ''repeat'' WHEN c.orders = 1 THEN ''one_time'' ELSE ''no_orders'' END';
    WHEN 'email_engagement' THEN
      label_sql := 'segments.email_engagement_level(c.opted_in, c.last_email_open_at, c.last_email_click_at, c.refreshed_at)';
    WHEN 'rfm_group' THEN
      label_sql := format('coalesce(%I.rfm_group, ''no_orders'')', a);
      join_sql := format(' LEFT JOIN segments.rfm() %1$I ON %1$I.customer_id = c.customer_id', a);
    WHEN 'segment' THEN
      label_sql := format('%I.segment', a);
      sort_sql := label_sql;
      join_sql := format(' JOIN segments.members %1$I ON %1$I.customer_id = c.customer_id', a);
    ELSE
      IF dimension IS NULL OR NOT EXISTS (
          SELECT 1 FROM pg_catalog.pg_attribute
          WHERE attrelid = 'segments.customers'::regclass AND attname = dimension AND attnum > 0 AND NOT attisdropped) THEN
        RAISE EXCEPTION 'unknown dimension "%"', dimension USING ERRCODE = '42703',
          HINT = 'Use a dimension of segments.dimensions (' ||
                 (SELECT string_agg(d.dimension, ', ') FROM segments.dimensions d) ||
                 ') or a column of segments.customers.';
      END IF;
      label_sql := format('c.%I::text', dimension);
      sort_sql := format('c.%I', dimension);
      kind := 'column';
  END CASE;
  IF sort_sql IS NULL THEN
    sort_sql := format('array_position(%L::text[], %s)', labels, label_sql);
  END IF;
END $$;
COMMENT ON FUNCTION segments._insights_dimension(text, text) IS
  'Internal: label, sort and join SQL of a dimension (validated; user text never spliced)';

-- Rule predicate (over segments.customers columns) selecting one label of a dimension.
CREATE FUNCTION segments._insights_predicate(dimension text, label text) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE labels text[]; typ text;
BEGIN
  IF label IS NULL THEN RETURN 'true'; END IF;  -- NULL: the whole row or column
  SELECT d.labels INTO labels FROM segments.dimensions d WHERE d.dimension = _insights_predicate.dimension;
  IF labels IS NOT NULL AND NOT label = ANY (labels) THEN
    RAISE EXCEPTION 'dimension % has no value "%"', dimension, label USING ERRCODE = '22023',
      HINT = 'Its values are ' || array_to_string(labels, ', ') || '.';
  END IF;
  CASE dimension
    WHEN 'lifecycle' THEN
      RETURN CASE label WHEN 'lead' THEN 'lifecycle IS NULL' ELSE format('lifecycle = %L', label) END;
    WHEN 'value_band' THEN
      RETURN CASE label WHEN 'no_orders' THEN 'value_band IS NULL' ELSE format('value_band = %L', label) END;
    WHEN 'frequency' THEN
      RETURN CASE label WHEN 'no_orders' THEN 'orders = 0' WHEN 'one_time' THEN 'orders = 1'
        WHEN 'repeat' THEN 'orders BETWEEN 2 AND 3' WHEN 'loyal' THEN 'orders BETWEEN 4 AND 6'
        ELSE 'orders >= 7' END;
    WHEN 'email_engagement' THEN
      RETURN format('segments.email_engagement_level(opted_in, last_email_open_at, last_email_click_at, refreshed_at) = %L', label);
    ELSE
      PERFORM segments._insights_dimension(dimension, 'x');  -- validates the column name
      SELECT format_type(atttypid, atttypmod) INTO typ FROM pg_catalog.pg_attribute
      WHERE attrelid = 'segments.customers'::regclass AND attname = dimension;
      BEGIN
        EXECUTE format('SELECT %L::%s', label, typ);
      EXCEPTION WHEN data_exception THEN
        RAISE EXCEPTION 'value "%" does not fit column % (%)', label, dimension, typ USING ERRCODE = '22023',
          HINT = 'Pass a value as dimension_matrix shows it.';
      END;
      RETURN format('%I = %L::%s', dimension, label, typ);
  END CASE;
END $$;
COMMENT ON FUNCTION segments._insights_predicate(text, text) IS
  'Internal: rule predicate over segments.customers for one value of a rule dimension';

-- ---------------------------------------------------------------------------------------------
-- Breakdown: Ometria's fifteen fields per group
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION segments.breakdown(group_by text DEFAULT NULL, segment text DEFAULT NULL)
RETURNS TABLE(group_value text, group_order bigint, contacts bigint, customers bigint,
              repeat_customers bigint, one_time_customers bigint, total_orders bigint,
              total_orders_attempted bigint, total_clv numeric, average_clv numeric,
              average_orders numeric, aov numeric, contact_conversion_rate numeric,
              customer_repeat_rate numeric, average_recency_days float8,
              average_first_order_delay_days float8, average_second_order_delay_days float8)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE d record; filter text := ''; sid bigint;
BEGIN
  IF group_by IS NULL THEN
    SELECT '''all''::text' AS label_sql, '1' AS sort_sql, '' AS join_sql INTO d;
  ELSE
    SELECT * INTO d FROM segments._insights_dimension(group_by, 'g');
  END IF;
  IF segment IS NOT NULL THEN
    sid := segments._insights_segment_id(segment);
    filter := ' WHERE c.customer_id IN (SELECT f.customer_id FROM segments.members f WHERE f.segment = $1)';
  END IF;
  RETURN QUERY EXECUTE format($q$
    SELECT x.grp, dense_rank() OVER (ORDER BY x.srt), x.contacts, x.customers, x.repeaters,
           x.customers - x.repeaters, x.orders, x.attempted, x.clv,
           round(x.clv / nullif(x.customers, 0), 2), round(x.orders::numeric / nullif(x.customers, 0), 2),
           round(x.clv / nullif(x.orders, 0), 2), round(x.customers::numeric / nullif(x.contacts, 0), 4),
           round(x.repeaters::numeric / nullif(x.customers, 0), 4), x.recency, x.first_delay, x.second_delay
    FROM (SELECT %1$s AS grp, %2$s AS srt, count(*) AS contacts,
                 count(*) FILTER (WHERE c.orders > 0) AS customers,
                 count(*) FILTER (WHERE c.orders > 1) AS repeaters,
                 coalesce(sum(c.orders), 0)::bigint AS orders,
                 coalesce(sum(c.attempted_orders), 0)::bigint AS attempted,
                 coalesce(sum(c.revenue) FILTER (WHERE c.orders > 0), 0) AS clv,
                 avg(c.days_since_last_order) FILTER (WHERE c.orders > 0) AS recency,
                 avg(c.first_order_delay_days) FILTER (WHERE c.orders > 0) AS first_delay,
                 avg(c.second_order_delay_days) FILTER (WHERE c.orders > 1) AS second_delay
          FROM segments.customers c%3$s%4$s
          GROUP BY 1, 2) x
    ORDER BY x.srt NULLS LAST$q$, d.label_sql, d.sort_sql, d.join_sql, filter) USING segment;
END $$;
COMMENT ON FUNCTION segments.breakdown(text, text) IS
  'Ometria''s fifteen customer-insight fields per group of a dimension or segments.customers column (NULL: one row, all), optionally within one segment';

-- ---------------------------------------------------------------------------------------------
-- Dimension matrix
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION segments.dimension_matrix(row_dimension text, column_dimension text, segment text DEFAULT NULL)
RETURNS TABLE(row_value text, column_value text, row_order bigint, column_order bigint,
              contacts bigint, customers bigint, revenue numeric,
              pct_of_total numeric, pct_of_row numeric, pct_of_column numeric)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE r record; k record; filter text := ''; sid bigint;
BEGIN
  SELECT * INTO r FROM segments._insights_dimension(row_dimension, 'r');
  SELECT * INTO k FROM segments._insights_dimension(column_dimension, 'k');
  IF segment IS NOT NULL THEN
    sid := segments._insights_segment_id(segment);
    filter := ' WHERE c.customer_id IN (SELECT f.customer_id FROM segments.members f WHERE f.segment = $1)';
  END IF;
  RETURN QUERY EXECUTE format($q$
    WITH base AS (
      SELECT %1$s AS rv, %2$s AS rs, %3$s AS kv, %4$s AS ks, count(*) AS contacts,
             count(*) FILTER (WHERE c.orders > 0) AS customers, coalesce(sum(c.revenue), 0) AS revenue
      FROM segments.customers c%5$s%6$s%7$s
      GROUP BY 1, 2, 3, 4),
    cells AS (  -- display positions: by the dimension's order, then label
      SELECT b.*, dense_rank() OVER (ORDER BY b.rs NULLS LAST, b.rv) AS ri,
             dense_rank() OVER (ORDER BY b.ks NULLS LAST, b.kv) AS ci FROM base b),
    rws AS (SELECT DISTINCT cells.ri, cells.rv FROM cells), cls AS (SELECT DISTINCT cells.ci, cells.kv FROM cells),
    grid AS (
      SELECT rws.rv, rws.ri, cls.kv, cls.ci, coalesce(cells.contacts, 0) AS contacts,
             coalesce(cells.customers, 0) AS customers, coalesce(cells.revenue, 0) AS revenue
      FROM rws CROSS JOIN cls LEFT JOIN cells ON cells.ri = rws.ri AND cells.ci = cls.ci)
    SELECT g.rv, g.kv, g.ri, g.ci, g.contacts, g.customers, g.revenue,
           round(100.0 * g.contacts / nullif(sum(g.contacts) OVER (), 0), 2),
           round(100.0 * g.contacts / nullif(sum(g.contacts) OVER (PARTITION BY g.ri), 0), 2),
           round(100.0 * g.contacts / nullif(sum(g.contacts) OVER (PARTITION BY g.ci), 0), 2)
    FROM grid g
    ORDER BY g.ri, g.ci$q$,
    r.label_sql, r.sort_sql, k.label_sql, k.sort_sql, r.join_sql, k.join_sql, filter) USING segment;
END $$;
COMMENT ON FUNCTION segments.dimension_matrix(text, text, text) IS
  'Two dimensions crossed: contacts, customers and revenue per cell (every combination of seen values, zeros included) with percentages of the total, the row and the column';

-- The rule (or, for query dimensions, the query) selecting chosen cells of a matrix.
CREATE FUNCTION segments.matrix_rule(row_dimension text, column_dimension text, cells text[],
                                     OUT rule text, OUT query text)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE r record; k record; i int; parts text[] := '{}'; qparts text[] := '{}';
BEGIN
  IF cells IS NULL OR array_ndims(cells) IS DISTINCT FROM 2 OR array_length(cells, 2) <> 2 THEN
    RAISE EXCEPTION 'cells must be a two-dimensional array of [row value, column value] pairs'
      USING ERRCODE = '22023',
      HINT = 'E.g. ARRAY[[''lost'', ''high''], [''lost'', ''very_high'']]; NULL stands for the whole row or column.';
  END IF;
  SELECT * INTO r FROM segments._insights_dimension(row_dimension, 'r');
  SELECT * INTO k FROM segments._insights_dimension(column_dimension, 'k');
  FOR i IN array_lower(cells, 1) .. array_upper(cells, 1) LOOP
    IF r.kind <> 'query' AND k.kind <> 'query' THEN
      parts := parts || format('(%s AND %s)', segments._insights_predicate(row_dimension, cells[i][1]),
                                              segments._insights_predicate(column_dimension, cells[i][2]));
    ELSE
      qparts := qparts || format('(%s AND %s)',
        CASE WHEN cells[i][1] IS NULL THEN 'true' ELSE format('%s = %L', r.label_sql, cells[i][1]) END,
        CASE WHEN cells[i][2] IS NULL THEN 'true' ELSE format('%s = %L', k.label_sql, cells[i][2]) END);
    END IF;
  END LOOP;
  IF cardinality(parts) > 0 THEN
    rule := array_to_string(parts, ' OR ');
  ELSE
    query := format('SELECT DISTINCT c.customer_id FROM segments.customers c%s%s WHERE %s',
                    r.join_sql, k.join_sql, array_to_string(qparts, ' OR '));
  END IF;
END $$;
COMMENT ON FUNCTION segments.matrix_rule(text, text, text[]) IS
  'The segment rule (over segments.customers columns) selecting the given [row, column] cells of a dimension matrix; a query instead when a dimension is rfm_group or segment';

CREATE FUNCTION segments.create_matrix_segment(name text, row_dimension text, column_dimension text,
  cells text[], description text DEFAULT NULL, refresh_interval interval DEFAULT '1 day')
RETURNS bigint LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE m record;
BEGIN
  SELECT * INTO m FROM segments.matrix_rule(row_dimension, column_dimension, cells);
  RETURN segments.create_segment(name, rule => m.rule, query => m.query,
    description => coalesce(description, format('Dimension matrix %s x %s: %s', row_dimension, column_dimension, cells::text)),
    refresh_interval => refresh_interval);
END $$;
COMMENT ON FUNCTION segments.create_matrix_segment(text, text, text, text[], text, interval) IS
  'Creates a segment (segments.create_segment) of the chosen cells of a dimension matrix; returns its id';

-- ---------------------------------------------------------------------------------------------
-- Life cycle on a past date; new vs returning vs lapsed
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION segments.lifecycle_on(as_of timestamptz)
RETURNS TABLE(customer_id text, lifecycle @extschema@.lifecycle, orders bigint, last_order_at timestamptz)
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
  SELECT o.customer_id, @extschema@.lifecycle_stage(o.ordered_at, as_of), count(*), max(o.ordered_at)
  FROM segments.source_orders o
  WHERE o.valid AND o.customer_id IS NOT NULL AND o.ordered_at <= as_of
  GROUP BY o.customer_id
$$;
COMMENT ON FUNCTION segments.lifecycle_on(timestamptz) IS
  'Each customer''s life-cycle stage on a past date, from the valid orders placed up to it';

CREATE FUNCTION @extschema@.lifecycle_lost_at(ordered_at timestamptz) RETURNS timestamptz
  AS 'MODULE_PATHNAME', 'pgs_lifecycle_lost_at' LANGUAGE C WINDOW STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.lifecycle_lost_at(timestamptz) IS
  'Window function over (PARTITION BY customer ORDER BY ordered_at): the moment after which the customer counts as lost if this row''s order is their last (from this and the earlier rows)';

CREATE FUNCTION segments.new_returning_lapsed_series(from_at timestamptz, to_at timestamptz,
                                                     step interval DEFAULT '1 month')
RETURNS TABLE(period_start timestamptz, period_end timestamptz, status text, customers bigint,
              orders bigint, revenue numeric)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE bounds timestamptz[];
BEGIN
  PERFORM segments._insights_check_range(from_at, to_at, 'new_returning_lapsed range');
  IF step IS NULL OR step <= interval '0' THEN
    RAISE EXCEPTION 'step must be a positive interval' USING ERRCODE = '22023',
      HINT = 'E.g. interval ''1 month'' or ''7 days''.';
  END IF;
  IF (SELECT count(*) FROM generate_series(from_at, to_at - interval '1 microsecond', step)) > 1000 THEN
    RAISE EXCEPTION 'more than 1000 periods' USING ERRCODE = '54000',
      HINT = 'Use a longer step or a shorter range.';
  END IF;
  -- Period i is [bounds[i], bounds[i + 1]); width_bucket finds it.
  bounds := ARRAY(SELECT generate_series(from_at, to_at - interval '1 microsecond', step)) || to_at;
  RETURN QUERY
  WITH o AS (  -- one pass over the valid orders: first order, next order, moment of lapsing; kept:
               -- the orders in the range and those whose lapse moment is in it
    SELECT * FROM (
      SELECT s.customer_id, s.ordered_at, s.amount, first_value(s.ordered_at) OVER w AS first_at,
             lead(s.ordered_at) OVER w AS next_at, @extschema@.lifecycle_lost_at(s.ordered_at) OVER w AS lost_at
      FROM segments.source_orders s
      WHERE s.valid AND s.customer_id IS NOT NULL AND s.ordered_at < to_at
      -- COLLATE "C": partitions only need grouping, and byte order is the cheapest
      WINDOW w AS (PARTITION BY s.customer_id COLLATE "C" ORDER BY s.ordered_at, s.order_id)) x
    WHERE x.ordered_at >= from_at OR (x.lost_at >= from_at AND x.lost_at < to_at)),
  active AS (  -- customers ordering in a period: new if their first order is in it
    SELECT width_bucket(o.ordered_at, bounds) AS i, o.customer_id, min(o.first_at) AS first_at,
           count(*) AS n, @extschema@.clv(o.amount) AS rev
    FROM o WHERE o.ordered_at >= from_at GROUP BY 1, 2),
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
CREATE FUNCTION segments.new_returning_lapsed(from_at timestamptz, to_at timestamptz)
RETURNS TABLE(status text, customers bigint, orders bigint, revenue numeric)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
  PERFORM segments._insights_check_range(from_at, to_at, 'new_returning_lapsed range');
  RETURN QUERY
  WITH per AS (
    SELECT o.customer_id, min(o.ordered_at) AS first_at,
           count(*) FILTER (WHERE o.ordered_at >= from_at) AS n_in,
           @extschema@.clv(o.amount) FILTER (WHERE o.ordered_at >= from_at) AS rev_in,
           @extschema@.lifecycle_stage(o.ordered_at, from_at) FILTER (WHERE o.ordered_at < from_at) AS stage_from,
           @extschema@.lifecycle_stage(o.ordered_at, to_at) FILTER (WHERE o.ordered_at < from_at) AS stage_to
    FROM segments.source_orders o
    WHERE o.valid AND o.customer_id IS NOT NULL AND o.ordered_at < to_at
    GROUP BY o.customer_id),
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
  'Ometria new vs returning vs lapsed customers in [from_at, to_at), mutually exclusive: new = first valid order in range; returning = ordered in range, not new; lapsed = no order in range and became lost during it';

-- ---------------------------------------------------------------------------------------------
-- Customer events
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION @extschema@.lifecycle_stage_before(ordered_at timestamptz) RETURNS @extschema@.lifecycle
  AS 'MODULE_PATHNAME', 'pgs_lifecycle_stage_before' LANGUAGE C WINDOW STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.lifecycle_stage_before(timestamptz) IS
  'Window function over (PARTITION BY customer ORDER BY ordered_at): the life-cycle stage just before each order, from the earlier rows, judged at the order''s time (NULL for the first)';

CREATE FUNCTION segments.customer_event_orders(from_at timestamptz, to_at timestamptz)
RETURNS TABLE(customer_id text, order_id text, ordered_at timestamptz, amount numeric,
              order_number bigint, stage_before @extschema@.lifecycle)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
  PERFORM segments._insights_check_range(from_at, to_at, 'customer events range');
  RETURN QUERY
  WITH cust AS (  -- customers with a valid order in range
    SELECT DISTINCT o.customer_id FROM segments.source_orders o
    WHERE o.valid AND o.customer_id IS NOT NULL AND o.ordered_at >= from_at AND o.ordered_at < to_at),
  hist AS (  -- their valid orders up to the end of the range: number, and the stage just before
    SELECT o.customer_id, o.order_id, o.ordered_at, o.amount, row_number() OVER w AS n,
           @extschema@.lifecycle_stage_before(o.ordered_at) OVER w AS st
    FROM segments.source_orders o JOIN cust USING (customer_id)
    WHERE o.valid AND o.ordered_at < to_at
    WINDOW w AS (PARTITION BY o.customer_id COLLATE "C" ORDER BY o.ordered_at, o.order_id))
  SELECT h.customer_id, h.order_id, h.ordered_at, h.amount, h.n, h.st FROM hist h WHERE h.ordered_at >= from_at;
END $$;
COMMENT ON FUNCTION segments.customer_event_orders(timestamptz, timestamptz) IS
  'Valid orders placed in [from_at, to_at) with the order''s number in the customer''s history and the customer''s life-cycle stage just before it';

CREATE FUNCTION segments.customer_events(from_at timestamptz, to_at timestamptz,
  compare_from timestamptz DEFAULT NULL, compare_to timestamptz DEFAULT NULL)
RETURNS TABLE(metric text, metric_order int, customers bigint, orders bigint, revenue numeric,
              comparison_customers bigint, comparison_orders bigint, comparison_revenue numeric,
              change bigint, change_ratio numeric)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
  PERFORM segments._insights_check_range(from_at, to_at, 'customer events range');
  IF (compare_from IS NULL) <> (compare_to IS NULL) THEN
    RAISE EXCEPTION 'give both compare_from and compare_to, or neither' USING ERRCODE = '22023',
      HINT = 'Without them the comparison range is the equally long range just before from_at.';
  END IF;
  IF compare_from IS NULL THEN
    compare_from := from_at - (to_at - from_at);
    compare_to := from_at;
  END IF;
  PERFORM segments._insights_check_range(compare_from, compare_to, 'customer events comparison range');
  RETURN QUERY
  WITH e AS (  -- one pass over both ranges: numbers and stages do not depend on the range
    SELECT x.*, x.ordered_at >= from_at AND x.ordered_at < to_at AS in_a,
           x.ordered_at >= compare_from AND x.ordered_at < compare_to AS in_b
    FROM segments.customer_event_orders(least(from_at, compare_from), greatest(to_at, compare_to)) x),
  tagged AS (  -- one row per (metric, event order): 1 unique, 2 gained, 3 second order, 4 won back, 5 saved
    SELECT t.n, e.customer_id, e.amount, e.in_a, e.in_b
    FROM e CROSS JOIN LATERAL unnest(array_remove(ARRAY[1,
      CASE WHEN e.order_number = 1 THEN 2 END, CASE WHEN e.order_number = 2 THEN 3 END,
      CASE WHEN e.stage_before = 'lost' THEN 4 END, CASE WHEN e.stage_before = 'slipping_away' THEN 5 END], NULL)) t(n)
    WHERE e.in_a OR e.in_b),
  per AS (
    SELECT t.n, t.customer_id, count(*) FILTER (WHERE t.in_a) AS oa, sum(t.amount) FILTER (WHERE t.in_a) AS ra,
           count(*) FILTER (WHERE t.in_b) AS ob, sum(t.amount) FILTER (WHERE t.in_b) AS rb
    FROM tagged t GROUP BY t.n, t.customer_id),
  m AS (
    SELECT k.n, k.metric, count(*) FILTER (WHERE p.oa > 0) AS ca, coalesce(sum(p.oa), 0)::bigint AS oa,
           coalesce(sum(p.ra), 0) AS ra, count(*) FILTER (WHERE p.ob > 0) AS cb,
           coalesce(sum(p.ob), 0)::bigint AS ob, coalesce(sum(p.rb), 0) AS rb
    FROM (VALUES (1, 'unique_customers'), (2, 'customers_gained'), (3, 'placed_second_order'),
                 (4, 'won_back'), (5, 'saved')) k(n, metric)
    LEFT JOIN per p ON p.n = k.n
    GROUP BY k.n, k.metric)
  SELECT m.metric, m.n, m.ca, m.oa, m.ra, m.cb, m.ob, m.rb, m.ca - m.cb,
         round((m.ca - m.cb)::numeric / nullif(m.cb, 0), 4)
  FROM m ORDER BY m.n;
END $$;
COMMENT ON FUNCTION segments.customer_events(timestamptz, timestamptz, timestamptz, timestamptz) IS
  'Ometria customer events in [from_at, to_at) against a comparison range (default: the equally long range before): unique customers, customers gained, placed second order, won back (ordered while lost), saved (ordered while slipping away)';

CREATE FUNCTION segments.customer_event_products(from_at timestamptz, to_at timestamptz,
  order_lines regclass, columns jsonb DEFAULT '{}', for_metric text DEFAULT NULL)
RETURNS TABLE(metric text, metric_order int, product text, units numeric, customers bigint, revenue numeric)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  cols jsonb := jsonb_build_object('order_id', 'order_id', 'product', 'product', 'units', 'quantity',
                                   'revenue', 'revenue') || coalesce(columns, '{}');
  key text; col text;
BEGIN
  PERFORM segments._insights_check_range(from_at, to_at, 'customer events range');
  IF order_lines IS NULL THEN
    RAISE EXCEPTION 'order_lines must name a table or view of order lines' USING ERRCODE = '22004',
      HINT = 'E.g. ''shop.order_lines''::regclass.';
  END IF;
  FOR key IN SELECT jsonb_object_keys(cols) LOOP
    IF key NOT IN ('order_id', 'product', 'units', 'revenue') THEN
      RAISE EXCEPTION 'unknown order-lines column key "%"', key USING ERRCODE = '22023',
        HINT = 'Keys are order_id, product, units, revenue.';
    END IF;
    col := cols->>key;
    IF col IS NULL OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute
        WHERE attrelid = order_lines AND attname = col AND attnum > 0 AND NOT attisdropped) THEN
      RAISE EXCEPTION '% has no column "%" (for %)', order_lines, col, key USING ERRCODE = '42703',
        HINT = 'Map it with columns => ''{"' || key || '": "your_column"}''.';
    END IF;
  END LOOP;
  IF for_metric IS NOT NULL AND for_metric NOT IN ('unique_customers', 'customers_gained', 'placed_second_order', 'won_back', 'saved') THEN
    RAISE EXCEPTION 'unknown customer-event metric "%"', for_metric USING ERRCODE = '22023',
      HINT = 'Metrics are unique_customers, customers_gained, placed_second_order, won_back, saved (NULL: all).';
  END IF;
  RETURN QUERY EXECUTE format($q$
    WITH e AS (SELECT * FROM segments.customer_event_orders($1, $2)),
    tagged AS (
      SELECT m.n, m.metric, e.customer_id, e.order_id FROM e
      JOIN (VALUES (1, 'unique_customers'), (2, 'customers_gained'), (3, 'placed_second_order'),
                   (4, 'won_back'), (5, 'saved')) m(n, metric)
        ON CASE m.metric WHEN 'unique_customers' THEN true
                         WHEN 'customers_gained' THEN e.order_number = 1
                         WHEN 'placed_second_order' THEN e.order_number = 2
                         WHEN 'won_back' THEN e.stage_before = 'lost'
                         ELSE e.stage_before = 'slipping_away' END
      WHERE $3 IS NULL OR m.metric = $3)
    SELECT t.metric, t.n, l.%3$I::text, sum(l.%4$I)::numeric, count(DISTINCT t.customer_id), sum(l.%5$I)::numeric
    FROM tagged t JOIN %1$s l ON l.%2$I::text = t.order_id
    GROUP BY t.n, t.metric, l.%3$I::text
    ORDER BY t.n, 6 DESC NULLS LAST, 3$q$,
    order_lines, cols->>'order_id', cols->>'product', cols->>'units', cols->>'revenue')
  USING from_at, to_at, for_metric;
END $$;
COMMENT ON FUNCTION segments.customer_event_products(timestamptz, timestamptz, regclass, jsonb, text) IS
  'Per product (or any order-line column) and customer-event metric in [from_at, to_at): units, unique customers and revenue of the orders behind the metric, from an order-lines table joined on order_id';

-- ---------------------------------------------------------------------------------------------
-- RFM
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION segments.rfm_group(r_score int, f_score int) RETURNS text
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

CREATE FUNCTION segments._insights_check_buckets(buckets int) RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF buckets IS NULL OR buckets < 2 OR buckets > 100 THEN
    RAISE EXCEPTION 'buckets must be between 2 and 100, not %', coalesce(buckets::text, 'NULL')
      USING ERRCODE = '22023', HINT = '5 gives the usual quintiles.';
  END IF;
END $$;
COMMENT ON FUNCTION segments._insights_check_buckets(int) IS 'Internal: validates an RFM bucket count';

CREATE FUNCTION segments.rfm_cut_points(buckets int DEFAULT 5)
RETURNS TABLE(dimension text, cut_points float8[])
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE fr float8[];
BEGIN
  PERFORM segments._insights_check_buckets(buckets);
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

CREATE FUNCTION segments._insights_check_cuts(cuts float8[], buckets int, what text) RETURNS void
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
COMMENT ON FUNCTION segments._insights_check_cuts(float8[], int, text) IS 'Internal: validates RFM cut points';

CREATE FUNCTION segments.rfm(buckets int DEFAULT 5, recency_cuts float8[] DEFAULT NULL,
  frequency_cuts float8[] DEFAULT NULL, monetary_cuts float8[] DEFAULT NULL)
RETURNS TABLE(customer_id text, recency_days float8, frequency int, monetary numeric,
              r_score int, f_score int, m_score int, rfm_score text, rfm_group text)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
  PERFORM segments._insights_check_buckets(buckets);
  PERFORM segments._insights_check_cuts(recency_cuts, buckets, 'recency');
  PERFORM segments._insights_check_cuts(frequency_cuts, buckets, 'frequency');
  PERFORM segments._insights_check_cuts(monetary_cuts, buckets, 'monetary');
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

-- ---------------------------------------------------------------------------------------------
-- Cohorts
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION segments.cohorts(period text DEFAULT 'month', from_at timestamptz DEFAULT NULL,
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
  WITH cp AS (  -- one row per customer and period with a valid order
    SELECT s.customer_id, date_trunc(period, s.ordered_at) AS p, count(*) AS n, @extschema@.clv(s.amount) AS rev
    FROM segments.source_orders s WHERE s.valid AND s.customer_id IS NOT NULL AND s.ordered_at IS NOT NULL
    GROUP BY 1, 2),
  firsts AS (SELECT cp.customer_id, min(cp.p) AS c FROM cp GROUP BY cp.customer_id),
  chosen AS (SELECT * FROM firsts f WHERE (from_at IS NULL OR f.c >= date_trunc(period, from_at))
                                      AND (to_at IS NULL OR f.c < to_at)),
  sizes AS (SELECT ch.c, count(*) AS n FROM chosen ch GROUP BY ch.c),
  activity AS (
    SELECT ch.c, cp.p, count(*) AS active, sum(cp.n)::bigint AS orders, sum(cp.rev) AS revenue
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
  'Retention by first-order period: for each cohort and each period since, the customers with a valid order, their share of the cohort, orders and revenue (zeros included, up to the latest order)';

-- ---------------------------------------------------------------------------------------------
-- As-of membership and overlap
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION segments.members_at(segment text, at timestamptz)
RETURNS TABLE(customer_id text, joined_at timestamptz)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE sid bigint := segments._insights_segment_id(segment);
BEGIN
  IF at IS NULL THEN
    RAISE EXCEPTION 'at must not be NULL' USING ERRCODE = '22004', HINT = 'Pass the moment to look at, e.g. ''2024-06-01''.';
  END IF;
  RETURN QUERY
  SELECT l.customer_id, l.at FROM (
    SELECT DISTINCT ON (ch.customer_id) ch.customer_id, ch.change, ch.at
    FROM segments.changes ch WHERE ch.segment_id = sid AND ch.at <= members_at.at
    ORDER BY ch.customer_id, ch.at DESC, ch.id DESC) l
  WHERE l.change = 'joined';
END $$;
COMMENT ON FUNCTION segments.members_at(text, timestamptz) IS
  'Who was in a segment at a past moment, replayed from segments.changes (joined_at: when that stay began)';

CREATE FUNCTION segments.overlap(segment_names text[] DEFAULT NULL)
RETURNS TABLE(segment_a text, segment_b text, size_a bigint, size_b bigint, in_both bigint,
              only_a bigint, only_b bigint, jaccard numeric, pct_of_a numeric)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE missing text;
BEGIN
  SELECT string_agg(n, ', ') INTO missing FROM unnest(segment_names) n
  WHERE NOT EXISTS (SELECT 1 FROM segments.segments s WHERE s.name = n);
  IF missing IS NOT NULL THEN
    RAISE EXCEPTION 'no such segment: %', missing USING ERRCODE = '42704',
      HINT = 'segments.segments lists the segments; NULL compares all of them.';
  END IF;
  RETURN QUERY
  WITH s AS (SELECT s.name FROM segments.segments s WHERE segment_names IS NULL OR s.name = ANY (segment_names)),
  m AS (SELECT mm.segment, mm.customer_id FROM segments.members mm JOIN s ON s.name = mm.segment),
  sizes AS (SELECT s.name, count(m.customer_id) AS n FROM s LEFT JOIN m ON m.segment = s.name GROUP BY s.name),
  pairs AS (SELECT a.segment AS x, b.segment AS y, count(*) AS n
            FROM m a JOIN m b ON a.customer_id = b.customer_id GROUP BY 1, 2)
  SELECT sa.name, sb.name, sa.n, sb.n, coalesce(p.n, 0), sa.n - coalesce(p.n, 0), sb.n - coalesce(p.n, 0),
         round(coalesce(p.n, 0)::numeric / nullif(sa.n + sb.n - coalesce(p.n, 0), 0), 4),
         round(100.0 * coalesce(p.n, 0) / nullif(sa.n, 0), 2)
  FROM sizes sa CROSS JOIN sizes sb LEFT JOIN pairs p ON p.x = sa.name AND p.y = sb.name
  ORDER BY sa.name, sb.name;
END $$;
COMMENT ON FUNCTION segments.overlap(text[]) IS
  'Pairwise overlap of segments (all, or the named ones): sizes, customers in both, in one only, Jaccard index, share of a also in b; every ordered pair incl. a segment with itself';
