-- Insights (docs/insights.md): Dimension matrix.

CREATE OR REPLACE FUNCTION segments.dimension_matrix(row_dimension text, column_dimension text, segment text DEFAULT NULL)
RETURNS TABLE(row_value text, column_value text, row_order bigint, column_order bigint,
              contacts bigint, customers bigint, revenue numeric,
              pct_of_total numeric, pct_of_row numeric, pct_of_column numeric)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE r record; k record; filter text := ''; sid bigint;
BEGIN
  SELECT * INTO r FROM segments_internal._insights_dimension(row_dimension, 'r');
  SELECT * INTO k FROM segments_internal._insights_dimension(column_dimension, 'k');
  IF segment IS NOT NULL THEN
    sid := segments_internal._insights_segment_id(segment);
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
CREATE OR REPLACE FUNCTION segments.matrix_rule(row_dimension text, column_dimension text, cells text[],
                                     OUT rule text, OUT query text)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE r record; k record; i int; parts text[] := '{}'; qparts text[] := '{}';
BEGIN
  IF cells IS NULL OR array_ndims(cells) IS DISTINCT FROM 2 OR array_length(cells, 2) <> 2 THEN
    RAISE EXCEPTION 'cells must be a two-dimensional array of [row value, column value] pairs'
      USING ERRCODE = '22023',
      HINT = 'E.g. ARRAY[[''lost'', ''high''], [''lost'', ''very_high'']]; NULL stands for the whole row or column.';
  END IF;
  SELECT * INTO r FROM segments_internal._insights_dimension(row_dimension, 'r');
  SELECT * INTO k FROM segments_internal._insights_dimension(column_dimension, 'k');
  FOR i IN array_lower(cells, 1) .. array_upper(cells, 1) LOOP
    IF r.kind <> 'query' AND k.kind <> 'query' THEN
      parts := parts || format('(%s AND %s)', segments_internal._insights_predicate(row_dimension, cells[i][1]),
                                              segments_internal._insights_predicate(column_dimension, cells[i][2]));
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

CREATE OR REPLACE FUNCTION segments.create_matrix_segment(name text, row_dimension text, column_dimension text,
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
