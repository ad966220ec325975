-- make installcheck runs on a server like a production one, background worker on: it would refresh
-- the tests' segments behind their back. So the first test pauses the scheduler for the schedule
-- (ALTER SYSTEM, a reload) and waits until none runs; the last test (worker_resume) resets it.
-- On a server without shared_preload_libraries there is nothing to pause.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_segments;
RESET client_min_messages;
ALTER SYSTEM SET pg_segments.scheduler_enabled = off;
SELECT pg_reload_conf();
DO $$
BEGIN
  PERFORM pg_sleep(0.5);  -- the reload reaches the launcher and the schedulers
  FOR i IN 1..600 LOOP
    EXIT WHEN NOT EXISTS (SELECT 1 FROM segments.worker_status
                          WHERE kind = 'scheduler' AND pid IS NOT NULL AND state <> 'disabled');
    PERFORM pg_sleep(0.1);
  END LOOP;
END $$;
SELECT count(*) AS refreshing_schedulers FROM segments.worker_status
 WHERE kind = 'scheduler' AND pid IS NOT NULL AND state <> 'disabled';
-- The tests that follow create the extension themselves.
DROP EXTENSION pg_segments;
