-- Incremental facts are exact: random order (with refunds, cancellations, future dates), event,
-- contact, subscription and deal changes plus clock advances (minutes to weeks), each followed by
-- an incremental refresh at the new time, compared EXCEPT both ways with a full computation at that
-- time on every column of segments.customers (the clock columns refreshed_at and
-- days_since_last_order are derived when read) but the predictive scores (refitted only by a full
-- refresh). Without horizon_at the windows, life cycles and abandoned carts of untouched customers
-- would go stale (counted below: such recomputes happen).
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS pg_segments CASCADE;
RESET client_min_messages;
CREATE EXTENSION pg_segments;
SET timezone = 'UTC';
SET pg_segments.facts_max_age = -1;
CREATE SCHEMA inc;
CREATE TABLE inc.orders(id serial PRIMARY KEY, customer text, at timestamptz, amount numeric, status text);
CREATE TABLE inc.contacts(customer text, email text, created timestamptz, opted boolean);
CREATE TABLE inc.events(customer text, kind text, at timestamptz);
CREATE TABLE inc.subs(customer text, started timestamptz, trial boolean, status text, rating int, seen timestamptz);
CREATE TABLE inc.deals(customer text, id serial, created timestamptz, updated timestamptz, state text, updates int);
SELECT segments.map_source('orders', 'inc.orders',
  '{"customer_id": "customer", "order_id": "id", "ordered_at": "at", "amount": "amount", "valid": "status <> ''cancelled''"}');
SELECT segments.map_source('contacts', 'inc.contacts', '{"customer_id": "customer", "email": "email", "created_at": "created", "opted_in": "opted"}');
SELECT segments.map_source('events', 'inc.events', '{"customer_id": "customer", "kind": "kind", "at": "at"}');
SELECT segments.map_source('subscriptions', 'inc.subs',
  '{"customer_id": "customer", "started_at": "started", "is_trial": "trial", "status": "status", "engagement_rating": "rating", "last_seen_at": "seen"}');
SELECT segments.map_source('deals', 'inc.deals',
  '{"customer_id": "customer", "deal_id": "id", "created_at": "created", "updated_at": "updated", "state": "state", "updates_30d": "updates"}');

