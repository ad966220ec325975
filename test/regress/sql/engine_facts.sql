-- Segment engine: customer facts (segments.customers) against independent plain SQL, and the
-- event, subscription and deal facts the ready-made segments use, on known data.
DROP EXTENSION IF EXISTS pg_segments CASCADE;
CREATE EXTENSION pg_segments;
SET timezone = 'UTC';
SET pg_segments.facts_max_age = -1;

-- 300 customers with 0..7 orders each (some cancelled), 250 of them contacts; deterministic.
CREATE SCHEMA shop;
CREATE TABLE shop.orders(id serial, customer text, at timestamptz, amount numeric, status text);
CREATE TABLE shop.contacts(customer text, email text, created timestamptz, opted boolean);
SELECT setseed(0.42);
INSERT INTO shop.orders(customer, at, amount, status)
SELECT 'c' || c, timestamptz '2023-01-01' + (random() * 500) * interval '1 day', round((random() * 200)::numeric, 2),
       CASE WHEN random() < 0.15 THEN 'cancelled' ELSE 'paid' END
FROM generate_series(1, 300) c, generate_series(1, 7) k WHERE k <= (c % 8);
INSERT INTO shop.contacts SELECT 'c' || c, 'c' || c || '@example.com', timestamptz '2022-12-01' + c * interval '1 day', c % 3 = 0
FROM generate_series(50, 299) c;
SELECT segments.map_source('orders', 'shop.orders',
  '{"customer_id": "customer", "order_id": "id", "ordered_at": "at", "amount": "amount", "valid": "status = ''paid''"}');
SELECT segments.map_source('contacts', 'shop.contacts',
  '{"customer_id": "customer", "email": "email", "created_at": "created", "opted_in": "opted"}');
SELECT customers, inserted, updated, deleted FROM segments.refresh_facts('2024-06-01');

-- The same facts in plain SQL (sum, count, (last - first) / (n - 1), row_number for the 2nd order,
-- the band thresholds from docs/functions.md); compared both ways.
CREATE TEMP VIEW plain AS
WITH v AS (SELECT customer, at, amount, row_number() OVER (PARTITION BY customer ORDER BY at) AS nth
           FROM shop.orders WHERE status = 'paid'),
o AS (SELECT customer, count(*)::int AS orders, sum(amount) AS revenue, min(at) AS first_at, max(at) AS last_at,
             min(at) FILTER (WHERE nth = 2) AS second_at,
             CASE WHEN count(*) > 1 THEN extract(epoch FROM max(at) - min(at)) / 86400 / (count(*) - 1) END AS latency
      FROM v GROUP BY customer),
a AS (SELECT customer, count(*)::int AS attempted FROM shop.orders GROUP BY customer),
ids AS (SELECT customer FROM shop.orders UNION SELECT customer FROM shop.contacts),
f AS (SELECT ids.customer, ct.email, ct.created AS lead_at, ct.opted, coalesce(o.orders, 0) AS orders,
             coalesce(a.attempted, 0) AS attempted, coalesce(o.revenue, 0) AS revenue, o.revenue / o.orders AS aov,
             o.first_at, o.second_at, o.last_at, o.latency,
             extract(epoch FROM timestamptz '2024-06-01' - o.last_at) / 86400 AS days_since,
             extract(epoch FROM o.first_at - ct.created) / 86400 AS first_delay,
             extract(epoch FROM o.second_at - o.first_at) / 86400 AS second_delay
      FROM ids LEFT JOIN o USING (customer) LEFT JOIN a USING (customer) LEFT JOIN shop.contacts ct USING (customer))
SELECT f.*, CASE WHEN f.orders = 0 THEN NULL
                 WHEN f.aov / m.mean < 0.75 THEN 'low' WHEN f.aov / m.mean <= 1.25 THEN 'medium'
                 WHEN f.aov / m.mean <= 2.5 THEN 'high' ELSE 'very_high' END AS band
