-- Upgrade 0.1 -> 0.2, issue 12 (layout, one refresh-due policy, one settings file): run once,
-- before the replaceable files re-run.

-- Internal helpers live in a schema of their own (sql/schemas.sql): PUBLIC may not use it.
CREATE SCHEMA IF NOT EXISTS segments_internal;  -- issue-11.sql, which runs before this file, creates tables in it
REVOKE ALL ON SCHEMA segments_internal FROM PUBLIC;
GRANT USAGE ON SCHEMA segments_internal TO segments_reader, segments_editor;

-- The unscheduled-segment warning is no longer the worker's trigger on the engine's table:
-- create_segment calls segments_internal._warn_unscheduled(name).
DROP TRIGGER warn_unscheduled ON segments.segments;
DROP FUNCTION segments._warn_unscheduled();
-- Changed signatures: settings have no SQL fallback defaults (_setting is C, one argument), a
-- refresh no longer takes a catch flag, and the worker's start_run / execute_run / fail_run gave
-- way to the refresh-due policy (segments_internal._next_due_run / _run_due).
DROP FUNCTION segments._setting(text, text);
DROP FUNCTION segments._refresh(bigint, text, boolean, boolean);
DROP FUNCTION segments.start_run(bigint, text);
DROP FUNCTION segments.execute_run(bigint);
DROP FUNCTION segments.fail_run(bigint, text, text);

-- Every other 0.1 helper segments._x moves to segments_internal with its OID, so what depends on
-- it follows: the change-logging triggers of segments.track_changes() on the shop's own tables
-- (segments._track_changes) keep working. The replaceable files then replace the bodies.
DO $$
DECLARE f regprocedure;
BEGIN
  FOR f IN SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p
           WHERE p.pronamespace = 'segments'::regnamespace AND p.proname LIKE '\_%'
  LOOP
    EXECUTE format('ALTER ROUTINE %s SET SCHEMA segments_internal', f);
  END LOOP;
END $$;
