-- segments.compute_facts: the customer facts, live, as of a time: the per-source queries of this
-- folder (each one row per customer, columns named like segments.customers) joined on customer_id,
-- then the few columns that need more than one source or all customers (below). The sources are
-- chained by FULL JOIN on the id found so far (a customer is any id found in any of them), with no
-- list of ids first: so each source is read once, as it is produced, not stored and read twice
-- (bench, 1M orders: SELECT count(*) 3.77 -> 2.22 s, 5.4x -> 3.2x its floor). The select list is
-- generated here, at install and upgrade, by column NAME: every column of segments.customers is
-- either in the derived list or an output column of exactly one source query (else this fails), so
-- column order, and columns added by an upgrade at the end of the table, never shift a value. It
-- returns the rows of the view segments.customers, clock columns included (at as_of), scored with
-- models fitted over everyone here (or those of facts_globals): a full refresh at as_of stores these
-- rows and their fit, and the view then gives the same scores; defaults come from the stored table's columns.
-- The mean AOV the value bands are cut at, from the exact sum and count of the buyers' AOVs: the
-- sum's trailing zeros trimmed, so that it does not depend on which rows were summed (a numeric
-- sum has the largest display scale of its terms, and a quotient's digits follow its operands'
-- scales): an incremental refresh keeps the sum by difference, a sharded one adds the shards'.
CREATE OR REPLACE FUNCTION segments_internal._mean_aov(aov_sum numeric, buyers bigint) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT trim_scale(aov_sum) / nullif(buyers, 0)
$$;
COMMENT ON FUNCTION segments_internal._mean_aov(numeric, bigint) IS
  'Internal: the mean AOV of the value bands from the exact sum and count of the buyers'' AOVs';

-- A customer's value band at a mean AOV: buyers only, and only when the mean is positive. The one
-- spelling of the rule for compute_facts and the incremental refresh's writes (sql/engine/facts.sql);
-- a single SQL expression, so the planner inlines it.
CREATE OR REPLACE FUNCTION segments_internal._value_band_at(orders bigint, aov numeric, mean_aov numeric)
RETURNS @extschema@.value_band
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN orders > 0 AND mean_aov > 0 THEN @extschema@.value_band(aov, mean_aov) END
$$;
COMMENT ON FUNCTION segments_internal._value_band_at(bigint, numeric, numeric) IS
  'Internal: a customer''s value band at a mean AOV (NULL for a non-buyer or a mean that is not positive)';

-- compute_facts is PARALLEL SAFE (it only reads): the planner decides whether a query may run in parallel before it
-- inlines the function, so without it no source scan of the facts ever got a worker (1M orders:
-- SELECT count(*) 5.8 -> 4.3 s on a busy 2-core machine).
DO $gen$
DECLARE
  -- alias, per-customer query
  sources text[][] := ARRAY[
    ['o', 'segments_internal.order_facts'], ['ct', 'segments_internal.contact_facts'],
    ['ev', 'segments_internal.event_facts'], ['cart', 'segments_internal.cart_facts'],
    ['sub', 'segments_internal.subscription_facts'], ['dl', 'segments_internal.deal_facts']];
  -- columns computed from several sources or from every customer
  derived jsonb := jsonb_build_object(
    -- customer_id: the first id of the chain's sources that has one (added below)
    'aov', 'o.revenue / nullif(o.orders, 0)',
    'days_since_last_order', 'extract(epoch FROM as_of - o.last_order_at)::float8 / 86400',
    'value_band', 'segments_internal._value_band_at(o.orders, o.revenue / nullif(o.orders, 0), m.mean_aov)',
    'first_order_delay_days', 'extract(epoch FROM o.first_order_at - ct.lead_at)::float8 / 86400',
    'second_order_delay_days', 'extract(epoch FROM o.second_order_at - o.first_order_at)::float8 / 86400',
    'refreshed_at', 'as_of',
    'last_campaign_engagement_at', 'greatest(ev.last_email_open_at, ev.last_email_click_at)',
    'last_engaged_at', 'greatest(ev.last_email_open_at, ev.last_email_click_at, ev.last_session_at, sub.last_seen_at)',
    'p_alive', 'CASE WHEN (md.bg).converged THEN @extschema@.p_alive(md.bg, (o.rfm).frequency, (o.rfm).recency, (o.rfm).t) END',
    'expected_orders_90d', 'CASE WHEN (md.bg).converged THEN @extschema@.expected_purchases(md.bg, (o.rfm).frequency, (o.rfm).recency, (o.rfm).t, 90 / 7.0) END',
    -- Gamma-Gamma has a mean spend only when q > 1; a tiny or odd shop may not identify it.
    'predicted_clv', 'CASE WHEN (md.bg).converged AND (md.gg).converged AND (md.gg).q > 1 AND ((o.rfm).frequency = 0 OR (o.rfm).monetary > 0) THEN round(@extschema@.predicted_clv(md.bg, md.gg, (o.rfm).frequency, (o.rfm).recency, (o.rfm).t, (o.rfm).monetary)::numeric, 2) END',
    'expected_next_order_at', 'CASE WHEN (md.bg).converged THEN @extschema@.expected_next_order_at(md.bg, (o.rfm).frequency, (o.rfm).recency, o.last_order_at) END',
    -- the stored BTYD summary the view scores from (its first purchase day: T is in weeks of whole days)
    'btyd_frequency', '(o.rfm).frequency', 'btyd_recency', '(o.rfm).recency', 'btyd_monetary', '(o.rfm).monetary',
    'btyd_first_day', 'as_of::date - round((o.rfm).t * 7)::int',
    'horizon_at', 'least(o.order_horizon, ct.contact_horizon, ev.event_horizon, cart.cart_horizon, sub.sub_horizon, dl.deal_horizon)');
  col record; expr text; found text[]; sel text[] := '{}'; ctes text[] := '{}'; ids text[] := '{}';
  joins text[] := '{}'; i int;
