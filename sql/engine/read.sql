-- Segment engine: what BI tools and sync jobs read (docs/segments.md#reading-segments).

CREATE OR REPLACE VIEW segments.members WITH (security_invoker = true) AS
  SELECT s.name AS segment, m.customer_id, m.joined_at, m.segment_id
  FROM segments.membership m JOIN segments.segments s ON s.id = m.segment_id;
COMMENT ON VIEW segments.members IS 'Members of every segment: segment name, customer_id, joined_at';
GRANT SELECT ON segments.members TO segments_reader, segments_editor;

-- owner is text (regrole is a type ORMs and BI drivers cannot map). customers counts membership
-- whether or not facts exist (after pg_restore they do not until the first refresh, and the
-- segment is not empty); facts_stale says when revenue and orders are missing for that reason.
CREATE OR REPLACE VIEW segments.overview WITH (security_invoker = true) AS
  SELECT s.id, s.name AS segment, s.status, s.description, s.owner::text AS owner, s.pack,
    coalesce(k.customers, 0) AS customers,
    coalesce(k.revenue, 0) AS revenue,
    coalesce(k.orders, 0) AS orders,
    round(k.revenue / nullif(k.orders, 0), 2) AS aov,
    round(k.revenue / nullif(k.customers, 0), 2) AS avg_clv,
    k.avg_order_latency_days,
    coalesce(h.added_revenue, 0) AS added_revenue,
    s.last_refresh_at, s.next_refresh_at, s.refresh_interval, s.timezone,
    s.last_error, s.last_error_at, s.created_at,
    f.refreshed_at AS facts_as_of,
    (f.refreshed_at IS NULL OR k.without_facts > 0) AS facts_stale
  FROM segments.segments s
  LEFT JOIN segments.facts_status f ON true
  LEFT JOIN LATERAL (
    SELECT count(*) AS customers, sum(c.revenue) AS revenue, sum(c.orders) AS orders,
           avg(c.order_latency_days) AS avg_order_latency_days,
           count(*) FILTER (WHERE c.customer_id IS NULL) AS without_facts
    FROM segments.membership m LEFT JOIN segments.customers c ON c.customer_id = m.customer_id
    WHERE m.segment_id = s.id) k ON true
  LEFT JOIN LATERAL (
    SELECT sum(hh.added_revenue) AS added_revenue FROM segments.history hh WHERE hh.segment_id = s.id) h ON true;
COMMENT ON VIEW segments.overview IS
  'One row per segment: customers, lifetime revenue, orders, AOV, average CLV and order latency (days), added revenue, status, refresh times, whether the facts behind the figures are stale. Natural key: segment (or id)';
GRANT SELECT ON segments.overview TO segments_reader, segments_editor;

-- Members' email addresses for an email service provider; optional columns are NULL unless asked
-- for (segments.export_csv gives exactly the chosen columns).
CREATE OR REPLACE FUNCTION segments.export(name text, include_names boolean DEFAULT false,
  include_shipping boolean DEFAULT false, include_billing boolean DEFAULT false,
  opted_in_only boolean DEFAULT false)
RETURNS TABLE (email text, first_name text, last_name text, shipping_address text, billing_address text)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE s segments.segments := segments_internal._get(name);
BEGIN
  IF NOT has_column_privilege('segments.customers', 'email', 'SELECT') THEN
    RAISE EXCEPTION 'permission denied to export segment "%": exports hold personal data', name
      USING ERRCODE = '42501', HINT = format('It needs role segments_pii: GRANT segments_pii TO %s;', current_user);
  END IF;
  RETURN QUERY
    SELECT c.email,
      CASE WHEN include_names THEN c.first_name END,
      CASE WHEN include_names THEN c.last_name END,
      CASE WHEN include_shipping THEN c.shipping_address END,
      CASE WHEN include_billing THEN c.billing_address END
    FROM segments.membership m JOIN segments.customers c ON c.customer_id = m.customer_id
    WHERE m.segment_id = s.id AND c.email IS NOT NULL AND (NOT opted_in_only OR c.opted_in)
    ORDER BY c.email, m.customer_id;
END $$;
COMMENT ON FUNCTION segments.export(text, boolean, boolean, boolean, boolean) IS
  'Members'' emails (optionally names, shipping and billing address) for COPY (SELECT * FROM segments.export(...)) TO STDOUT WITH CSV HEADER';

CREATE OR REPLACE FUNCTION segments.export_csv(name text, include_names boolean DEFAULT false,
  include_shipping boolean DEFAULT false, include_billing boolean DEFAULT false,
  opted_in_only boolean DEFAULT false)
RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE cols text[] := ARRAY['email'] ||
    CASE WHEN include_names THEN ARRAY['first_name', 'last_name'] ELSE '{}' END ||
    CASE WHEN include_shipping THEN ARRAY['shipping_address'] ELSE '{}' END ||
    CASE WHEN include_billing THEN ARRAY['billing_address'] ELSE '{}' END;
  body text;
BEGIN
  -- CSV quoting as COPY does it: quote a field holding a comma, quote, CR or LF; double quotes.
  SELECT string_agg(line, E'\n' ORDER BY n) INTO body FROM (
    SELECT array_to_string(ARRAY(
      SELECT CASE WHEN v IS NULL THEN ''
                  WHEN v ~ '[",\r\n]' OR v = '' OR (v = '\.' AND NOT (include_names OR include_shipping OR include_billing))
                  THEN '"' || replace(v, '"', '""') || '"'
                  ELSE v END
      FROM unnest(ARRAY[e.email, e.first_name, e.last_name, e.shipping_address, e.billing_address]) WITH ORDINALITY u(v, i)
      WHERE (i = 1) OR (i IN (2, 3) AND include_names) OR (i = 4 AND include_shipping) OR (i = 5 AND include_billing)
      ORDER BY i), ',') AS line, e.n
    FROM segments.export(name, include_names, include_shipping, include_billing, opted_in_only)
         WITH ORDINALITY AS e(email, first_name, last_name, shipping_address, billing_address, n)) x;
  RETURN array_to_string(cols, ',') || E'\n' || coalesce(body || E'\n', '');
END $$;
COMMENT ON FUNCTION segments.export_csv(text, boolean, boolean, boolean, boolean) IS
  'The export as one CSV document with a header and exactly the chosen columns';
