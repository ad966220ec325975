-- Ready-made packs at scale: 100k customers, 1M orders, 1M events, 20k subscriptions, 20k deals.
-- psql -f bench/packs.sql (on a throwaway database: it drops and creates the extension).
-- Prints the facts refresh time and each pack segment's refresh time (segments.runs).
\timing on
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS pg_segments CASCADE;
DROP SCHEMA IF EXISTS packs_bench CASCADE;
CREATE EXTENSION pg_segments;
CREATE SCHEMA packs_bench;
SELECT setseed(0.42);
CREATE TABLE packs_bench.people AS
  SELECT 'c' || i AS id, 'c' || i || '@example.com' AS email, random() < 0.5 AS opted_in,
         now() - random() * interval '730 days' AS created_at
  FROM generate_series(1, 100000) i;
CREATE TABLE packs_bench.orders AS
  SELECT i AS order_id, 'c' || (1 + (random() * random() * 99999)::int) AS customer_id,
         now() - random() * interval '730 days' AS ordered_at, round((5 + random() * 495)::numeric, 2) AS amount,
         random() > 0.05 AS valid
  FROM generate_series(1, 1000000) i;
CREATE TABLE packs_bench.events AS
  SELECT 'c' || (1 + (random() * 99999)::int) AS customer_id,
         (ARRAY['product_view','product_view','product_view','product_view','product_view','product_view',
                'cart_add','cart_add','checkout','email_open','email_click','session','back_in_stock'])[1 + (random() * 12)::int] AS kind,
         now() - random() * interval '60 days' AS at
  FROM generate_series(1, 1000000) i;
CREATE TABLE packs_bench.subs AS
  SELECT 'c' || (1 + (random() * 99999)::int) AS customer_id, now() - random() * interval '400 days' AS started_at,
         random() < 0.4 AS is_trial, (ARRAY['trialing','active','cancelled','expired'])[1 + (random() * 3)::int] AS status,
         1 + (random() * 4)::int AS rating, now() - random() * interval '90 days' AS last_seen_at
  FROM generate_series(1, 20000) i;
CREATE TABLE packs_bench.deals AS
  SELECT 'c' || (1 + (random() * 99999)::int) AS customer_id, 'D' || i AS deal_id,
         now() - random() * interval '300 days' AS created_at, now() - random() * interval '60 days' AS updated_at,
         (ARRAY['open','won','lost'])[1 + (random() * 2)::int] AS state, (random() * 5)::int AS updates_30d
  FROM generate_series(1, 20000) i;
ANALYZE packs_bench.people, packs_bench.orders, packs_bench.events, packs_bench.subs, packs_bench.deals;
SELECT segments.map_source('orders', 'packs_bench.orders', '{"customer_id":"customer_id","order_id":"order_id::text","ordered_at":"ordered_at","amount":"amount","valid":"valid"}');
SELECT segments.map_source('contacts', 'packs_bench.people', '{"customer_id":"id","email":"email","opted_in":"opted_in","created_at":"created_at"}');
SELECT segments.map_source('events', 'packs_bench.events', '{"customer_id":"customer_id","kind":"kind","at":"at"}');
SELECT segments.map_source('subscriptions', 'packs_bench.subs', '{"customer_id":"customer_id","started_at":"started_at","is_trial":"is_trial","status":"status","engagement_rating":"rating","last_seen_at":"last_seen_at"}');
SELECT segments.map_source('deals', 'packs_bench.deals', '{"customer_id":"customer_id","deal_id":"deal_id","created_at":"created_at","updated_at":"updated_at","state":"state","updates_30d":"updates_30d"}');
SELECT customers, duration FROM segments.refresh_facts();
-- Install without building, then build everything in one go (first refresh: everyone joins).
SELECT p, count(*) FROM unnest(ARRAY['ecommerce','payments','crm','lifecycle']) p,
       LATERAL segments.install_pack(p, build => false) GROUP BY p;
SELECT count(*) AS runs, sum(size) AS members FROM segments.refresh_all();
SELECT s.pack, s.name, r.size, round(extract(epoch FROM r.finished_at - r.started_at)::numeric, 3) AS seconds
FROM segments.runs r JOIN segments.segments s ON s.id = r.segment_id ORDER BY s.id;
SELECT s.pack, round(sum(extract(epoch FROM r.finished_at - r.started_at))::numeric, 2) AS seconds
FROM segments.runs r JOIN segments.segments s ON s.id = r.segment_id GROUP BY ROLLUP (s.pack) ORDER BY 1;
-- A second refresh (little changes: the steady state).
SELECT count(*) AS runs, sum(joined) AS joined, sum("left") AS left FROM segments.refresh_all();
