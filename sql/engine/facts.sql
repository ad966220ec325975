-- Segment engine: customer facts (docs/segments.md#customer-facts).
-- segments.customers (a view over segments_internal.customer_facts) is materialized by
-- segments.refresh_facts() from segments.compute_facts(as_of)
-- (sql/engine/facts/: one per-customer query per source, joined by column name).

-- Materializes the facts: one statement that deletes customers gone from the sources and upserts
-- the rest, so readers keep reading the previous facts until commit. Runs as the extension owner
-- (source mappings are an administrator's); serialized by an advisory lock.

-- The SQL of a mapping's customer_id: the quoted column, or the validated expression.
CREATE OR REPLACE FUNCTION segments_internal._customer_expr(source regclass, columns jsonb) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = source AND a.attnum > 0
                           AND NOT a.attisdropped AND a.attname = columns ->> 'customer_id')
              THEN quote_ident(columns ->> 'customer_id')
              ELSE '(' || segments_internal._check_fragment(columns ->> 'customer_id', 'mapping customer_id') || E'\n)' END
$$;

-- Statement trigger on a mapped table: logs the customer ids of the changed rows (old and new).
-- Runs as the extension owner so any role writing the shop's tables can log.
CREATE OR REPLACE FUNCTION segments_internal._track_changes() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE m record; e text; t text;
BEGIN
  FOR m IN SELECT DISTINCT ON (segments_internal._customer_expr(source, columns)) source, columns
           FROM segments.source_map WHERE source = TG_RELID LOOP
    e := segments_internal._customer_expr(m.source, m.columns);
    FOREACH t IN ARRAY CASE TG_OP WHEN 'INSERT' THEN ARRAY['pgs_new'] WHEN 'DELETE' THEN ARRAY['pgs_old']
                                  ELSE ARRAY['pgs_new', 'pgs_old'] END LOOP
      EXECUTE format('INSERT INTO segments.changed_customers AS c (customer_id)
                      SELECT DISTINCT (%1$s)::text FROM %2$I WHERE (%1$s) IS NOT NULL
                      ON CONFLICT (customer_id) DO UPDATE SET changed_at = now()', e, t);
    END LOOP;
  END LOOP;
  RETURN NULL;
END $$;

-- Installs (or with false removes) the change-logging triggers on every mapped table.
CREATE OR REPLACE FUNCTION segments.track_changes(enable boolean DEFAULT true) RETURNS int
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE r regclass; t name; n int := 0; sharded boolean := EXISTS (SELECT 1 FROM segments.shards);
BEGIN
  FOR r IN SELECT DISTINCT m.source FROM segments.source_map m
           JOIN pg_class c ON c.oid = m.source WHERE c.relkind IN ('r', 'p') LOOP
    -- A transition-table trigger on a table with foreign partitions would make every write to it fail
    -- ("cannot collect transition tuples from child foreign tables"): on a coordinator the tracking
    -- goes onto the shards instead (below); elsewhere, refuse.
    IF EXISTS (SELECT 1 FROM pg_partition_tree(r) p JOIN pg_class c ON c.oid = p.relid WHERE c.relkind = 'f') THEN
      IF sharded THEN
        CONTINUE;
      END IF;
      RAISE EXCEPTION 'cannot track changes of %: it has foreign partitions', r USING ERRCODE = '0A000',
        HINT = 'Triggers that log changed customers would break writes to it. Run pg_segments on the servers of the '
               'partitions and declare them as shards (segments.add_shard), then track_changes() tracks on each shard.';
    END IF;
    FOR t IN SELECT tgname FROM pg_trigger WHERE tgrelid = r AND tgname LIKE 'pg\_segments\_track\_%' LOOP
      EXECUTE format('DROP TRIGGER %I ON %s', t, r);
    END LOOP;
    IF enable THEN
      EXECUTE format('CREATE TRIGGER pg_segments_track_insert AFTER INSERT ON %s REFERENCING NEW TABLE AS pgs_new '
                     'FOR EACH STATEMENT EXECUTE FUNCTION segments_internal._track_changes()', r);
      EXECUTE format('CREATE TRIGGER pg_segments_track_update AFTER UPDATE ON %s REFERENCING OLD TABLE AS pgs_old '
                     'NEW TABLE AS pgs_new FOR EACH STATEMENT EXECUTE FUNCTION segments_internal._track_changes()', r);
      EXECUTE format('CREATE TRIGGER pg_segments_track_delete AFTER DELETE ON %s REFERENCING OLD TABLE AS pgs_old '
                     'FOR EACH STATEMENT EXECUTE FUNCTION segments_internal._track_changes()', r);
    END IF;
    n := n + 1;
  END LOOP;
  IF sharded THEN
    n := n + segments_internal._shards_track_changes(enable);
  END IF;
  -- What changed while untracked is in no log: the next facts refresh must be full.
  UPDATE segments.facts_status SET full_refreshed_at = NULL;
  RETURN n;
END $$;
COMMENT ON FUNCTION segments.track_changes(boolean) IS
  'Installs (true) or removes (false) triggers on the mapped tables that log changed customers for refresh_facts(incremental => true)';

-- jit off: the facts query's join estimates are far too high (the planner cannot know that each
-- per-source part has one row per customer), so JIT would compile it with full optimization, which
-- costs seconds: 2.1 of the 2.2 s of an incremental refresh of 300 customers at 30k customers.
CREATE OR REPLACE FUNCTION segments.refresh_facts(as_of timestamptz DEFAULT now(), incremental boolean DEFAULT false)
RETURNS segments.facts_status
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  started timestamptz;
  cols text; sets text; olds text; news text; n_total bigint; n_ins bigint; n_upd bigint; n_del bigint; sh record; fit record;
  r segments.facts_status;
BEGIN
  IF as_of IS NULL OR NOT isfinite(as_of) THEN
    RAISE EXCEPTION 'as_of must be a finite time, not %', coalesce(as_of::text, 'NULL') USING ERRCODE = '22023',
      HINT = 'Pass the moment the facts describe, e.g. now() or ''2024-06-01''.';
  END IF;
  PERFORM segments_internal.take_lock('facts');
  started := clock_timestamp();  -- after the lock: increases in commit order
  PERFORM segments_internal.progress_report('refresh_facts', CASE WHEN incremental THEN 'computing changed facts'
    ELSE 'computing facts' END, NULL, NULL, NULL, started);
  -- After a restore the mapped views are the extension's empty ones: rebuild them.
  IF EXISTS (SELECT 1 FROM segments.source_map m
             WHERE obj_description(format('segments.%I', 'source_' || m.kind)::regclass, 'pg_class') LIKE '%not mapped%') THEN
    PERFORM segments.restore_sources();
  END IF;
  -- Incremental needs a full refresh to start from (and one since the change log began).
  incremental := incremental AND EXISTS (SELECT 1 FROM segments.facts_status WHERE full_refreshed_at IS NOT NULL);
  -- Sharded mode (sql/engine/shards/, docs/scale-out.md): every shard computes its customers' facts
  -- with the global statistics; an incremental one from the shard's own change log.
  IF EXISTS (SELECT 1 FROM segments.shards) THEN
    SELECT * INTO sh FROM segments_internal._refresh_sharded_facts(as_of, incremental);
    r := segments_internal._facts_done(as_of, started, sh.customers, sh.inserted, sh.updated, sh.deleted, incremental,
                                       sh.changed);
    IF NOT incremental THEN  -- the models of all shards, which every shard stored too
      UPDATE segments.facts_status SET bgnbd = sh.bg, gammagamma = sh.gg RETURNING * INTO r;
    END IF;
    -- (the AOV totals are each shard's; the coordinator's own rows are gone)
    UPDATE segments.facts_status SET aov_sum = NULL, buyers = NULL RETURNING * INTO r;
    RETURN r;
  END IF;
  IF incremental THEN
    RETURN segments_internal._refresh_changed_facts(as_of, started);
  END IF;
  SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum),
         string_agg(format('%1$I = excluded.%1$I', attname), ', ' ORDER BY attnum) FILTER (WHERE attname <> 'customer_id'),
         string_agg(format('c.%I', attname), ', ' ORDER BY attnum) FILTER (WHERE attname <> 'customer_id'),
         string_agg(format('excluded.%I', attname), ', ' ORDER BY attnum) FILTER (WHERE attname <> 'customer_id')
    INTO cols, sets, olds, news
  FROM pg_attribute WHERE attrelid = 'segments_internal.customer_facts'::regclass AND attnum > 0 AND NOT attisdropped;
  -- Everyone is recomputed: the change log starts afresh (before the facts query's snapshot, so a
  -- change committed after this is logged again).
  DELETE FROM segments.changed_customers;
  -- The facts query alone first, into a temporary table: a statement that writes (the diff below)
  -- never runs in parallel, this one may (the source scans get workers).
  EXECUTE format('CREATE TEMPORARY TABLE pgs_new_facts ON COMMIT DROP AS SELECT %s FROM segments.compute_facts($1)', cols)
    USING as_of;
  EXECUTE format($q$
    WITH del AS (DELETE FROM segments_internal.customer_facts c
            USING (SELECT customer_id FROM segments_internal.customer_facts EXCEPT SELECT customer_id FROM pg_temp.pgs_new_facts) gone
            WHERE c.customer_id = gone.customer_id RETURNING 1),
    -- (a row whose facts did not change is not rewritten: no new row version, index entries or
    -- facts stamp; most rows of a daily full refresh)
    ups AS (INSERT INTO segments_internal.customer_facts AS c (%1$s) SELECT %1$s FROM pg_temp.pgs_new_facts
            ON CONFLICT (customer_id) DO UPDATE SET %2$s WHERE (%3$s) IS DISTINCT FROM (%4$s)
            RETURNING (xmax = 0) AS inserted)
    SELECT (SELECT count(*) FROM pg_temp.pgs_new_facts), (SELECT count(*) FROM ups WHERE inserted),
           (SELECT count(*) FROM del)$q$, cols, sets, olds, news)
  INTO n_total, n_ins, n_del;
  n_upd := n_total - n_ins;  -- recomputed, changed or not
  DROP TABLE pg_temp.pgs_new_facts;
  -- Fresh statistics after a full recompute (the rows whose facts changed were rewritten): the next
  -- incremental refresh then finds the passed horizons through the index instead of a scan (the
  -- planner's default guess is a third of the rows).
  ANALYZE segments_internal.customer_facts;
  -- The refit: the models segments.customers scores everyone with until the next full refresh, over
  -- the stored summaries (what compute_facts fits over), or those of all shards on a shard.
  IF EXISTS (SELECT FROM segments_internal.facts_globals) THEN
    SELECT g.bgnbd AS bg, g.gammagamma AS gg INTO fit FROM segments_internal.facts_globals g;
  ELSE
    SELECT @extschema@.bgnbd_fit(f.btyd_frequency, f.btyd_recency, (as_of::date - f.btyd_first_day)::float8 / 7) AS bg,
           @extschema@.gammagamma_fit(f.btyd_frequency, f.btyd_monetary) FILTER (WHERE f.btyd_frequency = 0 OR f.btyd_monetary > 0)
             AS gg
      INTO fit
    FROM segments_internal.customer_facts f WHERE f.btyd_frequency IS NOT NULL;
  END IF;
  PERFORM segments_internal._facts_done(as_of, started, n_total, n_ins, n_upd, n_del, false, 0);
  UPDATE segments.facts_status SET bgnbd = fit.bg, gammagamma = fit.gg,
    (aov_sum, buyers) = (SELECT t.aov_sum, t.buyers FROM segments_internal._aov_sums() t)
  RETURNING * INTO r;
  RETURN r;
END $$;
COMMENT ON FUNCTION segments.refresh_facts(timestamptz, boolean) IS
  'Recomputes segments.customers as of a time (default now()) as a diff, or (incremental, after a first full one) only the logged changed customers and those whose horizon_at has passed; returns counts and duration';

-- Records a facts refresh in segments.facts_status (a full one also as the last refit: its caller
-- then stores the models); changed: customers recomputed because their source rows changed.
CREATE OR REPLACE FUNCTION segments_internal._facts_done(as_of timestamptz, started timestamptz, n_total bigint,
  n_ins bigint, n_upd bigint, n_del bigint, incremental boolean, changed bigint)
RETURNS segments.facts_status
LANGUAGE sql STRICT SET search_path = pg_catalog, pg_temp AS $$
  INSERT INTO segments.facts_status AS s (id, refreshed_at, started_at, duration, customers, inserted, updated, deleted,
                                          full_refreshed_at, incremental, cutoff_day, changed_since_fit)
  VALUES (1, as_of, started, clock_timestamp() - started, n_total, n_ins, n_upd, n_del,
          CASE WHEN NOT incremental THEN as_of END, incremental, as_of::date, CASE WHEN incremental THEN changed ELSE 0 END)
  ON CONFLICT (id) DO UPDATE SET refreshed_at = excluded.refreshed_at, started_at = excluded.started_at,
    duration = excluded.duration, customers = excluded.customers, inserted = excluded.inserted,
    updated = excluded.updated, deleted = excluded.deleted, incremental = excluded.incremental,
    full_refreshed_at = CASE WHEN excluded.incremental THEN s.full_refreshed_at ELSE excluded.full_refreshed_at END,
    cutoff_day = excluded.cutoff_day,
    changed_since_fit = CASE WHEN excluded.incremental THEN s.changed_since_fit + changed ELSE 0 END
  RETURNING *
$$;

-- Incremental: recompute only the customers logged in segments.changed_customers and those whose
-- horizon_at has passed (a window, life cycle or abandoned cart moved with time alone), then the
-- value bands the new mean AOV moves. Every other stored column of the others is what a full
-- refresh at as_of gives (tested); refreshed_at and days_since_last_order are derived when read
-- (segments.customers), so they are exact for every row too. In two steps, because a sharded
-- refresh runs the first on every shard, then the second with the mean AOV of all shards
-- (sql/engine/shards/): the means are exact sums and counts (segments_internal._mean_aov). On one
-- node the new mean is known before the recomputed rows are written, so they are written banded
-- once, and step 2 moves only the others' bands (10M orders, 1% ordered: the second write of
-- the recomputed rows' bands was 260 of 3,340 ms).
CREATE OR REPLACE FUNCTION segments_internal._refresh_changed_facts(as_of timestamptz, started timestamptz)
RETURNS segments.facts_status
LANGUAGE plpgsql STRICT SET search_path = pg_catalog, pg_temp AS $$
DECLARE r record; old_mean numeric; new_mean numeric;
BEGIN
  r := segments_internal._recompute_changed_facts(as_of, banded => true);
  old_mean := segments_internal._mean_aov(r.old_sum, r.old_buyers);
  new_mean := segments_internal._mean_aov(r.new_sum, r.new_buyers);
  IF old_mean IS DISTINCT FROM new_mean THEN
    PERFORM segments_internal._reband_facts('{}', old_mean, new_mean);
  END IF;
  RETURN segments_internal._facts_done(as_of, started, r.customers, r.inserted, r.updated, r.deleted, true, r.changed);
END $$;

-- The (sum, count) of the stored buyers' AOVs, summed over these customers' rows (NULL: every row).
CREATE OR REPLACE FUNCTION segments_internal._aov_sums(only_customers text[] DEFAULT NULL, OUT aov_sum numeric,
                                                       OUT buyers bigint)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF only_customers IS NULL THEN
    SELECT coalesce(sum(f.aov) FILTER (WHERE f.orders > 0), 0), count(*) FILTER (WHERE f.orders > 0)
      INTO aov_sum, buyers
    FROM segments_internal.customer_facts f;
  ELSE  -- (by primary key)
    SELECT coalesce(sum(f.aov) FILTER (WHERE f.orders > 0), 0), count(*) FILTER (WHERE f.orders > 0)
      INTO aov_sum, buyers
    FROM segments_internal.customer_facts f WHERE f.customer_id = ANY (only_customers);
  END IF;
END $$;

-- The (sum, count) of the stored buyers' AOVs: kept in segments.facts_status (a scan only when it
-- is not known there, e.g. upgraded from 0.1).
CREATE OR REPLACE FUNCTION segments_internal._aov_totals(OUT aov_sum numeric, OUT buyers bigint)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  SELECT s.aov_sum, s.buyers INTO aov_sum, buyers FROM segments.facts_status s;
  IF buyers IS NULL THEN
    SELECT t.aov_sum, t.buyers INTO aov_sum, buyers FROM segments_internal._aov_sums() t;
  END IF;
