-- Background worker (docs/worker.md): what the engine and users can ask it, all C functions over
-- its shared memory (src/worker/functions.cpp): wake it, whether it runs here, its status. Listed
-- before the engine, which uses them, and using nothing of the engine. The launcher and the
-- schedulers themselves (src/worker/) run the engine's refresh-due policy (engine/refresh.sql).

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
COMMENT ON COLUMN segments.worker_status.state IS 'idle, refreshing, no extension (database without pg_segments), needs update (its pg_segments is another version than the library: run ALTER EXTENSION pg_segments UPDATE), disabled, starting, stopped';
COMMENT ON COLUMN segments.worker_status.started_at IS 'when this process started';
COMMENT ON COLUMN segments.worker_status.last_tick IS 'end of the scheduler''s last look for due segments';
COMMENT ON COLUMN segments.worker_status.runs_succeeded IS 'refreshes that succeeded since the server started';
COMMENT ON COLUMN segments.worker_status.runs_failed IS 'refreshes that failed since the server started';
COMMENT ON COLUMN segments.worker_status.last_error IS 'last error the scheduler met (which call, segment id, SQLSTATE, message); shown to members of pg_read_all_stats only';
COMMENT ON COLUMN segments.worker_status.last_error_at IS 'when last_error happened';
COMMENT ON COLUMN segments.worker_status.refreshing_segment IS 'id of the segment being refreshed now (state refreshing; a batch of due segments: the lowest id)';

-- Progress of long work (docs/segments.md#progress), in shared memory so that other sessions see it
-- while the work runs (src/worker/progress.cpp). The engine reports; the slot is cleared when the
-- reporting transaction ends. Without shared_preload_libraries, reports are dropped.
CREATE OR REPLACE FUNCTION segments_internal.progress_report(command text, phase text, segment text,
    done integer, total integer, started_at timestamptz) RETURNS void
    AS 'MODULE_PATHNAME', 'pgs_progress_report' LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION segments_internal.progress_report(text, text, text, integer, integer, timestamptz) IS
    'Internal: replaces this session''s progress report (segments.progress) until its transaction ends';

CREATE OR REPLACE FUNCTION segments.progress_rows(
    OUT pid integer, OUT command text, OUT phase text, OUT segment text, OUT done integer,
    OUT total integer, OUT started_at timestamptz, OUT updated_at timestamptz)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'pgs_progress_rows' LANGUAGE C VOLATILE STRICT PARALLEL SAFE ROWS 4;
COMMENT ON FUNCTION segments.progress_rows() IS
    'Rows of the segments.progress view, read from shared memory.';

CREATE OR REPLACE VIEW segments.progress AS
    SELECT p.pid, p.command, p.phase, p.segment, p.done, p.total,
           p.started_at, clock_timestamp() - p.started_at AS elapsed, p.updated_at
      FROM segments.progress_rows() p;
COMMENT ON VIEW segments.progress IS
    'Long work running now in this database (facts refresh, multi-segment refresh), while it runs: phase, segment k of N, elapsed time. Empty when pg_segments is not preloaded. Natural key: pid';
COMMENT ON COLUMN segments.progress.pid IS 'process doing the work (pg_stat_activity.pid)';
COMMENT ON COLUMN segments.progress.command IS 'refresh_facts, refresh_all, refresh or refresh_due (also the background worker''s refreshes)';
COMMENT ON COLUMN segments.progress.phase IS 'what it is doing now, e.g. computing facts, refreshing segments';
COMMENT ON COLUMN segments.progress.segment IS 'segment being refreshed now (NULL in a facts phase)';
COMMENT ON COLUMN segments.progress.done IS 'segments finished so far (k - 1 while segment k runs); NULL when not counted';
COMMENT ON COLUMN segments.progress.total IS 'segments in all (N); NULL when not counted';
COMMENT ON COLUMN segments.progress.started_at IS 'when the command started';
COMMENT ON COLUMN segments.progress.elapsed IS 'time since started_at';
COMMENT ON COLUMN segments.progress.updated_at IS 'when the phase or count last changed';
