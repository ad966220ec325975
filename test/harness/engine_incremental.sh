#!/usr/bin/env bash
# Incremental segment refresh == full refresh, randomized. Every rule is created twice: "<rule>"
# (refreshed incrementally when its rule allows) and "<rule> full" (forced to the full path), and an
# incremental rule a third time: "<rule> whole" (refreshed in full, all of them in one pass over
# every customer and one diff, when refresh_all() is the step's refresh). Then,
# for PGS_INCR_STEPS steps (default 30): random order, event, contact and subscription changes
# (inserts, updates, deletes, refunds, new and vanishing customers), subscription and deal changes
# (the payments and crm packs' rules are among the rules), the clock advanced by 0 to 9
# days, a facts refresh at the new time, and either refresh_all() or a random subset of the twins
# refreshed in one transaction. After every step the twins (and triplets) must agree EXACTLY (EXCEPT both ways) on
# membership (with joined_at and the revenue/orders marks), history (size, joined, left, revenue,
# orders, added revenue, times) and change log, the change log must replay to the membership, the
# membership must equal the rule over the facts, and the facts must equal compute_facts() at that
# time. PGS_INCR_SEED picks the random sequence.
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/lib/pg.sh
trap pgs_stop EXIT
pgs_setup
pgs_start
STEPS=${PGS_INCR_STEPS:-30}
SEED=${PGS_INCR_SEED:-11}

q() { pgs_psql -At -v ON_ERROR_STOP=1 -c "$1"; }

pgs_psql -q -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
CREATE EXTENSION pg_segments;
ALTER DATABASE postgres SET pg_segments.facts_max_age = -1;
SET pg_segments.facts_max_age = -1;
SET client_min_messages = error;
CREATE SCHEMA shop;
CREATE TABLE shop.orders (id serial PRIMARY KEY, customer text, at timestamptz, amount numeric, valid boolean);
CREATE TABLE shop.contacts (customer text PRIMARY KEY, email text, opted_in boolean, created_at timestamptz);
CREATE TABLE shop.events (customer text, kind text, at timestamptz);
CREATE TABLE shop.subscriptions (customer text, started_at timestamptz, is_trial boolean, status text, rating int, seen_at timestamptz);
CREATE TABLE shop.deals (id serial, customer text, created_at timestamptz, updated_at timestamptz, state text, updates int);
CREATE TABLE shop.clock (t timestamptz);
INSERT INTO shop.clock VALUES ('2024-03-01 12:00+00');
SELECT setseed(0.11);
INSERT INTO shop.orders (customer, at, amount, valid)
SELECT 'c' || (random() * 300)::int, timestamptz '2024-01-01' + random() * interval '60 days',
       round((random() * 120 - 10)::numeric, 2), random() > 0.1
FROM generate_series(1, 1500);
INSERT INTO shop.contacts SELECT 'c' || i, 'c' || i || '@example.com', random() > 0.5, timestamptz '2023-12-01' + i * interval '1 hour'
FROM generate_series(0, 350) i;
INSERT INTO shop.events SELECT 'c' || (random() * 300)::int, (ARRAY['product_view', 'cart_add', 'checkout', 'email_open', 'session'])[1 + (random() * 4)::int],
       timestamptz '2024-02-01' + random() * interval '29 days'
FROM generate_series(1, 2000);
INSERT INTO shop.subscriptions SELECT 'c' || i, timestamptz '2024-01-15' + i * interval '3 hours', random() > 0.7,
       (ARRAY['active', 'trialing', 'cancelled'])[1 + (random() * 2)::int], 1 + (random() * 4)::int,
       timestamptz '2024-02-01' + random() * interval '29 days'
