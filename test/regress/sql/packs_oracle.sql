-- Ready-made segments (sql/packs/) against a hand-made shop: every segment of every
-- pack is compared with an independent plain-SQL oracle written from the products' wording over
-- the raw tables (not over segments.source_* or segments.customers). All times are relative to
-- now(); every edge keeps at least a minute of margin, so the few seconds between the facts
-- refresh and the oracle query do not matter.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS pg_segments CASCADE;
CREATE EXTENSION pg_segments;
RESET client_min_messages;
SET timezone = 'UTC';

CREATE SCHEMA packs_shop;
-- Raw tables with the shop's own names, mapped below with column expressions.
CREATE TABLE packs_shop.people (id text PRIMARY KEY, email text, marketing text, signed_up timestamptz);
CREATE TABLE packs_shop.orders (order_no serial, customer text, placed_at timestamptz, total numeric, status text);
CREATE TABLE packs_shop.events (who text, what text, at timestamptz);
CREATE TABLE packs_shop.subs (customer text, started timestamptz, trial boolean, status text, rating int, last_seen timestamptz);
CREATE TABLE packs_shop.deals (person text, deal text, created timestamptz, updated timestamptz, stage text, updates_30d int);

CREATE FUNCTION packs_shop.ago(text) RETURNS timestamptz LANGUAGE sql STABLE AS $$ SELECT now() - $1::interval $$;

-- ecommerce -----------------------------------------------------------------------------------
INSERT INTO packs_shop.orders (customer, placed_at, total, status) VALUES
  ('e_one', packs_shop.ago('10 days'), 50, 'paid'),
  ('e_zero', packs_shop.ago('40 days'), 0, 'paid'),                 -- ordered once, spent nothing
  ('e_cancelled', packs_shop.ago('5 days'), 80, 'cancelled'),       -- never completed an order
  ('e_repeat', packs_shop.ago('200 days'), 300, 'paid'), ('e_repeat', packs_shop.ago('60 days'), 400, 'paid'),
  ('e_vip_exact', packs_shop.ago('100 days'), 600, 'paid'), ('e_vip_exact', packs_shop.ago('20 days'), 400, 'paid'),
  ('e_vip', packs_shop.ago('95 days'), 1000.01, 'paid'),
  ('e_vip_cancel', packs_shop.ago('50 days'), 900, 'paid'), ('e_vip_cancel', packs_shop.ago('49 days'), 900, 'cancelled'),
  ('e_slip_29', packs_shop.ago('29 days'), 20, 'paid'),
  ('e_slip_31', packs_shop.ago('31 days'), 20, 'paid'),
  ('e_slip_89', packs_shop.ago('89 days'), 20, 'paid'),
  ('e_slip_91', packs_shop.ago('91 days'), 20, 'paid'),
  ('e_old', packs_shop.ago('400 days'), 35, 'paid'),
  ('e_medium', packs_shop.ago('60 days'), 180, 'paid'),             -- AOV near the mean AOV
  ('e_orders_only', packs_shop.ago('15 days'), 120, 'paid'),        -- no contact row
  ('e_regular', packs_shop.ago('115 days'), 25, 'paid'), ('e_regular', packs_shop.ago('95 days'), 25, 'paid'),
  ('e_regular', packs_shop.ago('75 days'), 25, 'paid'), ('e_regular', packs_shop.ago('55 days'), 25, 'paid'),
  ('e_regular', packs_shop.ago('35 days'), 25, 'paid'),
  ('e_weekly', packs_shop.ago('24 days'), 10, 'paid'), ('e_weekly', packs_shop.ago('17 days'), 10, 'paid'),
  ('e_weekly', packs_shop.ago('10 days'), 10, 'paid'), ('e_weekly', packs_shop.ago('3 days'), 10, 'paid');
