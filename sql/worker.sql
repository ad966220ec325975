-- The worker's SQL surface on a server WITHOUT shared_preload_libraries (pg_regress): nothing runs,
-- and every function says so instead of pretending. The worker itself is tested by
-- test/harness/worker_*.sh against preloaded servers.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_segments;
RESET client_min_messages;
SELECT segments.worker_preloaded() AS preloaded,
       segments.worker_serves() AS serves_this_db,
       segments.worker_serves('no_such_database') AS serves_missing_db,
       segments.wake_worker() AS woke;
SELECT count(*) AS worker_rows FROM segments.worker_status;
-- Settings exist with their defaults and units.
SELECT name, setting, unit, context FROM pg_settings
 WHERE name IN ('pg_segments.databases', 'pg_segments.naptime', 'pg_segments.scheduler_enabled',
                'pg_segments.refresh_timeout', 'pg_segments.run_retention')
 ORDER BY name;
SELECT current_setting('pg_segments.naptime') AS naptime,
       current_setting('pg_segments.refresh_timeout') AS refresh_timeout,
       current_setting('pg_segments.run_retention') AS run_retention;
-- They are server-wide (postgresql.conf / ALTER SYSTEM + reload), not per session.
CREATE FUNCTION pg_temp.error_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE s text; m text; h text;
BEGIN
  EXECUTE q;
  RETURN 'no error';
EXCEPTION WHEN others THEN
  GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, h = PG_EXCEPTION_HINT;
  RETURN s || ': ' || m || coalesce(' (hint: ' || nullif(h, '') || ')', '');
END $$;
SELECT q AS statement, pg_temp.error_of(q) AS error FROM (VALUES
  ($q$SET pg_segments.naptime = '5s'$q$),
  ($q$SET pg_segments.databases = 'shop'$q$)
) t(q);
-- The view is documented for BI users.
SELECT obj_description('segments.worker_status'::regclass, 'pg_class') IS NOT NULL AS view_commented,
       count(*) FILTER (WHERE col_description('segments.worker_status'::regclass, attnum) IS NULL) AS uncommented_columns
  FROM pg_attribute WHERE attrelid = 'segments.worker_status'::regclass AND attnum > 0;