FROM generate_series(0, 120, 3) i;
INSERT INTO shop.deals (customer, created_at, updated_at, state, updates)
SELECT 'c' || (random() * 300)::int, timestamptz '2023-12-01' + random() * interval '90 days',
       CASE WHEN random() < 0.6 THEN timestamptz '2024-02-01' + random() * interval '29 days' END,
       (ARRAY['open', 'won', 'lost'])[1 + (random() * 2)::int], (random() * 4)::int
FROM generate_series(1, 300);
SELECT segments.map_source('orders', 'shop.orders', '{"customer_id": "customer", "ordered_at": "at", "amount": "amount", "valid": "valid"}');
SELECT segments.map_source('contacts', 'shop.contacts', '{"customer_id": "customer", "email": "email", "opted_in": "opted_in", "created_at": "created_at"}');
SELECT segments.map_source('events', 'shop.events', '{"customer_id": "customer", "kind": "kind", "at": "at"}');
SELECT segments.map_source('subscriptions', 'shop.subscriptions', '{"customer_id": "customer", "started_at": "started_at", "is_trial": "is_trial", "status": "status", "engagement_rating": "rating", "last_seen_at": "seen_at"}');
SELECT segments.map_source('deals', 'shop.deals', '{"customer_id": "customer", "deal_id": "id::text", "created_at": "created_at", "updated_at": "updated_at", "state": "state", "updates_30d": "updates"}');
SELECT segments.refresh_facts((SELECT t FROM shop.clock));

CREATE TABLE shop.rules (name text PRIMARY KEY, rule text, query text, incremental boolean);
INSERT INTO shop.rules VALUES
  ('repeat', 'orders >= 2', NULL, true),
  ('big', 'revenue > 300', NULL, true),
  ('recent', 'orders_30d > 0', NULL, true),
  ('lost', 'lifecycle = ''lost''', NULL, true),
  ('leads', 'opted_in AND orders = 0', NULL, true),
  ('browsers', 'product_views_7d >= 2 OR cart_adds_7d > 0', NULL, true),
  ('subscribers', 'has_active_subscription OR on_trial', NULL, true),
  ('since march', 'last_order_at > timestamptz ''2024-03-10''', NULL, true),
  ('mid aov', 'coalesce(aov, 0) BETWEEN 20 AND 60 AND value_band IN (''medium'', ''high'')', NULL, true),
  ('abandoned', 'abandoned_carts_7d > 0 OR last_abandoned_cart_at IS NOT NULL', NULL, true),
  ('refunded', 'attempted_orders > orders AND revenue < 100', NULL, true),
  ('days', 'days_since_last_order < 20', NULL, false),
  ('clock', 'last_order_at > now() - interval ''1 year''', NULL, false),
  ('above average', NULL, 'SELECT customer_id FROM segments.customers WHERE revenue > (SELECT avg(revenue) FROM segments.customers)', false);
-- The payments and crm packs' rules over per-subscription / per-deal counts (sql/packs/definitions.sql).
INSERT INTO shop.rules SELECT name, rule, NULL, true FROM segments.pack_segments
WHERE pack = 'payments' OR name IN ('crm_slipping_subscribers', 'crm_engaged_deals', 'crm_slipping_deals');
BEGIN;  -- one transaction, so the twins' joined_at and history times are equal
SELECT segments.create_segment(name, rule, query) FROM shop.rules;
SELECT segments.create_segment(name || ' full', rule, query) FROM shop.rules;
SELECT segments.create_segment(name || ' whole', rule, query) FROM shop.rules WHERE incremental;
COMMIT;
-- The twins are forced onto the full path.
UPDATE segments.segments SET incremental = false WHERE name LIKE '% full';
SELECT segments_internal._build_pass_relation(current_user::regrole);