INSERT INTO packs_shop.events VALUES
  -- abandoned browsers: product views in the last 14 days
  ('b_two_views', 'product_view', packs_shop.ago('3 days')), ('b_two_views', 'product_view', packs_shop.ago('5 days')),
  ('b_one_view', 'product_view', packs_shop.ago('3 days')),
  ('b_old_view', 'product_view', packs_shop.ago('3 days')), ('b_old_view', 'product_view', packs_shop.ago('15 days')),
  ('b_views_cart', 'product_view', packs_shop.ago('3 days')), ('b_views_cart', 'product_view', packs_shop.ago('4 days')),
  ('b_views_cart', 'cart_add', packs_shop.ago('2 days')),
  ('b_views_order', 'product_view', packs_shop.ago('3 days')), ('b_views_order', 'product_view', packs_shop.ago('4 days')),
  ('b_views_cancelled', 'product_view', packs_shop.ago('3 days')), ('b_views_cancelled', 'product_view', packs_shop.ago('4 days')),
  ('b_views_old_cart', 'product_view', packs_shop.ago('3 days')), ('b_views_old_cart', 'product_view', packs_shop.ago('4 days')),
  ('b_views_old_cart', 'cart_add', packs_shop.ago('20 days')),
  ('b_views_checkout', 'product_view', packs_shop.ago('3 days')), ('b_views_checkout', 'product_view', packs_shop.ago('4 days')),
  ('b_views_checkout', 'checkout', packs_shop.ago('1 day')),
  ('b_views_fresh_cart', 'product_view', packs_shop.ago('3 days')), ('b_views_fresh_cart', 'product_view', packs_shop.ago('4 days')),
  ('b_views_fresh_cart', 'cart_add', packs_shop.ago('5 minutes')),  -- cart not abandoned yet
  -- abandoned carts
  ('c_abandoned', 'cart_add', packs_shop.ago('3 days')),
  ('c_recovered_14', 'cart_add', packs_shop.ago('3 days')),          -- order 14 minutes later
  ('c_recovered_16', 'cart_add', packs_shop.ago('3 days')),          -- order 16 minutes later
  ('c_old_order', 'cart_add', packs_shop.ago('2 days')),
  ('c_checkout', 'cart_add', packs_shop.ago('2 days')), ('c_checkout', 'checkout', packs_shop.ago('2 days') + interval '5 minutes'),
  ('c_cancelled', 'cart_add', packs_shop.ago('2 days')),
  ('c_16min', 'cart_add', packs_shop.ago('16 minutes')),
  ('c_14min', 'cart_add', packs_shop.ago('14 minutes')),
  ('c_reset', 'cart_add', packs_shop.ago('20 minutes')), ('c_reset', 'cart_add', packs_shop.ago('10 minutes')),
  ('c_8days', 'cart_add', packs_shop.ago('8 days')),
  ('c_two_adds', 'cart_add', packs_shop.ago('6 days')), ('c_two_adds', 'cart_add', packs_shop.ago('6 days') + interval '10 minutes'),
  -- waiting on stock
  ('w_request', 'back_in_stock', packs_shop.ago('40 days')),
  ('w_old_request', 'back_in_stock', packs_shop.ago('400 days')),
  ('w_view_only', 'product_view', packs_shop.ago('40 days'));
INSERT INTO packs_shop.orders (customer, placed_at, total, status) VALUES
  ('b_views_order', packs_shop.ago('1 day'), 30, 'paid'),
  ('b_views_cancelled', packs_shop.ago('1 day'), 30, 'cancelled'),
  ('c_recovered_14', packs_shop.ago('3 days') + interval '14 minutes', 40, 'paid'),
  ('c_recovered_16', packs_shop.ago('3 days') + interval '16 minutes', 40, 'paid'),
  ('c_old_order', packs_shop.ago('10 days'), 20, 'paid'),
  ('c_cancelled', packs_shop.ago('2 days') + interval '5 minutes', 20, 'cancelled');