FROM f, (SELECT avg(aov) AS mean FROM f WHERE orders > 0) m;

SELECT count(*) AS customers, count(*) FILTER (WHERE orders = 0) AS without_orders,
       count(*) FILTER (WHERE email IS NULL) AS without_contact FROM segments.customers;
SELECT count(*) AS differences FROM (
  (SELECT customer_id, email, lead_at, opted_in, orders, attempted_orders, revenue, round(aov, 6), first_order_at,
          second_order_at, last_order_at, round(order_latency_days::numeric, 6), round(days_since_last_order::numeric, 6),
          round(first_order_delay_days::numeric, 6), round(second_order_delay_days::numeric, 6), value_band::text
   FROM segments.customers
   EXCEPT
   SELECT customer, email, lead_at, opted, orders, attempted, revenue, round(aov, 6), first_at, second_at, last_at,
          round(latency::numeric, 6), round(days_since::numeric, 6), round(first_delay::numeric, 6),
          round(second_delay::numeric, 6), band FROM plain)
  UNION ALL
  (SELECT customer, email, lead_at, opted, orders, attempted, revenue, round(aov, 6), first_at, second_at, last_at,
          round(latency::numeric, 6), round(days_since::numeric, 6), round(first_delay::numeric, 6),
          round(second_delay::numeric, 6), band FROM plain
   EXCEPT
   SELECT customer_id, email, lead_at, opted_in, orders, attempted_orders, revenue, round(aov, 6), first_order_at,
          second_order_at, last_order_at, round(order_latency_days::numeric, 6), round(days_since_last_order::numeric, 6),
          round(first_order_delay_days::numeric, 6), round(second_order_delay_days::numeric, 6), value_band::text
   FROM segments.customers)) d;
-- Life cycle equals the aggregate over the customer's valid orders as of the facts time.
SELECT count(*) AS lifecycle_differences FROM segments.customers c
LEFT JOIN (SELECT customer, lifecycle_stage(at, '2024-06-01') AS st FROM shop.orders WHERE status = 'paid' GROUP BY 1) l
  ON l.customer = c.customer_id
WHERE c.lifecycle IS DISTINCT FROM l.st;
SELECT lifecycle, value_band, count(*) FROM segments.customers GROUP BY 1, 2 ORDER BY 1, 2;
SELECT count(*) FILTER (WHERE refreshed_at = '2024-06-01') AS as_of_ok, count(*) FROM segments.customers;
-- compute_facts is the live form of the same query.
SELECT count(*) AS live_differences FROM (
  SELECT * FROM segments.compute_facts('2024-06-01') EXCEPT SELECT * FROM segments.customers) d;

-- A second refresh is a diff: deleted customers go, changed ones are updated, new ones inserted.
DELETE FROM shop.orders WHERE customer IN ('c1', 'c2');
INSERT INTO shop.orders(customer, at, amount, status) VALUES ('new1', '2024-05-30', 99, 'paid');
UPDATE shop.contacts SET email = 'changed@example.com' WHERE customer = 'c100';
SELECT customers, inserted, updated, deleted FROM segments.refresh_facts('2024-06-01');
SELECT customer_id, email, orders FROM segments.customers WHERE customer_id IN ('c1', 'c2', 'new1', 'c100') ORDER BY 1;
SELECT refreshed_at, customers, inserted, deleted, duration > interval '0' AS timed FROM segments.facts_status;

