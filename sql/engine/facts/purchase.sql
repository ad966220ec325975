-- Customer facts: the one definition of a purchase (docs/segments.md#purchases), used by the facts,
-- the insights and the packs. A purchase is a valid order row with a non-negative amount; a refund
-- (a valid row with a negative amount) is not an order, it only reduces revenue. Free orders
-- (amount 0) are purchases.
CREATE OR REPLACE FUNCTION segments.is_purchase(valid boolean, amount numeric) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(valid, false) AND coalesce(amount, 0) >= 0
$$;
COMMENT ON FUNCTION segments.is_purchase(boolean, numeric) IS
  'Is an order row a purchase? Valid and a non-negative amount (a refund is not an order). E.g. SELECT count(*) FROM segments.source_orders o WHERE segments.is_purchase(o.valid, o.amount)';

-- The purchases: the orders source restricted to segments.is_purchase (what counts as an order).
CREATE OR REPLACE VIEW segments.purchases WITH (security_invoker = true) AS
  SELECT o.customer_id, o.order_id, o.ordered_at, o.amount
  FROM segments.source_orders o
  WHERE segments.is_purchase(o.valid, o.amount) AND o.customer_id IS NOT NULL;
COMMENT ON VIEW segments.purchases IS
  'Purchases: valid orders with a non-negative amount (segments.is_purchase), the rows that count as orders everywhere';
