-- Sharded mode, the coordinator's part (docs/scale-out.md). The coordinator owns the segments, the
-- change log, the history and the schedule; each shard (a postgres_fdw server running pg_segments)
-- holds its own customers' orders and computes their facts. segments.customers on the coordinator
-- is the union of the shards' facts: one foreign table per shard inheriting from its stored facts
-- (segments_internal.customer_facts, under the view with the clock columns), so a rule
-- segment's WHERE is shipped to every shard and only member ids come back. A facts refresh merges
-- the global statistics (mean AOV, BTYD fits from mergeable states) from every shard and hands
-- them back, so every shard bands and scores with the same numbers as one node would.
-- Shard management is an administrator's task (segments_admin, sql/access/grants.sql).

-- The schema of dblink, which the coordinator uses to run the shards' steps (node.sql).
CREATE OR REPLACE FUNCTION segments_internal._dblink_schema() RETURNS name
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE nsp name;
BEGIN
  SELECT n.nspname INTO nsp FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
  WHERE e.extname = 'dblink';
  IF nsp IS NULL THEN
    RAISE EXCEPTION 'the sharded mode needs the dblink extension on the coordinator' USING ERRCODE = '55000',
      HINT = 'CREATE EXTENSION dblink; (it ships with PostgreSQL, like postgres_fdw)';
  END IF;
  RETURN nsp;
END $$;

-- One statement on a shard over a connection of its own, returning one text value; an error names
-- the shard (and keeps its SQLSTATE).
CREATE OR REPLACE FUNCTION segments_internal._shard_value(server name, sql text) RETURNS text
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE v text; e_state text; e_msg text; e_hint text;
BEGIN
  EXECUTE format('SELECT t.v FROM %I.dblink($1, $2) AS t(v text)', segments_internal._dblink_schema())
    INTO v USING server, sql;
  RETURN v;
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS e_state = RETURNED_SQLSTATE, e_msg = MESSAGE_TEXT, e_hint = PG_EXCEPTION_HINT;
  RAISE EXCEPTION 'on shard %: %', server, e_msg USING ERRCODE = e_state,
    HINT = coalesce(nullif(e_hint, ''), 'See the shard''s server log; segments.shards lists the shards.');
END $$;