BEGIN
  FOR i IN 1 .. array_length(sources, 1) LOOP
    ctes := ctes || format('%s AS (SELECT * FROM %s(as_of, only_customers))', sources[i][1], sources[i][2]);
    IF i > 1 THEN
      joins := joins || format('FULL JOIN %1$s ON %1$s.customer_id = coalesce(%2$s)', sources[i][1], array_to_string(ids, ', '));
    END IF;
    ids := ids || format('%s.customer_id', sources[i][1]);
  END LOOP;
  derived := derived || jsonb_build_object('customer_id', format('coalesce(%s) COLLATE "default"', array_to_string(ids, ', ')));
  FOR col IN SELECT a.attname, pg_get_expr(d.adbin, d.adrelid) AS dflt
             FROM pg_attribute a
             LEFT JOIN pg_attribute t ON t.attrelid = 'segments_internal.customer_facts'::regclass AND t.attname = a.attname
             LEFT JOIN pg_attrdef d ON d.adrelid = t.attrelid AND d.adnum = t.attnum
             WHERE a.attrelid = 'segments.customers'::regclass AND a.attnum > 0 AND NOT a.attisdropped
             ORDER BY a.attnum LOOP
    expr := derived ->> col.attname::text;
    IF expr IS NULL THEN
      found := '{}';
      FOR i IN 1 .. array_length(sources, 1) LOOP
        IF EXISTS (SELECT 1 FROM pg_proc p, unnest(p.proargnames, p.proargmodes) AS g(name, mode)
                   WHERE p.oid = sources[i][2]::regproc AND g.mode = 't' AND g.name = col.attname) THEN
          found := found || sources[i][1];
        END IF;
      END LOOP;
      IF cardinality(found) <> 1 THEN
        RAISE EXCEPTION 'segments.customers.% comes from % per-source fact queries, not one', col.attname, cardinality(found);
      END IF;
      expr := format('%s.%I', found[1], col.attname);
      IF col.dflt IS NOT NULL THEN
        expr := format('coalesce(%s, %s)', expr, col.dflt);
      END IF;
    END IF;
    sel := sel || format('%s AS %I', expr, col.attname);
  END LOOP;
  EXECUTE format($f$
CREATE OR REPLACE FUNCTION segments.compute_facts(as_of timestamptz DEFAULT now(), only_customers text[] DEFAULT NULL)
RETURNS SETOF segments.customers
LANGUAGE sql STABLE PARALLEL SAFE AS $body$
WITH
%1$s,
-- The buy-till-you-die models, fitted once over every buyer's RFM summary (in weeks). Gamma-Gamma
-- models positive spend: repeat buyers whose repeat purchases average 0 or less (free orders) are
-- left out of its fit and get no predicted CLV. In a sharded refresh, the coordinator hands each
-- shard the models and mean AOV of all shards instead (segments_internal.facts_globals, one row,
-- only inside that refresh's transaction; sql/engine/shards/node.sql computes the same inputs).
models AS (
  SELECT g.bgnbd AS bg, g.gammagamma AS gg FROM segments_internal.facts_globals g
  UNION ALL
  SELECT @extschema@.bgnbd_fit((o.rfm).frequency, (o.rfm).recency, (o.rfm).t) AS bg,
         @extschema@.gammagamma_fit((o.rfm).frequency, (o.rfm).monetary)
           FILTER (WHERE (o.rfm).frequency = 0 OR (o.rfm).monetary > 0) AS gg
  FROM o WHERE o.rfm IS NOT NULL AND only_customers IS NULL  -- fitted over everyone, never a subset
    AND NOT EXISTS (SELECT FROM segments_internal.facts_globals)
  HAVING NOT EXISTS (SELECT FROM segments_internal.facts_globals)
),
m AS (SELECT coalesce((SELECT g.mean_aov FROM segments_internal.facts_globals g),
                      segments_internal._mean_aov(sum(o.revenue / o.orders) FILTER (WHERE o.orders > 0),
                                                  count(*) FILTER (WHERE o.orders > 0))) AS mean_aov FROM o)
SELECT %3$s
FROM %2$s
%4$s
CROSS JOIN m
LEFT JOIN models md ON true
$body$$f$, array_to_string(ctes, E',\n'), sources[1][1], array_to_string(sel, E',\n  '),
         array_to_string(joins, E'\n'));
END $gen$;
COMMENT ON FUNCTION segments.compute_facts(timestamptz, text[]) IS
  'The customer facts query, live, as of a time (what segments.refresh_facts materializes); optionally only some customers (value bands then against their mean). E.g. SELECT * FROM segments.compute_facts(now()) WHERE orders > 1';