-- One step of random changes, then the facts at the advanced clock.
CREATE PROCEDURE shop.step(seed float8) LANGUAGE plpgsql AS $$
DECLARE now_t timestamptz;
BEGIN
  PERFORM setseed(seed);
  UPDATE shop.clock c SET t = c.t + (floor(random() * 10) * interval '1 day') * (random() > 0.7)::int
                            + floor(random() * 24) * interval '1 hour' * (random() > 0.5)::int
  RETURNING c.t INTO now_t;
  INSERT INTO shop.orders (customer, at, amount, valid)
  SELECT 'c' || (random() * 330)::int, now_t - random() * interval '3 days', round((random() * 150 - 15)::numeric, 2), random() > 0.1
  FROM generate_series(1, (random() * 40)::int);
  UPDATE shop.orders SET amount = amount + 25, valid = NOT valid WHERE random() < 0.01;
  DELETE FROM shop.orders WHERE random() < 0.005;
  INSERT INTO shop.events
  SELECT 'c' || (random() * 330)::int, (ARRAY['product_view', 'cart_add', 'checkout', 'email_open', 'session'])[1 + (random() * 4)::int],
         now_t - random() * interval '2 days'
  FROM generate_series(1, (random() * 80)::int);
  UPDATE shop.contacts SET opted_in = NOT opted_in WHERE random() < 0.03;
  DELETE FROM shop.contacts WHERE random() < 0.01;
  INSERT INTO shop.contacts SELECT 'c' || (random() * 400)::int, 'new@example.com', random() > 0.5, now_t
  FROM generate_series(1, 3) ON CONFLICT DO NOTHING;
  UPDATE shop.subscriptions SET status = (ARRAY['active', 'trialing', 'cancelled'])[1 + (random() * 2)::int] WHERE random() < 0.1;
  INSERT INTO shop.subscriptions SELECT 'c' || (random() * 330)::int, now_t - random() * interval '3 days', random() > 0.5, 'trialing',
         (random() * 5)::int, now_t - random() * interval '9 days' WHERE random() < 0.5;
  UPDATE shop.subscriptions SET rating = (random() * 5)::int, seen_at = now_t - random() * interval '2 days' WHERE random() < 0.05;
  INSERT INTO shop.deals (customer, created_at, updated_at, state, updates)
  SELECT 'c' || (random() * 330)::int, now_t - random() * interval '3 days', NULL, (ARRAY['open', 'won', 'lost'])[1 + (random() * 2)::int],
         (random() * 4)::int FROM generate_series(1, (random() * 6)::int);
  UPDATE shop.deals SET updated_at = now_t - random() * interval '1 day', updates = updates + 1,
         state = CASE WHEN random() < 0.2 THEN 'lost' ELSE state END WHERE random() < 0.03;
  PERFORM segments.refresh_facts(now_t);
END $$;