-- payments ------------------------------------------------------------------------------------
INSERT INTO packs_shop.subs VALUES
  ('p_trial_new', packs_shop.ago('10 days'), true, 'trialing', 4, packs_shop.ago('1 day')),
  ('p_trial_rating3', packs_shop.ago('10 days'), true, 'trialing', 3, packs_shop.ago('1 day')),
  ('p_trial_low', packs_shop.ago('5 days'), true, 'trialing', 2, packs_shop.ago('1 day')),
  ('p_trial_unseen', packs_shop.ago('10 days'), true, 'trialing', 3, packs_shop.ago('8 days')),
  ('p_trial_seen6', packs_shop.ago('10 days'), true, 'trialing', 3, packs_shop.ago('6 days')),
  ('p_trial_1day', packs_shop.ago('1 day'), true, 'trialing', 1, packs_shop.ago('1 hour')),
  ('p_trial_3days', packs_shop.ago('3 days'), true, 'trialing', 1, packs_shop.ago('1 hour')),
  ('p_trial_29', packs_shop.ago('29 days'), true, 'trialing', NULL, NULL),
  ('p_trial_31', packs_shop.ago('31 days'), true, 'expired', 2, packs_shop.ago('20 days')),
  ('p_trial_cancelled', packs_shop.ago('10 days'), true, 'cancelled', 5, packs_shop.ago('1 day')),
  ('p_converted', packs_shop.ago('40 days'), true, 'expired', 4, packs_shop.ago('35 days')),
  ('p_converted', packs_shop.ago('10 days'), false, 'active', 5, packs_shop.ago('2 days')),
  ('p_converted_same', packs_shop.ago('45 days'), true, 'active', 4, packs_shop.ago('3 days')),
  ('p_active_5', packs_shop.ago('100 days'), false, 'active', 5, packs_shop.ago('1 day')),
  ('p_active_4_quiet', packs_shop.ago('100 days'), false, 'active', 4, packs_shop.ago('40 days')),
  ('p_active_29', packs_shop.ago('100 days'), false, 'active', 5, packs_shop.ago('29 days')),
  ('p_two_subs', packs_shop.ago('100 days'), false, 'active', 3, packs_shop.ago('40 days')),
  ('p_two_subs', packs_shop.ago('300 days'), false, 'cancelled', 3, packs_shop.ago('2 days')),
  ('p_cancelled', packs_shop.ago('200 days'), false, 'cancelled', 5, packs_shop.ago('100 days')),
  ('p_unknown', packs_shop.ago('50 days'), false, 'active', NULL, NULL);

-- crm -----------------------------------------------------------------------------------------
INSERT INTO packs_shop.deals VALUES
  ('d_busy', 'D1', packs_shop.ago('10 days'), packs_shop.ago('2 days'), 'open', 3),
  ('d_updates2', 'D2', packs_shop.ago('10 days'), packs_shop.ago('5 days'), 'open', 2),
  ('d_session', 'D3', packs_shop.ago('40 days'), packs_shop.ago('25 days'), 'open', 0),
  ('d_quiet', 'D4', packs_shop.ago('60 days'), packs_shop.ago('45 days'), 'open', 0),
  ('d_quiet_emailed', 'D5', packs_shop.ago('60 days'), packs_shop.ago('45 days'), 'open', 0),
  ('d_lost', 'D6', packs_shop.ago('30 days'), packs_shop.ago('5 days'), 'open', 4),
  ('d_lost', 'D7', packs_shop.ago('100 days'), packs_shop.ago('10 days'), 'lost', NULL),
  ('d_old_lost', 'D8', packs_shop.ago('10 days'), packs_shop.ago('1 day'), 'open', 5),
  ('d_old_lost', 'D9', packs_shop.ago('150 days'), packs_shop.ago('100 days'), 'lost', NULL),
  ('d_won_recent', 'D10', packs_shop.ago('20 days'), packs_shop.ago('5 days'), 'won', NULL),
  ('d_engaged_long_ago', 'D16', packs_shop.ago('10 days'), packs_shop.ago('2 days'), 'open', 1),
  ('d_old_deal', 'D11', packs_shop.ago('100 days'), packs_shop.ago('95 days'), 'open', 0),
  ('d_repeat', 'D12', packs_shop.ago('200 days'), packs_shop.ago('190 days'), 'won', NULL),
  ('d_repeat', 'D13', packs_shop.ago('150 days'), packs_shop.ago('140 days'), 'won', NULL),
  ('d_won_quiet', 'D14', packs_shop.ago('300 days'), NULL, 'won', NULL),
  ('d_won_emailed', 'D15', packs_shop.ago('300 days'), NULL, 'won', NULL);
