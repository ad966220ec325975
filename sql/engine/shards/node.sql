-- Sharded mode, the part that runs on every shard (docs/scale-out.md#what-runs-where). The
-- coordinator calls these through dblink, inside one REPEATABLE READ transaction per shard, so that
-- the statistics of step 1 and the facts of step 2 come from the same snapshot of the shard's orders.
-- Not callable by PUBLIC (sql/access/grants.sql): the user mapping's remote role must be the
-- extension owner or a superuser.

-- The coordinator's settings (pg_segments.* and TimeZone), applied for this transaction, so that a
-- shard computes with the coordinator's values; returns the shard's own values from before.
CREATE OR REPLACE FUNCTION segments_internal._shard_settings(settings jsonb) RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE k text; v text; mine jsonb := '{}';
BEGIN
  PERFORM segments_internal._setting('pg_segments.facts_max_age');  -- loads the library's settings
  FOR k, v IN SELECT j.key, j.value FROM jsonb_each_text(coalesce(settings, '{}')) j LOOP
    IF k NOT LIKE 'pg\_segments.%' AND k <> 'TimeZone' THEN
      RAISE EXCEPTION 'a sharded refresh passes only pg_segments settings and TimeZone, not "%"', k
        USING ERRCODE = '22023';
    END IF;
    IF current_setting(k, true) IS NULL THEN
      RAISE EXCEPTION 'setting "%" of the coordinator does not exist on this shard', k USING ERRCODE = '42704',
        HINT = 'Install the same pg_segments version on every node (ALTER EXTENSION pg_segments UPDATE).';
    END IF;
    mine := mine || jsonb_build_object(k, current_setting(k));
    PERFORM set_config(k, v, true);
  END LOOP;
  RETURN mine;
END $$;

-- Step 1: this shard's part of the global statistics, from its own orders: the mean AOV as an
-- exact (sum, count) and the two fits as mergeable states, from the facts' own per-customer orders
-- query, with compute_facts' filters (its models and m); test/harness/shards.sh compares with one node.
CREATE OR REPLACE FUNCTION segments_internal._shard_states(as_of timestamptz, settings jsonb)
RETURNS TABLE (own_settings jsonb, aov_sum numeric, buyers bigint, bgnbd bytea, gammagamma bytea,
               customers bigint, orders bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  own_settings := segments_internal._shard_settings(settings);
  SELECT sum(o.revenue / o.orders) FILTER (WHERE o.orders > 0), count(*) FILTER (WHERE o.orders > 0),
         @extschema@.bgnbd_fit_state((o.rfm).frequency, (o.rfm).recency, (o.rfm).t) FILTER (WHERE o.rfm IS NOT NULL),
         @extschema@.gammagamma_fit_state((o.rfm).frequency, (o.rfm).monetary)
           FILTER (WHERE o.rfm IS NOT NULL AND ((o.rfm).frequency = 0 OR (o.rfm).monetary > 0)),
         count(*), coalesce(sum(o.orders), 0)
    INTO aov_sum, buyers, bgnbd, gammagamma, customers, orders
  FROM segments_internal.order_facts(as_of) o;
  RETURN NEXT;
END $$;

-- Step 2: this shard's facts, banded and scored with the global mean AOV and models.
CREATE OR REPLACE FUNCTION segments_internal._shard_refresh_facts(as_of timestamptz, mean_aov numeric,
    bgnbd @extschema@.bgnbd_model, gammagamma @extschema@.gammagamma_model, settings jsonb)
RETURNS segments.facts_status
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE r segments.facts_status;
BEGIN
  PERFORM segments_internal._shard_settings(settings);
  DELETE FROM segments_internal.facts_globals;
  INSERT INTO segments_internal.facts_globals (mean_aov, bgnbd, gammagamma) VALUES (mean_aov, bgnbd, gammagamma);
  r := segments.refresh_facts(as_of);
  DELETE FROM segments_internal.facts_globals;
  RETURN r;
END $$;

-- Incremental step 1: this shard's customers logged in its change log (track_changes installs it
-- on every shard) or past their horizon, recomputed as one node would; the (sum, count) of its
-- AOVs before and after, for the global mean. The recomputed ids wait in facts_globals for step 2,
-- in the same transaction.
CREATE OR REPLACE FUNCTION segments_internal._shard_recompute_changed(as_of timestamptz, settings jsonb)
RETURNS TABLE (own_settings jsonb, recomputed bigint, customers bigint, inserted bigint, updated bigint,
               deleted bigint, old_sum numeric, old_buyers bigint, aov_sum numeric, buyers bigint, changed bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE started timestamptz; r record;
BEGIN
  own_settings := segments_internal._shard_settings(settings);
  PERFORM segments_internal.take_lock('facts');  -- refresh_facts' lock
  started := clock_timestamp();
  IF NOT EXISTS (SELECT 1 FROM segments.facts_status WHERE full_refreshed_at IS NOT NULL) THEN
    RAISE EXCEPTION 'this shard has no full facts refresh for an incremental one to start from' USING ERRCODE = '55000',
      HINT = 'Run a full sharded refresh first: SELECT segments.refresh_facts(); on the coordinator.';
  END IF;
  r := segments_internal._recompute_changed_facts(as_of, banded => false);
  recomputed := cardinality(r.ids);
  IF recomputed > 0 THEN  -- (then the coordinator runs step 2 on every shard, which removes it)
    DELETE FROM segments_internal.facts_globals;
    INSERT INTO segments_internal.facts_globals (recomputed) VALUES (r.ids);
  END IF;
  PERFORM segments_internal._facts_done(as_of, started, r.customers, r.inserted, r.updated, r.deleted, true, r.changed);
  customers := r.customers; inserted := r.inserted; updated := r.updated; deleted := r.deleted;
  old_sum := r.old_sum; old_buyers := r.old_buyers; aov_sum := r.new_sum; buyers := r.new_buyers; changed := r.changed;
  RETURN NEXT;
END $$;

-- Incremental step 2: the value bands the global mean AOV moved (from before to after step 1 on
-- every shard), and this shard's recomputed customers'.
CREATE OR REPLACE FUNCTION segments_internal._shard_reband_facts(old_mean numeric, new_mean numeric) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM segments_internal._reband_facts(coalesce((SELECT g.recomputed FROM segments_internal.facts_globals g), '{}'),
                                          old_mean, new_mean);
  DELETE FROM segments_internal.facts_globals;
END $$;