-- Random rows for customers k1..k120 around a clock; some dated after it.
CREATE TABLE inc.clock(t timestamptz);
INSERT INTO inc.clock VALUES ('2024-06-01');
CREATE FUNCTION inc.churn(n int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE t timestamptz := (SELECT c.t FROM inc.clock c); i int;
BEGIN
  FOR i IN 1 .. n LOOP
    CASE floor(random() * 10)::int
      WHEN 0, 1 THEN INSERT INTO inc.orders(customer, at, amount, status)
        SELECT 'k' || (1 + floor(random() * 120)), t - random() * interval '120 days' + interval '3 days' * (random() < 0.05)::int,
               CASE WHEN random() < 0.1 THEN -round((random() * 50)::numeric, 2) ELSE round((random() * 200)::numeric, 2) END,
               CASE WHEN random() < 0.15 THEN 'cancelled' ELSE 'paid' END;
      WHEN 2 THEN UPDATE inc.orders SET amount = amount + 10, status = CASE WHEN random() < 0.5 THEN 'paid' ELSE 'cancelled' END
        WHERE id = (SELECT id FROM inc.orders ORDER BY random() LIMIT 1);
      WHEN 3 THEN DELETE FROM inc.orders WHERE id = (SELECT id FROM inc.orders ORDER BY random() LIMIT 1);
      WHEN 4, 5 THEN INSERT INTO inc.events
        SELECT 'k' || (1 + floor(random() * 120)), (ARRAY['product_view', 'cart_add', 'checkout', 'session', 'email_open', 'email_click', 'back_in_stock'])[1 + floor(random() * 7)],
               t - random() * interval '35 days' + interval '20 minutes' * (random() < 0.2)::int;
      WHEN 6 THEN
        IF random() < 0.3 THEN DELETE FROM inc.contacts WHERE customer = 'k' || (1 + floor(random() * 120));
        ELSE INSERT INTO inc.contacts SELECT 'k' || (1 + floor(random() * 120)), 'x' || floor(random() * 1000) || '@example.com',
               t - random() * interval '300 days', random() < 0.5; END IF;
      WHEN 7 THEN
        IF random() < 0.5 THEN INSERT INTO inc.subs SELECT 'k' || (1 + floor(random() * 120)), t - random() * interval '60 days' + interval '2 days' * (random() < 0.1)::int,
               random() < 0.5, (ARRAY['trialing', 'active', 'expired'])[1 + floor(random() * 3)], 1 + floor(random() * 5), t - random() * interval '40 days';
        ELSE UPDATE inc.subs SET status = 'active', rating = 5 WHERE ctid = (SELECT ctid FROM inc.subs ORDER BY random() LIMIT 1); END IF;
      ELSE
        IF random() < 0.6 THEN INSERT INTO inc.deals(customer, created, updated, state, updates)
          SELECT 'k' || (1 + floor(random() * 120)), t - random() * interval '120 days' + interval '1 day' * (random() < 0.05)::int,
                 CASE WHEN random() < 0.5 THEN t - random() * interval '20 days' END,
                 (ARRAY['open', 'won', 'lost'])[1 + floor(random() * 3)], CASE WHEN random() < 0.3 THEN floor(random() * 5)::int END;
        ELSE UPDATE inc.deals SET state = 'lost', updated = t - interval '1 hour' WHERE id = (SELECT id FROM inc.deals ORDER BY random() LIMIT 1); END IF;
    END CASE;
  END LOOP;
END $$;
SELECT setseed(0.11);
SELECT inc.churn(1500);
SELECT customers > 100 AS many FROM segments.refresh_facts('2024-06-01');
SELECT segments.track_changes() AS tracked;
SELECT customers > 100 AS many, incremental FROM segments.refresh_facts('2024-06-01');  -- the first after tracking is full

-- The comparison: every column but the predictive scores.
CREATE FUNCTION inc.differences(at timestamptz) RETURNS bigint LANGUAGE sql AS $$
  WITH inc AS (SELECT to_jsonb(c) - '{p_alive,expected_orders_90d,predicted_clv,expected_next_order_at}'::text[] AS j
               FROM segments.customers c),
       full_ AS (SELECT to_jsonb(f) - '{p_alive,expected_orders_90d,predicted_clv,expected_next_order_at}'::text[] AS j
                 FROM segments.compute_facts(at) f)
  SELECT (SELECT count(*) FROM (SELECT j FROM inc EXCEPT SELECT j FROM full_) a)
       + (SELECT count(*) FROM (SELECT j FROM full_ EXCEPT SELECT j FROM inc) b)
$$;
CREATE TABLE inc.steps(step int, at timestamptz, logged int, horizon_passed int, recomputed bigint, differences bigint);
DO $$
DECLARE s int; r segments.facts_status; logged int; passed int; now_ timestamptz;
BEGIN
  FOR s IN 1 .. 30 LOOP
    -- the clock moves by minutes (carts turn abandoned), hours, or days (windows, life cycles)
    UPDATE inc.clock SET t = t + (ARRAY[interval '7 minutes', interval '3 hours', interval '1 day', interval '4 days', interval '9 days'])[1 + floor(random() * 5)]
      RETURNING inc.clock.t INTO now_;
    PERFORM inc.churn(floor(random() * 12)::int);
    SELECT count(*) INTO logged FROM segments.changed_customers;
    SELECT count(*) INTO passed FROM segments.customers c WHERE c.horizon_at <= now_
      AND c.customer_id NOT IN (SELECT customer_id FROM segments.changed_customers);
    r := segments.refresh_facts(now_, incremental => true);
    INSERT INTO inc.steps VALUES (s, now_, logged, passed, r.inserted + r.updated + r.deleted, inc.differences(now_));
  END LOOP;
END $$;
SELECT count(*) AS steps, sum(differences) AS differences, sum(logged) > 0 AS some_logged,
       sum(horizon_passed) > 0 AS some_horizons_passed, bool_and(recomputed <= logged + horizon_passed) AS only_those,
       max(at) - min(at) > interval '30 days' AS clock_moved
FROM inc.steps;
SELECT refreshed_at = (SELECT max(at) FROM inc.steps) AS as_of_last_step, incremental, full_refreshed_at FROM segments.facts_status;
-- A full refresh at the same time changes nothing but the refit scores.
CREATE TEMP TABLE before AS SELECT * FROM segments.customers;
SELECT incremental FROM segments.refresh_facts((SELECT max(at) FROM inc.steps));
SELECT count(*) AS changed_by_full FROM (
  SELECT to_jsonb(c) - '{p_alive,expected_orders_90d,predicted_clv,expected_next_order_at}'::text[] FROM segments.customers c
  EXCEPT SELECT to_jsonb(b) - '{p_alive,expected_orders_90d,predicted_clv,expected_next_order_at}'::text[] FROM before b) d;

SET client_min_messages = warning;
DROP EXTENSION pg_segments CASCADE;
DROP SCHEMA inc CASCADE;
RESET client_min_messages;
CREATE EXTENSION pg_segments;