END $$;

-- Step 1: the recomputed customers' facts; the (sum, count) of the buyers' AOVs before and after,
-- the after by difference over the recomputed rows (exact: numeric sums), and stored (nothing is
-- read when nothing changed and no horizon passed: every row is exact at as_of then);
-- changed: how many of them were logged (their source rows changed). banded: the recomputed rows
-- are written with their value band against the new mean (one node); else against their own mean
-- (compute_facts over a subset), for step 2 to band them (a shard: the mean is all shards').
CREATE OR REPLACE FUNCTION segments_internal._recompute_changed_facts(as_of timestamptz, banded boolean,
  OUT ids text[], OUT customers bigint, OUT inserted bigint, OUT updated bigint, OUT deleted bigint,
  OUT old_sum numeric, OUT old_buyers bigint, OUT new_sum numeric, OUT new_buyers bigint, OUT changed bigint)
LANGUAGE plpgsql STRICT SET search_path = pg_catalog, pg_temp AS $$
DECLARE cols text; vals text; sets text; kept text[]; part_sum numeric; part_buyers bigint; mean numeric;
BEGIN
  customers := 0; inserted := 0; updated := 0; deleted := 0;
  changed := (SELECT count(*) FROM segments.changed_customers);
  ids := ARRAY(SELECT c.customer_id FROM segments.changed_customers c
               UNION SELECT f.customer_id FROM segments_internal.customer_facts f WHERE f.horizon_at <= as_of);
  SELECT t.aov_sum, t.buyers INTO old_sum, old_buyers FROM segments_internal._aov_totals() t;
  new_sum := old_sum; new_buyers := old_buyers;
  IF cardinality(ids) = 0 THEN
    RETURN;
  END IF;
  DELETE FROM segments.changed_customers c WHERE c.customer_id = ANY (ids);
  -- The recomputed rows' part of the sums, taken out here and put back from their new rows.
  SELECT t.aov_sum, t.buyers INTO part_sum, part_buyers FROM segments_internal._aov_sums(ids) t;
  -- (the predictive scores are not stored: segments.customers computes them when read from the
  -- stored models and the BTYD summary written here)
  SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum),
         string_agg(CASE WHEN attname = 'value_band' AND banded
                         THEN 'segments_internal._value_band_at(n.orders, n.aov, $1)'
                         ELSE format('n.%I', attname) END, ', ' ORDER BY attnum),
         string_agg(format('%1$I = excluded.%1$I', attname), ', ' ORDER BY attnum) FILTER (WHERE attname <> 'customer_id')
    INTO cols, vals, sets
  FROM pg_attribute WHERE attrelid = 'segments_internal.customer_facts'::regclass AND attnum > 0 AND NOT attisdropped;
  -- The new rows first (their AOVs give the new mean), then written once.
  EXECUTE format('CREATE TEMPORARY TABLE pgs_changed_facts ON COMMIT DROP AS SELECT %s FROM segments.compute_facts($1, $2)',
                 cols) USING as_of, ids;
  SELECT new_sum - part_sum + coalesce(sum(n.aov) FILTER (WHERE n.orders > 0), 0),
         new_buyers - part_buyers + count(*) FILTER (WHERE n.orders > 0)
    INTO new_sum, new_buyers
  FROM pg_temp.pgs_changed_facts n;
  mean := segments_internal._mean_aov(new_sum, new_buyers);
  EXECUTE format($q$
    WITH ups AS (INSERT INTO segments_internal.customer_facts AS c (%1$s)
                 SELECT %2$s FROM pg_temp.pgs_changed_facts n
                 ON CONFLICT (customer_id) DO UPDATE SET %3$s
                 RETURNING c.customer_id, (xmax = 0) AS inserted)
    SELECT count(*), count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted), array_agg(customer_id)
    FROM ups$q$, cols, vals, sets)
  INTO customers, inserted, updated, kept USING mean;
  DROP TABLE pg_temp.pgs_changed_facts;
  -- Recomputed but found in no source any more: gone. (A difference of two small arrays: as an
  -- anti-join against the facts query, whose row estimate is in the billions, it was a hash join
  -- of 131,072 batches spilled to disk, 1.4 s of 1.5 at 100k customers and 1,000 recomputed.)
  DELETE FROM segments_internal.customer_facts c
  WHERE c.customer_id = ANY (ARRAY(SELECT unnest(ids) EXCEPT SELECT unnest(kept)));
  GET DIAGNOSTICS deleted = ROW_COUNT;
  UPDATE segments.facts_status SET aov_sum = new_sum, buyers = new_buyers;