-- The settings a sharded refresh hands to every shard: the ones that change answers (every
-- pg_segments setting a session may set, but the engine's own scheduling) and the time zone,
-- which decides calendar days (rfm_summary).
CREATE OR REPLACE FUNCTION segments_internal._shard_settings_to_pass() RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM segments_internal._setting('pg_segments.facts_max_age');  -- loads the library's settings
  RETURN (SELECT jsonb_object_agg(s.name, current_setting(s.name)) FROM pg_settings s
          WHERE (s.name LIKE 'pg\_segments.%' AND s.context IN ('user', 'superuser')
                 AND s.name NOT IN ('pg_segments.facts_max_age', 'pg_segments.run_retention', 'pg_segments.refresh_timeout'))
             OR s.name = 'TimeZone');
END $$;

-- The entry points are pgs_engine_call (src/pg/engine_call.cpp), like the other catalog writes: the
-- implementations run as the extension owner (the shard's facts table inherits from
-- segments.customers), for a caller in segments_admin who may use the server.
CREATE OR REPLACE FUNCTION segments.add_shard(server name) RETURNS int
AS 'MODULE_PATHNAME', 'pgs_engine_call' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION segments.add_shard(name) IS
  'Declares a postgres_fdw server running pg_segments as the next shard (returns its position); its facts join segments.customers';

CREATE OR REPLACE FUNCTION segments_internal.add_shard(caller regrole, server name) RETURNS int
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  fdw name; opts text[]; ext text; pos int; remote text; mine text; child text;
BEGIN
  PERFORM segments_internal._authorize(caller, 'admin', what => 'declare shards');
  SELECT w.fdwname, s.srvoptions INTO fdw, opts
  FROM pg_foreign_server s JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw WHERE s.srvname = server;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'foreign server "%" does not exist', server USING ERRCODE = '42704',
      HINT = 'CREATE SERVER ... FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host, port, dbname) and a USER MAPPING for it first (docs/scale-out.md).';
  END IF;
  IF NOT has_server_privilege(caller, server, 'USAGE') THEN
    RAISE EXCEPTION 'permission denied for foreign server %', server USING ERRCODE = '42501',
      HINT = 'A shard is declared by a role that may use its server: GRANT USAGE ON FOREIGN SERVER ... TO ...';
  END IF;
  IF fdw <> 'postgres_fdw' THEN
    RAISE EXCEPTION 'server "%" uses foreign data wrapper %, a shard needs postgres_fdw', server, fdw
      USING ERRCODE = '22023';
  END IF;
  PERFORM segments_internal._dblink_schema();
  IF EXISTS (SELECT 1 FROM segments.shards s WHERE s.server = add_shard.server) THEN
    RAISE EXCEPTION 'server "%" is a shard already', server USING ERRCODE = '42710';
  END IF;
  -- The shard runs the same pg_segments, in the same schema (shipped calls name it).
  SELECT format('%s in schema %s', e.extversion, n.nspname) INTO mine
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_segments';
  remote := segments_internal._shard_value(server,
    $q$SELECT format('%s in schema %s', e.extversion, n.nspname) FROM pg_extension e
       JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_segments'$q$);
  IF remote IS DISTINCT FROM mine THEN
    RAISE EXCEPTION 'shard "%" runs pg_segments %, the coordinator %', server, coalesce(remote, 'not at all'), mine
      USING ERRCODE = '22023',
      HINT = 'CREATE EXTENSION pg_segments (or ALTER EXTENSION pg_segments UPDATE) on the shard, in the coordinator''s schema.';
  END IF;
  -- postgres_fdw ships the extension's functions, operators and types only when told to.
  ext := (SELECT substr(o, length('extensions=') + 1) FROM unnest(opts) o WHERE o LIKE 'extensions=%');
  IF ext IS NULL THEN
    EXECUTE format('ALTER SERVER %I OPTIONS (ADD extensions %L)', server, 'pg_segments');
  ELSIF NOT 'pg_segments' = ANY (string_to_array(replace(ext, ' ', ''), ',')) THEN
    EXECUTE format('ALTER SERVER %I OPTIONS (SET extensions %L)', server, ext || ',pg_segments');
  END IF;
  pos := (SELECT coalesce(max(s.position) + 1, 0) FROM segments.shards s);
  child := format('segments_internal.%I', 'customers@' || server);
  EXECUTE format('CREATE FOREIGN TABLE %s () INHERITS (segments_internal.customer_facts) SERVER %I '
                 'OPTIONS (schema_name %L, table_name %L)', child, server, 'segments_internal', 'customer_facts');
  EXECUTE format('COMMENT ON FOREIGN TABLE %s IS %L', child,
                 format('The customer facts computed on shard %s (part of segments.customers)', server));
  -- The shard's facts stamps (sql/engine/facts_changes.sql): incremental segment refreshes here ask
  -- them which customers changed.
  child := format('segments_internal.%I', 'facts_stamps@' || server);
  EXECUTE format('CREATE FOREIGN TABLE %s () INHERITS (segments_internal.facts_stamps) SERVER %I '
                 'OPTIONS (schema_name %L, table_name %L)', child, server, 'segments_internal', 'facts_stamps');
  EXECUTE format('COMMENT ON FOREIGN TABLE %s IS %L', child,
                 format('The facts stamps of shard %s (part of segments_internal.facts_stamps)', server));
  INSERT INTO segments.shards (server, position, added_by) VALUES (server, pos, caller::text);
  -- The segments' facts marks are stamps of the facts before this shard: refresh them in full next.
  UPDATE segments.segments x SET facts_mark = NULL WHERE x.facts_mark IS NOT NULL;
  RETURN pos;
END $$;

CREATE OR REPLACE FUNCTION segments.remove_shard(server name) RETURNS void
AS 'MODULE_PATHNAME', 'pgs_engine_call' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION segments.remove_shard(name) IS
  'Forgets a shard: its facts leave segments.customers (the shop''s own partitions on it are left alone)';

CREATE OR REPLACE FUNCTION segments_internal.remove_shard(caller regrole, server name) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM segments_internal._authorize(caller, 'admin', what => 'remove shards');
  IF NOT EXISTS (SELECT 1 FROM segments.shards s WHERE s.server = remove_shard.server) THEN
    RAISE EXCEPTION 'server "%" is not a shard', server USING ERRCODE = '42704',
      HINT = 'SELECT server FROM segments.shards; lists them.';
  END IF;
  EXECUTE format('DROP FOREIGN TABLE IF EXISTS segments_internal.%I', 'customers@' || server);
  EXECUTE format('DROP FOREIGN TABLE IF EXISTS segments_internal.%I', 'facts_stamps@' || server);
  DELETE FROM segments.shards s WHERE s.server = remove_shard.server;
  UPDATE segments.segments x SET facts_mark = NULL WHERE x.facts_mark IS NOT NULL;
END $$;

-- Partitions one of the shop's tables across the shards, by customer: one foreign partition per
-- shard, FOR VALUES WITH (MODULUS <shards>, REMAINDER <position>), on the shard's table of the same
-- schema and name (or remote_table). Every source table partitioned this way keeps each customer's
-- rows on one shard, which is what its facts need.
CREATE OR REPLACE FUNCTION segments.shard_table(parent regclass, remote_table text DEFAULT NULL) RETURNS int
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  n int := (SELECT count(*) FROM segments.shards); s record; nsp name; rel name; rnsp text; rrel text; parts text[];
BEGIN
  IF n = 0 THEN
    RAISE EXCEPTION 'there are no shards' USING ERRCODE = '55000', HINT = 'Declare them with segments.add_shard(server) first.';
  END IF;
  IF (SELECT max(position) FROM segments.shards) <> n - 1 THEN
    RAISE EXCEPTION 'shard positions are not 0..%', n - 1 USING ERRCODE = '55000',
      HINT = 'After remove_shard, partition the table by hand (CREATE FOREIGN TABLE ... PARTITION OF ... FOR VALUES WITH ...).';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_partitioned_table p WHERE p.partrelid = parent AND p.partstrat = 'h' AND p.partnatts = 1) THEN
    RAISE EXCEPTION '% is not partitioned by hash on one column', parent USING ERRCODE = '22023',
      HINT = 'CREATE TABLE ... (...) PARTITION BY HASH (customer_id), empty, then call shard_table on it.';
  END IF;
  IF EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhparent = parent) THEN
    RAISE EXCEPTION '% has partitions already', parent USING ERRCODE = '55000';
  END IF;
  SELECT c.relnamespace::regnamespace::name, c.relname INTO nsp, rel FROM pg_class c WHERE c.oid = parent;
  parts := parse_ident(remote_table);
  rnsp := coalesce(parts[array_length(parts, 1) - 1], nsp);
  rrel := coalesce(parts[array_length(parts, 1)], rel);
  FOR s IN SELECT * FROM segments.shards ORDER BY position LOOP
    EXECUTE format('CREATE FOREIGN TABLE %I.%I PARTITION OF %s FOR VALUES WITH (MODULUS %s, REMAINDER %s) '
                   'SERVER %I OPTIONS (schema_name %L, table_name %L)',
                   nsp, left(rel || '@' || s.server, 63), parent, n, s.position, s.server, rnsp, rrel);
  END LOOP;
  RETURN n;