INSERT INTO packs_shop.events VALUES
  ('d_session', 'session', packs_shop.ago('3 days')),
  ('d_quiet_emailed', 'email_open', packs_shop.ago('5 days')),
  ('d_lost', 'session', packs_shop.ago('2 days')),
  ('d_repeat', 'session', packs_shop.ago('5 days')),
  ('d_won_quiet', 'session', packs_shop.ago('40 days')),
  ('d_engaged_long_ago', 'session', packs_shop.ago('40 days')),
  ('d_won_emailed', 'email_click', packs_shop.ago('3 days')),
  ('s_quiet', 'email_open', packs_shop.ago('40 days')),
  ('s_clicked', 'email_click', packs_shop.ago('10 days')),
  ('s_session_only', 'session', packs_shop.ago('5 days'));

-- Contacts: everyone except e_orders_only; marketing opt-in only where a test needs it.
INSERT INTO packs_shop.people (id, email, marketing, signed_up)
SELECT id, id || '@example.com', 'no', packs_shop.ago('400 days')
FROM (SELECT customer FROM packs_shop.orders UNION SELECT who FROM packs_shop.events
      UNION SELECT customer FROM packs_shop.subs UNION SELECT person FROM packs_shop.deals) t(id)
WHERE id <> 'e_orders_only';
INSERT INTO packs_shop.people VALUES
  ('e_virgin', 'e_virgin@example.com', 'yes', packs_shop.ago('400 days')),
  ('e_optout', 'e_optout@example.com', 'no', packs_shop.ago('400 days')),
  ('e_optnull', 'e_optnull@example.com', NULL, packs_shop.ago('400 days')),
  ('s_new', 's_new@example.com', 'yes', packs_shop.ago('10 days')),
  ('s_no', 's_no@example.com', 'no', packs_shop.ago('100 days')),
  ('s_null_signup', 's_null_signup@example.com', 'yes', NULL);
UPDATE packs_shop.people SET marketing = 'yes', signed_up = packs_shop.ago('100 days')
WHERE id IN ('e_cancelled', 's_quiet', 's_clicked', 's_session_only');

-- The oracle: one query per segment, from the wording, over the raw tables only.
CREATE VIEW packs_shop.oracle(segment, customer_id) AS
WITH valid AS (SELECT * FROM packs_shop.orders WHERE status <> 'cancelled'),
     per_customer AS (SELECT customer, count(*) AS n, sum(total) AS spent, max(placed_at) AS last_at
                      FROM valid GROUP BY customer),
     -- an abandoned cart: the last cart_add before a 15-minute gap with no completed order
     -- (valid order or checkout) and no further cart_add, once those 15 minutes have passed
     abandoned AS (
       SELECT a.who, a.at FROM packs_shop.events a
       WHERE a.what = 'cart_add' AND a.at + interval '15 minutes' <= now()
         AND NOT EXISTS (SELECT FROM packs_shop.events n WHERE n.who = a.who AND n.what = 'cart_add'
                           AND n.at > a.at AND n.at <= a.at + interval '15 minutes')
         AND NOT EXISTS (SELECT FROM packs_shop.events n WHERE n.who = a.who AND n.what = 'checkout'
                           AND n.at BETWEEN a.at AND a.at + interval '15 minutes')
         AND NOT EXISTS (SELECT FROM valid v WHERE v.customer = a.who
                           AND v.placed_at BETWEEN a.at AND a.at + interval '15 minutes')),
     completed AS (SELECT customer AS who, placed_at AS at FROM valid
                   UNION ALL SELECT who, at FROM packs_shop.events WHERE what = 'checkout'),
     engaged AS (SELECT who, max(at) AS last_at FROM packs_shop.events
                 WHERE what IN ('session', 'email_open', 'email_click') GROUP BY who)
