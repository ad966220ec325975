-- The worker's SQL surface on the regression server: pg_segments is preloaded (test/run) but
-- worker_pause switched the scheduler off, so the launcher runs and no scheduler does, and every
-- function says so instead of pretending. The worker itself, and a server without
-- shared_preload_libraries, are tested by test/harness/worker_*.sh.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_segments;
RESET client_min_messages;
SELECT segments.worker_preloaded() AS preloaded,
       segments.worker_serves() AS serves_this_db,
       segments.worker_serves('no_such_database') AS serves_missing_db,
       segments.wake_worker() AS woke;
SELECT kind, database, pid IS NOT NULL AS has_pid, state FROM segments.worker_status;
-- Settings exist with their defaults and units.
SELECT name, setting, unit, context FROM pg_settings
 WHERE name IN ('pg_segments.databases', 'pg_segments.naptime', 'pg_segments.scheduler_enabled',
                'pg_segments.refresh_timeout')
 ORDER BY name;
SELECT current_setting('pg_segments.naptime') AS naptime,
       current_setting('pg_segments.refresh_timeout') AS refresh_timeout;
-- They are server-wide (postgresql.conf / ALTER SYSTEM + reload), not per session.
\i test/regress/sql/error_of.psql
SELECT q AS statement, pg_temp.error_of(q) AS error FROM (VALUES
  ($q$SET pg_segments.naptime = '5s'$q$),
  ($q$SET pg_segments.databases = 'shop'$q$)
) t(q);
-- The view is documented for BI users.
SELECT obj_description('segments.worker_status'::regclass, 'pg_class') IS NOT NULL AS view_commented,
       count(*) FILTER (WHERE col_description('segments.worker_status'::regclass, attnum) IS NULL) AS uncommented_columns
  FROM pg_attribute WHERE attrelid = 'segments.worker_status'::regclass AND attnum > 0;
-- With the worker switched off deliberately, creating a segment does not warn (a server without
-- shared_preload_libraries, or a database missing from pg_segments.databases, does: harness).
CREATE TABLE worker_orders (customer_id text, total numeric);
SELECT segments.create_segment('worker_quiet', query => 'SELECT customer_id FROM public.worker_orders') > 0 AS created;
SELECT segments.refresh_now('worker_quiet') AS woke;
SELECT segments.drop_segment('worker_quiet');
DROP TABLE worker_orders;
