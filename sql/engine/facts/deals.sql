-- Customer facts from the deals source (windows in exact durations: N days = N x 24 hours).
-- busy_deals_90d / new_deals_touched_30d: new deals (created in the last 90 days) meeting a second
-- condition on the same deal (crm pack: engaged and slipping deals).
-- deal_horizon: a deal leaves a window, or a deal dated after as_of becomes visible.
CREATE OR REPLACE FUNCTION segments_internal.deal_facts(as_of timestamptz, only_customers text[] DEFAULT NULL)
RETURNS TABLE (customer_id text, deals int, deals_90d int, open_deals int, won_deals int, lost_deals int,
               lost_deals_90d int, last_deal_at timestamptz, last_deal_update_at timestamptz, deal_updates_30d int,
               busy_deals_90d int, new_deals_touched_30d int,
               deal_horizon timestamptz)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT d.customer_id,
    count(*) FILTER (WHERE d.past)::int,
    count(*) FILTER (WHERE d.past AND d.created_at > as_of - interval '2160 hours')::int,
    count(*) FILTER (WHERE d.past AND d.state = 'open')::int,
    count(*) FILTER (WHERE d.past AND d.state = 'won')::int,
    count(*) FILTER (WHERE d.past AND d.state = 'lost')::int,
    count(*) FILTER (WHERE d.past AND d.state = 'lost' AND d.touched_at > as_of - interval '2160 hours')::int,
    max(d.created_at) FILTER (WHERE d.past),
    max(d.touched_at) FILTER (WHERE d.past),
    max(coalesce(d.updates_30d, (d.touched_at > as_of - interval '720 hours')::int)) FILTER (WHERE d.past)::int,
    count(*) FILTER (WHERE d.past AND d.created_at > as_of - interval '2160 hours' AND d.updates_30d > 2)::int,
    count(*) FILTER (WHERE d.past AND d.created_at > as_of - interval '2160 hours' AND d.touched_at > as_of - interval '720 hours')::int,
    least(min(d.created_at) FILTER (WHERE NOT d.past),
          min(d.created_at) FILTER (WHERE d.past AND d.created_at > as_of - interval '2160 hours') + interval '2160 hours',
          min(d.touched_at) FILTER (WHERE d.past AND d.state = 'lost' AND d.touched_at > as_of - interval '2160 hours')
            + interval '2160 hours',
          min(d.touched_at) FILTER (WHERE d.past AND d.updates_30d IS NULL AND d.touched_at > as_of - interval '720 hours')
            + interval '720 hours',
          min(d.touched_at) FILTER (WHERE d.past AND d.created_at > as_of - interval '2160 hours'
                                      AND d.touched_at > as_of - interval '720 hours') + interval '720 hours')
  FROM (SELECT sd.customer_id COLLATE "C" AS customer_id, sd.created_at, sd.state, sd.updates_30d,
               coalesce(sd.updated_at, sd.created_at) AS touched_at, sd.created_at <= as_of AS past
        FROM segments.source_deals sd
        WHERE sd.customer_id IS NOT NULL AND sd.created_at IS NOT NULL
          AND (only_customers IS NULL OR sd.customer_id = ANY (only_customers))) d
  GROUP BY d.customer_id
$$;
COMMENT ON FUNCTION segments_internal.deal_facts(timestamptz, text[]) IS
  'Internal: the deals part of the customer facts as of a time (columns named like segments.customers)';
