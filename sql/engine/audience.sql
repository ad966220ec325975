-- Audience sync (docs/bi.md#audience-sync): the change log as the add/remove batches that Meta
-- Custom Audiences and Google Customer Match take, keyed by the SHA-256 of the normalized e-mail.
-- A job keeps the last change id it applied (its cursor) and asks for what came after it.

-- The identifier an ad platform matches on: hex SHA-256 of the trimmed, lower-cased e-mail.
-- 'google' also drops the dots of a gmail.com / googlemail.com local part, as Customer Match
-- normalizes; 'email' gives the normalized address itself (for a platform that hashes on its own).
CREATE OR REPLACE FUNCTION segments.audience_identifier(email text, format text DEFAULT 'sha256')
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE e text := lower(btrim(email, E' \t\r\n'));
BEGIN
  IF format IS NULL OR format NOT IN ('sha256', 'meta', 'google', 'email') THEN
    RAISE EXCEPTION 'unknown audience format "%"', format USING ERRCODE = '22023',
      HINT = 'Use sha256 (= meta), google or email.';
  END IF;
  IF e IS NULL OR e = '' THEN
    RETURN NULL;
  END IF;
  IF format = 'google' AND e ~ '@(gmail|googlemail)\.com$' THEN
    e := replace(split_part(e, '@', 1), '.', '') || '@' || split_part(e, '@', 2);
  END IF;
  IF format = 'email' THEN
    RETURN e;
  END IF;
  RETURN encode(sha256(convert_to(e, 'UTF8')), 'hex');
END $$;
COMMENT ON FUNCTION segments.audience_identifier(text, text) IS
  'Ad-platform identifier of an e-mail: hex SHA-256 of the trimmed, lower-cased address (format sha256/meta), Google''s normalization (google), or the normalized address (email). Example: segments.audience_identifier(''  Ann@Example.COM '')';

-- One row per change after the cursor, in id order. identifier is NULL when the customer has no
-- e-mail (or no facts row any more): a consumer removes by the identifier it added for that customer.
CREATE OR REPLACE FUNCTION segments.audience_changes(segment text, after_id bigint DEFAULT 0,
  format text DEFAULT 'sha256', max_rows int DEFAULT NULL)
RETURNS TABLE(id bigint, action text, customer_id text, identifier text)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE sid bigint := (segments_internal._get(segment)).id;
BEGIN
  IF NOT has_column_privilege('segments.customers', 'email', 'SELECT') THEN
    RAISE EXCEPTION 'permission denied to read the audience of segment "%": identifiers come from e-mail addresses', segment
      USING ERRCODE = '42501', HINT = format('It needs role segments_pii: GRANT segments_pii TO %s;', current_user);
  END IF;
  PERFORM segments.audience_identifier(NULL, format);  -- validates format
  IF after_id IS NULL OR after_id < 0 THEN
    RAISE EXCEPTION 'after_id must be 0 or a change id, not %', coalesce(after_id::text, 'NULL')
      USING ERRCODE = '22023', HINT = 'Pass 0 to start from the beginning, then the last id you applied.';
  END IF;
  IF max_rows IS NOT NULL AND max_rows < 1 THEN
    RAISE EXCEPTION 'max_rows must be positive, not %', max_rows USING ERRCODE = '22023',
      HINT = 'NULL returns every change after the cursor.';
  END IF;
  RETURN QUERY
  SELECT ch.id, CASE ch.change WHEN 'joined' THEN 'add' ELSE 'remove' END, ch.customer_id,
         segments.audience_identifier(c.email, format)
  FROM segments.changes ch LEFT JOIN segments.customers c ON c.customer_id = ch.customer_id
  WHERE ch.segment_id = sid AND ch.id > after_id
  ORDER BY ch.id
  LIMIT max_rows;
END $$;
COMMENT ON FUNCTION segments.audience_changes(text, bigint, text, int) IS
  'A segment''s joins and leaves after a change id, as add/remove with the customer''s ad-platform identifier (see audience_identifier). Example: SELECT * FROM segments.audience_changes(''vip'', 0)';

-- The same changes as request bodies: consecutive changes with the same action form a batch of at
-- most batch_size identifiers (order kept, so a join followed by a leave ends removed). Apply the
-- batches in order and store last_id after each: a batch whose customers have no e-mail has
-- identifiers = 0 and still moves the cursor.
CREATE OR REPLACE FUNCTION segments.audience_batches(segment text, after_id bigint DEFAULT 0,
  platform text DEFAULT 'meta', batch_size int DEFAULT 10000)
RETURNS TABLE(batch int, action text, first_id bigint, last_id bigint, identifiers int, payload jsonb)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF platform IS NULL OR platform NOT IN ('meta', 'google') THEN
    RAISE EXCEPTION 'unknown audience platform "%"', platform USING ERRCODE = '22023',
      HINT = 'Use meta (Custom Audiences users endpoint) or google (Customer Match offline user data job).';
  END IF;
  IF batch_size IS NULL OR batch_size < 1 OR batch_size > 100000 THEN
    RAISE EXCEPTION 'batch_size must be between 1 and 100000, not %', coalesce(batch_size::text, 'NULL')
      USING ERRCODE = '22023', HINT = 'Meta takes up to 10000 identifiers a request.';
  END IF;
  RETURN QUERY
  WITH c AS (
    SELECT a.id, a.action, a.identifier,
           -- runs of one action, then chunks of batch_size within a run
           row_number() OVER (ORDER BY a.id) - row_number() OVER (PARTITION BY a.action ORDER BY a.id) AS run
    FROM segments.audience_changes(segment, after_id, CASE platform WHEN 'google' THEN 'google' ELSE 'sha256' END) a),
  k AS (
    SELECT c.*, (row_number() OVER (PARTITION BY c.run, c.action ORDER BY c.id) - 1) / batch_size AS chunk FROM c),
  b AS (
    SELECT min(k.id) AS first_id, max(k.id) AS last_id, k.action,
           array_agg(DISTINCT k.identifier) FILTER (WHERE k.identifier IS NOT NULL) AS ids
    FROM k GROUP BY k.run, k.action, k.chunk)
  SELECT (row_number() OVER (ORDER BY b.first_id))::int, b.action, b.first_id, b.last_id,
         coalesce(cardinality(b.ids), 0),
         CASE platform
           WHEN 'meta' THEN jsonb_build_object('schema', 'EMAIL_SHA256', 'data', to_jsonb(coalesce(b.ids, '{}')))
           ELSE jsonb_build_object('operations', coalesce((
             SELECT jsonb_agg(jsonb_build_object(CASE b.action WHEN 'add' THEN 'create' ELSE 'remove' END,
                                                 jsonb_build_object('userIdentifiers', jsonb_build_array(jsonb_build_object('hashedEmail', i)))))
             FROM unnest(b.ids) i), '[]'::jsonb)) END
  FROM b ORDER BY b.first_id;
END $$;
COMMENT ON FUNCTION segments.audience_batches(text, bigint, text, int) IS
  'A segment''s changes after a change id as ordered add/remove request bodies: meta = {"schema":"EMAIL_SHA256","data":[...]} for POST/DELETE /<audience>/users; google = Customer Match operations (create/remove hashedEmail). Example: SELECT * FROM segments.audience_batches(''vip'', 0, ''meta'')';