-- Events, subscriptions and deals, as of 2024-06-01 00:00 UTC.
CREATE TABLE shop.events(customer text, kind text, at timestamptz);
INSERT INTO shop.events VALUES
  -- a: browses (3 views in 14 days, 2 in 7 days), no cart, no order
  ('a', 'product_view', '2024-05-20 12:00'), ('a', 'product_view', '2024-05-28 12:00'), ('a', 'product_view', '2024-05-30 12:00'),
  -- b: one cart add, no order: abandoned
  ('b', 'cart_add', '2024-05-30 10:00'),
  -- c: two adds, then an order within 15 minutes of the last one: not abandoned
  ('c', 'cart_add', '2024-05-30 10:00'), ('c', 'cart_add', '2024-05-30 10:05'),
  -- d: add, checkout 30 minutes later: abandoned (then completed); the earlier add was the same cart
  ('d', 'cart_add', '2024-05-29 09:00'), ('d', 'checkout', '2024-05-29 09:30'), ('d', 'cart_add', '2024-05-12 09:00'),
  -- e: added 10 minutes before the facts time: not abandoned yet
  ('e', 'cart_add', '2024-05-31 23:50'),
  -- f: back in stock, email open and click, session; an event after the facts time is ignored
  ('f', 'back_in_stock', '2024-05-01 08:00'), ('f', 'email_open', '2024-04-01 08:00'), ('f', 'email_click', '2024-04-15 08:00'),
  ('f', 'session', '2024-05-20 08:00'), ('f', 'session', '2024-06-02 08:00');
INSERT INTO shop.orders(customer, at, amount, status) VALUES ('c', '2024-05-30 10:12', 40, 'paid');
CREATE TABLE shop.subs(customer text, started timestamptz, trial boolean, status text, rating int, seen timestamptz);
INSERT INTO shop.subs VALUES
  ('g', '2024-05-20', true, 'trialing', 4, '2024-05-31'),
  ('h', '2024-03-01', true, 'expired', 2, '2024-03-20'), ('h', '2024-03-31', false, 'active', 5, '2024-04-01'),
  ('i', '2024-04-01', true, 'expired', 1, '2024-04-02');
CREATE TABLE shop.deals(customer text, id int, created timestamptz, updated timestamptz, state text, updates int);
INSERT INTO shop.deals VALUES
  ('j', 1, '2024-05-01', '2024-05-20', 'open', 3), ('j', 2, '2024-01-01', '2024-01-15', 'won', NULL),
  ('k', 3, '2024-04-01', '2024-04-10', 'lost', NULL), ('k', 4, '2024-05-25', '2024-05-26', 'open', NULL);
SELECT segments.map_source('events', 'shop.events', '{"customer_id": "customer", "kind": "kind", "at": "at"}');
SELECT segments.map_source('subscriptions', 'shop.subs',
  '{"customer_id": "customer", "started_at": "started", "is_trial": "trial", "status": "status", "engagement_rating": "rating", "last_seen_at": "seen"}');
SELECT segments.map_source('deals', 'shop.deals',
  '{"customer_id": "customer", "deal_id": "id", "created_at": "created", "updated_at": "updated", "state": "state", "updates_30d": "updates"}');
SELECT customers, inserted FROM segments.refresh_facts('2024-06-01');
\x on
SELECT customer_id, product_views_7d, product_views_14d, product_views_30d, cart_adds_7d, cart_adds_14d, last_product_view_at,
       last_cart_add_at, last_abandoned_cart_at, abandoned_carts_7d, abandoned_carts_14d, last_checkout_at, orders_7d
FROM segments.customers WHERE customer_id IN ('a', 'b', 'c', 'd', 'e') ORDER BY 1;
SELECT customer_id, back_in_stock_requests, last_back_in_stock_at, last_email_open_at, last_email_click_at,
       last_campaign_engagement_at, last_session_at, sessions_30d, last_engaged_at
FROM segments.customers WHERE customer_id = 'f';
SELECT customer_id, subscription_status, has_active_subscription, on_trial, trial_started_at, subscribed_at,
       engagement_rating, last_seen_at, last_engaged_at
FROM segments.customers WHERE customer_id IN ('g', 'h', 'i') ORDER BY 1;
SELECT customer_id, deals, deals_90d, open_deals, won_deals, lost_deals, lost_deals_90d, last_deal_at,
       last_deal_update_at, deal_updates_30d