END $$;
COMMENT ON FUNCTION segments.shard_table(regclass, text) IS
  'Partitions a hash-partitioned shop table across the shards (one foreign partition each, by position); returns how many';

-- The sharded facts refresh (segments.refresh_facts calls it when there are shards):
--   1. on every shard, in parallel: BEGIN REPEATABLE READ; full: its mean-AOV (sum, count) and fit
--      states; incremental: its logged and horizon-passed customers recomputed (the shard's own
--      change log), with the (sum, count) of its AOVs before and after;
--   2. here: full: the global mean AOV and the BG/NBD and Gamma-Gamma models merged from the states;
--      incremental: the global mean AOV before and after;
--   3. on every shard, in parallel: full: its facts with those numbers (segments.refresh_facts
--      there); incremental (when any shard recomputed anyone): the value bands those means move;
--   4. COMMIT on every shard. Any failure (a shard down, an error) rolls every shard back and raises,
--      naming the shard: facts and membership stay the last good ones.
-- Rows moved to the coordinator: two per shard, whatever the number of orders or changes.
-- Returns the summed counts (refresh_facts records them in segments.facts_status).
CREATE OR REPLACE FUNCTION segments_internal._refresh_sharded_facts(as_of timestamptz, incremental boolean,
  OUT customers bigint, OUT inserted bigint, OUT updated bigint, OUT deleted bigint, OUT changed bigint,
  OUT bg @extschema@.bgnbd_model, OUT gg @extschema@.gammagamma_model)
