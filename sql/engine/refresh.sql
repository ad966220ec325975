-- Segment engine: refresh as a diff, runs, the refresh-due policy and the refresh entry points
-- (docs/segments.md#refresh).
--
-- A refresh, in one transaction: lock the segment row (refreshes of one segment never interleave),
-- refresh the facts if older than pg_segments.facts_max_age, REFRESH the rule's materialized view
-- (as the segment owner), then under the change-log lock: attribute added revenue, delete leavers,
-- insert joiners, append both to segments.changes, add a history row. Readers keep seeing the old
-- membership until commit. The change-log lock is held from the first change id to commit, so ids
-- become visible in increasing order and a consumer reading "id > last seen" never misses one.

-- The materialized view holding a segment's rule result.
CREATE OR REPLACE FUNCTION segments_internal._rule_relation(id bigint) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT format('segment_rules.%I', 's_' || id) $$;

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

-- The time limit of a due refresh (src/pg/deadline.cpp): _deadline(ms) arms it, _deadline(0)
-- disarms it; both return whether the deadline armed before was reached.
CREATE OR REPLACE FUNCTION segments_internal._deadline(ms int) RETURNS boolean
    AS 'MODULE_PATHNAME', 'pgs_deadline' LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

-- Run bookkeeping. A run is started (and, for a due refresh, committed) before it is executed, so
-- segments.runs shows it as running and due_segments() leaves its segment alone meanwhile.
-- Called inside the engine only (SECURITY DEFINER callers, or the worker).
CREATE OR REPLACE FUNCTION segments_internal._start_run(segment_id bigint, trigger text) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE run bigint;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM segments.segments s WHERE s.id = _start_run.segment_id) THEN
    RAISE EXCEPTION 'segment % does not exist', segment_id USING ERRCODE = '42704';
  END IF;
  IF trigger IS NULL OR trigger NOT IN ('worker', 'manual', 'refresh_now', 'create', 'cron') THEN
    RAISE EXCEPTION 'unknown run trigger "%"', trigger USING ERRCODE = '22023',
      HINT = 'Triggers: worker, manual, refresh_now, create, cron.';
  END IF;
  INSERT INTO segments.runs AS r (segment_id, trigger) VALUES (_start_run.segment_id, _start_run.trigger)
  RETURNING r.id INTO run;
  UPDATE segments.segments s SET refresh_requested_at = NULL
  WHERE s.id = _start_run.segment_id AND s.refresh_requested_at IS NOT NULL;
  RETURN run;
END $$;

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
      HINT = 'Refresh the segment again: segments.refresh(name).';
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
  PERFORM segments_internal.notify_membership_change(s.id, s.name, run_id, n_joined, n_left);

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