FROM segments.customers WHERE customer_id IN ('j', 'k') ORDER BY 1;
\x off

-- Incremental facts: triggers log the customers whose source rows change; an incremental refresh
-- recomputes only those (and every value band), so at the same as-of time it equals a full one.
SELECT segments.track_changes() AS tables_tracked;
-- What changed before tracking is in no log: the first refresh after track_changes() is full.
SELECT customers, incremental, full_refreshed_at FROM segments.refresh_facts('2024-06-01', incremental => true);
SELECT count(*) AS logged_before FROM segments.changed_customers;
UPDATE shop.orders SET amount = amount + 1000 WHERE customer = 'c10';
UPDATE shop.orders SET customer = 'c12' WHERE id = (SELECT min(id) FROM shop.orders WHERE customer = 'c11');
INSERT INTO shop.events VALUES ('zz', 'session', '2024-05-31');
DELETE FROM shop.contacts WHERE customer = 'c200';
DELETE FROM shop.orders WHERE customer = 'new1';
UPDATE shop.orders SET amount = amount WHERE false;
SELECT customer_id FROM segments.changed_customers ORDER BY 1;
-- Compared without the predictive columns, which only a full refresh moves (models over everyone).
CREATE TEMP VIEW facts_full AS SELECT to_jsonb(f) - '{p_alive,expected_orders_90d,predicted_clv,expected_next_order_at}'::text[] AS j
  FROM segments.compute_facts('2024-06-01') f;
CREATE TEMP VIEW facts_now AS SELECT to_jsonb(c) - '{p_alive,expected_orders_90d,predicted_clv,expected_next_order_at}'::text[] AS j
  FROM segments.customers c;
SELECT count(*) AS stale_before FROM (SELECT j FROM facts_full EXCEPT SELECT j FROM facts_now) d;
CREATE TEMP TABLE pred_before AS SELECT customer_id, p_alive, predicted_clv FROM segments.customers;
SELECT customers, inserted, updated, deleted FROM segments.refresh_facts('2024-06-01', incremental => true);
SELECT count(*) AS logged_after FROM segments.changed_customers;
SELECT (SELECT count(*) FROM (SELECT j FROM facts_full EXCEPT SELECT j FROM facts_now) d) AS missing,
       (SELECT count(*) FROM (SELECT j FROM facts_now EXCEPT SELECT j FROM facts_full) d) AS extra;
SELECT count(*) AS buyers_with_predictions,
       count(*) FILTER (WHERE (c.p_alive, c.predicted_clv) IS DISTINCT FROM (b.p_alive, b.predicted_clv)) AS predictions_moved
FROM segments.customers c JOIN pred_before b USING (customer_id) WHERE b.p_alive IS NOT NULL;
SELECT customer_id, revenue, value_band FROM segments.customers WHERE customer_id IN ('c10', 'zz', 'c200', 'new1') ORDER BY 1;
SELECT segments.track_changes(false) AS untracked;

-- A repeat buyer whose purchases are free (amount 0) does not break the facts refresh: no
-- predicted CLV for them (Gamma-Gamma models positive spend), the rest as usual.
INSERT INTO shop.orders(customer, at, amount, status) VALUES
  ('free', '2024-01-01', 0, 'paid'), ('free', '2024-02-01', 0, 'paid'), ('free', '2024-03-01', 0, 'paid');
SELECT customers, inserted FROM segments.refresh_facts('2024-06-01');
SELECT customer_id, orders, revenue, p_alive IS NOT NULL AS has_p_alive, predicted_clv IS NULL AS no_predicted_clv
FROM segments.customers WHERE customer_id = 'free';
SELECT count(*) FILTER (WHERE predicted_clv IS NOT NULL) AS predicted, count(*) FILTER (WHERE p_alive IS NOT NULL) AS with_p_alive FROM segments.customers;
INSERT INTO shop.events VALUES ('zz2', 'session', '2024-05-31');
SELECT count(*) AS logged_without_triggers FROM segments.changed_customers;

