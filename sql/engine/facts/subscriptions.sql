-- Customer facts from the subscriptions source: the latest subscription's status and rating.
-- sub_horizon: a subscription dated after as_of becomes visible then.
CREATE OR REPLACE FUNCTION segments_internal.subscription_facts(as_of timestamptz, only_customers text[] DEFAULT NULL)
RETURNS TABLE (customer_id text, subscription_status text, has_active_subscription boolean, on_trial boolean,
               trial_started_at timestamptz, subscribed_at timestamptz, engagement_rating int, last_seen_at timestamptz,
               sub_horizon timestamptz)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT s.customer_id,
    (array_agg(s.status ORDER BY s.started_at DESC) FILTER (WHERE s.past))[1],
    coalesce(bool_or(s.status = 'active' AND NOT coalesce(s.is_trial, false)) FILTER (WHERE s.past), false),
    coalesce(bool_or(s.status = 'trialing' OR (coalesce(s.is_trial, false) AND s.status = 'active')) FILTER (WHERE s.past), false),
    max(s.started_at) FILTER (WHERE s.past AND (coalesce(s.is_trial, false) OR s.status = 'trialing')),
    min(s.started_at) FILTER (WHERE s.past AND NOT coalesce(s.is_trial, false) AND s.status <> 'trialing'),
    (array_agg(s.engagement_rating ORDER BY s.started_at DESC) FILTER (WHERE s.past AND s.engagement_rating IS NOT NULL))[1],
    max(s.last_seen_at) FILTER (WHERE s.past),
    min(s.started_at) FILTER (WHERE NOT s.past)
  FROM (SELECT so.customer_id COLLATE "C" AS customer_id, so.status, so.is_trial, so.started_at, so.engagement_rating,
               so.last_seen_at, so.started_at <= as_of AS past
        FROM segments.source_subscriptions so
        WHERE so.customer_id IS NOT NULL AND so.started_at IS NOT NULL
          AND (only_customers IS NULL OR so.customer_id = ANY (only_customers))) s
  GROUP BY s.customer_id
$$;
COMMENT ON FUNCTION segments_internal.subscription_facts(timestamptz, text[]) IS
  'Internal: the subscriptions part of the customer facts as of a time (columns named like segments.customers)';