CREATE OR REPLACE FUNCTION segments_internal._fail_run(run_id bigint, sqlstate text, message text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE seg bigint;
BEGIN
  UPDATE segments.runs r SET status = 'failed', finished_at = clock_timestamp(),
    sqlstate = _fail_run.sqlstate, message = _fail_run.message
  WHERE r.id = run_id RETURNING r.segment_id INTO seg;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'run % does not exist', run_id USING ERRCODE = '42704';
  END IF;
  -- Retry after 1, 2, 4, ... minutes, at most 6 hours, never later than the normal schedule.
  UPDATE segments.segments s SET
    status = CASE WHEN s.status = 'inactive' THEN 'inactive' ELSE 'failed' END,
    last_error = _fail_run.message, last_error_sqlstate = _fail_run.sqlstate, last_error_at = now(),
    consecutive_failures = s.consecutive_failures + 1,
    next_refresh_at = now() + least(interval '1 minute' * power(2, least(s.consecutive_failures, 20)),
                                    interval '6 hours', s.refresh_interval)
  WHERE s.id = seg;
END $$;

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
DECLARE keep interval := segments_internal._setting('pg_segments.run_retention')::interval; n int;
BEGIN
  DELETE FROM segments.runs r WHERE r.status <> 'running' AND r.finished_at < now() - keep;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $$;
COMMENT ON FUNCTION segments.prune_runs() IS
  'Deletes finished runs older than pg_segments.run_retention; returns how many';

-- Executes a started run and records a failure: the run and the segment are marked failed (with
-- back-off) while the membership stays the last good one. timeout_ms > 0 bounds the refresh
-- (segments_internal._deadline); a cancel by the user or a shutdown is not caught.
CREATE OR REPLACE FUNCTION segments_internal._execute_recorded(run_id bigint, wait boolean, timeout_ms int)
RETURNS segments.runs
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE r segments.runs; st text; msg text; timed_out boolean;
BEGIN
  BEGIN
    PERFORM segments_internal._deadline(timeout_ms);
    r := segments_internal._execute(run_id, wait);
    PERFORM segments_internal._deadline(0);
    RETURN r;
  EXCEPTION WHEN query_canceled OR admin_shutdown THEN
    timed_out := segments_internal._deadline(0);
    IF NOT timed_out THEN
      RAISE;
    END IF;
    st := '57014';
    msg := format('canceling statement due to statement timeout: the refresh ran longer than %s ms (pg_segments.refresh_timeout)',
                  timeout_ms);
  WHEN OTHERS THEN
    PERFORM segments_internal._deadline(0);
    IF NOT EXISTS (SELECT 1 FROM segments.runs x WHERE x.id = run_id AND x.status = 'running') THEN
      RAISE;  -- no such run, or one already finished: nothing to record
    END IF;
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
  END;
  PERFORM segments_internal._fail_run(run_id, st, msg);
  SELECT * INTO r FROM segments.runs x WHERE x.id = run_id;
  RAISE WARNING 'segment % failed to refresh: % (SQLSTATE %)',
    (SELECT s.name FROM segments.segments s WHERE s.id = r.segment_id), msg, st
    USING HINT = 'Its last good membership is kept; see segments.segments.last_error and segments.runs.';
  RETURN r;
END $$;

-- One refresh in the caller's transaction (create, alter, refresh, refresh_all).
CREATE OR REPLACE FUNCTION segments_internal._refresh(id bigint, trigger text, wait boolean DEFAULT true)
RETURNS segments.runs
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
  SELECT segments_internal._execute_recorded(segments_internal._start_run(id, trigger), wait, 0)
$$;

-- The refresh-due policy: the one place that decides what a due refresh is. CALL refresh_due()
-- (cron) and the background worker (src/worker/scheduler.cpp) both run a pass as
--   recover_runs(); then until _next_due_run returns nothing: _next_due_run(...) in one
--   transaction, _run_due(run) in the next; prune_runs()
-- * due: see due_segments(): refresh_now requests first, then the most overdue schedule; never a
--   segment with a run in progress, nor one whose row another session has locked (skipped, not
--   waited for: it is due again next pass);
-- * a pass takes each scheduled segment once (one with an interval shorter than its refresh cannot
--   keep a pass going), but a refresh_now request made during the pass is served next, so
--   nobody needs to stop a pass early when woken;
-- * trigger: refresh_now when requested, else the caller's (cron or worker);
-- * a due refresh is bounded by pg_segments.refresh_timeout; a failure or timeout is recorded
--   (back-off, last good membership kept) and the pass goes on with the next segment.
-- Both act on every segment: granted to segments_admin only (access/grants.sql).
CREATE OR REPLACE FUNCTION segments_internal._next_due_run(caller text, pass_started timestamptz)
RETURNS SETOF segments.runs
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE sid bigint; requested boolean; run bigint;
BEGIN
  IF caller IS NULL OR caller NOT IN ('cron', 'worker') THEN
    RAISE EXCEPTION 'unknown caller "%" of the refresh-due policy', caller USING ERRCODE = '22023',
      HINT = 'cron (CALL segments.refresh_due()) or worker.';
  END IF;
  FOR sid IN SELECT d FROM segments.due_segments() d LOOP
    SELECT s.refresh_requested_at IS NOT NULL INTO requested
    FROM segments.segments s WHERE s.id = sid FOR NO KEY UPDATE SKIP LOCKED;
    CONTINUE WHEN NOT FOUND;
    CONTINUE WHEN NOT requested AND EXISTS (
      SELECT 1 FROM segments.runs r WHERE r.segment_id = sid AND r.started_at >= pass_started);
    run := segments_internal._start_run(sid, CASE WHEN requested THEN 'refresh_now' ELSE caller END);
    RETURN QUERY SELECT * FROM segments.runs r WHERE r.id = run;
    RETURN;
  END LOOP;
END $$;

CREATE OR REPLACE FUNCTION segments_internal._run_due(run_id bigint) RETURNS segments.runs
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT segments_internal.progress_report('refresh_due', 'refreshing a due segment (' || r.trigger || ')', s.name,
                                           NULL, NULL, clock_timestamp())
  FROM segments.runs r JOIN segments.segments s ON s.id = r.segment_id WHERE r.id = _run_due.run_id;
  SELECT segments_internal._execute_recorded(run_id, true,
           (extract(epoch FROM segments_internal._setting('pg_segments.refresh_timeout')::interval) * 1000)::int)
$$;

CREATE OR REPLACE FUNCTION segments.refresh(name text, wait boolean DEFAULT true) RETURNS segments.runs
AS 'MODULE_PATHNAME', 'pgs_engine_call' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION segments.refresh(text, boolean) IS
  'Refreshes one segment now, in this transaction; returns its run (status failed, with the error, if the rule failed)';

CREATE OR REPLACE FUNCTION segments_internal.refresh(caller regrole, name text, wait boolean) RETURNS segments.runs
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM segments_internal.progress_report('refresh', 'refreshing a segment', name, 0, 1, clock_timestamp());
  RETURN segments_internal._refresh((segments_internal._segment_for(caller, name, 'refresh')).id, 'manual',
                                    coalesce(wait, true));
END $$;

CREATE OR REPLACE FUNCTION segments.refresh_all() RETURNS SETOF segments.runs
AS 'MODULE_PATHNAME', 'pgs_engine_call' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION segments.refresh_all() IS
  'Refreshes every segment you may refresh (an administrator: all) that is not inactive, in this one transaction; returns the runs';

CREATE OR REPLACE FUNCTION segments_internal.refresh_all(caller regrole) RETURNS SETOF segments.runs
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE sid bigint; ids bigint[]; k int := 0; started timestamptz := clock_timestamp();
BEGIN
  PERFORM segments_internal._authorize(caller, 'create', what => 'refresh segments');
  SELECT array_agg(s.id ORDER BY s.id) INTO ids FROM segments.segments s
  WHERE s.status <> 'inactive'
    AND (pg_has_role(caller, 'segments_admin', 'USAGE') OR pg_has_role(caller, s.owner, 'USAGE'));
  FOREACH sid IN ARRAY coalesce(ids, '{}') LOOP
    -- segments.progress: segment k of N (k - 1 done), seen by other sessions while this runs
    PERFORM segments_internal.progress_report('refresh_all', 'refreshing segments',
      (SELECT s.name FROM segments.segments s WHERE s.id = sid), k, cardinality(ids), started);
    k := k + 1;
    RETURN NEXT segments_internal._refresh(sid, 'manual');
  END LOOP;
END $$;

-- For pg_cron or an external cron job: one pass of the refresh-due policy, each segment in its own
-- transaction. A procedure (it commits), so it runs as the caller: segments_admin.
CREATE OR REPLACE PROCEDURE segments.refresh_due()
LANGUAGE plpgsql AS $$
DECLARE started timestamptz := clock_timestamp(); run bigint;
BEGIN
  PERFORM segments.recover_runs();
  COMMIT;
  LOOP
    SELECT r.id INTO run FROM segments_internal._next_due_run('cron', started) r;
    EXIT WHEN run IS NULL;
    COMMIT;
    PERFORM segments_internal._run_due(run);
    COMMIT;
  END LOOP;
  PERFORM segments.prune_runs();
  COMMIT;
END $$;
COMMENT ON PROCEDURE segments.refresh_due() IS
  'CALL from cron: refreshes each due segment in its own transaction, like the background worker (failures recorded, others go on)';

CREATE OR REPLACE FUNCTION segments.refresh_now(name text) RETURNS boolean
AS 'MODULE_PATHNAME', 'pgs_engine_call' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION segments.refresh_now(text) IS
  'Asks the background worker to refresh a segment at once (returns whether a worker was woken)';

CREATE OR REPLACE FUNCTION segments_internal.refresh_now(caller regrole, name text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE s segments.segments := segments_internal._segment_for(caller, name, 'refresh'); woke boolean;
BEGIN
  UPDATE segments.segments g SET refresh_requested_at = now() WHERE g.id = s.id;
  woke := segments.wake_worker();
  IF NOT woke THEN
    RAISE NOTICE 'refresh of "%" requested; no background worker answered', name
      USING HINT = 'It runs at the next CALL segments.refresh_due(), or call segments.refresh(name) now.';
  END IF;
  RETURN woke;
END $$;
