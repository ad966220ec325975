-- What segments_internal.order_facts_of returns (sql/engine/facts/orders.sql): the orders part of
-- the customer facts of one customer, columns named and typed like segments.customers. Run once:
-- an upgrade from 0.1 creates it in sql/updates/0.1--0.2/issue-11.sql (the same statement).
CREATE TYPE segments_internal.order_facts_row AS (
  orders int, attempted_orders int, revenue numeric, first_order_at timestamptz, second_order_at timestamptz,
  last_order_at timestamptz, last_attempted_order_at timestamptz, order_latency_days float8,
  lifecycle @extschema@.lifecycle, orders_7d int, orders_14d int, orders_30d int, orders_90d int,
  revenue_30d numeric, rfm @extschema@.rfm, attempted_orders_14d int, order_horizon timestamptz);