-- Abandoned carts against the forward formulation (the rows after each add, as a frame that
-- follows it) on random adds, checkouts and purchases on a 5-minute grid, so times tie; 4 as-of times.
SELECT setseed(0.17);
INSERT INTO shop.events SELECT 'r' || (random() * 40)::int, CASE WHEN random() < 0.7 THEN 'cart_add' ELSE 'checkout' END,
  timestamptz '2024-05-25' + (random() * 2000)::int * interval '5 minutes' FROM generate_series(1, 1500);
INSERT INTO shop.orders(customer, at, amount, status) SELECT 'r' || (random() * 40)::int,
  timestamptz '2024-05-25' + (random() * 2000)::int * interval '5 minutes', 10, 'paid' FROM generate_series(1, 300);
CREATE TEMP VIEW carts_forward AS
SELECT t.as_of, y.customer_id, y.at FROM (VALUES (timestamptz '2024-05-27 10:00'), ('2024-05-29'), ('2024-05-30 23:55'), ('2024-06-01')) t(as_of),
LATERAL (
  SELECT z.customer_id, z.at, z.is_add,
    min(z.at) FILTER (WHERE NOT z.is_add) OVER w AS next_done, min(z.at) FILTER (WHERE z.is_add) OVER w AS next_add
  FROM (SELECT e.customer_id COLLATE "C" AS customer_id, e.at, e.kind = 'cart_add' AS is_add FROM segments.source_events e
        WHERE e.kind IN ('cart_add', 'checkout') AND e.at > t.as_of - interval '720 hours' AND e.at <= t.as_of
        UNION ALL
        SELECT p.customer_id COLLATE "C", p.ordered_at, false FROM segments.purchases p
        WHERE p.ordered_at > t.as_of - interval '720 hours' AND p.ordered_at <= t.as_of) z
  WINDOW w AS (PARTITION BY z.customer_id ORDER BY z.at, z.is_add ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING)) y
WHERE y.is_add AND (y.next_add IS NULL OR (y.next_done IS NOT NULL AND y.next_done <= y.next_add))
  AND CASE WHEN y.next_done IS NULL THEN y.at <= t.as_of - interval '15 minutes' ELSE y.next_done > y.at + interval '15 minutes' END;
CREATE TEMP VIEW carts_now AS
SELECT t.as_of, a.customer_id, a.added_at AS at
FROM (VALUES (timestamptz '2024-05-27 10:00'), ('2024-05-29'), ('2024-05-30 23:55'), ('2024-06-01')) t(as_of),
LATERAL segments_internal.abandoned_carts(t.as_of) a;
SELECT (SELECT count(*) FROM carts_forward) > 200 AS enough_carts,
       (SELECT count(*) FROM (SELECT * FROM carts_forward EXCEPT ALL SELECT * FROM carts_now) d) AS missing,
       (SELECT count(*) FROM (SELECT * FROM carts_now EXCEPT ALL SELECT * FROM carts_forward) d) AS extra;

\i test/regress/sql/error_of.psql
-- The order facts aggregate (segments_internal.order_facts_of, one transition call per row) against
-- the SQL formulation it replaced (17 aggregates with FILTERs over a fenced subquery), on random
-- orders with ties, NULL amounts, refunds, free orders, amounts too wide for the fast sums,
-- invalid and NULL-valid rows, future-dated rows and one-order customers, at several as-of times
-- (one a microsecond after a window boundary), serially and in a parallel plan; EXCEPT both ways.
CREATE FUNCTION pg_temp.old_order_facts(as_of timestamptz)
RETURNS TABLE (customer_id text, orders int, attempted_orders int, revenue numeric, first_order_at timestamptz,
               second_order_at timestamptz, last_order_at timestamptz, last_attempted_order_at timestamptz,
               order_latency_days float8, lifecycle lifecycle, orders_7d int, orders_14d int,
               orders_30d int, orders_90d int, revenue_30d numeric, rfm rfm, attempted_orders_14d int,
               order_horizon timestamptz)
