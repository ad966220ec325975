-- Segment engine: refresh as a diff, runs, the refresh-due policy and the refresh entry points
-- (docs/segments.md#refresh).
--
-- A refresh, in one transaction, takes its locks in the one order of sql/engine/locks.sql: stale
-- facts are refreshed first, then the segment rows of the batch are locked in id order (refreshes
-- of one segment never interleave), then the rules are evaluated as their owners: incremental ones
-- in one pass per owner over the customers whose facts changed, the others one materialized view
-- each; then, under the change-log lock: added revenue, leavers deleted, joiners inserted, both
-- appended to segments.changes, a history row each. Readers keep seeing the old membership until
-- commit. The change-log lock is held from the first change id to commit, so ids become visible in
-- increasing order and a consumer reading "id > last seen" never misses one.

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

-- The diff of a batch, one statement: old members (m) full-joined with the new result (hits: a
-- query of (segment_id, customer_id)) and their facts (c) gives the leavers, the joiners, the
-- members whose revenue or orders moved (added revenue), per segment. scope NULL: all of each
-- segment's members (full refresh); else only these customers (incremental: nobody else can have
-- joined or left). Returns per segment the changes and, over the compared rows, the old marks' and
-- the new members' totals. The caller holds the change-log lock and the batch's segment rows (so no
-- other writer touches these members). hits must not repeat a (segment, customer): the pass views
-- cannot (one row per customer and rule), a rule view's query can, so its caller adds DISTINCT (a
-- hash of the 458k hits of a first build of the 31 packs at 100k customers: 0.5 s). The facts are
-- read once, as a hashed table (the rule results carry no statistics: the planner guessed 200 rows
-- and probed the facts' index once per member, 1.5 s of a 7 s first build), joined by bytes
-- (COLLATE "C": equality is the same, the sort for a merge join is 2x cheaper than the locale's);
-- the members are looked up within the batch's segments only, and the leavers and moved marks are
-- then deleted and updated by the row address read here (a TID scan: a join on the keys hashed
-- every member of the batch twice, 460k rows, 400 ms of an incremental refresh of 1,200 customers).
CREATE OR REPLACE FUNCTION segments_internal._diff(seg_ids bigint[], seg_names text[], run_ids bigint[],
                                                    hits text, scope text[])
RETURNS TABLE (segment_id bigint, joined int, "left" int, added numeric,
               was_count bigint, was_revenue numeric, was_orders bigint,
               now_count bigint, now_revenue numeric, now_orders bigint)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  member_cols constant text := 'x.ctid AS mtid, x.segment_id, x.customer_id, x.revenue_mark, x.orders_mark';  -- of m below
BEGIN
  -- A first build (no member yet in any of the batch's segments, in full): every hit joins, nobody
  -- leaves, no mark moves, so the hits go straight to the membership and its RETURNING to the log and
  -- the totals, without the full join and its stored result (31 packs at 100k customers: 458k rows
  -- written and read four times, 0.5-0.7 s of a 6.5 s build).
  IF scope IS NULL AND NOT EXISTS (SELECT 1 FROM segments.membership x WHERE x.segment_id = ANY (seg_ids)) THEN
    RETURN QUERY EXECUTE format($q$
      WITH g AS (SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[]) WITH ORDINALITY AS g(segment_id, name, run_id, pos)),
      c AS MATERIALIZED (SELECT f.customer_id, f.revenue, f.orders FROM segments.customers f),
      came AS (
        INSERT INTO segments.membership (segment_id, customer_id, joined_at, revenue_mark, orders_mark)
        SELECT h.segment_id, h.customer_id, now(), coalesce(c.revenue, 0), coalesce(c.orders, 0)
        FROM (%s) h (segment_id, customer_id) LEFT JOIN c ON c.customer_id COLLATE "C" = h.customer_id COLLATE "C"
        WHERE h.customer_id IS NOT NULL
        ORDER BY h.customer_id COLLATE "C", h.segment_id
        RETURNING segment_id, customer_id, revenue_mark, orders_mark),
      -- (a data-modifying WITH runs to its end unread; every member joined is logged once)
      logged AS (
        INSERT INTO segments.changes (segment_id, segment, customer_id, change, at, run_id)
        SELECT g.segment_id, g.name, k.customer_id, 'joined', now(), g.run_id FROM came k JOIN g ON g.segment_id = k.segment_id
        ORDER BY g.pos, k.customer_id COLLATE "C"),
      t AS (SELECT k.segment_id, count(*) AS n, sum(k.revenue_mark) AS revenue, sum(k.orders_mark)::bigint AS orders
            FROM came k GROUP BY k.segment_id)
      SELECT g.segment_id, coalesce(t.n, 0)::int, 0, 0::numeric, 0::bigint, 0::numeric, 0::bigint,
             coalesce(t.n, 0), coalesce(t.revenue, 0), coalesce(t.orders, 0)
      FROM g LEFT JOIN t ON t.segment_id = g.segment_id
      ORDER BY g.pos$q$, hits)
    USING seg_ids, seg_names, run_ids;
    RETURN;
  END IF;
  RETURN QUERY EXECUTE format($q$
    WITH g AS (SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[]) WITH ORDINALITY AS g(segment_id, name, run_id, pos)),
    c AS MATERIALIZED (SELECT f.customer_id, f.revenue, f.orders FROM segments.customers f %s),
    j AS MATERIALIZED (
      SELECT coalesce(m.segment_id, n.segment_id) AS segment_id, coalesce(m.customer_id, n.customer_id) AS customer_id,
             m.customer_id IS NOT NULL AS was, n.customer_id IS NOT NULL AS now_in,
             m.mtid, m.revenue_mark, m.orders_mark, c.revenue, c.orders
      FROM (%s) m
      FULL JOIN (SELECT h.segment_id, h.customer_id FROM (%s) h (segment_id, customer_id)
                 WHERE h.customer_id IS NOT NULL) n
        ON n.segment_id = m.segment_id AND n.customer_id = m.customer_id
      LEFT JOIN c ON c.customer_id COLLATE "C" = coalesce(m.customer_id, n.customer_id) COLLATE "C"),
    gone AS (
      DELETE FROM segments.membership x
      WHERE x.ctid = ANY (ARRAY(SELECT j.mtid FROM j WHERE j.was AND NOT j.now_in)) AND x.segment_id = ANY ($1)
      RETURNING x.segment_id, x.customer_id),
    came AS (
      INSERT INTO segments.membership (segment_id, customer_id, joined_at, revenue_mark, orders_mark)
      SELECT j.segment_id, j.customer_id, now(), coalesce(j.revenue, 0), coalesce(j.orders, 0) FROM j WHERE j.now_in AND NOT j.was
      ORDER BY j.customer_id COLLATE "C", j.segment_id  -- (a customer's memberships on one page: schema.sql)
      RETURNING segment_id, customer_id),
    moved AS MATERIALIZED (
      SELECT j.mtid, j.revenue, j.orders FROM j
      WHERE j.was AND j.now_in AND j.revenue IS NOT NULL AND (j.revenue, j.orders) IS DISTINCT FROM (j.revenue_mark, j.orders_mark)),
    marked AS (
      UPDATE segments.membership x SET revenue_mark = v.revenue, orders_mark = v.orders FROM moved v
      WHERE x.ctid = ANY (ARRAY(SELECT v.mtid FROM moved v)) AND x.ctid = v.mtid AND x.segment_id = ANY ($1)
      RETURNING 1),
    logged AS (
      INSERT INTO segments.changes (segment_id, segment, customer_id, change, at, run_id)
      SELECT g.segment_id, g.name, d.customer_id, d.change, now(), g.run_id
      FROM (SELECT k.segment_id, k.customer_id, 'left' AS change FROM gone k
            UNION ALL SELECT k.segment_id, k.customer_id, 'joined' FROM came k) d
      JOIN g ON g.segment_id = d.segment_id
      -- (by bytes: the locale's strcoll on every tie on pos took 1.2 s of a first build of the 31
      -- packs at 100k customers)
      ORDER BY g.pos, d.customer_id COLLATE "C", d.change
      RETURNING segment_id, change),
    l AS (SELECT k.segment_id, count(*) FILTER (WHERE k.change = 'joined')::int AS joined,
                 count(*) FILTER (WHERE k.change = 'left')::int AS "left"
          FROM logged k GROUP BY k.segment_id),
    t AS (SELECT j.segment_id,
                 coalesce(sum(j.revenue - j.revenue_mark) FILTER (WHERE j.was), 0) AS added,
                 count(*) FILTER (WHERE j.was) AS was_count,
                 coalesce(sum(j.revenue_mark) FILTER (WHERE j.was), 0) AS was_revenue,
                 coalesce(sum(j.orders_mark) FILTER (WHERE j.was), 0)::bigint AS was_orders,
                 count(*) FILTER (WHERE j.now_in) AS now_count,
                 coalesce(sum(j.revenue) FILTER (WHERE j.now_in), 0) AS now_revenue,
                 coalesce(sum(j.orders) FILTER (WHERE j.now_in), 0)::bigint AS now_orders
          FROM j GROUP BY j.segment_id)
    SELECT g.segment_id, coalesce(l.joined, 0), coalesce(l."left", 0), coalesce(t.added, 0),
           coalesce(t.was_count, 0), coalesce(t.was_revenue, 0), coalesce(t.was_orders, 0),
           coalesce(t.now_count, 0), coalesce(t.now_revenue, 0), coalesce(t.now_orders, 0)
    FROM g LEFT JOIN l ON l.segment_id = g.segment_id LEFT JOIN t ON t.segment_id = g.segment_id
    WHERE (SELECT count(*) FROM marked) >= 0
    ORDER BY g.pos$q$,
    -- (a foreign table ships it: on a sharded coordinator only those customers' facts come over)
    CASE WHEN scope IS NULL THEN '' ELSE 'WHERE f.customer_id = ANY ($4)' END,
    -- (incremental: each customer's members by the customers' index, whatever the statistics say:
    -- one lookup per id, which OFFSET 0 keeps a parameterized scan. "customer_id = ANY" followed the
    -- statistics, and right after a first build there are none (the table was empty when last
    -- analyzed): the planner scanned all 458k members of 1M orders for 1,211 customers, 95 ms
    -- against 15 ms by the index. "+ 0" keeps the segment ids out of the index conditions: on stale
    -- statistics the planner read all the batch's members by the key, 4.6M at 10M orders, 1.6 s
    -- for 35 changed customers.)
    CASE WHEN scope IS NULL THEN format('SELECT %s FROM segments.membership x WHERE x.segment_id = ANY ($1)', member_cols)
         ELSE format('SELECT x.* FROM (SELECT DISTINCT u.id FROM unnest($4::text[]) u (id)) u,
                        LATERAL (SELECT %s FROM segments.membership x
                                 WHERE x.customer_id = u.id AND x.segment_id + 0 = ANY ($1) OFFSET 0) x', member_cols) END,
    hits)
  USING seg_ids, seg_names, run_ids, scope;
END $$;

-- Records a segment's successful refresh: the history row, the catalog row (status, schedule,
-- the facts stamp and member totals the next incremental refresh starts from) and the run.
CREATE OR REPLACE FUNCTION segments_internal._succeed(s segments.segments, run_id bigint, stamp timestamptz,
  facts boolean, facts_at timestamptz, n_joined int, n_left int, added numeric, sz bigint, rev numeric, ords bigint,
  evaluated bigint DEFAULT NULL)
RETURNS segments.runs
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE r segments.runs;
BEGIN
  IF s.id IS NULL OR NOT EXISTS (SELECT 1 FROM segments.runs x WHERE x.id = run_id AND x.segment_id = s.id AND x.status = 'running') THEN
    RAISE EXCEPTION 'run % is not a running refresh of segment %', run_id, s.id USING ERRCODE = '55000',
      HINT = 'Only the engine records the refresh it executes (segments_internal._execute_batch).';
  END IF;
  INSERT INTO segments.history (segment_id, run_id, at, size, joined, "left", revenue, orders, added_revenue, facts_at)
  VALUES (s.id, run_id, now(), sz, n_joined, n_left, rev, ords, added, facts_at);
  PERFORM segments_internal.notify_membership_change(s.id, s.name, run_id, n_joined, n_left);

  UPDATE segments.segments x SET
    status = CASE WHEN x.status = 'inactive' THEN 'inactive' ELSE 'active' END,
    last_refresh_at = now(),
    next_refresh_at = segments_internal._next_refresh(x.next_refresh_at, x.refresh_interval, x.timezone),
    last_error = NULL, last_error_sqlstate = NULL, consecutive_failures = 0,
    facts_mark = CASE WHEN x.incremental THEN stamp END,
    member_count = sz, member_revenue = rev, member_orders = ords
  WHERE x.id = s.id;
  UPDATE segments.runs x SET status = 'succeeded', finished_at = clock_timestamp(),
    joined = n_joined, "left" = n_left, size = sz, facts_refreshed = facts, evaluated = _succeed.evaluated
  WHERE x.id = run_id RETURNING * INTO r;
  RETURN r;
END $$;

-- One pass: this transaction's pass row (segments; customers, NULL: every customer), then each
-- owner's pass view refreshed (the owner's rules, as the owner, security-restricted). Returns the
-- segments evaluated; those of an owner whose pass raised (some rule of it) are left out, for the
-- caller to refresh one by one.
CREATE OR REPLACE FUNCTION segments_internal._refresh_pass(seg_ids bigint[], scope text[]) RETURNS bigint[]
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE o regrole; ok bigint[] := seg_ids;
BEGIN
  IF seg_ids IS NULL THEN
    RAISE EXCEPTION 'the segments of a pass must not be NULL' USING ERRCODE = '22004',
      HINT = 'Pass the ids of the segments to evaluate (customers NULL: every customer).';
  END IF;
  INSERT INTO segments_internal.pass (pgs_segments, pgs_customers) VALUES (seg_ids, scope);
  FOR o IN SELECT DISTINCT x.owner FROM segments.segments x WHERE x.id = ANY (seg_ids) LOOP
    BEGIN
      EXECUTE format('REFRESH MATERIALIZED VIEW %s', segments_internal._pass_relation(o));
    EXCEPTION WHEN query_canceled OR admin_shutdown THEN
      RAISE;
    WHEN OTHERS THEN
      ok := ARRAY(SELECT u FROM unnest(ok) u WHERE u NOT IN (SELECT x.id FROM segments.segments x WHERE x.owner = o));
    END;
  END LOOP;
  RETURN ok;
END $$;

-- The hits of a pass (segment_id, customer_id): the pass views of these segments' owners.
CREATE OR REPLACE FUNCTION segments_internal._pass_hits(seg_ids bigint[]) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT string_agg(format('SELECT p.segment_id, p.customer_id FROM %s p', segments_internal._pass_relation(x.owner)), ' UNION ALL ')
  FROM (SELECT DISTINCT y.owner FROM segments.segments y WHERE y.id = ANY (seg_ids)) x
$$;

-- The refresh of a batch of started runs, in the caller's transaction, in the one lock order
-- (sql/engine/locks.sql): stale facts first, then every segment row of the batch in id order, then
-- evaluation, then the change-log lock and the diffs. Incremental segments (a rule over facts columns
-- alone, refreshed before, its owner's pass view present, not on a sharded coordinator) are
-- evaluated together, one REFRESH of each owner's pass view over the customers whose facts changed
-- since the oldest of their marks. Rules of pass views refreshed in full (first builds, changed
-- rules) are evaluated together too when no incremental pass runs: one pass over every customer and
-- one diff (at 100k customers, building the 31 pack segments: one scan of the facts instead of 31,
-- and one of the facts for the added revenue instead of 31). The others (queries, rules reading
-- the clock, a lone full rule, a sharded coordinator's rules) refresh their own rule view. wait =>
-- false: a segment another refresh holds is recorded as skipped. catch: a failing rule marks its run
-- and segment failed and the others go on; without catch the error is raised (the caller's
-- transaction rolls back). A failing pass view (some rule of the owner raised) falls back to the
-- per-segment views, so the failing segment fails alone. facts: whether the caller refreshed the
-- facts (NULL: refresh them here if stale). progress: the command to report in segments.progress
-- (segment k of N; NULL: the caller reports).
CREATE OR REPLACE FUNCTION segments_internal._execute_batch(run_ids bigint[], wait boolean, catch boolean,
                                                            facts boolean DEFAULT NULL, progress text DEFAULT NULL)
RETURNS SETOF segments.runs
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  r segments.runs; s segments.segments; d record;
  ids bigint[] := '{}'; runs_of bigint[] := '{}'; done segments.runs[] := '{}';
  inc bigint[]; full_ids bigint[]; whole bigint[] := '{}'; scope text[]; since timestamptz; stamp timestamptz;
  facts_at timestamptz; hits text; st text; msg text; i int; k int;
BEGIN
  facts := coalesce(facts, segments_internal._ensure_facts());
  IF (SELECT count(*) FROM segments.runs x WHERE x.id = ANY (run_ids)) < (SELECT count(DISTINCT u) FROM unnest(run_ids) u) THEN
    RAISE EXCEPTION 'run % does not exist', (SELECT min(u) FROM unnest(run_ids) u WHERE NOT EXISTS (SELECT 1 FROM segments.runs x WHERE x.id = u))
      USING ERRCODE = '42704';
  END IF;
  FOR r IN SELECT * FROM segments.runs x WHERE x.id = ANY (run_ids) ORDER BY x.segment_id, x.id FOR UPDATE LOOP
    IF r.status <> 'running' THEN
      RAISE EXCEPTION 'run % is % (not running)', r.id, r.status USING ERRCODE = '55000',
        HINT = 'Refresh the segment again: segments.refresh(name).';
    END IF;
    s := NULL;
    IF r.segment_id <> ALL (ids) THEN
      IF wait THEN
        SELECT * INTO s FROM segments.segments x WHERE x.id = r.segment_id FOR NO KEY UPDATE;
      ELSE
        SELECT * INTO s FROM segments.segments x WHERE x.id = r.segment_id FOR NO KEY UPDATE SKIP LOCKED;
      END IF;
      IF s.id IS NULL AND NOT EXISTS (SELECT 1 FROM segments.segments x WHERE x.id = r.segment_id) THEN
        RAISE EXCEPTION 'segment % of run % does not exist', r.segment_id, r.id USING ERRCODE = '42704';
      END IF;
    END IF;
    IF s.id IS NULL THEN
      UPDATE segments.runs x SET status = 'skipped', finished_at = clock_timestamp(),
        message = 'another refresh of this segment was in progress'
      WHERE x.id = r.id RETURNING * INTO r;
      done := done || r;
      CONTINUE;
    END IF;
    ids := ids || s.id; runs_of := runs_of || r.id;
  END LOOP;

  -- Segments not classified yet (upgraded from 0.1): classify them now (their first refresh is full).
  PERFORM segments_internal._classify(x.id) FROM segments.segments x WHERE x.id = ANY (ids) AND x.incremental IS NULL;
  -- The facts stamp before evaluating: whatever changes later is stamped later (facts_changes.sql).
  stamp := segments_internal.facts_stamp();
  SELECT f.refreshed_at INTO facts_at FROM segments.facts_status f;
  SELECT array_agg(x.id ORDER BY x.id), min(x.facts_mark) INTO inc, since FROM segments.segments x
  WHERE x.id = ANY (ids) AND x.incremental AND x.facts_mark IS NOT NULL AND x.member_count IS NOT NULL
    AND x.member_revenue IS NOT NULL AND x.member_orders IS NOT NULL
    AND to_regclass(segments_internal._pass_relation(x.owner)) IS NOT NULL AND segments_internal.facts_stamped();
  inc := coalesce(inc, '{}');
  IF cardinality(inc) > 0 THEN
    scope := ARRAY(SELECT c.customer_id FROM segments_internal.facts_changed_since(since) c);
    IF cardinality(scope) > 0 THEN
      IF progress IS NOT NULL THEN
        PERFORM segments_internal.progress_report(progress, format('evaluating %s rules in one pass', cardinality(inc)),
                                                  NULL, 0, cardinality(ids), statement_timestamp());
      END IF;
      inc := segments_internal._refresh_pass(inc, scope);  -- (an owner's that raised: one by one below)
    END IF;
  END IF;
  full_ids := ARRAY(SELECT u FROM unnest(ids) u WHERE u <> ALL (inc) ORDER BY u);
  IF coalesce(cardinality(scope), 0) = 0 AND NOT EXISTS (SELECT FROM segments.shards) THEN
    whole := ARRAY(SELECT x.id FROM segments.segments x WHERE x.id = ANY (full_ids) AND x.incremental
                   AND to_regclass(segments_internal._pass_relation(x.owner)) IS NOT NULL ORDER BY x.id);
    IF cardinality(whole) > 1 THEN
      IF progress IS NOT NULL THEN
        PERFORM segments_internal.progress_report(progress, format('evaluating %s rules in one pass', cardinality(whole)),
                                                  NULL, 0, cardinality(ids), statement_timestamp());
      END IF;
      whole := segments_internal._refresh_pass(whole, NULL);
      full_ids := ARRAY(SELECT u FROM unnest(full_ids) u WHERE u <> ALL (whole) ORDER BY u);
    ELSE
      whole := '{}';
    END IF;
  END IF;
  k := cardinality(ids) - cardinality(full_ids);
  FOREACH i IN ARRAY full_ids LOOP
    IF progress IS NOT NULL THEN  -- segment k + 1 of N (k evaluated, the incremental ones first)
      PERFORM segments_internal.progress_report(progress, 'refreshing segments',
        (SELECT x.name FROM segments.segments x WHERE x.id = i), k, cardinality(ids), statement_timestamp());
    END IF;
    k := k + 1;
    BEGIN
      -- Runs the rule as the segment owner (the materialized view's owner), security-restricted.
      EXECUTE format('REFRESH MATERIALIZED VIEW %s', segments_internal._rule_relation(i));
    EXCEPTION WHEN query_canceled OR admin_shutdown THEN
      RAISE;
    WHEN OTHERS THEN
      IF NOT catch THEN
        RAISE;
      END IF;
      GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
      PERFORM segments_internal._fail_run(runs_of[array_position(ids, i)], st, msg);
      RAISE WARNING 'segment % failed to refresh: % (SQLSTATE %)', (SELECT x.name FROM segments.segments x WHERE x.id = i), msg, st
        USING HINT = 'Its last good membership is kept; see segments.segments.last_error and segments.runs.';
      SELECT * INTO r FROM segments.runs x WHERE x.id = runs_of[array_position(ids, i)];
      done := done || r;
      full_ids := array_remove(full_ids, i);
    END;
  END LOOP;

  IF cardinality(ids) > 0 THEN
    PERFORM segments_internal.take_lock('change log');
  END IF;
  FOREACH i IN ARRAY full_ids LOOP
    SELECT * INTO s FROM segments.segments x WHERE x.id = i;
    SELECT * INTO d FROM segments_internal._diff(ARRAY[i], ARRAY[s.name], ARRAY[runs_of[array_position(ids, i)]],
      format('SELECT DISTINCT %s::bigint, r.customer_id FROM %s r', i, segments_internal._rule_relation(i)), NULL);
    done := done || segments_internal._succeed(s, runs_of[array_position(ids, i)], stamp, facts, facts_at,
                                               d.joined, d."left", d.added, d.now_count, d.now_revenue, d.now_orders);
  END LOOP;
  -- The full ones of the pass: one diff over all their members, in id order (as one by one).
  IF cardinality(whole) > 0 THEN
    FOR d IN SELECT * FROM segments_internal._diff(whole,
               ARRAY(SELECT y.name FROM unnest(whole) WITH ORDINALITY u(id, pos) JOIN segments.segments y ON y.id = u.id ORDER BY u.pos),
               ARRAY(SELECT runs_of[array_position(ids, u.id)] FROM unnest(whole) WITH ORDINALITY u(id, pos) ORDER BY u.pos),
               segments_internal._pass_hits(whole), NULL) LOOP
      SELECT * INTO s FROM segments.segments x WHERE x.id = d.segment_id;
      done := done || segments_internal._succeed(s, runs_of[array_position(ids, s.id)], stamp, facts, facts_at,
                                                 d.joined, d."left", d.added, d.now_count, d.now_revenue, d.now_orders);
    END LOOP;
  END IF;
  IF cardinality(inc) > 0 THEN
    -- One diff for all of them, over the changed customers only; totals move by the difference.
    IF cardinality(scope) > 0 THEN
      hits := segments_internal._pass_hits(inc);
      FOR d IN SELECT * FROM segments_internal._diff(inc,
                 ARRAY(SELECT y.name FROM unnest(inc) WITH ORDINALITY u(id, pos) JOIN segments.segments y ON y.id = u.id ORDER BY u.pos),
                 ARRAY(SELECT runs_of[array_position(ids, u.id)] FROM unnest(inc) WITH ORDINALITY u(id, pos) ORDER BY u.pos),
                 hits, scope) LOOP
        SELECT * INTO s FROM segments.segments x WHERE x.id = d.segment_id;
        done := done || segments_internal._succeed(s, runs_of[array_position(ids, s.id)], stamp, facts, facts_at,
          d.joined, d."left", d.added, s.member_count - d.was_count + d.now_count,
          s.member_revenue - d.was_revenue + d.now_revenue, s.member_orders - d.was_orders + d.now_orders,
          cardinality(scope));
      END LOOP;
    ELSE
      FOR s IN SELECT * FROM segments.segments x WHERE x.id = ANY (inc) ORDER BY x.id LOOP
        done := done || segments_internal._succeed(s, runs_of[array_position(ids, s.id)], stamp, facts, facts_at,
          0, 0, 0, s.member_count, s.member_revenue, s.member_orders, 0);
      END LOOP;
    END IF;
  END IF;
  DELETE FROM segments_internal.pass p WHERE p.pgs_xid = pg_current_xact_id();
  RETURN QUERY SELECT (x).* FROM unnest(done) x ORDER BY (x).segment_id, (x).id;
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

-- Executes started runs as one batch (_execute_batch, a failing rule fails its own run) and
-- records a failure of the whole batch: its runs and segments are marked failed (with back-off)
-- while the membership stays the last good one. timeout_ms > 0 bounds the refresh
-- (segments_internal._deadline); a cancel by the user or a shutdown is not caught. facts: whether
-- the caller refreshed the facts already (NULL: here, if stale); progress: see _execute_batch.
-- one_by_one (the refresh-due policy): a batch of several runs that fails as a whole (an error
-- outside any one rule, or the time limit) is rolled back and its runs executed one at a time,
-- each bounded by timeout_ms, so a slow or broken segment fails alone and the others refresh.
CREATE OR REPLACE FUNCTION segments_internal._execute_recorded(run_ids bigint[], wait boolean, timeout_ms int,
                                                               facts boolean DEFAULT NULL, progress text DEFAULT NULL,
                                                               one_by_one boolean DEFAULT false)
RETURNS SETOF segments.runs
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE done segments.runs[]; run bigint; st text; msg text; timed_out boolean;
BEGIN
  BEGIN
    PERFORM segments_internal._deadline(timeout_ms);
    done := ARRAY(SELECT x FROM segments_internal._execute_batch(run_ids, wait, true, facts, progress) x);
    PERFORM segments_internal._deadline(0);
    RETURN QUERY SELECT (x).* FROM unnest(done) x;
    RETURN;
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
    IF NOT EXISTS (SELECT 1 FROM segments.runs x WHERE x.id = ANY (run_ids) AND x.status = 'running') THEN
      RAISE;  -- no such run, or only finished ones: nothing to record
    END IF;
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
  END;
  IF one_by_one AND cardinality(run_ids) > 1 THEN
    -- Still the one lock order in this one transaction: the facts, then every segment row of the
    -- batch (id order), before the first run takes the change-log lock.
    facts := coalesce(facts, segments_internal._ensure_facts());
    PERFORM segments_internal.lock_segment_rows(ARRAY(
      SELECT y.segment_id FROM segments.runs y WHERE y.id = ANY (run_ids) AND y.status = 'running'));
    FOR run IN SELECT x.id FROM segments.runs x WHERE x.id = ANY (run_ids) AND x.status = 'running' ORDER BY x.segment_id LOOP
      RETURN QUERY SELECT * FROM segments_internal._execute_recorded(ARRAY[run], wait, timeout_ms, facts, progress);
    END LOOP;
    RETURN;
  END IF;
  FOR run IN SELECT x.id FROM segments.runs x WHERE x.id = ANY (run_ids) AND x.status = 'running' ORDER BY x.segment_id LOOP
    PERFORM segments_internal._fail_run(run, st, msg);
  END LOOP;
  RAISE WARNING '% failed to refresh: % (SQLSTATE %)',
    CASE WHEN cardinality(run_ids) = 1
         THEN format('segment %s', (SELECT s.name FROM segments.runs x JOIN segments.segments s ON s.id = x.segment_id WHERE x.id = run_ids[1]))
         ELSE format('%s segments', cardinality(run_ids)) END, msg, st
    USING HINT = CASE WHEN cardinality(run_ids) = 1 THEN 'Its' ELSE 'Their' END
                 || ' last good membership is kept; see segments.segments.last_error and segments.runs.';
  RETURN QUERY SELECT * FROM segments.runs x WHERE x.id = ANY (run_ids) ORDER BY x.segment_id, x.id;
END $$;

-- Refreshes segments in the caller's transaction (create, alter, refresh, refresh_all), as one
-- batch in the one lock order (locks.sql): stale facts first, then a run per segment (in id order),
-- then _execute_recorded. Failures are recorded on their runs, not raised.
CREATE OR REPLACE FUNCTION segments_internal._refresh_batch(ids bigint[], trigger text, wait boolean DEFAULT true,
                                                            progress text DEFAULT NULL)
RETURNS SETOF segments.runs
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE facts boolean := segments_internal._ensure_facts(); runs bigint[] := '{}'; sid bigint;
BEGIN
  -- The segment rows in id order before _start_run clears a refresh_now request (an UPDATE of the
  -- row): else this batch could hold a later row while _execute_batch waits for an earlier one that
  -- another batch (the worker's) holds, waiting for this one's.
  PERFORM segments_internal.lock_segment_rows(ids, wait);
  FOREACH sid IN ARRAY ARRAY(SELECT DISTINCT u FROM unnest(ids) u ORDER BY u) LOOP
    runs := runs || segments_internal._start_run(sid, trigger);
  END LOOP;
  RETURN QUERY SELECT * FROM segments_internal._execute_recorded(runs, wait, 0, facts, progress);
END $$;

-- One refresh in the caller's transaction.
CREATE OR REPLACE FUNCTION segments_internal._refresh(id bigint, trigger text, wait boolean DEFAULT true)
RETURNS segments.runs
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
  SELECT * FROM segments_internal._refresh_batch(ARRAY[id], trigger, wait) LIMIT 1
$$;

-- The refresh-due policy: the one place that decides what a due refresh is. CALL refresh_due()
-- (cron) and the background worker (src/worker/scheduler.cpp) both run a pass as
--   recover_runs(); then until _next_due_runs returns nothing: _next_due_runs(...) in one
--   transaction (a started run per due segment: the batch), _run_due(runs) in the next; prune_runs()
-- * due: see due_segments(): refresh_now requests first, then the most overdue schedule; never a
--   segment with a run in progress, nor one whose row another session has locked (skipped, not
--   waited for: it is due again next pass);
-- * one batch: every segment due at that moment is refreshed in one transaction, as refresh_all
--   does (_execute_recorded: the facts once, every incremental rule in one pass over the changed
--   customers, then the full ones; the one lock order);
-- * a pass takes each scheduled segment once (one with an interval shorter than its refresh cannot
--   keep a pass going), but a refresh_now request made during the pass is served by the next
--   batch, so nobody needs to stop a pass early when woken;
-- * trigger: refresh_now when requested, else the caller's (cron or worker);
-- * a batch is bounded by pg_segments.refresh_timeout; a failing rule fails its own run only; when
--   the whole batch fails or times out, its runs are executed one at a time, each bounded by
--   refresh_timeout, so a slow segment fails alone (recorded: back-off, last good membership kept)
--   and the pass goes on.
-- Both act on every segment: granted to segments_admin only (access/grants.sql).
CREATE OR REPLACE FUNCTION segments_internal._next_due_runs(caller text, pass_started timestamptz)
RETURNS SETOF segments.runs
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE sid bigint; requested boolean; runs bigint[] := '{}';
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
    runs := runs || segments_internal._start_run(sid, CASE WHEN requested THEN 'refresh_now' ELSE caller END);
  END LOOP;
  RETURN QUERY SELECT r.* FROM unnest(runs) WITH ORDINALITY u(id, n) JOIN segments.runs r ON r.id = u.id ORDER BY u.n;
END $$;

CREATE OR REPLACE FUNCTION segments_internal._run_due(run_ids bigint[]) RETURNS SETOF segments.runs
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT segments_internal.progress_report('refresh_due', format('refreshing %s due segment(s)', cardinality(run_ids)),
                                           NULL, 0, cardinality(run_ids), clock_timestamp());
  SELECT * FROM segments_internal._execute_recorded(run_ids, true,
           (extract(epoch FROM segments_internal._setting('pg_segments.refresh_timeout')::interval) * 1000)::int,
           NULL, 'refresh_due', one_by_one => true)
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
  'Refreshes every segment you may refresh (an administrator: all) that is not inactive, in this one transaction and one pass over the changed customers; returns the runs';

CREATE OR REPLACE FUNCTION segments_internal.refresh_all(caller regrole) RETURNS SETOF segments.runs
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM segments_internal._authorize(caller, 'create', what => 'refresh segments');
  RETURN QUERY SELECT * FROM segments_internal._refresh_batch(
    ARRAY(SELECT s.id FROM segments.segments s
          WHERE s.status <> 'inactive'
            AND (pg_has_role(caller, 'segments_admin', 'USAGE') OR pg_has_role(caller, s.owner, 'USAGE'))
          ORDER BY s.id), 'manual', progress => 'refresh_all');
END $$;

-- For pg_cron or an external cron job: one pass of the refresh-due policy, each batch of due
-- segments in its own transaction. A procedure (it commits), so it runs as the caller: segments_admin.
CREATE OR REPLACE PROCEDURE segments.refresh_due()
LANGUAGE plpgsql AS $$
DECLARE started timestamptz := clock_timestamp(); runs bigint[];
BEGIN
  PERFORM segments.recover_runs();
  COMMIT;
  LOOP
    runs := ARRAY(SELECT r.id FROM segments_internal._next_due_runs('cron', started) r);
    EXIT WHEN cardinality(runs) = 0;
    COMMIT;
    PERFORM segments_internal._run_due(runs);
    COMMIT;
  END LOOP;
  PERFORM segments.prune_runs();
  COMMIT;
END $$;
COMMENT ON PROCEDURE segments.refresh_due() IS
  'CALL from cron: refreshes the due segments as the background worker does, all due at once in one transaction (failures recorded, others go on)';

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
