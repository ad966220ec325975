-- Customer insights at scale: 200k contacts, 1M orders (129k buyers, skewed, 1/12 cancelled) over
-- three years, 500k email events, 2M order lines.
-- psql -f bench/insights.sql (on a throwaway database: it drops and creates the extension and
-- schema insights_bench). Prints the time of every insight query (docs/insights.md, "Measured").
SET client_min_messages = warning;
SET timezone = 'UTC';
DROP EXTENSION IF EXISTS pg_segments CASCADE;
DROP SCHEMA IF EXISTS insights_bench CASCADE;
CREATE EXTENSION pg_segments;
CREATE SCHEMA insights_bench;
CREATE TABLE insights_bench.contacts AS
  SELECT 'c' || i AS id, 'c' || i || '@x' AS email, i % 9 <> 0 AS opted_in,
         now() - interval '1100 days' + (i % 1000) * interval '1 day' AS signup_at
  FROM generate_series(1, 200000) i;
CREATE TABLE insights_bench.orders AS
  SELECT 'o' || n AS id, 'c' || (1 + (hashint4(n) & 2147483647) % (1 + (hashint4(n * 7) & 2147483647) % 150000)) AS customer,
         now() - (hashint4(n * 3) & 2147483647) % (1095 * 24) * interval '1 hour' AS created_at,
         5 + (hashint4(n * 5) & 2147483647) % 300 AS total, CASE WHEN n % 12 = 0 THEN 'cancelled' ELSE 'paid' END AS status
  FROM generate_series(1, 1000000) n;
CREATE TABLE insights_bench.events AS
  SELECT 'c' || (1 + i % 200000) AS customer, CASE WHEN i % 4 = 0 THEN 'email_click' ELSE 'email_open' END AS type,
         now() - (i % 200) * interval '1 day' AS at
  FROM generate_series(1, 500000) i;
CREATE TABLE insights_bench.lines AS
  SELECT id AS order_ref, 'sku' || (hashint4(length(id) + k) & 255) AS sku, k AS qty, total / k AS line_total
  FROM insights_bench.orders, generate_series(1, 2) k;
ANALYZE insights_bench.contacts; ANALYZE insights_bench.orders; ANALYZE insights_bench.events; ANALYZE insights_bench.lines;
SELECT segments.map_source('orders', 'insights_bench.orders',
  '{"customer_id": "customer", "order_id": "id", "ordered_at": "created_at", "amount": "total", "valid": "status <> ''cancelled''"}');
SELECT segments.map_source('contacts', 'insights_bench.contacts',
  '{"customer_id": "id", "email": "email", "opted_in": "opted_in", "created_at": "signup_at"}');
SELECT segments.map_source('events', 'insights_bench.events', '{"customer_id": "customer", "kind": "type", "at": "at"}');
\timing on
SELECT customers, duration FROM segments.refresh_facts();
\o /dev/null
SELECT * FROM segments.breakdown();
SELECT * FROM segments.breakdown('lifecycle');
SELECT * FROM segments.dimension_matrix('lifecycle', 'value_band');
SELECT * FROM segments.dimension_matrix('frequency', 'value_band');
SELECT * FROM segments.dimension_matrix('lifecycle', 'email_engagement');
SELECT * FROM segments.dimension_matrix('rfm_group', 'lifecycle');
SELECT * FROM segments.new_returning_lapsed(now() - interval '30 days', now());
SELECT * FROM segments.new_returning_lapsed_series(now() - interval '365 days', now(), '1 month');
SELECT * FROM segments.customer_events(now() - interval '30 days', now());
SELECT * FROM segments.customer_events(now() - interval '365 days', now());
SELECT * FROM segments.customer_event_products(now() - interval '30 days', now(), 'insights_bench.lines', '{"order_id":"order_ref","product":"sku","units":"qty","revenue":"line_total"}');
SELECT * FROM segments.lifecycle_on(now() - interval '180 days');
SELECT * FROM segments.rfm();
SELECT * FROM segments.rfm_cut_points();
SELECT * FROM segments.cohorts('month');
\o
\timing off
