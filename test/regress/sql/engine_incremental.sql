-- Incremental segments: which rules are incremental, that a refresh evaluates them only for the
-- customers whose facts changed (runs.evaluated), in one pass per owner that runs as the owner,
-- and what happens when a rule in a pass fails. (test/harness/engine_incremental.sh proves
-- incremental == full on random changes.)
DROP EXTENSION IF EXISTS pg_segments CASCADE;
CREATE EXTENSION pg_segments;
SET timezone = 'UTC';
SET pg_segments.facts_max_age = -1;
SET client_min_messages = error;
\i test/regress/sql/error_of.psql

CREATE ROLE regress_incr_alice;
GRANT segments_editor TO regress_incr_alice;
CREATE SCHEMA shop;
CREATE TABLE shop.orders(customer_id text, ordered_at timestamptz, amount numeric);
CREATE TABLE shop.secret(customer_id text);
INSERT INTO shop.orders SELECT 'c' || i, timestamptz '2024-05-01' + i * interval '1 day', i * 10 FROM generate_series(1, 9) i;
GRANT USAGE ON SCHEMA shop TO regress_incr_alice;
SELECT segments.map_source('orders', 'shop.orders', '{"customer_id": "customer_id", "ordered_at": "ordered_at", "amount": "amount"}');
SELECT customers FROM segments.refresh_facts('2024-06-01');

-- Classification: facts columns, immutable functions and stable built-ins not reading the clock
-- are incremental; the clock, clock columns, subqueries, volatile or user stable functions, a whole
-- row and queries are not.
SELECT segments.create_segment(n, r, q) > 0 AS created FROM (VALUES
  ('big', 'revenue > 50', NULL),
  ('band', 'value_band >= ''high'' AND lower(customer_id) LIKE ''c%''', NULL),
  ('dated', 'last_order_at > timestamptz ''2024-05-05'' - interval ''1 day''', NULL),
  ('clock', 'last_order_at > now() - interval ''30 days''', NULL),
  ('today', 'last_order_at::date < current_date', NULL),
  ('days', 'days_since_last_order < 20', NULL),
  ('subquery', 'revenue > (SELECT avg(revenue) FROM segments.customers)', NULL),
  ('random', 'random() < 2', NULL),
  ('row', 'c IS NOT NULL', NULL),
  ('query', NULL, 'SELECT customer_id FROM segments.customers WHERE orders > 0')) v(n, r, q);
SELECT name, incremental FROM segments.segments ORDER BY id;

-- Nothing changed: the incremental segments evaluate nobody, the others everyone.
SELECT s.name, r.status, r.evaluated, r.joined, r."left", r.size
FROM segments.refresh_all() r JOIN segments.segments s ON s.id = r.segment_id ORDER BY s.id;
-- Two customers change: only they are evaluated, in one pass, and join or leave.
INSERT INTO shop.orders VALUES ('c1', '2024-05-20', 100), ('c10', '2024-05-21', 70);
SELECT inserted, updated FROM segments.refresh_facts('2024-06-01');
SELECT s.name, r.evaluated, r.joined, r."left", r.size
FROM segments.refresh_all() r JOIN segments.segments s ON s.id = r.segment_id WHERE s.incremental ORDER BY s.id;
SELECT h.size, h.joined, h.revenue, h.orders, h.added_revenue FROM segments.history h
JOIN segments.segments s ON s.id = h.segment_id WHERE s.name = 'big' ORDER BY h.run_id;
-- A deleted customer leaves without a full pass.
DELETE FROM shop.orders WHERE customer_id = 'c9';
SELECT deleted FROM segments.refresh_facts('2024-06-01');
SELECT r.evaluated, r."left", r.size FROM segments.refresh('big') r;
SELECT customer_id, change FROM segments.changes WHERE segment = 'big' ORDER BY id;
-- A changed rule starts over with a full refresh.
SELECT segments.alter_segment('big', rule => 'revenue > 60');
SELECT evaluated IS NULL AS full_refresh, size FROM segments.runs WHERE segment_id = (SELECT id FROM segments.segments WHERE name = 'big') ORDER BY id DESC LIMIT 1;

-- The pass runs as the owner: alice's rule calls a function that says who runs it, and reads a
-- table she cannot read once a customer has more than 2 orders.
CREATE FUNCTION shop.probe(id text, orders int) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF id = 'c2' THEN RAISE NOTICE 'probe of % runs as %', id, current_user; END IF;
  IF orders > 2 THEN PERFORM 1 FROM shop.secret; END IF;
  RETURN orders > 0;
END $$;
SET ROLE regress_incr_alice;
SELECT segments.create_segment('alice probe', 'shop.probe(customer_id, orders)') > 0 AS created;
SELECT segments.create_segment('alice big', 'revenue > 50') > 0 AS created;
RESET ROLE;
SELECT s.name, s.incremental, c.relowner::regrole AS pass_view_owner FROM segments.segments s
JOIN pg_class c ON c.oid = to_regclass(segments_internal._pass_relation(s.owner)) WHERE s.name LIKE 'alice%' ORDER BY s.id;
INSERT INTO shop.orders VALUES ('c2', '2024-05-25', 5);
SELECT updated FROM segments.refresh_facts('2024-06-01');
SET client_min_messages = notice;
SELECT s.name, r.status, r.evaluated FROM segments.refresh_all() r JOIN segments.segments s ON s.id = r.segment_id
WHERE s.name LIKE 'alice%' ORDER BY s.id;
-- c2 now has 3 orders: the probe reads shop.secret as alice and fails; alice's other segment in the
-- same pass still refreshes (the pass falls back to one view per segment).
INSERT INTO shop.orders VALUES ('c2', '2024-05-26', 5), ('c3', '2024-05-26', 500);
SELECT updated FROM segments.refresh_facts('2024-06-01');
SELECT s.name, r.status, r.joined, r.sqlstate, r.message FROM segments.refresh_all() r JOIN segments.segments s ON s.id = r.segment_id
WHERE s.name LIKE 'alice%' ORDER BY s.id;
SET client_min_messages = error;
-- The pass table shows a transaction only its own (deleted) row.
SELECT count(*) FROM segments_internal.pass;

-- The named locks.
SELECT segments_internal.lock_key('facts') AS facts, segments_internal.lock_key('change log') AS change_log;
SELECT pg_temp.error_of($$SELECT segments_internal.take_lock('segments')$$);

-- Clean up.
SET client_min_messages = warning;
DROP EXTENSION pg_segments CASCADE;
DROP SCHEMA shop CASCADE;
DROP OWNED BY regress_incr_alice;
DROP ROLE regress_incr_alice;
RESET client_min_messages;
CREATE EXTENSION pg_segments;
