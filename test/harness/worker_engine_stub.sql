-- TEMPORARY stand-in for the segment engine's worker-facing functions (ENGINE_CONTRACT.md), used by
-- the worker harnesses until the engine lands on main. Same names and signatures as the contract.
CREATE TABLE segments.segments (
  id bigserial PRIMARY KEY, name text UNIQUE NOT NULL, query text NOT NULL,
  status text NOT NULL DEFAULT 'active', refresh_interval interval NOT NULL DEFAULT '1 day',
  next_refresh_at timestamptz NOT NULL DEFAULT now(), last_refresh_at timestamptz,
  last_error text, refresh_requested boolean NOT NULL DEFAULT false, failures int NOT NULL DEFAULT 0);
CREATE TABLE segments.membership (segment_id bigint, customer_id text, joined_at timestamptz,
  PRIMARY KEY (segment_id, customer_id));
CREATE VIEW segments.members AS SELECT s.name AS segment, m.customer_id, m.joined_at
  FROM segments.membership m JOIN segments.segments s ON s.id = m.segment_id;
CREATE TABLE segments.runs (id bigserial PRIMARY KEY, segment_id bigint, trigger text,
  started_at timestamptz DEFAULT clock_timestamp(), finished_at timestamptz, status text,
  joined int, "left" int, sqlstate text, message text, backend_pid int DEFAULT pg_backend_pid());
CREATE TABLE segments.changes (id bigserial PRIMARY KEY, segment_id bigint, segment text,
  customer_id text, change text, at timestamptz DEFAULT now(), run_id bigint);

CREATE FUNCTION segments.create_segment(name text, rule text DEFAULT NULL, query text DEFAULT NULL,
  description text DEFAULT NULL, refresh_interval interval DEFAULT '1 day') RETURNS bigint
LANGUAGE sql AS $$ INSERT INTO segments.segments(name, query, refresh_interval)
  VALUES (name, query, refresh_interval) RETURNING id $$;
CREATE FUNCTION segments.refresh_now(p_name text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN UPDATE segments.segments SET refresh_requested = true WHERE name = p_name;
  PERFORM segments.wake_worker(); END $$;
CREATE FUNCTION segments.recover_runs() RETURNS int LANGUAGE sql AS $$
  WITH r AS (UPDATE segments.runs SET status = 'failed', finished_at = clock_timestamp(),
    sqlstate = '57P01', message = 'interrupted'
    WHERE status = 'running' AND backend_pid NOT IN (SELECT pid FROM pg_stat_activity) RETURNING 1)
  SELECT count(*)::int FROM r $$;
CREATE FUNCTION segments.due_segments() RETURNS SETOF bigint LANGUAGE sql AS $$
  SELECT id FROM segments.segments WHERE status <> 'paused'
    AND (next_refresh_at <= now() OR refresh_requested) ORDER BY refresh_requested DESC, next_refresh_at $$;
CREATE FUNCTION segments.start_run(segment_id bigint, trigger text) RETURNS bigint LANGUAGE sql AS $$
  INSERT INTO segments.runs(segment_id, trigger, status) VALUES (segment_id, trigger, 'running') RETURNING id $$;
CREATE FUNCTION segments.execute_run(run_id bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE s segments.segments; j int; l int;
BEGIN
  SELECT g.* INTO s FROM segments.segments g JOIN segments.runs r ON r.segment_id = g.id WHERE r.id = run_id FOR UPDATE OF g;
  EXECUTE format('CREATE TEMP TABLE new_m ON COMMIT DROP AS SELECT DISTINCT x::text AS customer_id FROM (%s) q(x)', s.query);
  WITH d AS (DELETE FROM segments.membership m WHERE m.segment_id = s.id
      AND m.customer_id NOT IN (SELECT customer_id FROM new_m) RETURNING m.customer_id),
    c AS (INSERT INTO segments.changes(segment_id, segment, customer_id, change, run_id)
      SELECT s.id, s.name, customer_id, 'left', run_id FROM d RETURNING 1)
  SELECT count(*) INTO l FROM c;
  WITH i AS (INSERT INTO segments.membership SELECT s.id, customer_id, now() FROM new_m
      ON CONFLICT DO NOTHING RETURNING customer_id),
    c AS (INSERT INTO segments.changes(segment_id, segment, customer_id, change, run_id)
      SELECT s.id, s.name, customer_id, 'joined', run_id FROM i RETURNING 1)
  SELECT count(*) INTO j FROM c;
  DROP TABLE new_m;
  UPDATE segments.runs SET status = 'succeeded', finished_at = clock_timestamp(), joined = j, "left" = l WHERE id = run_id;
  UPDATE segments.segments SET status = 'active', last_refresh_at = now(), failures = 0, last_error = NULL,
    refresh_requested = false, next_refresh_at = now() + refresh_interval WHERE id = s.id;
END $$;
CREATE FUNCTION segments.fail_run(run_id bigint, sqlstate text, message text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  UPDATE segments.runs r SET status = 'failed', finished_at = clock_timestamp(), sqlstate = fail_run.sqlstate,
    message = fail_run.message WHERE r.id = run_id;
  UPDATE segments.segments g SET status = 'failed', last_error = fail_run.message, failures = failures + 1,
    refresh_requested = false,
    next_refresh_at = now() + least(interval '2 seconds' * power(2, failures), interval '1 hour')
    FROM segments.runs r WHERE r.id = run_id AND g.id = r.segment_id;
END $$;
CREATE FUNCTION segments.prune_runs() RETURNS int LANGUAGE sql AS $$
  WITH d AS (DELETE FROM segments.runs WHERE status <> 'running' AND finished_at <
    now() - coalesce(current_setting('pg_segments.run_retention', true), '30d')::interval RETURNING 1)
  SELECT count(*)::int FROM d $$;