-- ecommerce
SELECT 'ecommerce_customers', customer FROM per_customer WHERE spent > 0
UNION ALL SELECT 'ecommerce_single_order_customers', customer FROM per_customer WHERE n = 1
UNION ALL
SELECT 'ecommerce_abandoned_browsers', who FROM packs_shop.events e
WHERE what = 'product_view' AND at >= now() - interval '14 days'
  AND NOT EXISTS (SELECT FROM packs_shop.orders o WHERE o.customer = e.who AND o.placed_at >= now() - interval '14 days')
  AND NOT EXISTS (SELECT FROM completed c WHERE c.who = e.who AND c.at >= now() - interval '14 days')
  AND NOT EXISTS (SELECT FROM abandoned a WHERE a.who = e.who AND a.at >= now() - interval '14 days')
GROUP BY who HAVING count(*) >= 2
UNION ALL
SELECT DISTINCT 'ecommerce_abandoned_carts', who FROM abandoned a
WHERE at >= now() - interval '7 days'
  AND NOT EXISTS (SELECT FROM completed c WHERE c.who = a.who AND c.at >= now() - interval '7 days')
UNION ALL
SELECT 'ecommerce_virgin_customers', id FROM packs_shop.people p
WHERE marketing = 'yes' AND NOT EXISTS (SELECT FROM valid v WHERE v.customer = p.id)
UNION ALL
SELECT DISTINCT 'ecommerce_waiting_on_stock', who FROM packs_shop.events WHERE what = 'back_in_stock'
UNION ALL
SELECT 'ecommerce_slipping_customers', customer FROM per_customer
WHERE last_at >= now() - interval '90 days' AND last_at < now() - interval '30 days'
UNION ALL SELECT 'ecommerce_repeat_customers', customer FROM per_customer WHERE n > 1
UNION ALL SELECT 'ecommerce_vip_customers', customer FROM per_customer WHERE spent > 1000
-- payments
UNION ALL
SELECT DISTINCT 'payments_on_trial', customer FROM packs_shop.subs
WHERE trial AND started > now() - interval '30 days'
UNION ALL
SELECT DISTINCT 'payments_engaged_trials', customer FROM packs_shop.subs
WHERE trial AND status = 'trialing' AND rating >= 4
UNION ALL
SELECT DISTINCT 'payments_customers', customer FROM packs_shop.subs WHERE status = 'active'
UNION ALL
SELECT DISTINCT 'payments_power_users', customer FROM packs_shop.subs WHERE status = 'active' AND rating = 5
UNION ALL
SELECT DISTINCT 'payments_slipping_trials', customer FROM packs_shop.subs
WHERE trial AND started > now() - interval '30 days' AND started < now() - interval '2 days'
  AND (rating IN (1, 2) OR last_seen < now() - interval '7 days')
UNION ALL
SELECT 'payments_slipping_customers', customer FROM packs_shop.subs s
WHERE status = 'active'
  AND (SELECT max(last_seen) FROM packs_shop.subs t WHERE t.customer = s.customer) < now() - interval '30 days'
UNION ALL
SELECT DISTINCT 'payments_expired_trials', customer FROM packs_shop.subs s
WHERE trial AND started <= now() - interval '30 days'
  AND NOT EXISTS (SELECT FROM packs_shop.subs p WHERE p.customer = s.customer AND (p.status = 'active' OR NOT p.trial))
