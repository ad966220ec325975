-- Customer facts from the subscriptions source: the latest subscription's status and rating, and
-- counts of subscriptions matching the payments pack's per-subscription conditions (one row must
-- meet them all, so they cannot be rebuilt from the per-customer summary columns).
-- sub_horizon: a subscription dated after as_of becomes visible, a trial leaves its 30-day window,
-- becomes more than 2 days old, or its last-seen time grows more than 7 (30) days old. The strict
-- "more than" conditions first hold one microsecond (timestamptz's resolution) after the boundary,
-- hence the + 1 us terms: at the boundary itself the count is unchanged yet.
CREATE OR REPLACE FUNCTION segments_internal.subscription_facts(as_of timestamptz, only_customers text[] DEFAULT NULL)
RETURNS TABLE (customer_id text, subscription_status text, has_active_subscription boolean, on_trial boolean,
               trial_started_at timestamptz, subscribed_at timestamptz, engagement_rating int, last_seen_at timestamptz,
               active_subscriptions int, paid_subscriptions int, trials int, trials_30d int, engaged_trials int,
               active_5_star_subscriptions int, slipping_trials int, subscriptions_seen_30d int,
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
    count(*) FILTER (WHERE s.past AND s.status = 'active')::int,
    count(*) FILTER (WHERE s.past AND s.is_trial IS FALSE)::int,
    count(*) FILTER (WHERE s.past AND s.is_trial)::int,
    count(*) FILTER (WHERE s.trial_30d)::int,
    count(*) FILTER (WHERE s.past AND s.is_trial AND s.status = 'trialing' AND s.engagement_rating > 3)::int,
    count(*) FILTER (WHERE s.past AND s.status = 'active' AND s.engagement_rating = 5)::int,
    count(*) FILTER (WHERE s.trial_30d AND s.started_at < as_of - interval '48 hours'
                       AND (s.engagement_rating <= 2 OR s.last_seen_at < as_of - interval '168 hours'))::int,
    count(*) FILTER (WHERE s.past AND s.last_seen_at >= as_of - interval '720 hours')::int,
    least(min(s.started_at) FILTER (WHERE NOT s.past),
          min(s.started_at) FILTER (WHERE s.trial_30d) + interval '720 hours',
          min(s.started_at) FILTER (WHERE s.trial_30d AND s.started_at >= as_of - interval '48 hours')
            + interval '48 hours 0.000001 seconds',
          min(s.last_seen_at) FILTER (WHERE s.trial_30d AND s.last_seen_at >= as_of - interval '168 hours')
            + interval '168 hours 0.000001 seconds',
          min(s.last_seen_at) FILTER (WHERE s.past AND s.last_seen_at >= as_of - interval '720 hours')
            + interval '720 hours 0.000001 seconds')
  FROM (SELECT so.customer_id COLLATE "C" AS customer_id, so.status, so.is_trial, so.started_at, so.engagement_rating,
               so.last_seen_at, so.started_at <= as_of AS past,
               so.started_at <= as_of AND so.is_trial AND so.started_at > as_of - interval '720 hours' AS trial_30d
        FROM segments.source_subscriptions so
        WHERE so.customer_id IS NOT NULL AND so.started_at IS NOT NULL
          AND (only_customers IS NULL OR so.customer_id = ANY (only_customers))
        OFFSET 0) s  -- past / trial_30d evaluated once per row, not in every FILTER
  GROUP BY s.customer_id
$$;
COMMENT ON FUNCTION segments_internal.subscription_facts(timestamptz, text[]) IS
  'Internal: the subscriptions part of the customer facts as of a time (columns named like segments.customers)';