-- Mismatches between twins, the rules, the change log and the facts (0 = all agree).
CREATE FUNCTION shop.mismatches() RETURNS TABLE (what text, n bigint) LANGUAGE plpgsql AS $$
DECLARE p record; k bigint;
BEGIN
  FOR p IN SELECT a.id AS inc, b.id AS ful, a.name, coalesce(a.rule, a.query) AS def, a.rule IS NOT NULL AS is_rule
           FROM segments.segments a JOIN segments.segments b ON b.name = regexp_replace(a.name, '( whole)?$', ' full')
           WHERE a.name NOT LIKE '% full' LOOP
    RETURN QUERY
      WITH x AS (SELECT customer_id, joined_at, revenue_mark, orders_mark FROM segments.membership WHERE segment_id = p.inc),
           y AS (SELECT customer_id, joined_at, revenue_mark, orders_mark FROM segments.membership WHERE segment_id = p.ful)
      SELECT p.name || ': membership', count(*) FROM ((TABLE x EXCEPT TABLE y) UNION ALL (TABLE y EXCEPT TABLE x)) d;
    RETURN QUERY
      WITH x AS (SELECT row_number() OVER (ORDER BY run_id) AS n, at, size, joined, "left", revenue, orders, added_revenue, facts_at
                 FROM segments.history WHERE segment_id = p.inc),
           y AS (SELECT row_number() OVER (ORDER BY run_id) AS n, at, size, joined, "left", revenue, orders, added_revenue, facts_at
                 FROM segments.history WHERE segment_id = p.ful)
      SELECT p.name || ': history', count(*) FROM ((TABLE x EXCEPT TABLE y) UNION ALL (TABLE y EXCEPT TABLE x)) d;
    RETURN QUERY
      WITH x AS (SELECT customer_id, change, at FROM segments.changes WHERE segment_id = p.inc),
           y AS (SELECT customer_id, change, at FROM segments.changes WHERE segment_id = p.ful)
      SELECT p.name || ': changes', count(*) FROM ((TABLE x EXCEPT ALL TABLE y) UNION ALL (TABLE y EXCEPT ALL TABLE x)) d;
    RETURN QUERY
      SELECT p.name || ': replay', count(*) FROM (
        SELECT DISTINCT ON (customer_id) customer_id, change FROM segments.changes WHERE segment_id = p.inc
        ORDER BY customer_id, id DESC) l
      FULL JOIN (SELECT customer_id FROM segments.membership WHERE segment_id = p.inc) m USING (customer_id)
      WHERE (l.change = 'joined') IS DISTINCT FROM (m.customer_id IS NOT NULL);
    RETURN QUERY
      SELECT p.name || ': totals', count(*) FROM segments.history h, segments.segments s
      WHERE h.segment_id = p.inc AND s.id = p.inc AND h.run_id = (SELECT max(run_id) FROM segments.history WHERE segment_id = p.inc)
        AND (h.size, h.revenue, h.orders) IS DISTINCT FROM (
          SELECT (count(*), coalesce(sum(c.revenue), 0), coalesce(sum(c.orders), 0))
          FROM segments.membership m JOIN segments.customers c USING (customer_id) WHERE m.segment_id = p.inc)
        AND s.last_refresh_at >= (SELECT f.started_at FROM segments.facts_status f);
    IF p.is_rule AND p.name NOT IN ('clock') THEN
      EXECUTE format('SELECT count(*) FROM ((SELECT customer_id FROM segments.customers c WHERE %s
                        EXCEPT SELECT customer_id FROM segments.membership WHERE segment_id = %s)
                      UNION ALL (SELECT customer_id FROM segments.membership WHERE segment_id = %s
                        EXCEPT SELECT customer_id FROM segments.customers c WHERE %s)) d', p.def, p.inc, p.inc, p.def) INTO k;
      RETURN QUERY SELECT p.name || ': rule oracle (after refresh_all)', k;
    END IF;
  END LOOP;
  RETURN QUERY SELECT 'facts vs compute_facts', count(*) FROM (
    (SELECT * FROM segments.customers EXCEPT SELECT * FROM segments.compute_facts((SELECT t FROM shop.clock)))
    UNION ALL
    (SELECT * FROM segments.compute_facts((SELECT t FROM shop.clock)) EXCEPT SELECT * FROM segments.customers)) d;
END $$;
SQL

bad=$(q "SELECT string_agg(name, ', ') FROM shop.rules r JOIN segments.segments s USING (name) WHERE s.incremental IS DISTINCT FROM r.incremental")
[ -z "$bad" ] || fail "classified wrongly (incremental or not): $bad"
ok "rules classified: $(q "SELECT count(*) FILTER (WHERE incremental) || ' incremental, ' || count(*) FILTER (WHERE NOT incremental) || ' full' FROM segments.segments WHERE name NOT LIKE '% full'")"

