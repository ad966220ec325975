-- ============================================================================================
-- Background worker (docs/worker.md): wake-ups, status, and whether scheduled refresh works here.
-- The launcher and schedulers themselves are C (src/worker/); they call the engine's
-- recover_runs / due_segments / start_run / execute_run / fail_run / prune_runs.
-- ============================================================================================

CREATE OR REPLACE FUNCTION segments.wake_worker() RETURNS boolean
    AS 'MODULE_PATHNAME', 'pgs_wake_worker' LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION segments.wake_worker() IS
    'Wakes this database''s scheduler when the current transaction commits; false when no scheduler runs here.';

CREATE OR REPLACE FUNCTION segments.worker_preloaded() RETURNS boolean
    AS 'MODULE_PATHNAME', 'pgs_worker_preloaded' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION segments.worker_preloaded() IS
    'True when pg_segments is in shared_preload_libraries, so the background worker can run.';

CREATE OR REPLACE FUNCTION segments.worker_serves(database name DEFAULT current_database()) RETURNS boolean
    AS 'MODULE_PATHNAME', 'pgs_worker_serves' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION segments.worker_serves(name) IS
    'True when the background worker refreshes segments of this database: preloaded, enabled, and listed in pg_segments.databases.';

CREATE OR REPLACE FUNCTION segments.worker_status_rows(
    OUT kind text, OUT database text, OUT datid oid, OUT pid integer, OUT state text,
    OUT started_at timestamptz, OUT last_tick timestamptz, OUT runs_succeeded bigint,
    OUT runs_failed bigint, OUT last_error text, OUT last_error_at timestamptz,
    OUT refreshing_segment bigint)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'pgs_worker_status_rows' LANGUAGE C VOLATILE STRICT PARALLEL SAFE ROWS 4;
COMMENT ON FUNCTION segments.worker_status_rows() IS
    'Rows of the segments.worker_status view, read from shared memory.';

CREATE OR REPLACE VIEW segments.worker_status AS
    SELECT kind, database, datid, pid, state, started_at, last_tick, runs_succeeded, runs_failed,
           last_error, last_error_at, refreshing_segment
      FROM segments.worker_status_rows();
GRANT SELECT ON segments.worker_status TO segments_reader, segments_editor;
COMMENT ON VIEW segments.worker_status IS
    'The background worker as it runs now: the launcher and one scheduler per served database (empty when pg_segments is not preloaded).';
COMMENT ON COLUMN segments.worker_status.kind IS 'launcher, or scheduler (one per served database)';
COMMENT ON COLUMN segments.worker_status.database IS 'database the scheduler serves (NULL for the launcher)';
COMMENT ON COLUMN segments.worker_status.datid IS 'OID of that database';
COMMENT ON COLUMN segments.worker_status.pid IS 'process id (pg_stat_activity.pid); NULL while stopped';
COMMENT ON COLUMN segments.worker_status.state IS 'idle, refreshing, no extension (database without pg_segments), disabled, starting, stopped';
COMMENT ON COLUMN segments.worker_status.started_at IS 'when this process started';
COMMENT ON COLUMN segments.worker_status.last_tick IS 'end of the scheduler''s last look for due segments';
COMMENT ON COLUMN segments.worker_status.runs_succeeded IS 'refreshes that succeeded since the server started';
COMMENT ON COLUMN segments.worker_status.runs_failed IS 'refreshes that failed since the server started';
COMMENT ON COLUMN segments.worker_status.last_error IS 'last error the scheduler met (which call, segment id, SQLSTATE, message); shown to members of pg_read_all_stats only';
COMMENT ON COLUMN segments.worker_status.last_error_at IS 'when last_error happened';
COMMENT ON COLUMN segments.worker_status.refreshing_segment IS 'id of the segment being refreshed now (state refreshing)';

-- Creating a segment where nothing will refresh it on schedule works, but says so (pg_cron's and
-- TimescaleDB's users' top complaint is jobs that silently never run). Not for
-- pg_segments.scheduler_enabled = off: switching the worker off is deliberate and visible.
CREATE OR REPLACE FUNCTION segments_internal._warn_unscheduled() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF NOT segments.worker_preloaded() THEN
    RAISE WARNING 'segment "%" will not refresh automatically: pg_segments is not in shared_preload_libraries', NEW.name
      USING HINT = 'Add pg_segments to shared_preload_libraries and restart the server, or refresh from cron with CALL segments.refresh_due().';
  ELSIF current_setting('pg_segments.scheduler_enabled')::boolean AND NOT segments.worker_serves() THEN
    RAISE WARNING 'segment "%" will not refresh automatically: pg_segments.databases does not list database "%"', NEW.name, current_database()
      USING HINT = 'Add the database to pg_segments.databases and reload the configuration, or refresh from cron with CALL segments.refresh_due().';
  END IF;
  RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER warn_unscheduled AFTER INSERT ON segments.segments
  FOR EACH ROW EXECUTE FUNCTION segments_internal._warn_unscheduled();