LANGUAGE sql STABLE AS $$
  SELECT x.customer_id,
    count(*) FILTER (WHERE x.purchase)::int,
    count(*) FILTER (WHERE x.attempted)::int,
    coalesce(clv(x.amount) FILTER (WHERE x.past AND x.valid), 0),
    min(x.ordered_at) FILTER (WHERE x.purchase),
    second_order_at(x.ordered_at, as_of) FILTER (WHERE x.purchase),
    max(x.ordered_at) FILTER (WHERE x.purchase),
    max(x.ordered_at) FILTER (WHERE x.attempted),
    order_latency(x.ordered_at) FILTER (WHERE x.purchase),
    lifecycle_stage(x.ordered_at, as_of) FILTER (WHERE x.purchase),
    count(*) FILTER (WHERE x.purchase AND x.in_7d)::int,
    count(*) FILTER (WHERE x.purchase AND x.in_14d)::int,
    count(*) FILTER (WHERE x.purchase AND x.in_30d)::int,
    count(*) FILTER (WHERE x.purchase AND x.in_90d)::int,
    coalesce(sum(x.amount) FILTER (WHERE x.past AND x.valid AND x.in_30d), 0),
    rfm_summary(x.ordered_at, x.amount, as_of, 'weeks') FILTER (WHERE x.purchase),
    count(*) FILTER (WHERE x.attempted AND x.in_14d)::int,
    least(min(x.ordered_at) FILTER (WHERE NOT x.past),
          min(x.ordered_at) FILTER (WHERE x.purchase AND x.in_7d) + interval '168 hours',
          min(x.ordered_at) FILTER (WHERE x.purchase AND x.in_14d) + interval '336 hours',
          min(x.ordered_at) FILTER (WHERE x.past AND x.valid AND x.in_30d) + interval '720 hours',
          min(x.ordered_at) FILTER (WHERE x.purchase AND x.in_90d) + interval '2160 hours',
          min(x.ordered_at) FILTER (WHERE x.attempted AND x.in_14d) + interval '336 hours',
          lifecycle_changes_at(x.ordered_at, as_of) FILTER (WHERE x.purchase))
  FROM (
    SELECT so.customer_id COLLATE "C" AS customer_id, so.ordered_at, so.amount, coalesce(so.valid, false) AS valid,
           so.ordered_at <= as_of AS past,
           so.ordered_at <= as_of AND segments.is_purchase(so.valid, so.amount) AS purchase,
           so.ordered_at <= as_of AND coalesce(so.amount, 0) >= 0 AS attempted,
           so.ordered_at > as_of - interval '168 hours' AS in_7d, so.ordered_at > as_of - interval '336 hours' AS in_14d,
           so.ordered_at > as_of - interval '720 hours' AS in_30d, so.ordered_at > as_of - interval '2160 hours' AS in_90d
    FROM segments.source_orders so
    WHERE so.customer_id IS NOT NULL AND so.ordered_at IS NOT NULL
    OFFSET 0
  ) x
  GROUP BY x.customer_id
$$;
CREATE TABLE shop.rorders(id serial, customer text, at timestamptz, amount numeric, ok boolean);
SELECT setseed(0.11);
INSERT INTO shop.rorders(customer, at, amount, ok)
SELECT 'r' || c,
       -- a six-hour grid (ties within a customer), 2023-06 .. 2024-08 (after the as-of times: future rows)
       timestamptz '2023-06-01' + floor(random() * 1750) * interval '6 hours',
       CASE WHEN r < 0.05 THEN NULL WHEN r < 0.12 THEN -round((random() * 80)::numeric, 2) WHEN r < 0.15 THEN 0
            WHEN r < 0.16 THEN round((random() * 10)::numeric, 3) ELSE round((random() * 300)::numeric, 2) END,
       CASE WHEN v < 0.1 THEN false WHEN v < 0.15 THEN NULL ELSE true END