-- crm
UNION ALL
SELECT 'crm_slipping_subscribers', id FROM packs_shop.people p
WHERE marketing = 'yes' AND coalesce(signed_up <= now() - interval '30 days', true)
  AND NOT EXISTS (SELECT FROM packs_shop.events e WHERE e.who = p.id AND e.what IN ('email_open', 'email_click')
                    AND e.at > now() - interval '30 days')
UNION ALL
SELECT DISTINCT 'crm_new_deals', person FROM packs_shop.deals WHERE created > now() - interval '90 days'
UNION ALL
SELECT DISTINCT 'crm_engaged_deals', person FROM packs_shop.deals d
WHERE created > now() - interval '90 days'
  AND NOT EXISTS (SELECT FROM packs_shop.deals l WHERE l.person = d.person AND l.stage = 'lost'
                    AND coalesce(l.updated, l.created) > now() - interval '90 days')
  AND (d.updates_30d >= 3
       OR EXISTS (SELECT FROM packs_shop.events e WHERE e.who = d.person AND e.what = 'session'
                    AND e.at > now() - interval '30 days'))
UNION ALL
SELECT DISTINCT 'crm_slipping_deals', person FROM packs_shop.deals d
WHERE created > now() - interval '90 days'
  AND NOT EXISTS (SELECT FROM packs_shop.deals l WHERE l.person = d.person AND l.stage = 'lost'
                    AND coalesce(l.updated, l.created) > now() - interval '90 days')
  AND NOT EXISTS (SELECT FROM packs_shop.deals w WHERE w.person = d.person AND w.stage = 'won')
  AND (NOT EXISTS (SELECT FROM packs_shop.deals u WHERE u.person = d.person AND u.created > now() - interval '90 days'
                     AND coalesce(u.updated, u.created) > now() - interval '30 days')
       OR EXISTS (SELECT FROM engaged g WHERE g.who = d.person AND g.last_at <= now() - interval '30 days'))
UNION ALL
SELECT DISTINCT 'crm_customers', person FROM packs_shop.deals WHERE stage = 'won'
UNION ALL
SELECT 'crm_repeat_customers', person FROM packs_shop.deals WHERE stage = 'won' GROUP BY person HAVING count(*) > 1
UNION ALL
SELECT DISTINCT 'crm_slipping_customers', person FROM packs_shop.deals d
WHERE stage = 'won'
  AND coalesce((SELECT last_at FROM engaged g WHERE g.who = d.person), '-infinity') <= now() - interval '30 days'
-- lifecycle: Clerk.io stage and Ometria value band (AOV of valid orders against the mean AOV of
-- all customers with a valid order), with the extension's own aggregates over the raw orders
UNION ALL
SELECT 'lifecycle_' || lifecycle_stage(placed_at, now()), customer FROM valid GROUP BY customer
UNION ALL
SELECT 'lifecycle_value_' || value_band(sum(total) / count(*)) OVER (), customer FROM valid GROUP BY customer;

-- Map the shop (column expressions where its names or encodings differ).
SELECT segments.map_source('orders', 'packs_shop.orders',
  '{"customer_id": "customer", "order_id": "order_no::text", "ordered_at": "placed_at", "amount": "total", "valid": "status <> ''cancelled''"}');
SELECT segments.map_source('contacts', 'packs_shop.people',
  '{"customer_id": "id", "email": "email", "opted_in": "marketing = ''yes''", "created_at": "signed_up"}');
SELECT segments.map_source('events', 'packs_shop.events', '{"customer_id": "who", "kind": "what", "at": "at"}');
SELECT segments.map_source('subscriptions', 'packs_shop.subs',
  '{"customer_id": "customer", "started_at": "started", "is_trial": "trial", "status": "status", "engagement_rating": "rating", "last_seen_at": "last_seen"}');
SELECT segments.map_source('deals', 'packs_shop.deals',
  '{"customer_id": "person", "deal_id": "deal", "created_at": "created", "updated_at": "updated", "state": "stage", "updates_30d": "updates_30d"}');
