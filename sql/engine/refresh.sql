-- Segment engine, part 4: refresh as a diff, runs, and what the background worker calls
-- (docs/segments.md#refresh).
--
-- A refresh, in one transaction: lock the segment row (refreshes of one segment never interleave),
-- refresh the facts if older than pg_segments.facts_max_age, REFRESH the rule's materialized view
-- (as the segment owner), then under the change-log lock: attribute added revenue, delete leavers,
-- insert joiners, append both to segments.changes, add a history row. Readers keep seeing the old
-- membership until commit. The change-log lock is held from the first change id to commit, so ids
-- become visible in increasing order and a consumer reading "id > last seen" never misses one.

-- Next scheduled time: the interval added in the segment's time zone (so "1 day" keeps the wall
-- clock across daylight-saving changes), from the previous schedule while that is not overdue.
CREATE OR REPLACE FUNCTION segments_internal._next_refresh(prev timestamptz, every interval, tz text, now_ timestamptz DEFAULT now())
RETURNS timestamptz
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
-- The schedule keeps its cadence in the segment's time zone: the next slot is prev + k * every,
-- the first one after now. A refresh before the slot (manual, refresh_now) leaves the slot alone.
DECLARE zone text := coalesce(tz, current_setting('TimeZone')); nxt timestamptz := prev;
BEGIN
  IF prev IS NOT NULL AND prev > now_ THEN
    RETURN prev;
  END IF;
  IF prev IS NOT NULL THEN
    FOR i IN 1..1000 LOOP
      nxt := ((nxt AT TIME ZONE zone) + every) AT TIME ZONE zone;
      IF nxt > now_ THEN
        RETURN nxt;
      END IF;
    END LOOP;
  END IF;
  RETURN ((now_ AT TIME ZONE zone) + every) AT TIME ZONE zone;
END $$;

CREATE OR REPLACE FUNCTION segments.start_run(segment_id bigint, trigger text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE run bigint;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM segments.segments s WHERE s.id = start_run.segment_id) THEN
    RAISE EXCEPTION 'segment % does not exist', segment_id USING ERRCODE = '42704';
  END IF;
  IF trigger IS NULL OR trigger NOT IN ('worker', 'manual', 'refresh_now', 'create', 'cron') THEN
    RAISE EXCEPTION 'unknown run trigger "%"', trigger USING ERRCODE = '22023',
      HINT = 'Triggers: worker, manual, refresh_now, create, cron.';
  END IF;
  INSERT INTO segments.runs AS r (segment_id, trigger) VALUES (start_run.segment_id, start_run.trigger)
  RETURNING r.id INTO run;
  UPDATE segments.segments s SET refresh_requested_at = NULL
  WHERE s.id = start_run.segment_id AND s.refresh_requested_at IS NOT NULL;
  RETURN run;
END $$;
COMMENT ON FUNCTION segments.start_run(bigint, text) IS
  'Records a running refresh of a segment (trigger: worker, manual, refresh_now, create, cron); returns the run id';