LANGUAGE plpgsql
-- Values go to the shards as literals: floats in full precision, dates in an unambiguous style.
SET search_path = pg_catalog, pg_temp SET extra_float_digits = 3 SET DateStyle = 'ISO, YMD' AS $$
DECLARE
  nsp name := segments_internal._dblink_schema();
  settings jsonb := segments_internal._shard_settings_to_pass();
  s record; conn text; cur name; k text; v text; step1 text; step1_cols text; step3 text; step3_cols text;
  st record; fr record; total_sum numeric := 0; total_buyers bigint := 0;
  old_sum numeric := 0; old_buyers bigint := 0; recomputed bigint := 0;
  bg_states bytea[] := '{}'; gg_states bytea[] := '{}';
  mean numeric; old_mean numeric;
  e_state text; e_msg text; e_hint text; e_detail text;
BEGIN
  customers := 0; inserted := 0; updated := 0; deleted := 0; changed := 0;
  IF incremental THEN
    step1 := format('SELECT * FROM segments_internal._shard_recompute_changed(%L, %L)', as_of, settings);  -- check-order: remote
    step1_cols := 'own_settings jsonb, recomputed bigint, customers bigint, inserted bigint, updated bigint, deleted bigint, '
                  'old_sum numeric, old_buyers bigint, aov_sum numeric, buyers bigint, changed bigint';
  ELSE
    step1 := format('SELECT * FROM segments_internal._shard_states(%L, %L)', as_of, settings);  -- check-order: remote
    step1_cols := 'own_settings jsonb, aov_sum numeric, buyers bigint, bgnbd bytea, gammagamma bytea, '
                  'customers bigint, orders bigint';
  END IF;
  BEGIN
    -- 1.
    FOR s IN SELECT * FROM segments.shards ORDER BY position LOOP
      cur := s.server; conn := 'pg_segments_shard_' || s.position;
      EXECUTE format('SELECT %1$I.dblink_disconnect($1) FROM unnest(%1$I.dblink_get_connections()) c WHERE c = $1', nsp) USING conn;
      EXECUTE format('SELECT %I.dblink_connect($1, $2)', nsp) USING conn, s.server;
      EXECUTE format('SELECT %I.dblink_exec($1, $2)', nsp) USING conn, 'BEGIN ISOLATION LEVEL REPEATABLE READ';
      EXECUTE format('SELECT %I.dblink_send_query($1, $2)', nsp) USING conn, step1;
    END LOOP;
    FOR s IN SELECT * FROM segments.shards ORDER BY position LOOP
      cur := s.server; conn := 'pg_segments_shard_' || s.position;
      EXECUTE format('SELECT * FROM %I.dblink_get_result($1) AS t(%s)', nsp, step1_cols) INTO st USING conn;
      EXECUTE format('SELECT count(*) FROM %I.dblink_get_result($1) AS t(%s)', nsp, step1_cols) USING conn;
      -- Settings parity: pushed-down queries (rules, query segments) run with the shard's settings.
      FOR k, v IN SELECT j.key, j.value FROM jsonb_each_text(st.own_settings) j WHERE j.key <> 'TimeZone' LOOP
        IF v IS DISTINCT FROM settings ->> k THEN
          RAISE EXCEPTION 'setting % is % on the coordinator but % on shard %', k, settings ->> k, v, s.server
            USING ERRCODE = '22023',
            HINT = format('Set %s the same on every node (postgresql.conf or ALTER DATABASE ... SET on the shards): '
                          'queries that postgres_fdw pushes down to a shard run with the shard''s settings.', k);
        END IF;
      END LOOP;
      total_sum := total_sum + coalesce(st.aov_sum, 0);
      total_buyers := total_buyers + st.buyers;
      IF incremental THEN
        old_sum := old_sum + coalesce(st.old_sum, 0);
        old_buyers := old_buyers + st.old_buyers; recomputed := recomputed + st.recomputed;
        customers := customers + st.customers; inserted := inserted + st.inserted;
        updated := updated + st.updated; deleted := deleted + st.deleted; changed := changed + st.changed;
      ELSE
        bg_states := bg_states || st.bgnbd;
        gg_states := gg_states || st.gammagamma;
      END IF;
    END LOOP;
    -- 2. Exactly what one node computes: the exact sum / the count.
    cur := NULL;
    mean := segments_internal._mean_aov(total_sum, total_buyers);
    IF incremental THEN
      old_mean := segments_internal._mean_aov(old_sum, old_buyers);
      step3 := format('SELECT segments_internal._shard_reband_facts(%L, %L)', old_mean, mean);  -- check-order: remote
      step3_cols := 'done text';
    ELSE
      bg := (SELECT @extschema@.bgnbd_fit_merge(x) FROM unnest(bg_states) x);
      gg := (SELECT @extschema@.gammagamma_fit_merge(x) FROM unnest(gg_states) x);
      step3 := format('SELECT customers, inserted, updated, deleted '
                      'FROM segments_internal._shard_refresh_facts(%L, %L, %L, %L, %L)',  -- check-order: remote
                      as_of, mean, bg, gg, settings);
      step3_cols := 'customers bigint, inserted bigint, updated bigint, deleted bigint';
    END IF;
    -- 3. (an incremental refresh in which no shard recomputed anyone has no band to move)
    IF NOT incremental OR recomputed > 0 THEN
      FOR s IN SELECT * FROM segments.shards ORDER BY position LOOP
        cur := s.server; conn := 'pg_segments_shard_' || s.position;
        EXECUTE format('SELECT %I.dblink_send_query($1, $2)', nsp) USING conn, step3;
      END LOOP;
      FOR s IN SELECT * FROM segments.shards ORDER BY position LOOP
        cur := s.server; conn := 'pg_segments_shard_' || s.position;
        EXECUTE format('SELECT * FROM %I.dblink_get_result($1) AS t(%s)', nsp, step3_cols) INTO fr USING conn;
        EXECUTE format('SELECT count(*) FROM %I.dblink_get_result($1) AS t(%s)', nsp, step3_cols) USING conn;
        IF NOT incremental THEN
          customers := customers + fr.customers; inserted := inserted + fr.inserted;
          updated := updated + fr.updated; deleted := deleted + fr.deleted;
        END IF;
      END LOOP;
    END IF;
    -- 4.
    FOR s IN SELECT * FROM segments.shards ORDER BY position LOOP
      cur := s.server; conn := 'pg_segments_shard_' || s.position;
      EXECUTE format('SELECT %I.dblink_exec($1, $2)', nsp) USING conn, 'COMMIT';
      EXECUTE format('SELECT %I.dblink_disconnect($1)', nsp) USING conn;
    END LOOP;
  EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS e_state = RETURNED_SQLSTATE, e_msg = MESSAGE_TEXT, e_hint = PG_EXCEPTION_HINT,
      e_detail = PG_EXCEPTION_DETAIL;
    -- Closing a connection rolls its shard back.
    EXECUTE format('SELECT %1$I.dblink_disconnect(c) FROM unnest(%1$I.dblink_get_connections()) c '
                   'WHERE c LIKE ''pg\_segments\_shard\_%%''', nsp);
    e_msg := format('sharded facts refresh failed%s: %s', coalesce(' on shard ' || cur, ''), e_msg);
    e_hint := coalesce(nullif(e_hint, ''), 'No shard''s facts changed; the next refresh tries again.');
    IF coalesce(e_detail, '') = '' THEN
      RAISE EXCEPTION '%', e_msg USING ERRCODE = e_state, HINT = e_hint;
    END IF;
    RAISE EXCEPTION '%', e_msg USING ERRCODE = e_state, DETAIL = e_detail, HINT = e_hint;
  END;
  -- The coordinator's own rows (from before it had shards) are not part of the union, nor are
  -- their stamps (the shards stamp their own facts; add_shard made every segment's next refresh full).
  DELETE FROM ONLY segments_internal.customer_facts;
  DELETE FROM ONLY segments_internal.facts_stamps;
END $$;

-- Is the change tracking on every shard's mapped tables (so that an incremental refresh sees
-- every change)? segments_internal._facts_tracked asks it on a coordinator.
CREATE OR REPLACE FUNCTION segments_internal._shards_tracked() RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE s record;
BEGIN
  FOR s IN SELECT * FROM segments.shards ORDER BY position LOOP
    IF NOT segments_internal._shard_value(s.server,
             'SELECT segments_internal._facts_tracked()')::boolean THEN  -- check-order: remote
      RETURN false;
    END IF;
  END LOOP;
  RETURN true;
