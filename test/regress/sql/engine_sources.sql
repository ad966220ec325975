-- Segment engine: source mapping, validated at once; the source views and segments.sources.
DROP EXTENSION IF EXISTS pg_segments CASCADE;
CREATE EXTENSION pg_segments;
SET timezone = 'UTC';
\i test/regress/sql/error_of.psql

-- Before any mapping: every kind's view exists, empty, with the fixed columns.
SELECT kind, mapped, source, view_name FROM segments.sources;
SELECT (SELECT count(*) FROM segments.source_orders) + (SELECT count(*) FROM segments.source_contacts)
     + (SELECT count(*) FROM segments.source_events) + (SELECT count(*) FROM segments.source_subscriptions)
     + (SELECT count(*) FROM segments.source_deals) AS rows_before_mapping;
SELECT c.relname, string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum) AS columns
FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
WHERE c.relnamespace = 'segments'::regnamespace AND c.relname LIKE 'source\_%' AND c.relkind = 'v'
GROUP BY c.relname ORDER BY c.relname;

CREATE SCHEMA shop;
CREATE TABLE shop.orders(id bigint, cust int, placed date, total int, state text, note text);
INSERT INTO shop.orders VALUES (1, 7, '2024-01-01', 10, 'paid', NULL), (2, 7, '2024-01-02', 20, 'failed', NULL),
  (3, 8, '2024-01-03', 30, 'paid', 'x');
CREATE TABLE shop.people(pid text, mail text, "Given Name" text, consent text, joined timestamp);
INSERT INTO shop.people VALUES ('7', 'SEVEN@EXAMPLE.COM', 'Sev', 'yes', '2023-12-01 10:00'), ('9', 'nine@example.com', NULL, 'no', NULL);
CREATE TABLE shop.clicks(who int, what text, ts timestamptz);
CREATE VIEW shop.paid_orders AS SELECT * FROM shop.orders WHERE state = 'paid';
CREATE SEQUENCE shop.seq;

-- Bad mappings: each names what is wrong, nothing is mapped.
SELECT q AS statement, pg_temp.error_of(q) AS error FROM (VALUES
  ($q$SELECT segments.map_source('invoices', 'shop.orders', '{}')$q$),
  ($q$SELECT segments.map_source('orders', 'shop.nothing', '{}')$q$),
  ($q$SELECT segments.map_source('orders', 'shop.seq', '{}')$q$),
  ($q$SELECT segments.map_source('orders', 'shop.orders', '[1, 2]')$q$),
  ($q$SELECT segments.map_source('orders', 'shop.orders', '{"customer_id": "cust", "ordered_at": "placed"}')$q$),
  ($q$SELECT segments.map_source('orders', 'shop.orders', '{"customer_id": "cust", "ordered_at": "placed", "amount": "total", "colour": "x"}')$q$),
  ($q$SELECT segments.map_source('orders', 'shop.orders', '{"customer_id": "customer", "ordered_at": "placed", "amount": "total"}')$q$),
  ($q$SELECT segments.map_source('orders', 'shop.orders', '{"customer_id": "cust", "ordered_at": "state", "amount": "total"}')$q$),
  ($q$SELECT segments.map_source('orders', 'shop.orders', '{"customer_id": "cust", "ordered_at": "placed", "amount": "note"}')$q$),
  ($q$SELECT segments.map_source('orders', 'shop.orders', '{"customer_id": "cust", "ordered_at": "placed", "amount": "total", "valid": "state"}')$q$),
  ($q$SELECT segments.map_source('orders', 'shop.orders', '{"customer_id": "cust", "ordered_at": "placed", "amount": "total", "valid": "stat = ''paid''"}')$q$),
  ($q$SELECT segments.map_source('orders', 'shop.orders', '{"customer_id": "cust", "ordered_at": "placed", "amount": "total * ", "valid": "true"}')$q$),
  ($q$SELECT segments.map_source('orders', 'shop.orders', '{"customer_id": "cust", "ordered_at": "placed", "amount": "total) FROM shop.orders; DROP TABLE shop.people; SELECT (1"}')$q$),
  ($q$SELECT segments.map_source('orders', 'shop.orders', '{"customer_id": "cust", "ordered_at": "placed", "amount": 5}')$q$),
  ($q$SELECT segments.map_source('orders', 'shop.orders', '{"customer_id": "cust", "ordered_at": "placed", "amount": "placed + 1"}')$q$),
  ($q$SELECT segments.map_source('orders', 'shop.orders', '{"customer_id": "cust", "ordered_at": "placed", "amount": "(SELECT max(total) FROM shop.nothing)"}')$q$),
  ($q$SELECT segments.unmap_source('invoices')$q$)
) t(q);
SELECT count(*) AS mapped FROM segments.sources WHERE mapped;
SELECT count(*) AS people_still_there FROM shop.people;

-- Columns, expressions, casts of compatible types (int -> text, date -> timestamptz, int -> numeric),
-- a view as a source, a quoted column name.
SELECT segments.map_source('orders', 'shop.orders',
  '{"customer_id": "cust", "order_id": "id", "ordered_at": "placed", "amount": "total", "valid": "state = ''paid''"}');
SELECT * FROM segments.source_orders ORDER BY order_id;
SELECT segments.map_source('contacts', 'shop.people',
  '{"customer_id": "pid", "email": "lower(mail)", "first_name": "Given Name", "opted_in": "consent = ''yes''", "created_at": "joined"}');
SELECT * FROM segments.source_contacts ORDER BY customer_id;
SELECT segments.map_source('events', 'shop.clicks', '{"customer_id": "who", "kind": "what", "at": "ts"}');
SELECT kind, mapped, source, mapped_by FROM segments.sources;
SELECT obj_description('segments.source_orders'::regclass, 'pg_class');
-- Remapping replaces the view (here: a view as the source, valid left to its default, true).
SELECT segments.map_source('orders', 'shop.paid_orders', '{"customer_id": "cust", "ordered_at": "placed", "amount": "total"}');
SELECT customer_id, order_id, valid FROM segments.source_orders ORDER BY ordered_at;
SELECT source, columns FROM segments.sources WHERE kind = 'orders';
-- Unmapping empties the view; the view keeps its columns so rules still compile.
SELECT segments.unmap_source('events');
SELECT kind, mapped FROM segments.sources WHERE kind = 'events';
SELECT count(*) FROM segments.source_events;
-- After pg_dump/restore the views come back empty: restore_sources rebuilds them from source_map.
SELECT segments_internal._install_source_view('orders', segments_internal._empty_source_sql('orders'), 'orders source, not mapped (no rows)');
SELECT count(*) AS before_restore FROM segments.source_orders;
SELECT segments.restore_sources();
SELECT count(*) AS after_restore FROM segments.source_orders;
SELECT column_name, data_type, required, default_value FROM segments.source_columns('subscriptions');

SET client_min_messages = warning;
DROP EXTENSION pg_segments CASCADE;
DROP SCHEMA shop CASCADE;
RESET client_min_messages;
CREATE EXTENSION pg_segments;