-- The refresh itself. wait => false: when another refresh of the segment holds it, the run is
-- recorded as skipped instead of waiting. Raises on failure (the caller's transaction rolls back).
CREATE OR REPLACE FUNCTION segments_internal._execute(run_id bigint, wait boolean) RETURNS segments.runs
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  r segments.runs; s segments.segments;
  rel text; facts boolean; n_left int; n_joined int; n_marked int; added numeric; sz bigint; rev numeric; ords bigint;
  facts_at timestamptz;
BEGIN
  SELECT * INTO r FROM segments.runs x WHERE x.id = run_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'run % does not exist', run_id USING ERRCODE = '42704';
  END IF;
  IF r.status <> 'running' THEN
    RAISE EXCEPTION 'run % is % (not running)', run_id, r.status USING ERRCODE = '55000',
      HINT = 'Start a new run with segments.start_run().';
  END IF;
  IF wait THEN
    SELECT * INTO s FROM segments.segments x WHERE x.id = r.segment_id FOR NO KEY UPDATE;
  ELSE
    SELECT * INTO s FROM segments.segments x WHERE x.id = r.segment_id FOR NO KEY UPDATE SKIP LOCKED;
    IF NOT FOUND AND EXISTS (SELECT 1 FROM segments.segments x WHERE x.id = r.segment_id) THEN
      UPDATE segments.runs x SET status = 'skipped', finished_at = clock_timestamp(),
        message = 'another refresh of this segment was in progress'
      WHERE x.id = run_id RETURNING * INTO r;
      RETURN r;
    END IF;
  END IF;
  IF s.id IS NULL THEN
    RAISE EXCEPTION 'segment % of run % does not exist', r.segment_id, run_id USING ERRCODE = '42704';
  END IF;

  facts := segments_internal._ensure_facts();
  SELECT f.refreshed_at INTO facts_at FROM segments.facts_status f;
  rel := segments_internal._rule_relation(s.id);
  -- Runs the rule as the segment owner (the materialized view's owner), security-restricted.
  EXECUTE format('REFRESH MATERIALIZED VIEW %s', rel);

  -- One pass: old members (m) full-joined with the new result (n) and their facts (c) gives the
  -- leavers, the joiners, the members whose revenue grew (added revenue), and the new size.
  PERFORM pg_advisory_xact_lock(1885824371, 1);
  EXECUTE format($q$
    WITH j AS MATERIALIZED (
      SELECT coalesce(m.customer_id, n.customer_id) AS customer_id,
             m.customer_id IS NOT NULL AS was, n.customer_id IS NOT NULL AS now_in,
             m.revenue_mark, c.revenue, c.orders
      FROM (SELECT x.customer_id, x.revenue_mark FROM segments.membership x WHERE x.segment_id = $1) m
      FULL JOIN (SELECT DISTINCT r.customer_id FROM %s r WHERE r.customer_id IS NOT NULL) n
        ON n.customer_id = m.customer_id
      LEFT JOIN segments.customers c ON c.customer_id = coalesce(m.customer_id, n.customer_id)),
    gone AS (
      DELETE FROM segments.membership x USING j
      WHERE x.segment_id = $1 AND x.customer_id = j.customer_id AND j.was AND NOT j.now_in
      RETURNING x.customer_id),
    came AS (
      INSERT INTO segments.membership (segment_id, customer_id, joined_at, revenue_mark)
      SELECT $1, j.customer_id, now(), coalesce(j.revenue, 0) FROM j WHERE j.now_in AND NOT j.was
      RETURNING customer_id),
    marked AS (
      UPDATE segments.membership x SET revenue_mark = j.revenue FROM j
      WHERE x.segment_id = $1 AND x.customer_id = j.customer_id AND j.was AND j.now_in
        AND j.revenue IS NOT NULL AND j.revenue <> j.revenue_mark
      RETURNING 1),
    logged AS (
      INSERT INTO segments.changes (segment_id, segment, customer_id, change, at, run_id)
      SELECT $1, $2, d.customer_id, d.change, now(), $3
      FROM (SELECT g.customer_id, 'left' AS change FROM gone g
            UNION ALL SELECT k.customer_id, 'joined' FROM came k) d
      ORDER BY d.customer_id, d.change
      RETURNING change)
    SELECT (SELECT count(*) FILTER (WHERE change = 'joined') FROM logged),
           (SELECT count(*) FILTER (WHERE change = 'left') FROM logged),
           (SELECT count(*) FROM marked),
           coalesce(sum(j.revenue - j.revenue_mark) FILTER (WHERE j.was), 0),
           count(*) FILTER (WHERE j.now_in),
           coalesce(sum(j.revenue) FILTER (WHERE j.now_in), 0),
           coalesce(sum(j.orders) FILTER (WHERE j.now_in), 0)
    FROM j$q$, rel)
  INTO n_joined, n_left, n_marked, added, sz, rev, ords USING s.id, s.name, run_id;

  INSERT INTO segments.history (segment_id, run_id, at, size, joined, "left", revenue, orders, added_revenue, facts_at)
  VALUES (s.id, run_id, now(), sz, n_joined, n_left, rev, ords, added, facts_at);

  UPDATE segments.segments x SET
    status = CASE WHEN x.status = 'inactive' THEN 'inactive' ELSE 'active' END,
    last_refresh_at = now(),
    next_refresh_at = segments_internal._next_refresh(x.next_refresh_at, x.refresh_interval, x.timezone),
    last_error = NULL, last_error_sqlstate = NULL, consecutive_failures = 0
  WHERE x.id = s.id;

  UPDATE segments.runs x SET status = 'succeeded', finished_at = clock_timestamp(),
    joined = n_joined, "left" = n_left, size = sz, facts_refreshed = facts
  WHERE x.id = run_id RETURNING * INTO r;
  RETURN r;
END $$;

CREATE OR REPLACE FUNCTION segments.execute_run(run_id bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM segments_internal._execute(run_id, true);
END $$;
COMMENT ON FUNCTION segments.execute_run(bigint) IS
  'Performs a started run: facts if stale, then the segment as a diff; raises on failure (membership unchanged)';

CREATE OR REPLACE FUNCTION segments.fail_run(run_id bigint, sqlstate text, message text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE seg bigint;
BEGIN
  UPDATE segments.runs r SET status = 'failed', finished_at = clock_timestamp(),
    sqlstate = fail_run.sqlstate, message = fail_run.message
  WHERE r.id = run_id RETURNING r.segment_id INTO seg;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'run % does not exist', run_id USING ERRCODE = '42704';
  END IF;
  -- Retry after 1, 2, 4, ... minutes, at most 6 hours, never later than the normal schedule.
  UPDATE segments.segments s SET
    status = CASE WHEN s.status = 'inactive' THEN 'inactive' ELSE 'failed' END,
    last_error = fail_run.message, last_error_sqlstate = fail_run.sqlstate, last_error_at = now(),
    consecutive_failures = s.consecutive_failures + 1,
    next_refresh_at = now() + least(interval '1 minute' * power(2, least(s.consecutive_failures, 20)),
                                    interval '6 hours', s.refresh_interval)
  WHERE s.id = seg;
END $$;
COMMENT ON FUNCTION segments.fail_run(bigint, text, text) IS
  'Marks a run failed with its error; the segment becomes failed and is retried with a growing back-off';

CREATE OR REPLACE FUNCTION segments.recover_runs() RETURNS int
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE n int;
BEGIN
  UPDATE segments.runs r SET status = 'failed', finished_at = clock_timestamp(), sqlstate = '57P01',
    message = 'interrupted: the session running it ended (crash or shutdown)'
  WHERE r.status = 'running'
    AND (r.backend_pid IS NULL OR r.backend_pid = pg_backend_pid()
         OR NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = r.backend_pid));
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $$;
COMMENT ON FUNCTION segments.recover_runs() IS
  'Marks runs left running by a session that no longer exists as failed; returns how many';

CREATE OR REPLACE FUNCTION segments.due_segments() RETURNS SETOF bigint
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT s.id FROM segments.segments s
  WHERE (s.refresh_requested_at IS NOT NULL
         OR (s.status <> 'inactive' AND s.next_refresh_at <= now()))
    AND NOT EXISTS (SELECT 1 FROM segments.runs r WHERE r.segment_id = s.id AND r.status = 'running')
  ORDER BY (s.refresh_requested_at IS NULL), coalesce(s.refresh_requested_at, s.next_refresh_at), s.id
$$;
COMMENT ON FUNCTION segments.due_segments() IS
  'Segments to refresh now: refresh_now requests first, then active ones past next_refresh_at, most overdue first';

CREATE OR REPLACE FUNCTION segments.prune_runs() RETURNS int
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE keep interval := segments_internal._setting('pg_segments.run_retention', '30 days')::interval; n int;
BEGIN
  DELETE FROM segments.runs r WHERE r.status <> 'running' AND r.finished_at < now() - keep;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $$;
COMMENT ON FUNCTION segments.prune_runs() IS
  'Deletes finished runs older than pg_segments.run_retention; returns how many';

-- One refresh in the caller's transaction: run bookkeeping, and on failure (when catch) the run and
-- segment are marked failed while the membership stays the last good one.
CREATE OR REPLACE FUNCTION segments_internal._refresh(id bigint, trigger text, catch boolean, wait boolean DEFAULT true)
RETURNS segments.runs
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE run bigint := segments.start_run(id, trigger); r segments.runs; st text; msg text;
BEGIN
  IF NOT catch THEN
    RETURN segments_internal._execute(run, wait);
  END IF;
  BEGIN
    r := segments_internal._execute(run, wait);
  EXCEPTION WHEN query_canceled OR admin_shutdown THEN
    RAISE;
  WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
    PERFORM segments.fail_run(run, st, msg);
    RAISE WARNING 'segment % failed to refresh: % (SQLSTATE %)', (SELECT s.name FROM segments.segments s WHERE s.id = _refresh.id), msg, st
      USING HINT = 'Its last good membership is kept; see segments.segments.last_error and segments.runs.';
    SELECT * INTO r FROM segments.runs x WHERE x.id = run;
  END;
  RETURN r;
END $$;

CREATE OR REPLACE FUNCTION segments.refresh(name text, wait boolean DEFAULT true) RETURNS segments.runs
AS 'MODULE_PATHNAME', 'pgs_engine_call' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION segments.refresh(text, boolean) IS
  'Refreshes one segment now, in this transaction; returns its run (status failed, with the error, if the rule failed)';

CREATE OR REPLACE FUNCTION segments_internal.refresh(caller regrole, name text, wait boolean) RETURNS segments.runs
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  RETURN segments_internal._refresh((segments_internal._segment_for(caller, name, 'refresh')).id, 'manual', true,
                                    coalesce(wait, true));
END $$;

CREATE OR REPLACE FUNCTION segments.refresh_all() RETURNS SETOF segments.runs
AS 'MODULE_PATHNAME', 'pgs_engine_call' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION segments.refresh_all() IS
  'Refreshes every segment you may refresh (an administrator: all) that is not inactive, in this one transaction; returns the runs';

CREATE OR REPLACE FUNCTION segments_internal.refresh_all(caller regrole) RETURNS SETOF segments.runs
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE sid bigint;
BEGIN
  PERFORM segments_internal._authorize(caller, 'create', what => 'refresh segments');
  FOR sid IN SELECT s.id FROM segments.segments s
             WHERE s.status <> 'inactive'
               AND (pg_has_role(caller, 'segments_admin', 'USAGE') OR pg_has_role(caller, s.owner, 'USAGE'))
             ORDER BY s.id LOOP
    RETURN NEXT segments_internal._refresh(sid, 'manual', true);
  END LOOP;
END $$;

-- For pg_cron or an external cron job: every due segment in its own transaction.
CREATE OR REPLACE PROCEDURE segments.refresh_due()
LANGUAGE plpgsql AS $$
DECLARE ids bigint[]; sid bigint; run bigint; st text; msg text;
BEGIN
  PERFORM segments.recover_runs();
  COMMIT;
  ids := ARRAY(SELECT segments.due_segments());
  FOREACH sid IN ARRAY ids LOOP
    run := segments.start_run(sid, 'cron');
    COMMIT;
    BEGIN
      PERFORM segments.execute_run(run);
    EXCEPTION WHEN query_canceled OR admin_shutdown THEN
      RAISE;
    WHEN OTHERS THEN
      GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
      PERFORM segments.fail_run(run, st, msg);
    END;
    COMMIT;
  END LOOP;
  PERFORM segments.prune_runs();
  COMMIT;
END $$;
COMMENT ON PROCEDURE segments.refresh_due() IS
  'CALL from cron: refreshes each due segment in its own transaction (failures recorded, others go on)';

CREATE OR REPLACE FUNCTION segments.refresh_now(name text) RETURNS boolean
AS 'MODULE_PATHNAME', 'pgs_engine_call' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION segments.refresh_now(text) IS
  'Asks the background worker to refresh a segment at once (returns whether a worker was woken)';

CREATE OR REPLACE FUNCTION segments_internal.refresh_now(caller regrole, name text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE s segments.segments := segments_internal._segment_for(caller, name, 'refresh'); woke boolean := false;
BEGIN
  UPDATE segments.segments g SET refresh_requested_at = now() WHERE g.id = s.id;
  IF to_regprocedure('segments.wake_worker()') IS NOT NULL THEN
    BEGIN
      EXECUTE 'SELECT segments.wake_worker()' INTO woke;
      woke := coalesce(woke, true);
    EXCEPTION WHEN OTHERS THEN
      woke := false;
    END;
  END IF;
  IF NOT woke THEN
    RAISE NOTICE 'refresh of "%" requested; no background worker answered', name
      USING HINT = 'It runs at the next CALL segments.refresh_due(), or call segments.refresh(name) now.';
  END IF;
  RETURN woke;
END $$;
