-- Insights (docs/insights.md): Breakdown: Ometria's fifteen fields per group.

CREATE OR REPLACE FUNCTION segments.breakdown(group_by text DEFAULT NULL, segment text DEFAULT NULL)
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
    SELECT * INTO d FROM segments_internal._insights_dimension(group_by, 'g');
  END IF;
  IF segment IS NOT NULL THEN
    sid := segments_internal._insights_segment_id(segment);
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
