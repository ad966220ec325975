-- Insights (docs/insights.md): Email engagement.

-- SQL-standard bodies (RETURN ...) are parsed once, at creation, and are inlined into the calling
-- query: no per-row function call. STABLE, not IMMUTABLE: timestamptz - interval is only stable, and
-- an IMMUTABLE wrapper around it would not be inlined.
CREATE OR REPLACE FUNCTION segments.email_engagement_level(opted_in boolean, last_open_at timestamptz,
                                                last_click_at timestamptz, as_of timestamptz)
RETURNS text LANGUAGE sql STABLE PARALLEL SAFE
RETURN CASE
    WHEN opted_in IS FALSE THEN 'unsubscribed'
    WHEN last_click_at > as_of - interval '30 days' THEN 'high'
    WHEN last_click_at > as_of - interval '90 days' OR last_open_at > as_of - interval '30 days' THEN 'medium'
    WHEN last_open_at > as_of - interval '90 days' THEN 'low'
    ELSE 'none' END;
COMMENT ON FUNCTION segments.email_engagement_level(boolean, timestamptz, timestamptz, timestamptz) IS
  'Email engagement bucket from the last open and click before as_of: unsubscribed (opted out), high (click in 30 days), medium (click in 90 or open in 30 days), low (open in 90 days), none';
