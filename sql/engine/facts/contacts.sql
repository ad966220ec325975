-- Customer facts from the contacts source: the latest contact row per customer (lead date: the
-- earliest), and how many rows are opted in since 30 days or more (crm pack: slipping
-- subscribers). contact_horizon: an opted-in row turns 30 days old.
CREATE OR REPLACE FUNCTION segments_internal.contact_facts(as_of timestamptz, only_customers text[] DEFAULT NULL)
RETURNS TABLE (customer_id text, email text, first_name text, last_name text, opted_in boolean, lead_at timestamptz,
               shipping_address text, billing_address text, opted_in_over_30d int, contact_horizon timestamptz)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT DISTINCT ON (c.customer_id COLLATE "C") c.customer_id COLLATE "C", c.email, c.first_name, c.last_name,
         c.opted_in, min(c.created_at) OVER w, c.shipping_address, c.billing_address,
         (count(*) FILTER (WHERE c.opted_in AND (c.created_at IS NULL OR c.created_at <= as_of - interval '720 hours')) OVER w)::int,
         min(c.created_at) FILTER (WHERE c.opted_in AND c.created_at > as_of - interval '720 hours') OVER w + interval '720 hours'
  FROM segments.source_contacts c
  WHERE c.customer_id IS NOT NULL AND (only_customers IS NULL OR c.customer_id = ANY (only_customers))
  WINDOW w AS (PARTITION BY c.customer_id COLLATE "C")
  ORDER BY c.customer_id COLLATE "C", c.created_at DESC NULLS LAST
$$;
COMMENT ON FUNCTION segments_internal.contact_facts(timestamptz, text[]) IS
  'Internal: the contacts part of the customer facts (columns named like segments.customers)';
