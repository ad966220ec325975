-- Segment engine: the named locks and the ONE lock order (docs/segments.md#locks).
--
-- Every engine transaction takes its locks in this order, and never one further up the list
-- while holding one further down:
--   1. facts       advisory (1885824371, 2): a facts refresh (refresh_facts, or a segment
--                  refresh that finds the facts stale) holds it until commit
--   2. segment rows  segments.segments rows, FOR NO KEY UPDATE, in increasing id order (a batch
--                  locks every segment of the batch before it evaluates any rule)
--   3. change log  advisory (1885824371, 1): from the first change id a refresh takes to its commit,
--                  so change ids become visible in increasing order
-- A refresh therefore refreshes stale facts before it starts its runs, a batch (refresh_all,
-- execute_runs) starts all its runs before it evaluates, and the change-log lock is taken last, once
-- per transaction, for all the segments of the batch.

-- The key of a named lock (for pg_locks: classid = 1885824371, objid = the key).
CREATE OR REPLACE FUNCTION segments_internal.lock_key(name text) RETURNS int
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE name WHEN 'change log' THEN 1 WHEN 'facts' THEN 2 END
$$;
COMMENT ON FUNCTION segments_internal.lock_key(text) IS
  'The advisory-lock key (second half; the first is 1885824371) of an engine lock: ''change log'' 1, ''facts'' 2';

-- Takes a named engine lock until the end of the transaction.
CREATE OR REPLACE FUNCTION segments_internal.take_lock(name text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE k int := segments_internal.lock_key(name);
BEGIN
  IF k IS NULL THEN
    RAISE EXCEPTION 'unknown engine lock "%"', name USING ERRCODE = '22023', HINT = 'Locks: facts, change log.';
  END IF;
  PERFORM pg_advisory_xact_lock(1885824371, k);
END $$;
COMMENT ON FUNCTION segments_internal.take_lock(text) IS
  'Takes the named engine lock (facts, change log) until commit; see sql/engine/locks.sql for the lock order';

-- Step 2 of the lock order: the given segments' rows, in increasing id order (ids not found are
-- skipped). wait => false skips rows another transaction holds instead of waiting for them.
CREATE OR REPLACE FUNCTION segments_internal.lock_segment_rows(ids bigint[], wait boolean DEFAULT true)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF wait THEN
    PERFORM 1 FROM segments.segments x WHERE x.id = ANY (ids) ORDER BY x.id FOR NO KEY UPDATE;
  ELSE
    PERFORM 1 FROM segments.segments x WHERE x.id = ANY (ids) ORDER BY x.id FOR NO KEY UPDATE SKIP LOCKED;
  END IF;
END $$;
COMMENT ON FUNCTION segments_internal.lock_segment_rows(bigint[], boolean) IS
  'Locks the given segments'' rows in increasing id order (step 2 of the lock order in sql/engine/locks.sql); wait => false skips rows held by others';