FROM (SELECT c, k, random() AS r, random() AS v FROM generate_series(1, 200) c, generate_series(1, 40) k) x
WHERE k <= 1 + c % 40;
-- amounts beyond the fixed-scale sums (scale 20; 30 integer digits), exact in both
INSERT INTO shop.rorders(customer, at, amount, ok) VALUES
  ('r7', '2024-05-20 10:00', 0.00000000000000000001, true), ('r7', '2024-05-21 10:00', 123456789012345678901234567890, true),
  ('r8', '2024-05-30 23:59:59.999999', -0.123456789012345678901, true), (NULL, '2024-05-01', 5, true),
  ('r9', NULL, 5, true);
SELECT segments.map_source('orders', 'shop.rorders',
  '{"customer_id": "customer", "order_id": "id", "ordered_at": "at", "amount": "amount", "valid": "ok"}');
ANALYZE shop.rorders;
SELECT count(*) AS rows, count(DISTINCT customer) AS customers, count(*) FILTER (WHERE amount < 0) AS refunds,
       count(*) FILTER (WHERE amount IS NULL) AS null_amounts, count(*) FILTER (WHERE ok IS NOT true) AS not_valid,
       count(*) - count(DISTINCT (customer, at)) AS tied_times
FROM shop.rorders;
CREATE TEMP TABLE of_as_of(t timestamptz);
INSERT INTO of_as_of VALUES ('2024-03-01'), ('2024-06-01 12:00'), ('2024-07-15 08:30:00.000001'),
  (timestamptz '2024-05-21 10:00' + interval '720 hours');
CREATE FUNCTION pg_temp.order_facts_differences() RETURNS TABLE (as_of timestamptz, differences bigint, customers bigint)
LANGUAGE sql AS $$
  SELECT a.t, (SELECT count(*) FROM ((SELECT * FROM segments_internal.order_facts(a.t)
                                      EXCEPT ALL SELECT * FROM pg_temp.old_order_facts(a.t))
                                     UNION ALL (SELECT * FROM pg_temp.old_order_facts(a.t)
                                      EXCEPT ALL SELECT * FROM segments_internal.order_facts(a.t))) d),
         (SELECT count(*) FROM segments_internal.order_facts(a.t))
  FROM of_as_of a ORDER BY 1
$$;
SELECT * FROM pg_temp.order_facts_differences();
-- in a parallel plan: partial states built by the workers, serialized and combined
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT * FROM segments_internal.order_facts('2024-06-01');
SELECT * FROM pg_temp.order_facts_differences();
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
-- bad input: a clear SQLSTATE
SELECT q AS statement, pg_temp.error_of(q) AS error FROM (VALUES
  ('SELECT segments_internal.order_facts(NULL)'),
  ($q$SELECT segments_internal.order_facts('infinity')$q$),
  ($q$SELECT segments_internal.order_facts_of(t, 1, true, t) FROM (VALUES (now()), (now() - interval '1 day')) v(t)$q$),
  ($q$SELECT segments_internal.order_facts_of('2024-01-01', 'NaN', true, '2024-06-01')$q$),
  ($q$SELECT segments_internal.order_facts_of('-infinity', 1, true, '2024-06-01')$q$)) v(q);
SELECT (segments_internal.order_facts_of(t, a, v, '2024-06-01')).* FROM (VALUES
  (timestamptz '-infinity', 1::numeric, false), ('infinity', 'NaN', true), ('2024-01-01', NULL, NULL)) x(t, a, v);

SET client_min_messages = warning;
DROP EXTENSION pg_segments CASCADE;
DROP SCHEMA shop CASCADE;
RESET client_min_messages;
CREATE EXTENSION pg_segments;