END $$;

-- segments.track_changes() on a coordinator: the change tracking goes onto every shard (its own
-- mapped tables), never onto the coordinator's partitioned tables with foreign partitions, whose
-- writes transition-table triggers would break. Returns the number of tables tracked on the shards.
CREATE OR REPLACE FUNCTION segments_internal._shards_track_changes(enable boolean) RETURNS int
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE s record; n int := 0;
BEGIN
  FOR s IN SELECT * FROM segments.shards ORDER BY position LOOP
    n := n + segments_internal._shard_value(s.server,
      format('SELECT segments.track_changes(%L)', enable))::int;  -- check-order: remote
  END LOOP;
  RETURN n;
END $$;

-- The facts stamp of a coordinator (segments_internal.facts_stamp): the least of the shards' greatest
-- stamps, so that whatever any shard stamps later is later than it, even while a sharded refresh
-- commits shard after shard, and whatever the shards' clocks (a skew only widens the next scope).
-- One row from each shard (ORDER BY ... LIMIT 1 is shipped; max() would be planned as a local
-- LIMIT over every stamp). -infinity when a shard has none yet.
CREATE OR REPLACE FUNCTION segments_internal._shards_facts_stamp() RETURNS timestamptz
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE s record; m timestamptz; mark timestamptz := 'infinity';
BEGIN
  FOR s IN SELECT * FROM segments.shards ORDER BY position LOOP
    EXECUTE format('SELECT f.changed_at FROM segments_internal.%I f ORDER BY f.changed_at DESC LIMIT 1',
                   'facts_stamps@' || s.server) INTO m;
    mark := least(mark, coalesce(m, '-infinity'));
  END LOOP;
  RETURN mark;
END $$;

