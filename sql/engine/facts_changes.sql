-- Segment engine: which customers' facts changed, for incremental segment refreshes
-- (docs/segments.md#incremental-refresh; the interface of /work/notes/contract-11.md).
--
-- Statement triggers on the stored facts (segments_internal.customer_facts, read as
-- segments.customers) stamp every customer whose facts row was inserted, deleted, or updated to
-- different values with the writing statement's clock_timestamp(). Facts writers hold the facts
-- lock, so stamps increase in commit order: a segment that recorded the greatest stamp before it
-- evaluated (facts_stamp()) finds every later change with facts_changed_since(mark). Whoever writes
-- the facts (a full or an incremental refresh_facts) gets this for free.

-- Columns of segments.customers that move with the clock alone or with a refit of the predictive
-- models (derived when read from segments.facts_status, not stored, so no stamp records their
-- change): a rule that reads one is refreshed in full.
CREATE OR REPLACE FUNCTION segments_internal.clock_columns() RETURNS name[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT ARRAY['refreshed_at', 'days_since_last_order', 'p_alive', 'expected_orders_90d', 'predicted_clv',
               'expected_next_order_at']::name[]
$$;
COMMENT ON FUNCTION segments_internal.clock_columns() IS
  'Columns of segments.customers that change with the as-of time or a refit of the models alone (derived when read); a rule reading one is refreshed in full';

CREATE OR REPLACE FUNCTION segments_internal._stamp_facts() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE newer text; older text;
BEGIN
  IF TG_OP = 'UPDATE' THEN
    SELECT string_agg(format('n.%I', attname), ', ' ORDER BY attnum), string_agg(format('o.%I', attname), ', ' ORDER BY attnum)
      INTO newer, older
    FROM pg_attribute WHERE attrelid = 'segments_internal.customer_facts'::regclass AND attnum > 0 AND NOT attisdropped
      AND attname <> 'customer_id';
    EXECUTE format('INSERT INTO segments_internal.facts_stamps AS s (customer_id, changed_at)
                    SELECT n.customer_id, clock_timestamp() FROM pgs_new n JOIN pgs_old o USING (customer_id)
                    WHERE (%s) IS DISTINCT FROM (%s)
                    ON CONFLICT (customer_id) DO UPDATE SET changed_at = excluded.changed_at, deleted = false',
                   newer, older);
  ELSIF TG_OP = 'INSERT' THEN
    INSERT INTO segments_internal.facts_stamps AS s (customer_id, changed_at)
    SELECT n.customer_id, clock_timestamp() FROM pgs_new n
    ON CONFLICT (customer_id) DO UPDATE SET changed_at = excluded.changed_at, deleted = false;
  ELSE
    INSERT INTO segments_internal.facts_stamps AS s (customer_id, changed_at, deleted)
    SELECT o.customer_id, clock_timestamp(), true FROM pgs_old o
    ON CONFLICT (customer_id) DO UPDATE SET changed_at = excluded.changed_at, deleted = true;
  END IF;
  RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER pg_segments_stamp_insert AFTER INSERT ON segments_internal.customer_facts
  REFERENCING NEW TABLE AS pgs_new FOR EACH STATEMENT EXECUTE FUNCTION segments_internal._stamp_facts();
CREATE OR REPLACE TRIGGER pg_segments_stamp_update AFTER UPDATE ON segments_internal.customer_facts
  REFERENCING OLD TABLE AS pgs_old NEW TABLE AS pgs_new FOR EACH STATEMENT EXECUTE FUNCTION segments_internal._stamp_facts();
CREATE OR REPLACE TRIGGER pg_segments_stamp_delete AFTER DELETE ON segments_internal.customer_facts
  REFERENCING OLD TABLE AS pgs_old FOR EACH STATEMENT EXECUTE FUNCTION segments_internal._stamp_facts();

-- The greatest facts stamp committed so far (-infinity before any facts); on a sharded coordinator,
-- whose facts are stamped on the shards, the least of the shards' greatest (sql/engine/shards/).
CREATE OR REPLACE FUNCTION segments_internal.facts_stamp() RETURNS timestamptz
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT CASE WHEN EXISTS (SELECT 1 FROM segments.shards) THEN segments_internal._shards_facts_stamp()
              ELSE (SELECT coalesce(max(changed_at), '-infinity') FROM segments_internal.facts_stamps) END
$$;
COMMENT ON FUNCTION segments_internal.facts_stamp() IS
  'The greatest facts stamp committed so far: an incremental refresh records it before evaluating';

-- Customers whose facts changed, appeared or were deleted after a stamp. PL/pgSQL, so the stamp is
-- a known value when the query is planned (a SQL function with SET is planned generically, and
-- `since IS NULL OR changed_at > since` was a sequential scan of every stamp: 176 ms at 1M customers).
CREATE OR REPLACE FUNCTION segments_internal.facts_changed_since(since timestamptz) RETURNS TABLE (customer_id text)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF since IS NULL THEN
    RETURN QUERY SELECT s.customer_id FROM segments_internal.facts_stamps s;
  ELSE
    RETURN QUERY SELECT s.customer_id FROM segments_internal.facts_stamps s WHERE s.changed_at > since;
  END IF;
END $$;
COMMENT ON FUNCTION segments_internal.facts_changed_since(timestamptz) IS
  'Customers whose facts changed or were deleted after the given stamp (NULL: every customer ever seen)';

-- Whether the stamps see every change of the facts: on a sharded coordinator, whose facts are the
-- shards' (written there, stamped there), when every shard's stamps are a foreign table inheriting
-- from segments_internal.facts_stamps (segments.add_shard creates it); else its segments are
-- refreshed in full.
CREATE OR REPLACE FUNCTION segments_internal.facts_stamped() RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT NOT EXISTS (SELECT 1 FROM segments.shards s
                     WHERE to_regclass(format('segments_internal.%I', 'facts_stamps@' || s.server)) IS NULL)
$$;
COMMENT ON FUNCTION segments_internal.facts_stamped() IS
  'Whether facts_changed_since() sees every facts change (on a sharded coordinator: through every shard''s stamps)';