SELECT customers FROM segments.refresh_facts();

-- Every pack installs completely (all sources mapped), built at once.
SELECT p.pack, i.status, count(*) AS segments, sum(cardinality(i.missing_sources)) AS missing
FROM (VALUES ('ecommerce'), ('payments'), ('crm'), ('lifecycle')) p(pack),
     LATERAL segments.install_pack(p.pack) i
GROUP BY 1, 2 ORDER BY 1, 2;
SELECT count(*) AS installed, count(*) FILTER (WHERE status = 'active') AS active,
       count(DISTINCT pack) AS packs FROM segments.segments;

-- The oracle's answer, segment by segment (read by hand against the edges above).
SELECT segment, count(*) AS n, string_agg(customer_id, ' ' ORDER BY customer_id) AS members
FROM (SELECT DISTINCT segment, customer_id FROM packs_shop.oracle) o GROUP BY segment ORDER BY segment;

-- Engine membership vs oracle, both ways: no rows.
(SELECT segment, customer_id, 'only in engine' AS diff FROM segments.members
 EXCEPT SELECT segment, customer_id, 'only in engine' FROM packs_shop.oracle)
UNION ALL
(SELECT segment, customer_id, 'only in oracle' FROM packs_shop.oracle
 EXCEPT SELECT segment, customer_id, 'only in oracle' FROM segments.members)
ORDER BY 1, 2;
-- No segment of the packs is empty, and none is everyone (the data set separates them).
SELECT p.name FROM segments.pack_segments p
WHERE NOT EXISTS (SELECT FROM segments.members m WHERE m.segment = p.name)
   OR (SELECT count(*) FROM segments.members m WHERE m.segment = p.name) = (SELECT count(*) FROM segments.customers);

-- The comparison can fail: with a VIP threshold of 999.99 the engine's segment gains e_vip_exact
-- (exactly 1000), which the oracle (Ortto's "more than $1000") does not have.
SELECT segment, status FROM segments.install_pack('ecommerce', vip_threshold => 999.99) WHERE status <> 'unchanged';
SELECT segment, customer_id FROM segments.members
EXCEPT SELECT segment, customer_id FROM packs_shop.oracle;
SELECT segment, status FROM segments.install_pack('ecommerce') WHERE status <> 'unchanged';

-- Time moves: a refresh after new activity still matches the oracle. b_one_view views again,
-- c_abandoned orders, p_trial_rating3 is rated 4, d_updates2 gets a third update.
INSERT INTO packs_shop.events VALUES ('b_one_view', 'product_view', now() - interval '1 hour');
INSERT INTO packs_shop.orders (customer, placed_at, total, status) VALUES ('c_abandoned', now() - interval '1 hour', 75, 'paid');
UPDATE packs_shop.subs SET rating = 4 WHERE customer = 'p_trial_rating3';
UPDATE packs_shop.deals SET updates_30d = 3 WHERE person = 'd_updates2';
SELECT customers FROM segments.refresh_facts();
SELECT count(*) FILTER (WHERE status = 'succeeded') AS refreshed, sum(joined) AS joined, sum("left") AS left
FROM segments.refresh_all();
(SELECT segment, customer_id, 'only in engine' AS diff FROM segments.members
 EXCEPT SELECT segment, customer_id, 'only in engine' FROM packs_shop.oracle)
UNION ALL
(SELECT segment, customer_id, 'only in oracle' FROM packs_shop.oracle
 EXCEPT SELECT segment, customer_id, 'only in oracle' FROM segments.members)
ORDER BY 1, 2;
SELECT segment, customer_id, change FROM segments.changes
WHERE run_id IN (SELECT max(id) FROM segments.runs GROUP BY segment_id) ORDER BY 1, 2;

-- Leave the database as found.
SET client_min_messages = warning;
DROP EXTENSION pg_segments CASCADE;
DROP SCHEMA packs_shop CASCADE;
CREATE EXTENSION pg_segments;
RESET client_min_messages;
