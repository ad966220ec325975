-- Incremental facts are exact: random order (with refunds, cancellations, future dates), event,
-- contact, subscription and deal changes plus clock advances (minutes to weeks), each followed by
-- an incremental refresh at the new time, compared EXCEPT both ways with a full computation at that
-- time on every column of segments.customers (the clock columns refreshed_at and
-- days_since_last_order are derived when read), the predictive scores within 1e-9 of a full
-- computation with the same (stored) models: they too are derived when read, from the models of
-- the last full refresh and each row's stored BTYD summary, so they move with the clock for every
-- row. Without horizon_at the windows, life cycles and abandoned carts of untouched customers
-- would go stale (counted below: such recomputes happen).
-- Subscription and deal updates move rows in and out of the packs' per-row counts (trials_30d,
-- slipping_trials, new_deals_touched_30d...).
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
        ELSIF random() < 0.5 THEN UPDATE inc.subs SET status = 'active', rating = 5 WHERE ctid = (SELECT ctid FROM inc.subs ORDER BY random() LIMIT 1);
        ELSE UPDATE inc.subs SET trial = true, status = 'trialing', rating = floor(random() * 6)::int,
               started = t - random() * interval '35 days', seen = t - random() * interval '10 days'
             WHERE ctid = (SELECT ctid FROM inc.subs ORDER BY random() LIMIT 1); END IF;
      ELSE
        IF random() < 0.6 THEN INSERT INTO inc.deals(customer, created, updated, state, updates)
          SELECT 'k' || (1 + floor(random() * 120)), t - random() * interval '120 days' + interval '1 day' * (random() < 0.05)::int,
                 CASE WHEN random() < 0.5 THEN t - random() * interval '20 days' END,
                 (ARRAY['open', 'won', 'lost'])[1 + floor(random() * 3)], CASE WHEN random() < 0.3 THEN floor(random() * 5)::int END;
        ELSIF random() < 0.5 THEN UPDATE inc.deals SET state = 'lost', updated = t - interval '1 hour' WHERE id = (SELECT id FROM inc.deals ORDER BY random() LIMIT 1);
        ELSE UPDATE inc.deals SET updates = 3, updated = t - random() * interval '40 days' WHERE id = (SELECT id FROM inc.deals ORDER BY random() LIMIT 1); END IF;
    END CASE;
  END LOOP;
END $$;
SELECT setseed(0.11);
SELECT inc.churn(1500);
SELECT customers > 100 AS many FROM segments.refresh_facts('2024-06-01');
SELECT segments.track_changes() AS tracked;
SELECT customers > 100 AS many, incremental FROM segments.refresh_facts('2024-06-01');  -- the first after tracking is full
-- The refit stored the models compute_facts fits (over the same summaries, here from the stored ones).
SELECT (s.bgnbd).customers = (f.bg).customers AS same_buyers,
       abs((s.bgnbd).r / (f.bg).r - 1) < 1e-9 AND abs((s.bgnbd).alpha / (f.bg).alpha - 1) < 1e-9
         AND abs((s.bgnbd).a / (f.bg).a - 1) < 1e-9 AND abs((s.bgnbd).b / (f.bg).b - 1) < 1e-9 AS same_bgnbd,
       abs((s.gammagamma).p / (f.gg).p - 1) < 1e-9 AND abs((s.gammagamma).q / (f.gg).q - 1) < 1e-9 AS same_gammagamma
FROM segments.facts_status s,
     (SELECT bgnbd_fit((o.rfm).frequency, (o.rfm).recency, (o.rfm).t) AS bg,
             gammagamma_fit((o.rfm).frequency, (o.rfm).monetary) FILTER (WHERE (o.rfm).frequency = 0 OR (o.rfm).monetary > 0) AS gg
      FROM segments_internal.order_facts('2024-06-01') o WHERE o.rfm IS NOT NULL) f;
