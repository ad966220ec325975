-- Push for sync jobs (docs/bi.md#push-notify): one NOTIFY on channel pg_segments_changes per
-- refresh that changed a segment's membership, delivered when its transaction commits (never one
-- per member; a rolled-back refresh sends nothing). LISTEN pg_segments_changes, then read
-- segments.changes (or segments.audience_changes) after your cursor.
CREATE OR REPLACE FUNCTION segments_internal.notify_membership_change(segment_id bigint, segment text,
  run_id bigint, joined bigint, "left" bigint) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF coalesce(joined, 0) + coalesce("left", 0) = 0 THEN
    RETURN;
  END IF;
  -- The refresh holds the change-log lock until commit, so this run's changes are the segment's
  -- latest: the index (segment_id, id) read backwards gives the last one at once (max(id) left the
  -- choice to the planner, which on the stale statistics of a growing log read all 839k change rows
  -- of a segment at 10M orders: 160 ms of one refresh).
  PERFORM pg_notify('pg_segments_changes', json_build_object(
    'segment', segment, 'segment_id', segment_id, 'run_id', run_id, 'joined', joined, 'left', "left",
    'last_change_id', (SELECT c.id FROM segments.changes c WHERE c.segment_id = notify_membership_change.segment_id
                        ORDER BY c.id DESC LIMIT 1))::text);
END $$;
COMMENT ON FUNCTION segments_internal.notify_membership_change(bigint, text, bigint, bigint, bigint) IS
  'Internal: the refresh''s NOTIFY on channel pg_segments_changes (JSON: segment, segment_id, run_id, joined, left, last_change_id)';
