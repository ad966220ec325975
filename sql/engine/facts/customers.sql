-- segments.customers: the customer facts as users, rules, packs and insights read them. The stored
-- columns of segments_internal.customer_facts, in their order, plus the two that move with the
-- clock alone, derived at read time from the as-of time of the last facts refresh
-- (segments.facts_status.refreshed_at) instead of being stored: so a facts refresh (full or
-- incremental) rewrites only the rows whose facts changed, and every row is exact at that time.
-- They sit where 0.1's table had them, so SELECT * keeps its shape; a stored column added later
-- is appended (CREATE OR REPLACE VIEW may only append). Generated here, at install and upgrade.
DO $gen$
DECLARE
  asof constant text := '(SELECT s.refreshed_at FROM segments.facts_status s)';
  -- derived column: its expression, and the stored column it follows
  derived jsonb := jsonb_build_object(
    'days_since_last_order', jsonb_build_array(
      format('extract(epoch FROM %s - c.last_order_at)::float8 / 86400', asof), 'order_latency_days'),
    'refreshed_at', jsonb_build_array(asof, 'second_order_delay_days'));
  notes jsonb := jsonb_build_object(
    'days_since_last_order', 'Days from the last valid order to refreshed_at (derived when read, not stored)',
    'refreshed_at', 'As-of time of the last facts refresh (segments.facts_status.refreshed_at): every row is exact at it');
  col record; d record; sel text[] := '{}';
BEGIN
  FOR col IN SELECT a.attname FROM pg_attribute a
             WHERE a.attrelid = 'segments_internal.customer_facts'::regclass AND a.attnum > 0 AND NOT a.attisdropped
             ORDER BY a.attnum LOOP
    sel := sel || format('c.%I', col.attname);
    FOR d IN SELECT key, value ->> 0 AS expr FROM jsonb_each(derived) WHERE value ->> 1 = col.attname LOOP
      sel := sel || format('%s AS %I', d.expr, d.key);
    END LOOP;
  END LOOP;
  EXECUTE format('CREATE OR REPLACE VIEW segments.customers AS SELECT %s FROM segments_internal.customer_facts c',
                 array_to_string(sel, ', '));
  -- The stored columns' comments (sql/engine/schema.sql), and the derived ones'.
  FOR col IN SELECT a.attname, coalesce(notes ->> a.attname::text, col_description(t.attrelid, t.attnum)) AS note
             FROM pg_attribute a
             LEFT JOIN pg_attribute t ON t.attrelid = 'segments_internal.customer_facts'::regclass AND t.attname = a.attname
             WHERE a.attrelid = 'segments.customers'::regclass AND a.attnum > 0 LOOP
    EXECUTE format('COMMENT ON COLUMN segments.customers.%I IS %L', col.attname, col.note);
  END LOOP;
END $gen$;
COMMENT ON VIEW segments.customers IS
  'Customer facts, one row per customer found in any source, as of the last segments.refresh_facts(); e.g. SELECT customer_id FROM segments.customers WHERE orders > 1 AND days_since_last_order > 30';