END $$;

-- Step 2: value bands (value_band: cut points at 0.75, 1.25 and 2.5 x the mean): the recomputed
-- customers (banded against their own mean by compute_facts) and, when the mean moved, those whose
-- AOV lies between a cut point at the old mean and at the new one (widened a little: the band itself
-- is recomputed exactly), found by the index on aov (a full refresh rewrites only the rows whose
-- facts changed, so the index costs it little). Time passing alone moves no AOV, so no mean: then
-- only the recomputed rows are read (by primary key).
CREATE OR REPLACE FUNCTION segments_internal._reband_facts(ids text[], old_mean numeric, new_mean numeric)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE lo numeric := least(old_mean, new_mean) * 0.999999; hi numeric := greatest(old_mean, new_mean) * 1.000001;
BEGIN
  IF old_mean = new_mean AND new_mean > 0 THEN
    UPDATE segments_internal.customer_facts c
    SET value_band = segments_internal._value_band_at(c.orders, c.aov, new_mean)
    WHERE c.customer_id = ANY (ids)
      AND c.value_band IS DISTINCT FROM segments_internal._value_band_at(c.orders, c.aov, new_mean);
  ELSE
    UPDATE segments_internal.customer_facts c
    SET value_band = segments_internal._value_band_at(c.orders, c.aov, new_mean)
    WHERE (c.customer_id = ANY (ids) OR old_mean IS NULL OR new_mean IS NULL OR old_mean <= 0 OR new_mean <= 0
           OR c.aov BETWEEN 0.75 * lo AND 0.75 * hi OR c.aov BETWEEN 1.25 * lo AND 1.25 * hi
           OR c.aov BETWEEN 2.5 * lo AND 2.5 * hi)
      AND c.value_band IS DISTINCT FROM segments_internal._value_band_at(c.orders, c.aov, new_mean);
  END IF;
