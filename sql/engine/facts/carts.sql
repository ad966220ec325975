-- The one definition of an abandoned cart (docs/segments.md#abandoned-carts), used by the facts
-- (as of their time) and the packs (through the facts): a cart_add that is the last add before the
-- next completion (a purchase or a checkout event) and is not followed by a completion within 15
-- minutes (and 15 minutes have passed). Looks back 30 days (exact: 720 hours).
CREATE OR REPLACE FUNCTION segments_internal.abandoned_carts(as_of timestamptz, only_customers text[] DEFAULT NULL)
RETURNS TABLE (customer_id text, added_at timestamptz)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT y.customer_id, y.at
  FROM (
    SELECT z.customer_id, z.at, z.is_add,
      min(z.at) FILTER (WHERE NOT z.is_add) OVER w AS next_done,
      min(z.at) FILTER (WHERE z.is_add) OVER w AS next_add
    FROM (
      SELECT e.customer_id COLLATE "C" AS customer_id, e.at, e.kind = 'cart_add' AS is_add
      FROM segments.source_events e
      WHERE e.kind IN ('cart_add', 'checkout') AND e.customer_id IS NOT NULL
        AND (only_customers IS NULL OR e.customer_id = ANY (only_customers))
        AND e.at > as_of - interval '720 hours' AND e.at <= as_of
      UNION ALL
      SELECT p.customer_id COLLATE "C", p.ordered_at, false
      FROM segments.purchases p
      WHERE (only_customers IS NULL OR p.customer_id = ANY (only_customers))
        AND p.ordered_at > as_of - interval '720 hours' AND p.ordered_at <= as_of
    ) z
    -- The rows after this one, walked backwards: a frame that starts at the partition's start grows
    -- (O(n) a customer), where "1 FOLLOWING AND UNBOUNDED FOLLOWING" restarts min() at every row.
    WINDOW w AS (PARTITION BY z.customer_id ORDER BY z.at DESC, z.is_add DESC ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
  ) y
  WHERE y.is_add
    AND (y.next_add IS NULL OR (y.next_done IS NOT NULL AND y.next_done <= y.next_add))
    AND CASE WHEN y.next_done IS NULL THEN y.at <= as_of - interval '15 minutes'
             ELSE y.next_done > y.at + interval '15 minutes' END
$$;
COMMENT ON FUNCTION segments_internal.abandoned_carts(timestamptz, text[]) IS
  'Internal: the abandoned carts of the 30 days before as_of (customer, time of the cart''s last add)';

-- Per customer. cart_horizon: when a cart leaves a window, or a pending last add (under 15
-- minutes old, nothing after it) becomes abandoned.
CREATE OR REPLACE FUNCTION segments_internal.cart_facts(as_of timestamptz, only_customers text[] DEFAULT NULL)
RETURNS TABLE (customer_id text, last_abandoned_cart_at timestamptz, abandoned_carts_7d int, abandoned_carts_14d int,
               cart_horizon timestamptz)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT a.customer_id, max(a.added_at),
    count(*) FILTER (WHERE a.added_at > as_of - interval '168 hours')::int,
    count(*) FILTER (WHERE a.added_at > as_of - interval '336 hours')::int,
    least(max(a.added_at) + interval '720 hours',
          min(a.added_at) FILTER (WHERE a.added_at > as_of - interval '168 hours') + interval '168 hours',
          min(a.added_at) FILTER (WHERE a.added_at > as_of - interval '336 hours') + interval '336 hours')
  FROM segments_internal.abandoned_carts(as_of, only_customers) a
  GROUP BY a.customer_id
$$;
COMMENT ON FUNCTION segments_internal.cart_facts(timestamptz, text[]) IS
  'Internal: the abandoned-cart part of the customer facts as of a time (columns named like segments.customers)';