-- 120 random customers do not identify a BG/NBD model (the fit reports so and the scores stay
-- NULL); the comparisons below score with a fixed converged one (CDNOW's), stored as a refit would.
UPDATE segments.facts_status SET
  bgnbd = ROW(0.243, 4.414, 0.793, 2.426, NULL, 120, true, NULL, 'test', 'weeks', NULL, NULL, NULL)::bgnbd_model,
  gammagamma = ROW(6.25, 3.74, 15.44, NULL, 120, true, NULL, 'test', NULL, NULL, NULL)::gammagamma_model;

-- The comparison: every column but the predictive scores.
CREATE FUNCTION inc.differences(at timestamptz) RETURNS bigint LANGUAGE sql AS $$
  WITH inc AS (SELECT to_jsonb(c) - '{p_alive,expected_orders_90d,predicted_clv,expected_next_order_at}'::text[] AS j
               FROM segments.customers c),
       full_ AS (SELECT to_jsonb(f) - '{p_alive,expected_orders_90d,predicted_clv,expected_next_order_at}'::text[] AS j
                 FROM segments.compute_facts(at) f)
  SELECT (SELECT count(*) FROM (SELECT j FROM inc EXCEPT SELECT j FROM full_) a)
       + (SELECT count(*) FROM (SELECT j FROM full_ EXCEPT SELECT j FROM inc) b)
$$;
-- The predictive scores against compute_facts(at) scoring with the stored models (facts_globals,
-- as a shard's full refresh does): rows beyond 1e-9 (predicted_clv is rounded to cents).
CREATE FUNCTION inc.score_differences(at timestamptz) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  INSERT INTO segments_internal.facts_globals (bgnbd, gammagamma) SELECT s.bgnbd, s.gammagamma FROM segments.facts_status s;
  SELECT count(*) INTO n FROM segments.customers c FULL JOIN segments.compute_facts(at) f USING (customer_id)
  WHERE NOT (coalesce(abs(c.p_alive - f.p_alive) <= 1e-9, (c.p_alive, f.p_alive) IS NULL)
         AND coalesce(abs(c.expected_orders_90d - f.expected_orders_90d) <= 1e-9, (c.expected_orders_90d, f.expected_orders_90d) IS NULL)
         AND coalesce(abs(c.predicted_clv - f.predicted_clv) <= 1e-9, (c.predicted_clv, f.predicted_clv) IS NULL)
         AND coalesce(abs(extract(epoch FROM c.expected_next_order_at - f.expected_next_order_at)) <= 1e-6,
                      (c.expected_next_order_at, f.expected_next_order_at) IS NULL));
  DELETE FROM segments_internal.facts_globals;
  RETURN n;
END $$;
CREATE TABLE inc.steps(step int, at timestamptz, logged int, horizon_passed int, recomputed bigint, differences bigint,
                       score_differences bigint, scored bigint, moved_untouched bigint, totals_differ boolean);
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
    CREATE TEMP TABLE before_step ON COMMIT DROP AS
      SELECT c.customer_id, c.p_alive, c.btyd_frequency, c.btyd_recency, c.btyd_first_day FROM segments.customers c;
    r := segments.refresh_facts(now_, incremental => true);
    INSERT INTO inc.steps VALUES (s, now_, logged, passed, r.inserted + r.updated + r.deleted, inc.differences(now_),
      inc.score_differences(now_), (SELECT count(p_alive) FROM segments.customers),
      -- customers whose BTYD summary stayed but whose p_alive moved with the clock (their T grew)
      (SELECT count(*) FROM before_step b JOIN segments.customers c USING (customer_id)
       WHERE (c.btyd_frequency, c.btyd_recency, c.btyd_first_day) = (b.btyd_frequency, b.btyd_recency, b.btyd_first_day)
         AND c.p_alive <> b.p_alive),
      -- the AOV totals kept by difference against a sum of the rows, and the mean cut from them to the digit
      (SELECT (s.aov_sum, s.buyers) IS DISTINCT FROM (x.total, x.n)
              OR segments_internal._mean_aov(s.aov_sum, s.buyers)::text IS DISTINCT FROM segments_internal._mean_aov(x.total, x.n)::text
       FROM segments.facts_status s,
            (SELECT coalesce(sum(f.aov) FILTER (WHERE f.orders > 0), 0) AS total, count(*) FILTER (WHERE f.orders > 0) AS n
             FROM segments_internal.customer_facts f) x));
    DROP TABLE before_step;
  END LOOP;
END $$;
SELECT count(*) AS steps, sum(differences) AS differences, sum(score_differences) AS score_differences,
       count(*) FILTER (WHERE totals_differ) AS aov_totals_differ,
       bool_and(scored > 40) AS scored, sum(moved_untouched) > 0 AS scores_move_with_the_clock, sum(logged) > 0 AS some_logged,
       sum(horizon_passed) > 0 AS some_horizons_passed, bool_and(recomputed <= logged + horizon_passed) AS only_those,
       max(at) - min(at) > interval '30 days' AS clock_moved
FROM inc.steps;
-- The mean AOV does not depend on which rows the kept sum went through: a buyer with a tiny AOV
-- (0.03: the most digits of all) comes and goes; the kept sum keeps that many digits, a sum of the
-- rows does not, and the mean is the same to the last digit.
INSERT INTO inc.orders(customer, at, amount, status) VALUES ('tiny', (SELECT max(at) FROM inc.steps) - interval '1 hour', 0.03, 'paid');
SELECT inserted FROM segments.refresh_facts((SELECT max(at) FROM inc.steps), incremental => true);
DELETE FROM inc.orders WHERE customer = 'tiny';
SELECT deleted FROM segments.refresh_facts((SELECT max(at) FROM inc.steps), incremental => true);
SELECT scale(s.aov_sum) > scale(x.total) AS kept_more_digits, s.aov_sum = x.total AS same_sum,
       segments_internal._mean_aov(s.aov_sum, s.buyers)::text = segments_internal._mean_aov(x.total, x.n)::text AS same_mean,
       inc.differences((SELECT max(at) FROM inc.steps)) AS differences
FROM segments.facts_status s,
     (SELECT sum(f.aov) FILTER (WHERE f.orders > 0) AS total, count(*) FILTER (WHERE f.orders > 0) AS n
      FROM segments_internal.customer_facts f) x;
-- The per-subscription / per-deal counts the payments and crm packs read took part (not all zero).
SELECT count(*) FILTER (WHERE trials_30d > 0) > 0 AS trials, count(*) FILTER (WHERE slipping_trials > 0) > 0 AS slipping,
       count(*) FILTER (WHERE engaged_trials > 0) > 0 AS engaged, count(*) FILTER (WHERE subscriptions_seen_30d > 0) > 0 AS seen,
       count(*) FILTER (WHERE active_5_star_subscriptions > 0) > 0 AS five_star, count(*) FILTER (WHERE busy_deals_90d > 0) > 0 AS busy,
       count(*) FILTER (WHERE new_deals_touched_30d > 0) > 0 AS touched, count(*) FILTER (WHERE opted_in_over_30d > 0) > 0 AS opted
FROM segments.customers;
SELECT refreshed_at = (SELECT max(at) FROM inc.steps) AS as_of_last_step, incremental, full_refreshed_at FROM segments.facts_status;
SELECT changed_since_fit > 0 AS changes_counted FROM segments.facts_status;
-- A full refresh at the same time changes nothing but the refit scores (and the counter).
CREATE TEMP TABLE before AS SELECT * FROM segments.customers;
SELECT incremental, changed_since_fit, (bgnbd).converged FROM segments.refresh_facts((SELECT max(at) FROM inc.steps));
SELECT count(*) AS changed_by_full FROM (
  SELECT to_jsonb(c) - '{p_alive,expected_orders_90d,predicted_clv,expected_next_order_at}'::text[] FROM segments.customers c
  EXCEPT SELECT to_jsonb(b) - '{p_alive,expected_orders_90d,predicted_clv,expected_next_order_at}'::text[] FROM before b) d;

-- The automatic refresh (segment refreshes, the worker): incremental while the last fit is recent
-- and few customers changed since; a refit once they pass pg_segments.facts_refit_share of the
-- buyers the models were fitted over.
SELECT incremental FROM segments.refresh_facts(now());
SET pg_segments.facts_max_age = 0;
SET pg_segments.facts_refit_share = 0.5;
INSERT INTO inc.orders(customer, at, amount, status) VALUES ('k1', now() - interval '1 hour', 10, 'paid');
SELECT segments_internal._ensure_facts() AS refreshed;
SELECT incremental, changed_since_fit FROM segments.facts_status;
SET pg_segments.facts_refit_share = 0;  -- 1 changed customer > 0 % of them: refit
INSERT INTO inc.orders(customer, at, amount, status) VALUES ('k2', now() - interval '1 hour', 10, 'paid');
SELECT segments_internal._ensure_facts() AS refreshed;
SELECT incremental, changed_since_fit, full_refreshed_at = refreshed_at AS refitted FROM segments.facts_status;
SET pg_segments.facts_refit_share = -1;  -- off: only the interval refits
INSERT INTO inc.orders(customer, at, amount, status) VALUES ('k3', now() - interval '1 hour', 10, 'paid');
SELECT segments_internal._ensure_facts() AS refreshed;
INSERT INTO inc.orders(customer, at, amount, status) VALUES ('k4', now() - interval '1 hour', 10, 'paid');
SELECT segments_internal._ensure_facts() AS refreshed;
SELECT incremental, changed_since_fit FROM segments.facts_status;
RESET pg_segments.facts_refit_share;
SET pg_segments.facts_max_age = -1;

-- Purchase days are local days of the refreshing session: an incremental refresh in a time zone
-- 26 hours away from the last one's leaves two rows a day off against the new cut-off day (T below
-- recency, or negative); they get no score rather than an error for every reader.
SET timezone = 'Pacific/Kiritimati';
CREATE TABLE inc.tz(customer text, id serial, at timestamptz, amount numeric);
INSERT INTO inc.tz(customer, at, amount) VALUES ('a', '2024-06-01 10:30+00', 10), ('a', '2024-05-01 10:30+00', 10), ('b', '2024-06-01 10:30+00', 5);
SELECT segments.map_source('orders', 'inc.tz', '{"customer_id": "customer", "order_id": "id", "ordered_at": "at", "amount": "amount"}');
SELECT segments.track_changes() > 0 AS tracked;
SELECT customers FROM segments.refresh_facts('2024-06-01 11:00+00');
UPDATE segments.facts_status SET
  bgnbd = ROW(0.243, 4.414, 0.793, 2.426, NULL, 120, true, NULL, 'test', 'weeks', NULL, NULL, NULL)::bgnbd_model,
  gammagamma = ROW(6.25, 3.74, 15.44, NULL, 120, true, NULL, 'test', NULL, NULL, NULL)::gammagamma_model;
SELECT customer_id, btyd_first_day, round(p_alive::numeric, 4) AS p_alive, predicted_clv FROM segments.customers
WHERE customer_id IN ('a', 'b', 'c') ORDER BY 1;
SET timezone = 'Etc/GMT+12';
INSERT INTO inc.tz(customer, at, amount) VALUES ('c', '2024-06-01 10:40+00', 7);
SELECT customers, incremental, cutoff_day FROM segments.refresh_facts('2024-06-01 11:05+00', incremental => true);
SELECT customer_id, btyd_first_day, round(p_alive::numeric, 4) AS p_alive, predicted_clv FROM segments.customers
WHERE customer_id IN ('a', 'b', 'c') ORDER BY 1;
SET timezone = 'UTC';

SET client_min_messages = warning;
DROP EXTENSION pg_segments CASCADE;
DROP SCHEMA inc CASCADE;
RESET client_min_messages;
CREATE EXTENSION pg_segments;