END $$;

-- Facts computed longer than pg_segments.facts_max_age ago (wall clock, whatever their as-of time)
-- are refreshed, as of now(), before a segment refresh.
CREATE OR REPLACE FUNCTION segments_internal._ensure_facts() RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE max_age interval := segments_internal._setting('pg_segments.facts_max_age')::interval;
        share float8 := segments_internal._setting('pg_segments.facts_refit_share')::float8;
        last timestamptz;
BEGIN
  IF max_age < interval '0' THEN
    RETURN false;
  END IF;
  SELECT started_at INTO last FROM segments.facts_status;
  IF last IS NOT NULL AND last >= now() - max_age THEN
    RETURN false;
  END IF;
  PERFORM segments_internal.take_lock('facts');
  -- Another session may have refreshed them while we waited.
  SELECT started_at INTO last FROM segments.facts_status;
  IF last IS NOT NULL AND last >= now() - max_age THEN
    RETURN false;
  END IF;
  -- Incremental once the mapped tables are tracked; a full refresh (which refits the predictive
  -- models) at least every pg_segments.facts_refit_interval (default 1 day), and once the customers
  -- recomputed for changes since the fit exceed pg_segments.facts_refit_share (default 0.1) of the
  -- buyers the BG/NBD model was fitted over (none fitted yet: the interval alone).
  PERFORM segments.refresh_facts(now(), incremental => segments_internal._facts_tracked() AND EXISTS (
    SELECT 1 FROM segments.facts_status s
    WHERE s.full_refreshed_at >= now() - segments_internal._setting('pg_segments.facts_refit_interval')::interval
      AND (share < 0 OR s.changed_since_fit <= share * coalesce((s.bgnbd).customers, 'Infinity'::float8))));
  RETURN true;
END $$;

-- Are the change-logging triggers of segments.track_changes on every mapped table (on a
-- coordinator: on every shard's)?
CREATE OR REPLACE FUNCTION segments_internal._facts_tracked() RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT CASE WHEN EXISTS (SELECT 1 FROM segments.shards) THEN segments_internal._shards_tracked() ELSE
         EXISTS (SELECT 1 FROM segments.source_map)
     AND NOT EXISTS (SELECT 1 FROM segments.source_map m
                     WHERE NOT EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = m.source
                                       AND t.tgname = 'pg_segments_track_insert')) END
$$;