incr_runs=0; evaluated=0; whole_passes=0
for i in $(seq 1 "$STEPS"); do
  seed=$(awk -v s="$SEED" -v i="$i" 'BEGIN { printf "%.6f", ((s * 7919 + i * 104729) % 1000000) / 1000000 }')
  q "CALL shop.step($seed)" >/dev/null
  mode=$(q "SELECT setseed($seed); SELECT CASE WHEN random() < 0.5 THEN 'all' ELSE 'some' END" | tail -1)
  if [ "$mode" = all ]; then
    # refresh_all()'s batch of the twins, then in the same transaction (the same times) the triplets
    # forced to a full refresh (no facts mark) in a batch of their own: one pass, one diff
    pgs_psql -At -v ON_ERROR_STOP=1 -1 >/dev/null <<SQL
SELECT count(*) FROM segments_internal._refresh_batch(ARRAY(SELECT id FROM segments.segments WHERE name NOT LIKE '% whole' ORDER BY id),
                                                      'manual', progress => 'refresh_all');
UPDATE segments.segments SET facts_mark = NULL WHERE name LIKE '% whole';
SELECT count(*) FROM segments_internal._refresh_batch(ARRAY(SELECT id FROM segments.segments WHERE name LIKE '% whole' ORDER BY id), 'manual');
SQL
    # the pass view (its rows stay after commit) holds the triplets: they were evaluated in one pass
    whole=$(q "SELECT count(DISTINCT p.segment_id) FROM segment_rules.\"o_$(q "SELECT current_user::regrole::oid")\" p
               JOIN segments.segments s ON s.id = p.segment_id WHERE s.name LIKE '% whole'")
    [ "$whole" -gt 1 ] && whole_passes=$((whole_passes + 1))
  else
    names=$(q "SELECT setseed($seed); SELECT string_agg(format('SELECT segments.refresh(%L); SELECT segments.refresh(%L);', name, name || ' full')
                 || CASE WHEN incremental THEN format(' SELECT segments.refresh(%L);', name || ' whole') ELSE '' END, ' ')
               FROM shop.rules WHERE random() < 0.5" | tail -1)
    [ -n "$names" ] && pgs_psql -At -v ON_ERROR_STOP=1 -1 -c "$names" >/dev/null
  fi
  out=$(q "SELECT what || ' ' || n FROM shop.mismatches() WHERE n <> 0 AND ('$mode' = 'all' OR what NOT LIKE '%rule oracle%')")
  [ -z "$out" ] || fail "step $i ($mode): $out"
done
incr_runs=$(q "SELECT count(*) FROM segments.runs WHERE evaluated IS NOT NULL")
evaluated=$(q "SELECT coalesce(round(avg(evaluated)), 0) FROM segments.runs WHERE evaluated IS NOT NULL")
customers=$(q "SELECT count(*) FROM segments.customers")
[ "$incr_runs" -gt "$STEPS" ] || fail "only $incr_runs incremental runs: the incremental path was hardly taken"
[ "$whole_passes" -gt 0 ] || fail "the full refreshes in one pass were never taken"
ok "$STEPS random steps: incremental == full == full in one pass (membership, history, change log, replay, rules, facts); $incr_runs incremental runs evaluated $evaluated of $customers customers on average; $whole_passes one-pass full refreshes"

# A rule that raises for some customers fails alone, also when it shares its owner's pass.
q "SELECT segments.create_segment('divides', 'revenue / nullif(orders, 0) > 0 AND 1 / (orders - 2) > 0')" >/dev/null 2>&1 || true
q "CALL shop.step(0.5)" >/dev/null
st=$(q "SELECT string_agg(s.name || '=' || r.status, ',' ORDER BY s.name) FROM segments.refresh_all() r JOIN segments.segments s ON s.id = r.segment_id WHERE s.name IN ('divides', 'repeat', 'big')" 2>/dev/null)
[ "$st" = "big=succeeded,divides=failed,repeat=succeeded" ] || fail "a failing rule in a pass: $st"
out=$(q "SELECT what || ' ' || n FROM shop.mismatches() WHERE n <> 0")
[ -z "$out" ] || fail "after a failing rule: $out"
ok "a rule raising an error fails alone; its owner's other incremental segments still agree with full"
