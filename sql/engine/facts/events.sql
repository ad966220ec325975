-- Customer facts from the events source (windows in exact durations: N days = N x 24 hours).
CREATE OR REPLACE FUNCTION segments_internal.event_facts(as_of timestamptz, only_customers text[] DEFAULT NULL)
RETURNS TABLE (customer_id text, product_views_7d int, product_views_14d int, product_views_30d int, cart_adds_7d int,
               cart_adds_14d int, last_product_view_at timestamptz, last_cart_add_at timestamptz,
               last_checkout_at timestamptz, back_in_stock_requests int, last_back_in_stock_at timestamptz,
               last_email_open_at timestamptz, last_email_click_at timestamptz, last_session_at timestamptz,
               sessions_30d int, checkouts_7d int, checkouts_14d int, campaign_engagements_30d int,
               event_horizon timestamptz)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT e.customer_id,
    count(*) FILTER (WHERE e.kind = 'product_view' AND e.past AND e.at > as_of - interval '168 hours')::int,
    count(*) FILTER (WHERE e.kind = 'product_view' AND e.past AND e.at > as_of - interval '336 hours')::int,
    count(*) FILTER (WHERE e.kind = 'product_view' AND e.past AND e.at > as_of - interval '720 hours')::int,
    count(*) FILTER (WHERE e.kind = 'cart_add' AND e.past AND e.at > as_of - interval '168 hours')::int,
    count(*) FILTER (WHERE e.kind = 'cart_add' AND e.past AND e.at > as_of - interval '336 hours')::int,
    max(e.at) FILTER (WHERE e.kind = 'product_view' AND e.past),
    max(e.at) FILTER (WHERE e.kind = 'cart_add' AND e.past),
    max(e.at) FILTER (WHERE e.kind = 'checkout' AND e.past),
    count(*) FILTER (WHERE e.kind = 'back_in_stock' AND e.past)::int,
    max(e.at) FILTER (WHERE e.kind = 'back_in_stock' AND e.past),
    max(e.at) FILTER (WHERE e.kind = 'email_open' AND e.past),
    max(e.at) FILTER (WHERE e.kind = 'email_click' AND e.past),
    max(e.at) FILTER (WHERE e.kind = 'session' AND e.past),
    count(*) FILTER (WHERE e.kind = 'session' AND e.past AND e.at > as_of - interval '720 hours')::int,
    count(*) FILTER (WHERE e.kind = 'checkout' AND e.past AND e.at > as_of - interval '168 hours')::int,
    count(*) FILTER (WHERE e.kind = 'checkout' AND e.past AND e.at > as_of - interval '336 hours')::int,
    count(*) FILTER (WHERE e.kind IN ('email_open', 'email_click') AND e.past AND e.at > as_of - interval '720 hours')::int,
    least(min(e.at) FILTER (WHERE NOT e.past),
          min(e.at) FILTER (WHERE e.kind IN ('product_view', 'cart_add', 'checkout') AND e.past AND e.at > as_of - interval '168 hours') + interval '168 hours',
          min(e.at) FILTER (WHERE e.kind IN ('product_view', 'cart_add', 'checkout') AND e.past AND e.at > as_of - interval '336 hours') + interval '336 hours',
          min(e.at) FILTER (WHERE e.kind IN ('product_view', 'session', 'email_open', 'email_click') AND e.past
                            AND e.at > as_of - interval '720 hours') + interval '720 hours',
          -- a last cart add under 15 minutes old may become an abandoned cart (segments_internal.cart_facts)
          nullif(greatest(max(e.at) FILTER (WHERE e.kind = 'cart_add' AND e.past) + interval '15 minutes', as_of), as_of))
  FROM (SELECT ev.customer_id COLLATE "C" AS customer_id, ev.kind, ev.at, ev.at <= as_of AS past
        FROM segments.source_events ev
        WHERE ev.customer_id IS NOT NULL AND ev.at IS NOT NULL
          AND (only_customers IS NULL OR ev.customer_id = ANY (only_customers))) e
  GROUP BY e.customer_id
$$;
COMMENT ON FUNCTION segments_internal.event_facts(timestamptz, text[]) IS
  'Internal: the events part of the customer facts as of a time (columns named like segments.customers)';
