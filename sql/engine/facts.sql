-- Segment engine, part 2: customer facts (docs/segments.md#customer-facts).
-- segments.customers is materialized by segments.refresh_facts() from the source views with the
-- extension's own aggregates; segments.compute_facts(as_of) is the same query, live.

-- The facts query, live, as of a given time (one row per customer in any mapped source).
CREATE OR REPLACE FUNCTION segments.compute_facts(as_of timestamptz DEFAULT now(), only_customers text[] DEFAULT NULL)
RETURNS SETOF segments.customers
LANGUAGE sql STABLE AS $$
WITH
o AS (
  SELECT x.customer_id,
    count(*) FILTER (WHERE x.purchase)::int AS orders,
    count(*) FILTER (WHERE coalesce(x.amount, 0) >= 0)::int AS attempted_orders,
    coalesce(@extschema@.clv(x.amount) FILTER (WHERE x.valid), 0) AS revenue,
    min(x.ordered_at) FILTER (WHERE x.purchase) AS first_order_at,
    min(x.ordered_at) FILTER (WHERE x.purchase AND x.nth = 2) AS second_order_at,
    max(x.ordered_at) FILTER (WHERE x.purchase) AS last_order_at,
    max(x.ordered_at) FILTER (WHERE coalesce(x.amount, 0) >= 0) AS last_attempted_order_at,
    @extschema@.order_latency(x.ordered_at) FILTER (WHERE x.purchase) AS order_latency_days,
    @extschema@.lifecycle_stage(x.ordered_at, as_of) FILTER (WHERE x.purchase) AS lifecycle,
    count(*) FILTER (WHERE x.purchase AND x.ordered_at > as_of - interval '7 days')::int AS orders_7d,
    count(*) FILTER (WHERE x.purchase AND x.ordered_at > as_of - interval '14 days')::int AS orders_14d,
    count(*) FILTER (WHERE x.purchase AND x.ordered_at > as_of - interval '30 days')::int AS orders_30d,
    count(*) FILTER (WHERE x.purchase AND x.ordered_at > as_of - interval '90 days')::int AS orders_90d,
    coalesce(sum(x.amount) FILTER (WHERE x.valid AND x.ordered_at > as_of - interval '30 days'), 0) AS revenue_30d,
    @extschema@.rfm_summary(x.ordered_at, x.amount, as_of, 'weeks') FILTER (WHERE x.purchase) AS rfm
  FROM (
    SELECT so.customer_id COLLATE "C" AS customer_id, so.ordered_at, so.amount, coalesce(so.valid, false) AS valid,
           coalesce(so.valid, false) AND coalesce(so.amount, 0) >= 0 AS purchase,
           count(*) FILTER (WHERE coalesce(so.valid, false) AND coalesce(so.amount, 0) >= 0)
             OVER (PARTITION BY so.customer_id COLLATE "C" ORDER BY so.ordered_at ROWS UNBOUNDED PRECEDING) AS nth
    FROM segments.source_orders so
    WHERE so.customer_id IS NOT NULL AND so.ordered_at <= as_of
      AND (only_customers IS NULL OR so.customer_id = ANY (only_customers))
  ) x
  GROUP BY x.customer_id
),
-- The buy-till-you-die models, fitted once over every buyer's RFM summary (in weeks).
models AS (
  SELECT @extschema@.bgnbd_fit((o.rfm).frequency, (o.rfm).recency, (o.rfm).t) AS bg,
         -- Gamma-Gamma models positive spend: repeat buyers whose repeat purchases average 0 or less
         -- (free orders) are left out of its fit and get no predicted CLV.
         @extschema@.gammagamma_fit((o.rfm).frequency, (o.rfm).monetary)
           FILTER (WHERE (o.rfm).frequency = 0 OR (o.rfm).monetary > 0) AS gg
  FROM o WHERE o.rfm IS NOT NULL AND only_customers IS NULL  -- fitted over everyone, never a subset
),
ct AS (
  SELECT DISTINCT ON (c.customer_id COLLATE "C") c.customer_id COLLATE "C" AS customer_id, c.email, c.first_name,
         c.last_name, c.opted_in, min(c.created_at) OVER (PARTITION BY c.customer_id COLLATE "C") AS lead_at,
         c.shipping_address, c.billing_address
  FROM segments.source_contacts c
  WHERE c.customer_id IS NOT NULL AND (only_customers IS NULL OR c.customer_id = ANY (only_customers))
  ORDER BY c.customer_id COLLATE "C", c.created_at DESC NULLS LAST
),
ev AS (
  SELECT e.customer_id COLLATE "C" AS customer_id,
    count(*) FILTER (WHERE e.kind = 'product_view' AND e.at > as_of - interval '7 days')::int AS product_views_7d,
    count(*) FILTER (WHERE e.kind = 'product_view' AND e.at > as_of - interval '14 days')::int AS product_views_14d,
    count(*) FILTER (WHERE e.kind = 'product_view' AND e.at > as_of - interval '30 days')::int AS product_views_30d,
    count(*) FILTER (WHERE e.kind = 'cart_add' AND e.at > as_of - interval '7 days')::int AS cart_adds_7d,
    count(*) FILTER (WHERE e.kind = 'cart_add' AND e.at > as_of - interval '14 days')::int AS cart_adds_14d,
    max(e.at) FILTER (WHERE e.kind = 'product_view') AS last_product_view_at,
    max(e.at) FILTER (WHERE e.kind = 'cart_add') AS last_cart_add_at,
    max(e.at) FILTER (WHERE e.kind = 'checkout') AS last_checkout_at,
    count(*) FILTER (WHERE e.kind = 'back_in_stock')::int AS back_in_stock_requests,
    max(e.at) FILTER (WHERE e.kind = 'back_in_stock') AS last_back_in_stock_at,
    max(e.at) FILTER (WHERE e.kind = 'email_open') AS last_email_open_at,
    max(e.at) FILTER (WHERE e.kind = 'email_click') AS last_email_click_at,
    max(e.at) FILTER (WHERE e.kind = 'session') AS last_session_at,
    count(*) FILTER (WHERE e.kind = 'session' AND e.at > as_of - interval '30 days')::int AS sessions_30d
  FROM segments.source_events e
  WHERE e.customer_id IS NOT NULL AND e.at <= as_of AND (only_customers IS NULL OR e.customer_id = ANY (only_customers))
  GROUP BY 1
),
-- Abandoned carts: a cart_add that is the last add before the next completion (valid order or
-- checkout event), with no completion within 15 minutes of it (and 15 minutes have passed).
cart AS (
  SELECT y.customer_id,
    max(y.at) AS last_abandoned_cart_at,
    count(*) FILTER (WHERE y.at > as_of - interval '7 days')::int AS abandoned_carts_7d,
    count(*) FILTER (WHERE y.at > as_of - interval '14 days')::int AS abandoned_carts_14d
  FROM (
    SELECT z.customer_id, z.at, z.is_add,
      min(z.at) FILTER (WHERE NOT z.is_add) OVER w AS next_done,
      min(z.at) FILTER (WHERE z.is_add) OVER w AS next_add
    FROM (
      SELECT e.customer_id COLLATE "C" AS customer_id, e.at, e.kind = 'cart_add' AS is_add
      FROM segments.source_events e
      WHERE e.kind IN ('cart_add', 'checkout') AND e.customer_id IS NOT NULL
        AND (only_customers IS NULL OR e.customer_id = ANY (only_customers))
        AND e.at > as_of - interval '30 days' AND e.at <= as_of
      UNION ALL
      SELECT so.customer_id COLLATE "C", so.ordered_at, false
      FROM segments.source_orders so
      WHERE coalesce(so.valid, false) AND coalesce(so.amount, 0) >= 0 AND so.customer_id IS NOT NULL
        AND (only_customers IS NULL OR so.customer_id = ANY (only_customers))
        AND so.ordered_at > as_of - interval '30 days' AND so.ordered_at <= as_of
    ) z
    WINDOW w AS (PARTITION BY z.customer_id ORDER BY z.at, z.is_add ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING)
  ) y
  WHERE y.is_add
    AND (y.next_add IS NULL OR (y.next_done IS NOT NULL AND y.next_done <= y.next_add))
    AND CASE WHEN y.next_done IS NULL THEN y.at <= as_of - interval '15 minutes'
             ELSE y.next_done > y.at + interval '15 minutes' END
  GROUP BY y.customer_id
),
sub AS (
  SELECT s.customer_id COLLATE "C" AS customer_id,
    (array_agg(s.status ORDER BY s.started_at DESC))[1] AS subscription_status,
    coalesce(bool_or(s.status = 'active' AND NOT coalesce(s.is_trial, false)), false) AS has_active_subscription,
    coalesce(bool_or(s.status = 'trialing' OR (coalesce(s.is_trial, false) AND s.status = 'active')), false) AS on_trial,
    max(s.started_at) FILTER (WHERE coalesce(s.is_trial, false) OR s.status = 'trialing') AS trial_started_at,
    min(s.started_at) FILTER (WHERE NOT coalesce(s.is_trial, false) AND s.status <> 'trialing') AS subscribed_at,
    (array_agg(s.engagement_rating ORDER BY s.started_at DESC) FILTER (WHERE s.engagement_rating IS NOT NULL))[1] AS engagement_rating,
    max(s.last_seen_at) AS last_seen_at
  FROM segments.source_subscriptions s
  WHERE s.customer_id IS NOT NULL AND s.started_at <= as_of
    AND (only_customers IS NULL OR s.customer_id = ANY (only_customers))
  GROUP BY 1
),
dl AS (
  SELECT d.customer_id COLLATE "C" AS customer_id,
    count(*)::int AS deals,
    count(*) FILTER (WHERE d.created_at > as_of - interval '90 days')::int AS deals_90d,
    count(*) FILTER (WHERE d.state = 'open')::int AS open_deals,
    count(*) FILTER (WHERE d.state = 'won')::int AS won_deals,
    count(*) FILTER (WHERE d.state = 'lost')::int AS lost_deals,
    count(*) FILTER (WHERE d.state = 'lost' AND coalesce(d.updated_at, d.created_at) > as_of - interval '90 days')::int AS lost_deals_90d,
    max(d.created_at) AS last_deal_at,
    max(coalesce(d.updated_at, d.created_at)) AS last_deal_update_at,
    max(coalesce(d.updates_30d, (coalesce(d.updated_at, d.created_at) > as_of - interval '30 days')::int))::int AS deal_updates_30d
  FROM segments.source_deals d
  WHERE d.customer_id IS NOT NULL AND d.created_at <= as_of
    AND (only_customers IS NULL OR d.customer_id = ANY (only_customers))
  GROUP BY 1
),
ids AS (
  SELECT o.customer_id FROM o UNION SELECT ct.customer_id FROM ct UNION SELECT ev.customer_id FROM ev
  UNION SELECT sub.customer_id FROM sub UNION SELECT dl.customer_id FROM dl
),
f AS (
  SELECT ids.customer_id AS id, ct.email, ct.first_name, ct.last_name, ct.opted_in, ct.lead_at,
    o.first_order_at, o.second_order_at, o.last_order_at,
    coalesce(o.orders, 0) AS orders, coalesce(o.attempted_orders, 0) AS attempted_orders,
    coalesce(o.revenue, 0) AS revenue,
    o.revenue / nullif(o.orders, 0) AS aov,
    o.order_latency_days,
    extract(epoch FROM as_of - o.last_order_at)::float8 / 86400 AS days_since_last_order,
    o.lifecycle,
    extract(epoch FROM o.first_order_at - ct.lead_at)::float8 / 86400 AS first_order_delay_days,
    extract(epoch FROM o.second_order_at - o.first_order_at)::float8 / 86400 AS second_order_delay_days,
    ct.shipping_address, ct.billing_address, o.last_attempted_order_at,
    coalesce(o.orders_7d, 0) AS orders_7d, coalesce(o.orders_14d, 0) AS orders_14d,
    coalesce(o.orders_30d, 0) AS orders_30d, coalesce(o.orders_90d, 0) AS orders_90d,
    coalesce(o.revenue_30d, 0) AS revenue_30d, o.rfm,
    ev.*, cart.*, sub.*, dl.*
  FROM ids
  LEFT JOIN o ON o.customer_id = ids.customer_id
  LEFT JOIN ct ON ct.customer_id = ids.customer_id
  LEFT JOIN ev ON ev.customer_id = ids.customer_id
  LEFT JOIN cart ON cart.customer_id = ids.customer_id
  LEFT JOIN sub ON sub.customer_id = ids.customer_id
  LEFT JOIN dl ON dl.customer_id = ids.customer_id
)
SELECT f.id COLLATE "default", f.email, f.first_name, f.last_name, f.opted_in, f.lead_at,
  f.first_order_at, f.second_order_at, f.last_order_at, f.orders, f.attempted_orders, f.revenue, f.aov,
  f.order_latency_days, f.days_since_last_order, f.lifecycle,
  CASE WHEN f.orders > 0 AND m.mean_aov > 0 THEN @extschema@.value_band(f.aov, m.mean_aov) END,
  f.first_order_delay_days, f.second_order_delay_days, as_of,
  f.shipping_address, f.billing_address, f.last_attempted_order_at,
  f.orders_7d, f.orders_14d, f.orders_30d, f.orders_90d, f.revenue_30d,
  coalesce(f.product_views_7d, 0), coalesce(f.product_views_14d, 0), coalesce(f.product_views_30d, 0),
  coalesce(f.cart_adds_7d, 0), coalesce(f.cart_adds_14d, 0),
  f.last_product_view_at, f.last_cart_add_at, f.last_abandoned_cart_at,
  coalesce(f.abandoned_carts_7d, 0), coalesce(f.abandoned_carts_14d, 0), f.last_checkout_at,
  coalesce(f.back_in_stock_requests, 0), f.last_back_in_stock_at,
  f.last_email_open_at, f.last_email_click_at, greatest(f.last_email_open_at, f.last_email_click_at),
  f.last_session_at, coalesce(f.sessions_30d, 0),
  greatest(f.last_email_open_at, f.last_email_click_at, f.last_session_at, f.last_seen_at),
  f.subscription_status, coalesce(f.has_active_subscription, false), coalesce(f.on_trial, false),
  f.trial_started_at, f.subscribed_at, f.engagement_rating, f.last_seen_at,
  coalesce(f.deals, 0), coalesce(f.deals_90d, 0), coalesce(f.open_deals, 0), coalesce(f.won_deals, 0),
  coalesce(f.lost_deals, 0), coalesce(f.lost_deals_90d, 0), f.last_deal_at, f.last_deal_update_at,
  f.deal_updates_30d,
  CASE WHEN (md.bg).converged THEN @extschema@.p_alive(md.bg, (f.rfm).frequency, (f.rfm).recency, (f.rfm).t) END,
  CASE WHEN (md.bg).converged
       THEN @extschema@.expected_purchases(md.bg, (f.rfm).frequency, (f.rfm).recency, (f.rfm).t, 90 / 7.0) END,
  -- Gamma-Gamma has a mean spend only when q > 1; a tiny or odd shop may not identify it.
  CASE WHEN (md.bg).converged AND (md.gg).converged AND (md.gg).q > 1
            AND ((f.rfm).frequency = 0 OR (f.rfm).monetary > 0)
       THEN round(@extschema@.predicted_clv(md.bg, md.gg, (f.rfm).frequency, (f.rfm).recency, (f.rfm).t,
                                            (f.rfm).monetary)::numeric, 2) END,
  CASE WHEN (md.bg).converged
       THEN @extschema@.expected_next_order_at(md.bg, (f.rfm).frequency, (f.rfm).recency, f.last_order_at) END
FROM f CROSS JOIN (SELECT avg(f2.aov) FILTER (WHERE f2.orders > 0) AS mean_aov FROM f f2) m
LEFT JOIN models md ON true
$$;
COMMENT ON FUNCTION segments.compute_facts(timestamptz, text[]) IS
  'The customer facts query, live, as of a time (what segments.refresh_facts materializes); optionally only some customers (value bands then against their mean)';

-- A setting of this extension, with a default when unset (loads the library so its settings exist).
CREATE OR REPLACE FUNCTION segments_internal._setting(name text, fallback text) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM @extschema@.value_band(1::numeric, 1::numeric);  -- loads the library: defines the settings
  RETURN coalesce(nullif(current_setting(name, true), ''), fallback);
END $$;

-- Materializes the facts: one statement that deletes customers gone from the sources and upserts
-- the rest, so readers keep reading the previous facts until commit. Runs as the extension owner
-- (source mappings are an administrator's); serialized by an advisory lock.

-- The SQL of a mapping's customer_id: the quoted column, or the validated expression.
CREATE OR REPLACE FUNCTION segments_internal._customer_expr(source regclass, columns jsonb) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = source AND a.attnum > 0
                           AND NOT a.attisdropped AND a.attname = columns ->> 'customer_id')
              THEN quote_ident(columns ->> 'customer_id')
              ELSE '(' || segments_internal._check_fragment(columns ->> 'customer_id', 'mapping customer_id') || E'\n)' END
$$;

-- Statement trigger on a mapped table: logs the customer ids of the changed rows (old and new).
-- Runs as the extension owner so any role writing the shop's tables can log.
CREATE OR REPLACE FUNCTION segments_internal._track_changes() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE m record; e text; t text;
BEGIN
  FOR m IN SELECT DISTINCT ON (segments_internal._customer_expr(source, columns)) source, columns
           FROM segments.source_map WHERE source = TG_RELID LOOP
    e := segments_internal._customer_expr(m.source, m.columns);
    FOREACH t IN ARRAY CASE TG_OP WHEN 'INSERT' THEN ARRAY['pgs_new'] WHEN 'DELETE' THEN ARRAY['pgs_old']
                                  ELSE ARRAY['pgs_new', 'pgs_old'] END LOOP
      EXECUTE format('INSERT INTO segments.changed_customers AS c (customer_id)
                      SELECT DISTINCT (%1$s)::text FROM %2$I WHERE (%1$s) IS NOT NULL
                      ON CONFLICT (customer_id) DO UPDATE SET changed_at = now()', e, t);
    END LOOP;
  END LOOP;
  RETURN NULL;
END $$;

-- Installs (or with false removes) the change-logging triggers on every mapped table.
CREATE OR REPLACE FUNCTION segments.track_changes(enable boolean DEFAULT true) RETURNS int
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE r regclass; t name; n int := 0;
BEGIN
  FOR r IN SELECT DISTINCT m.source FROM segments.source_map m
           JOIN pg_class c ON c.oid = m.source WHERE c.relkind IN ('r', 'p') LOOP
    FOR t IN SELECT tgname FROM pg_trigger WHERE tgrelid = r AND tgname LIKE 'pg\_segments\_track\_%' LOOP
      EXECUTE format('DROP TRIGGER %I ON %s', t, r);
    END LOOP;
    IF enable THEN
      EXECUTE format('CREATE TRIGGER pg_segments_track_insert AFTER INSERT ON %s REFERENCING NEW TABLE AS pgs_new '
                     'FOR EACH STATEMENT EXECUTE FUNCTION segments_internal._track_changes()', r);
      EXECUTE format('CREATE TRIGGER pg_segments_track_update AFTER UPDATE ON %s REFERENCING OLD TABLE AS pgs_old '
                     'NEW TABLE AS pgs_new FOR EACH STATEMENT EXECUTE FUNCTION segments_internal._track_changes()', r);
      EXECUTE format('CREATE TRIGGER pg_segments_track_delete AFTER DELETE ON %s REFERENCING OLD TABLE AS pgs_old '
                     'FOR EACH STATEMENT EXECUTE FUNCTION segments_internal._track_changes()', r);
    END IF;
    n := n + 1;
  END LOOP;
  RETURN n;
END $$;
COMMENT ON FUNCTION segments.track_changes(boolean) IS
  'Installs (true) or removes (false) triggers on the mapped tables that log changed customers for refresh_facts(incremental => true)';

CREATE OR REPLACE FUNCTION segments.refresh_facts(as_of timestamptz DEFAULT now(), incremental boolean DEFAULT false)
RETURNS segments.facts_status
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  started timestamptz := clock_timestamp();
  cols text; sets text; n_total bigint; n_ins bigint; n_upd bigint; n_del bigint;
  r segments.facts_status;
BEGIN
  PERFORM pg_advisory_xact_lock(1885824371, 2);
  -- After a restore the mapped views are the extension's empty ones: rebuild them.
  IF EXISTS (SELECT 1 FROM segments.source_map m
             WHERE obj_description(format('segments.%I', 'source_' || m.kind)::regclass, 'pg_class') LIKE '%not mapped%') THEN
    PERFORM segments.restore_sources();
  END IF;
  IF incremental THEN
    RETURN segments_internal._refresh_changed_facts(as_of, started);
  END IF;
  SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum),
         string_agg(format('%1$I = excluded.%1$I', attname), ', ' ORDER BY attnum) FILTER (WHERE attname <> 'customer_id')
    INTO cols, sets
  FROM pg_attribute WHERE attrelid = 'segments.customers'::regclass AND attnum > 0 AND NOT attisdropped;
  EXECUTE format($q$
    WITH new AS MATERIALIZED (SELECT * FROM segments.compute_facts($1)),
    del AS (DELETE FROM segments.customers c
            USING (SELECT customer_id FROM segments.customers EXCEPT SELECT customer_id FROM new) gone
            WHERE c.customer_id = gone.customer_id RETURNING 1),
    ups AS (INSERT INTO segments.customers AS c (%1$s) SELECT %1$s FROM new
            ON CONFLICT (customer_id) DO UPDATE SET %2$s
            RETURNING (xmax = 0) AS inserted)
    SELECT (SELECT count(*) FROM new), (SELECT count(*) FROM ups WHERE inserted),
           (SELECT count(*) FROM ups WHERE NOT inserted), (SELECT count(*) FROM del)$q$, cols, sets)
  INTO n_total, n_ins, n_upd, n_del USING as_of;
  INSERT INTO segments.facts_status AS s (id, refreshed_at, started_at, duration, customers, inserted, updated, deleted)
  VALUES (1, as_of, started, clock_timestamp() - started, n_total, n_ins, n_upd, n_del)
  ON CONFLICT (id) DO UPDATE SET refreshed_at = excluded.refreshed_at, started_at = excluded.started_at,
    duration = excluded.duration, customers = excluded.customers, inserted = excluded.inserted,
    updated = excluded.updated, deleted = excluded.deleted
  RETURNING * INTO r;
  RETURN r;
END $$;
COMMENT ON FUNCTION segments.refresh_facts(timestamptz, boolean) IS
  'Recomputes segments.customers as of a time (default now()) as a diff, or only the logged changed customers (incremental); returns counts and duration';

-- Incremental: recompute only the customers logged in segments.changed_customers, then every
-- customer's value band against the new mean. Others keep their facts as of their refreshed_at.
CREATE OR REPLACE FUNCTION segments_internal._refresh_changed_facts(as_of timestamptz, started timestamptz)
RETURNS segments.facts_status
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  ids text[]; cols text; sets text; n_total bigint; n_ins bigint; n_upd bigint; n_del bigint;
  r segments.facts_status;
BEGIN
  ids := ARRAY(SELECT customer_id FROM segments.changed_customers ORDER BY customer_id);
  DELETE FROM segments.changed_customers c WHERE c.customer_id = ANY (ids);
  -- The predictive columns come from models fitted over all customers: only a full refresh moves
  -- them (a changed customer keeps its previous predictions; a new one has none yet).
  SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum),
         string_agg(format('%1$I = excluded.%1$I', attname), ', ' ORDER BY attnum)
           FILTER (WHERE attname <> ALL (ARRAY['customer_id', 'p_alive', 'expected_orders_90d', 'predicted_clv',
                                                'expected_next_order_at']))
    INTO cols, sets
  FROM pg_attribute WHERE attrelid = 'segments.customers'::regclass AND attnum > 0 AND NOT attisdropped;
  EXECUTE format($q$
    WITH new AS MATERIALIZED (SELECT * FROM segments.compute_facts($1, $2)),
    del AS (DELETE FROM segments.customers c
            WHERE c.customer_id = ANY ($2) AND c.customer_id NOT IN (SELECT customer_id FROM new) RETURNING 1),
    ups AS (INSERT INTO segments.customers AS c (%1$s) SELECT %1$s FROM new
            ON CONFLICT (customer_id) DO UPDATE SET %2$s
            RETURNING (xmax = 0) AS inserted)
    SELECT (SELECT count(*) FROM new), (SELECT count(*) FROM ups WHERE inserted),
           (SELECT count(*) FROM ups WHERE NOT inserted), (SELECT count(*) FROM del)$q$, cols, sets)
  INTO n_total, n_ins, n_upd, n_del USING as_of, ids;
  UPDATE segments.customers c SET value_band = x.band
  FROM (SELECT k.customer_id,
               CASE WHEN k.orders > 0 AND m.mean_aov > 0 THEN @extschema@.value_band(k.aov, m.mean_aov) END AS band
        FROM segments.customers k,
             (SELECT avg(aov) FILTER (WHERE orders > 0) AS mean_aov FROM segments.customers) m) x
  WHERE x.customer_id = c.customer_id AND c.value_band IS DISTINCT FROM x.band;
  r := ROW(1, as_of, started, clock_timestamp() - started, n_total, n_ins, n_upd, n_del);
  RETURN r;
END $$;

-- Facts computed longer than pg_segments.facts_max_age ago (wall clock, whatever their as-of time)
-- are refreshed, as of now(), before a segment refresh.
CREATE OR REPLACE FUNCTION segments_internal._ensure_facts() RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE max_age interval := segments_internal._setting('pg_segments.facts_max_age', '10min')::interval;
        last timestamptz;
BEGIN
  IF max_age < interval '0' THEN
    RETURN false;
  END IF;
  SELECT started_at INTO last FROM segments.facts_status;
  IF last IS NOT NULL AND last >= now() - max_age THEN
    RETURN false;
  END IF;
  PERFORM pg_advisory_xact_lock(1885824371, 2);
  -- Another session may have refreshed them while we waited.
  SELECT started_at INTO last FROM segments.facts_status;
  IF last IS NOT NULL AND last >= now() - max_age THEN
    RETURN false;
  END IF;
  PERFORM segments.refresh_facts(now());
  RETURN true;
END $$;
