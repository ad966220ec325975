-- segments.install_pack: partial mapping (skipped segments and the sources they miss), installing
-- again (no duplicates; a changed parameter updates), the catalog, name conflicts, bad parameters.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS pg_segments CASCADE;
CREATE EXTENSION pg_segments;
RESET client_min_messages;
SET timezone = 'UTC';
\i test/regress/sql/error_of.psql

-- The catalog: four packs, 31 segments, each with a meaning, its origin's wording and its sources.
SELECT pack, count(*) AS segments, count(*) FILTER (WHERE kind = 'rule') AS rules,
       bool_and(meaning <> '' AND source_text <> '' AND definition <> '') AS documented,
       (SELECT array_agg(DISTINCT src ORDER BY src) FROM segments.pack_catalog c, unnest(c.required_sources) src
        WHERE c.pack = p.pack) AS sources
FROM segments.pack_catalog p
GROUP BY pack ORDER BY pack;
SELECT * FROM segments.packs;
-- Nothing mapped yet: nothing installed, every segment says what it misses.
SELECT segment, title, missing_sources, installed FROM segments.pack_catalog
WHERE pack = 'ecommerce' ORDER BY position;
SELECT meaning FROM segments.pack_catalog WHERE segment = 'ecommerce_abandoned_carts';

-- A tiny shop with orders only: a 1100 over two orders, b 900 forty days ago, c exactly 1000.
CREATE SCHEMA packs_tiny;
CREATE TABLE packs_tiny.orders (customer text, at timestamptz, amount numeric);
INSERT INTO packs_tiny.orders VALUES
  ('a', now() - interval '10 days', 600), ('a', now() - interval '5 days', 500),
  ('b', now() - interval '40 days', 900), ('c', now() - interval '3 days', 1000);
SELECT segments.map_source('orders', 'packs_tiny.orders', '{"customer_id": "customer", "ordered_at": "at", "amount": "amount"}');
SELECT customers FROM segments.refresh_facts();

-- The five order-based segments install and are built; the other four are skipped, saying why.
SELECT segment, status, segment_id IS NOT NULL AS has_id, missing_sources
FROM segments.install_pack('ecommerce');
SELECT segment, string_agg(customer_id, ' ' ORDER BY customer_id) AS members
FROM segments.members GROUP BY segment ORDER BY segment;
SELECT name, pack, required_sources, status, description IS NOT NULL AS described
FROM segments.segments ORDER BY id;
-- A pack none of whose sources is mapped installs nothing (no error: each row says why).
SELECT segment, status, missing_sources FROM segments.install_pack('payments');

-- Installing again duplicates nothing and changes nothing.
SELECT status, count(*) FROM segments.install_pack('ecommerce') GROUP BY status ORDER BY status;
SELECT count(*) AS segments, count(DISTINCT name) AS names, max(updated_at) = min(created_at) AS untouched
FROM segments.segments;

-- Contacts and events mapped: the skipped segments are created, the others left alone.
CREATE TABLE packs_tiny.people (id text, opted boolean);
CREATE TABLE packs_tiny.events (who text, kind text, at timestamptz);
INSERT INTO packs_tiny.people VALUES ('a', true), ('d', true), ('e', false);
INSERT INTO packs_tiny.events VALUES ('d', 'back_in_stock', now() - interval '1 day'),
  ('e', 'product_view', now() - interval '2 days'), ('e', 'product_view', now() - interval '1 day');
SELECT segments.map_source('contacts', 'packs_tiny.people', '{"customer_id": "id", "opted_in": "opted"}');
SELECT segments.map_source('events', 'packs_tiny.events', '{"customer_id": "who", "kind": "kind", "at": "at"}');
SELECT customers FROM segments.refresh_facts();
SELECT segment, status, missing_sources FROM segments.install_pack('ecommerce');
SELECT segment, string_agg(customer_id, ' ' ORDER BY customer_id) AS members
FROM segments.members WHERE segment IN ('ecommerce_virgin_customers', 'ecommerce_waiting_on_stock', 'ecommerce_abandoned_browsers')
GROUP BY segment ORDER BY segment;
SELECT segment, missing_sources, installed FROM segments.pack_catalog WHERE pack = 'ecommerce' ORDER BY position;
SELECT pack, segments, installed, ready, missing_sources FROM segments.packs;

-- A new VIP threshold updates (and rebuilds) only the VIP segment: b (900) and c (1000) join.
SELECT segment, status FROM segments.install_pack('ecommerce', vip_threshold => 899.99) WHERE status <> 'unchanged';
SELECT rule FROM segments.segments WHERE name = 'ecommerce_vip_customers';
SELECT customer_id FROM segments.members WHERE segment = 'ecommerce_vip_customers' ORDER BY 1;
-- Back to the default (exactly 1000 is not "more than 1000"): b and c leave.
SELECT segment, status FROM segments.install_pack('ecommerce') WHERE status <> 'unchanged';
SELECT change, customer_id FROM segments.changes WHERE segment = 'ecommerce_vip_customers' ORDER BY id;

-- Another refresh interval: every segment updated, schedule only (no rebuild, no new run).
SELECT count(*) AS runs_before FROM segments.runs;
SELECT status, count(*) FROM segments.install_pack('ecommerce', refresh_interval => '6 hours') GROUP BY status;
SELECT count(*) AS runs_after FROM segments.runs;
SELECT DISTINCT refresh_interval FROM segments.segments WHERE pack = 'ecommerce';

