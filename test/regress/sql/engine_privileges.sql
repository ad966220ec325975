-- Segment engine privileges: rules run as their owner (never as whoever refreshes), owners see and
-- change only their own segments, mapping sources is an administrator's task.
DROP EXTENSION IF EXISTS pg_segments CASCADE;
CREATE EXTENSION pg_segments;
SET timezone = 'UTC';
SET pg_segments.facts_max_age = -1;
\i test/regress/sql/error_of.psql

CREATE ROLE regress_engine_alice;
CREATE ROLE regress_engine_bob;
GRANT segments_editor TO regress_engine_alice, regress_engine_bob;
CREATE SCHEMA shop;
CREATE TABLE shop.orders(customer_id text, ordered_at timestamptz, amount numeric);
CREATE TABLE shop.secret(customer_id text);
INSERT INTO shop.orders VALUES ('c1', '2024-05-01', 50), ('c2', '2024-05-02', 500), ('c3', '2024-05-03', 5000);
INSERT INTO shop.secret VALUES ('c3');
GRANT USAGE ON SCHEMA shop TO regress_engine_alice, regress_engine_bob;
GRANT SELECT ON shop.orders TO regress_engine_alice;
SELECT segments.map_source('orders', 'shop.orders', '{"customer_id": "customer_id", "ordered_at": "ordered_at", "amount": "amount"}');
SELECT customers FROM segments.refresh_facts('2024-06-01');

SET ROLE regress_engine_alice;
-- Mapping sources is for an administrator (segments_admin).
SELECT pg_temp.error_of($$SELECT segments.map_source('events', 'shop.orders', '{"customer_id": "customer_id", "kind": "''session''", "at": "ordered_at"}')$$);
SELECT segments.create_segment('alice big', 'revenue > 100') > 0 AS created;
SELECT segments.create_segment('alice orders', query => 'SELECT customer_id FROM segments.source_orders WHERE amount > 1000') > 0 AS created;
SELECT segments.create_segment('alice self', 'current_user = ''regress_engine_alice''') > 0 AS created;
-- A rule reading what its owner cannot is rejected at create, with the server's message.
SELECT pg_temp.error_of($$SELECT segments.create_segment('alice secret', query => 'SELECT customer_id FROM shop.secret')$$);
SELECT pg_temp.error_of($$SELECT segments.create_segment('alice secret', 'customer_id IN (SELECT customer_id FROM shop.secret)')$$);
SELECT name, owner, status FROM segments.segments ORDER BY id;
SELECT segment, customer_id FROM segments.members ORDER BY 1, 2;
RESET ROLE;

-- Refreshed by the superuser (as the background worker is), the rules still run as alice.
SELECT name, (segments.refresh(name)).status FROM segments.segments ORDER BY id;
SELECT customer_id FROM segment_members."alice self" ORDER BY 1;
-- Once alice loses access to shop.orders, her query segment fails even for the superuser; the last
-- good membership stays.
REVOKE SELECT ON shop.orders FROM regress_engine_alice;
SELECT (segments.refresh('alice orders')).status;
SELECT name, status, last_error, last_error_sqlstate FROM segments.segments WHERE name = 'alice orders';
SELECT customer_id FROM segment_members."alice orders";
GRANT SELECT ON shop.orders TO regress_engine_alice;

-- A rule cannot take the refreshing session's identity: SET ROLE is refused inside the
-- security-restricted refresh (the superuser's worker could otherwise be borrowed).
SET ROLE regress_engine_alice;
SELECT segments.create_segment('alice sneaky', $$set_config('role', 'postgres', true) IS NOT NULL$$, build => false) > 0 AS created;
RESET ROLE;
SELECT (segments.refresh('alice sneaky')).status;
SELECT last_error FROM segments.segments WHERE name = 'alice sneaky';
SELECT current_user;

-- Bob sees none of alice's segments and cannot change them, directly or through the functions.
SET ROLE regress_engine_bob;
SELECT count(*) AS visible_segments FROM segments.segments;
SELECT count(*) AS visible_members FROM segments.members;
SELECT count(*) AS visible_changes FROM segments.changes;
SELECT pg_temp.error_of($$SELECT segments.refresh('alice big')$$);
SELECT pg_temp.error_of($$SELECT segments.drop_segment('alice big')$$);
SELECT pg_temp.error_of($$SELECT segments.alter_segment('alice big', rule => 'true')$$);
SELECT pg_temp.error_of($$UPDATE segments.segments SET status = 'inactive'$$);
SELECT pg_temp.error_of($$INSERT INTO segments.membership VALUES ((SELECT min(id) FROM segments.segments), 'c9', now())$$);
SELECT pg_temp.error_of($$INSERT INTO segments.segments(name, rule, owner) VALUES ('forged', 'true', 'regress_engine_alice')$$);
SELECT pg_temp.error_of($$DROP MATERIALIZED VIEW segment_rules.s_1$$);
SELECT pg_temp.error_of($$REFRESH MATERIALIZED VIEW segment_rules.s_1$$);
-- Bob has no SELECT on shop.orders: the source view does not open it for him.
SELECT pg_temp.error_of($$SELECT count(*) FROM segments.source_orders$$);
SELECT pg_temp.error_of($$SELECT segments.create_segment('bob orders', query => 'SELECT customer_id FROM segments.source_orders')$$);
SELECT segments.create_segment('bob small', 'revenue < 100') > 0 AS created;
SELECT name, owner FROM segments.segments;
SELECT segment, customer_id FROM segments.members;
RESET ROLE;
SELECT name, owner, status FROM segments.segments ORDER BY id;

-- A role with alice's privileges works with her segments; drop by the owner.
GRANT regress_engine_alice TO regress_engine_bob;
SET ROLE regress_engine_bob;
SELECT name FROM segments.segments ORDER BY id;
SELECT (segments.refresh('alice big')).status;
RESET ROLE;
REVOKE regress_engine_alice FROM regress_engine_bob;
SET ROLE regress_engine_alice;
SELECT segments.drop_segment('alice big');
SELECT name FROM segments.segments ORDER BY id;
RESET ROLE;

-- Clean up.
SET client_min_messages = warning;
DROP EXTENSION pg_segments CASCADE;
DROP SCHEMA shop CASCADE;
DROP OWNED BY regress_engine_alice, regress_engine_bob;
DROP ROLE regress_engine_alice, regress_engine_bob;
RESET client_min_messages;
CREATE EXTENSION pg_segments;
