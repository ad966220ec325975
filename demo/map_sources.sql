-- demo/run: map the generated shop's tables (scripts/generate_shop.sql) to pg_segments' sources.
-- The shop's own names stay; each mapping says which column (or expression) means what.
CREATE EXTENSION IF NOT EXISTS pg_segments;

-- Paid orders and refunds (negative totals) count; cancelled and failed payments are attempts.
SELECT segments.map_source('orders', 'shop.orders', $${
  "customer_id": "customer_id", "order_id": "order_id", "ordered_at": "created_at",
  "amount": "total", "valid": "status IN ('paid', 'refund')"}$$);
SELECT segments.map_source('contacts', 'shop.customers', $${
  "customer_id": "customer_id", "email": "email", "opted_in": "accepts_marketing",
  "created_at": "created_at", "first_name": "first_name", "last_name": "last_name",
  "shipping_address": "shipping_address", "billing_address": "billing_address"}$$);
SELECT segments.map_source('events', 'shop.events', $${
  "customer_id": "customer_id", "kind": "event", "at": "occurred_at"}$$);
SELECT segments.map_source('subscriptions', 'shop.subscriptions', $${
  "customer_id": "customer_id", "started_at": "started_at", "is_trial": "trial", "status": "status",
  "engagement_rating": "engagement_rating", "last_seen_at": "last_seen_at"}$$);
SELECT segments.map_source('deals', 'shop.deals', $${
  "customer_id": "customer_id", "deal_id": "deal_id", "created_at": "created_at",
  "updated_at": "updated_at", "state": "stage", "updates_30d": "updates_last_30d"}$$);

-- The source views present customer ids as text; rules that look up one customer in a source
-- (correlated subqueries such as the CRM pack's "last engagement") use an index only when one
-- matches that expression. A DBA adds these once, next to the mapping.
CREATE INDEX IF NOT EXISTS customers_customer_text ON shop.customers ((customer_id::text));
CREATE INDEX IF NOT EXISTS orders_customer_text ON shop.orders ((customer_id::text), created_at);
CREATE INDEX IF NOT EXISTS events_customer_text ON shop.events ((customer_id::text), occurred_at);
CREATE INDEX IF NOT EXISTS subscriptions_customer_text ON shop.subscriptions ((customer_id::text));
CREATE INDEX IF NOT EXISTS deals_customer_text ON shop.deals ((customer_id::text));
-- Expression indexes get statistics only from ANALYZE: without them the planner guesses that a list
-- of customer ids (an incremental facts refresh) matches most rows, and scans the whole table.
ANALYZE shop.customers, shop.orders, shop.events, shop.subscriptions, shop.deals;
