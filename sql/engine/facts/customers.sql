-- segments.customers: the customer facts as users, rules, packs and insights read them. The stored
-- columns of segments_internal.customer_facts, in their order, plus those that move with the
-- clock alone or with a refit of the models, derived at read time from segments.facts_status (the
-- as-of time of the last facts refresh, its cut-off day and the stored BTYD models) instead of being
-- stored: so a facts refresh (full or incremental) rewrites only the rows whose facts changed, and
-- every row is exact at that time. A query that selects none of them computes none of them.
-- They sit where 0.1's table had them, so SELECT * keeps its shape; a stored column added later
-- is appended (CREATE OR REPLACE VIEW may only append). Generated here, at install and upgrade.
DO $gen$
DECLARE
  asof constant text := '(SELECT s.refreshed_at FROM segments.facts_status s)';
  bg constant text := '(SELECT s.bgnbd FROM segments.facts_status s)';
  gg constant text := '(SELECT s.gammagamma FROM segments.facts_status s)';
  -- whether the models are usable, as plain booleans: a rule on a score can then be shipped to
  -- shards (postgres_fdw ships parameters and CASE, not a field of a composite)
  bg_ok constant text := '(SELECT (s.bgnbd).converged FROM segments.facts_status s)';
  gg_ok constant text := '(SELECT (s.gammagamma).converged AND (s.gammagamma).q > 1 FROM segments.facts_status s)';
  -- T of the BTYD summary: weeks from the first purchase day to the facts' cut-off day (what
  -- rfm_summary(..., as_of, 'weeks') computes, so a stored row scores as a fresh one would).
  age constant text := '((SELECT s.cutoff_day FROM segments.facts_status s) - c.btyd_first_day)::float8 / 7';
  -- A row recomputed in another session time zone than the cut-off day's may be a day off (T below
  -- recency, even negative): no score then, rather than an error for every reader (docs/segments.md).
  valid constant text := format('%s >= c.btyd_recency', age);
  -- derived columns, in order: name, expression, the stored column it follows, comment
  derived text[][] := ARRAY[
    ['days_since_last_order', format('extract(epoch FROM %s - c.last_order_at)::float8 / 86400', asof),
     'order_latency_days', 'Days from the last valid order to refreshed_at (derived when read, not stored)'],
    ['refreshed_at', asof, 'second_order_delay_days',
     'As-of time of the last facts refresh (segments.facts_status.refreshed_at): every row is exact at it'],
    -- The predictive scores (docs/segments.md#incremental-facts): the stored models of
    -- segments.facts_status applied to the row's stored BTYD summary at the facts' cut-off day.
    ['p_alive', format('CASE WHEN %4$s AND %3$s THEN @extschema@.p_alive(%1$s, c.btyd_frequency, c.btyd_recency, %2$s) END', bg, age, valid, bg_ok),
     'deal_updates_30d',
     'Probability the customer is still active (BG/NBD model of segments.facts_status applied when read to the stored summary btyd_*)'],
    ['expected_orders_90d', format('CASE WHEN %4$s AND %3$s THEN @extschema@.expected_purchases(%1$s, c.btyd_frequency, c.btyd_recency, %2$s, 90 / 7.0) END', bg, age, valid, bg_ok),
     'p_alive', 'Expected valid orders in the next 90 days (BG/NBD; derived when read like p_alive)'],
    -- Gamma-Gamma has a mean spend only when q > 1; a tiny or odd shop may not identify it.
    ['predicted_clv', format('CASE WHEN %5$s AND %6$s AND (c.btyd_frequency = 0 OR c.btyd_monetary > 0) AND %4$s '
                             'THEN round(@extschema@.predicted_clv(%1$s, %2$s, c.btyd_frequency, c.btyd_recency, %3$s, c.btyd_monetary)::numeric, 2) END',
                  bg, gg, age, valid, bg_ok, gg_ok),
     'expected_orders_90d',
     'Predicted value of the next 12 months, discounted 1% a month (BG/NBD x Gamma-Gamma spend; derived when read like p_alive)'],
    ['expected_next_order_at', format('CASE WHEN %2$s THEN @extschema@.expected_next_order_at(%1$s, c.btyd_frequency, c.btyd_recency, c.last_order_at) END', bg, bg_ok),
     'predicted_clv',
     'Last order + the median wait of a still-active customer (BG/NBD; derived when read like p_alive); in the past = overdue']];
  col record; i int; sel text[] := '{}'; notes jsonb := '{}'; prev name;
BEGIN
  FOR col IN SELECT a.attname FROM pg_attribute a
             WHERE a.attrelid = 'segments_internal.customer_facts'::regclass AND a.attnum > 0 AND NOT a.attisdropped
             ORDER BY a.attnum LOOP
    sel := sel || format('c.%I', col.attname);
    prev := col.attname;
    FOR i IN 1 .. array_length(derived, 1) LOOP  -- (a derived column may follow another one)
      IF derived[i][3] = prev THEN
        sel := sel || format('%s AS %I', derived[i][2], derived[i][1]);
        prev := derived[i][1];
      END IF;
    END LOOP;
  END LOOP;
  FOR i IN 1 .. array_length(derived, 1) LOOP
    notes := notes || jsonb_build_object(derived[i][1], derived[i][4]);
  END LOOP;
  EXECUTE format('CREATE OR REPLACE VIEW segments.customers AS SELECT %s FROM segments_internal.customer_facts c',
                 array_to_string(sel, ', '));
  -- The stored columns' comments (sql/engine/facts/columns.sql), and the derived ones'.
  FOR col IN SELECT a.attname, coalesce(notes ->> a.attname::text, col_description(t.attrelid, t.attnum)) AS note
             FROM pg_attribute a
             LEFT JOIN pg_attribute t ON t.attrelid = 'segments_internal.customer_facts'::regclass AND t.attname = a.attname
             WHERE a.attrelid = 'segments.customers'::regclass AND a.attnum > 0 LOOP
    EXECUTE format('COMMENT ON COLUMN segments.customers.%I IS %L', col.attname, col.note);
  END LOOP;
END $gen$;
COMMENT ON VIEW segments.customers IS
  'Customer facts, one row per customer found in any source, as of the last segments.refresh_facts(); e.g. SELECT customer_id FROM segments.customers WHERE orders > 1 AND days_since_last_order > 30';
