-- Time windows are exact durations (N days = N x 24 hours) in the facts and in the pack queries,
-- so neither depends on the session TimeZone across a DST change. On 2024-11-15 a Europe/Berlin
-- "90 days" back crosses the end of summer time (25-hour day) and is 2161 hours; a deal 2160.5
-- hours old is out of every 90-day window, from any session.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS pg_segments CASCADE;
RESET client_min_messages;
CREATE EXTENSION pg_segments;
SET pg_segments.facts_max_age = -1;
CREATE SCHEMA tw;
CREATE TABLE tw.deals(customer text, id int, created timestamptz, state text);
INSERT INTO tw.deals VALUES
  ('old', 1, timestamptz '2024-11-15 12:00+00' - interval '2160.5 hours', 'open'),
  ('new', 2, timestamptz '2024-11-15 12:00+00' - interval '2159.5 hours', 'open');
SELECT segments.map_source('deals', 'tw.deals',
  '{"customer_id": "customer", "deal_id": "id", "created_at": "created", "state": "state"}');
-- The calendar arithmetic the windows no longer use: 2161 hours in Berlin, 2160 in UTC.
SET timezone = 'Europe/Berlin';
SELECT timestamptz '2024-11-15 12:00+00' - (timestamptz '2024-11-15 12:00+00' - interval '90 days') AS berlin_90_days;
-- The facts (deals_90d) and the crm_new_deals pack (a rule over them), as of 2024-11-15 12:00 UTC, from both zones.
CREATE TEMP TABLE seen(zone text, what text, customer_id text);
CREATE FUNCTION pg_temp.look() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO seen SELECT current_setting('timezone'), 'deals_90d', f.customer_id
    FROM segments.compute_facts('2024-11-15 12:00+00') f WHERE f.deals_90d > 0;
  EXECUTE format('INSERT INTO seen SELECT %L, %L, f.customer_id FROM segments.compute_facts(%L) f WHERE %s',
    current_setting('timezone'), 'crm_new_deals', '2024-11-15 12:00+00',
    (SELECT rule FROM segments.pack_segments WHERE name = 'crm_new_deals'));
END $$;
SELECT FROM pg_temp.look();
SET timezone = 'UTC';
SELECT FROM pg_temp.look();
SELECT zone, what, string_agg(customer_id, ', ' ORDER BY customer_id) AS customers FROM seen GROUP BY 1, 2 ORDER BY 1, 2;

SET client_min_messages = warning;
DROP EXTENSION pg_segments CASCADE;
DROP SCHEMA tw CASCADE;
RESET client_min_messages;
CREATE EXTENSION pg_segments;