-- A source unmapped later: installed segments stay; missing_sources tells why they will be empty.
SELECT segments.unmap_source('events');
SELECT segment, status, missing_sources FROM segments.install_pack('ecommerce', refresh_interval => '6 hours')
WHERE missing_sources <> '{}';

-- The lifecycle pack needs only orders.
SELECT status, count(*) FROM segments.install_pack('lifecycle') GROUP BY status;

-- A user's own segment with a pack segment's name is never overwritten.
SELECT segments.create_segment('crm_customers', rule => 'orders > 0') > 0 AS created;
SELECT pg_temp.error_of($$SELECT * FROM segments.install_pack('crm')$$);

-- Bad parameters: SQLSTATE and hint; nothing is installed by a failed call.
SELECT count(*) AS segments_before FROM segments.segments;
SELECT q AS statement, pg_temp.error_of(q) AS error FROM (VALUES
  ($q$SELECT * FROM segments.install_pack('ecommerce', vip_threshold => -1)$q$),
  ($q$SELECT * FROM segments.install_pack('ecommerce', vip_threshold => 'NaN')$q$),
  ($q$SELECT * FROM segments.install_pack('ecommerce', vip_threshold => NULL)$q$),
  ($q$SELECT * FROM segments.install_pack('shop')$q$),
  ($q$SELECT * FROM segments.install_pack('ECOMMERCE')$q$),
  ($q$SELECT * FROM segments.install_pack(NULL)$q$),
  ($q$SELECT * FROM segments.install_pack('payments', refresh_interval => '0')$q$),
  ($q$SELECT * FROM segments.install_pack('payments', refresh_interval => '-1 hour')$q$)
) t(q);
SELECT count(*) AS segments_after FROM segments.segments;

-- uninstall_pack drops exactly the pack's segments (and their membership); installing brings them back.
SELECT * FROM segments.uninstall_pack('lifecycle');
SELECT count(*) AS lifecycle_segments, (SELECT count(*) FROM segments.members WHERE segment LIKE 'lifecycle%') AS members
FROM segments.segments WHERE pack = 'lifecycle';
SELECT pg_temp.error_of($$SELECT * FROM segments.uninstall_pack('nope')$$);
SELECT * FROM segments.uninstall_pack('payments');  -- nothing installed: no rows

-- Installing packs is an administrator's task: an editor may not.
CREATE ROLE regress_packs_analyst;
GRANT USAGE ON SCHEMA packs_tiny TO regress_packs_analyst;
GRANT SELECT ON packs_tiny.orders, packs_tiny.people TO regress_packs_analyst;
GRANT segments_editor TO regress_packs_analyst;
SET ROLE regress_packs_analyst;
SELECT pg_temp.error_of($$SELECT * FROM segments.install_pack('lifecycle')$$);
RESET ROLE;
-- A non-superuser segments_admin installs a pack: the segments are its own and run with its rights.
GRANT segments_admin TO regress_packs_analyst;
SET ROLE regress_packs_analyst;
SELECT status, count(*) FROM segments.install_pack('lifecycle') GROUP BY status;
-- The ecommerce segments belong to the superuser; an administrator sees them and may update them.
SELECT count(*) AS visible_ecommerce FROM segments.segments WHERE pack = 'ecommerce';
SELECT status, count(*) FROM segments.install_pack('ecommerce') GROUP BY status;
RESET ROLE;
SELECT DISTINCT owner FROM segments.segments WHERE pack = 'lifecycle';
-- Every pack is a rule over the stored facts: a segment reads segments.customers, never the mapped
-- tables, so an administrator installs the payments pack over a table it may not read itself.
CREATE TABLE packs_tiny.subs (who text, started timestamptz, status text);
INSERT INTO packs_tiny.subs VALUES ('a', now() - interval '3 days', 'active');
SELECT segments.map_source('subscriptions', 'packs_tiny.subs', '{"customer_id": "who", "started_at": "started", "status": "status"}');
SELECT customers FROM segments.refresh_facts();
SET ROLE regress_packs_analyst;
SELECT segment, status FROM segments.install_pack('payments') WHERE status <> 'created';
RESET ROLE;
SELECT count(*) AS payments_segments, string_agg(m.customer_id, ',') AS members
FROM segments.segments s LEFT JOIN segments.membership m ON m.segment_id = s.id WHERE s.pack = 'payments';
SELECT count(*) AS uninstalled FROM segments.uninstall_pack('payments');

-- Stale facts are refreshed before the segments are built: when that fails (here the subscriptions
-- mapping turns a bad value into an error only when rows are read), the call fails with the
-- source's error and nothing is installed.
INSERT INTO packs_tiny.subs VALUES ('s', now() - interval '1 day', 'active');
SELECT segments.map_source('subscriptions', 'packs_tiny.subs',
  '{"customer_id": "who", "started_at": "started", "status": "CASE WHEN who = ''s'' THEN status::int::text ELSE status END"}');
SET pg_segments.facts_max_age = 0;
SELECT pg_temp.error_of($$SELECT * FROM segments.install_pack('payments')$$);
RESET pg_segments.facts_max_age;
SELECT count(*) AS payments_segments FROM segments.segments WHERE pack = 'payments';

-- Leave the database as found.
SET client_min_messages = warning;
DROP EXTENSION pg_segments CASCADE;
DROP SCHEMA packs_tiny CASCADE;
DROP OWNED BY regress_packs_analyst;
DROP ROLE regress_packs_analyst;
CREATE EXTENSION pg_segments;
RESET client_min_messages;
