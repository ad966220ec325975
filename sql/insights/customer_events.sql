-- Insights (docs/insights.md): Customer events.

CREATE OR REPLACE FUNCTION segments.customer_event_orders(from_at timestamptz, to_at timestamptz)
RETURNS TABLE(customer_id text, order_id text, ordered_at timestamptz, amount numeric,
              order_number bigint, stage_before @extschema@.lifecycle)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
  PERFORM segments_internal._insights_check_range(from_at, to_at, 'customer events range');
  RETURN QUERY
  WITH cust AS (  -- customers with a purchase in range
    SELECT DISTINCT o.customer_id FROM segments.purchases o
    WHERE o.ordered_at >= from_at AND o.ordered_at < to_at),
  hist AS (  -- their purchases up to the end of the range: number, and the stage just before
    SELECT o.customer_id, o.order_id, o.ordered_at, o.amount, row_number() OVER w AS n,
           @extschema@.lifecycle_stage_before(o.ordered_at) OVER w AS st
    FROM segments.purchases o JOIN cust USING (customer_id)
    WHERE o.ordered_at < to_at
    WINDOW w AS (PARTITION BY o.customer_id COLLATE "C" ORDER BY o.ordered_at, o.order_id))
  SELECT h.customer_id, h.order_id, h.ordered_at, h.amount, h.n, h.st FROM hist h WHERE h.ordered_at >= from_at;
END $$;
COMMENT ON FUNCTION segments.customer_event_orders(timestamptz, timestamptz) IS
  'Valid orders placed in [from_at, to_at) with the order''s number in the customer''s history and the customer''s life-cycle stage just before it';

CREATE OR REPLACE FUNCTION segments.customer_events(from_at timestamptz, to_at timestamptz,
  compare_from timestamptz DEFAULT NULL, compare_to timestamptz DEFAULT NULL)
RETURNS TABLE(metric text, metric_order int, customers bigint, orders bigint, revenue numeric,
              comparison_customers bigint, comparison_orders bigint, comparison_revenue numeric,
              change bigint, change_ratio numeric)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
  PERFORM segments_internal._insights_check_range(from_at, to_at, 'customer events range');
  IF (compare_from IS NULL) <> (compare_to IS NULL) THEN
    RAISE EXCEPTION 'give both compare_from and compare_to, or neither' USING ERRCODE = '22023',
      HINT = 'Without them the comparison range is the equally long range just before from_at.';
  END IF;
  IF compare_from IS NULL THEN
    compare_from := from_at - (to_at - from_at);
    compare_to := from_at;
  END IF;
  PERFORM segments_internal._insights_check_range(compare_from, compare_to, 'customer events comparison range');
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

CREATE OR REPLACE FUNCTION segments.customer_event_products(from_at timestamptz, to_at timestamptz,
  order_lines regclass, columns jsonb DEFAULT '{}', for_metric text DEFAULT NULL)
RETURNS TABLE(metric text, metric_order int, product text, units numeric, customers bigint, revenue numeric)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  cols jsonb := jsonb_build_object('order_id', 'order_id', 'product', 'product', 'units', 'quantity',
                                   'revenue', 'revenue') || coalesce(columns, '{}');
  key text; col text;
BEGIN
  PERFORM segments_internal._insights_check_range(from_at, to_at, 'customer events range');
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
