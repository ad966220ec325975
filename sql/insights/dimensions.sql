-- Insights (docs/insights.md): Dimensions: named groupings of customers, used by breakdown, dimension_matrix and matrix rules.

CREATE OR REPLACE VIEW segments.dimensions(dimension, kind, labels, description) AS VALUES
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
   'Named RFM group from segments.rfm() (default quintiles); no_orders without a valid order'),  -- check-order: prose
  ('segment', 'query', NULL::text[],
   'Segment membership (segments.members); a customer in several segments counts in each, one in none is left out');
COMMENT ON VIEW segments.dimensions IS
  'Named dimensions for segments.breakdown and segments.dimension_matrix (any column of segments.customers works too): labels in display order; kind rule = cells become a rule segment, query = a query segment';

COMMENT ON COLUMN segments.dimensions.dimension IS 'Dimension name for segments.breakdown / dimension_matrix';
COMMENT ON COLUMN segments.dimensions.kind IS 'rule: matrix cells become a rule segment; query: a query segment';
COMMENT ON COLUMN segments.dimensions.labels IS 'Its values in display order';
COMMENT ON COLUMN segments.dimensions.description IS 'What it groups by';

-- SQL pieces of one dimension, over alias c (segments.customers) and join alias a:
-- label_sql (text), sort_sql (sortable), join_sql (extra FROM clause or '').
CREATE OR REPLACE FUNCTION segments_internal._insights_dimension(dimension text, a text,
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
COMMENT ON FUNCTION segments_internal._insights_dimension(text, text) IS
  'Internal: label, sort and join SQL of a dimension (validated; user text never spliced)';

-- Rule predicate (over segments.customers columns) selecting one label of a dimension.
CREATE OR REPLACE FUNCTION segments_internal._insights_predicate(dimension text, label text) RETURNS text
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
      PERFORM segments_internal._insights_dimension(dimension, 'x');  -- validates the column name
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
COMMENT ON FUNCTION segments_internal._insights_predicate(text, text) IS
  'Internal: rule predicate over segments.customers for one value of a rule dimension';
