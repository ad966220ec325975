-- demo/run and the dashboard harness: give segment development a history. A real shop gets one
-- history row per segment at every scheduled refresh; a freshly loaded demo has one. This replays
-- the last :months months, one as-of refresh of the facts and of every segment at each month's
-- end, then refreshes as of now. Each month commits on its own (sync jobs see one NOTIFY per
-- segment whose membership changed).
SET client_min_messages = warning;
SET pgs.replay_months = :months;
DO $$
DECLARE m int; as_of timestamptz; n int := current_setting('pgs.replay_months')::int;
BEGIN
  FOR m IN REVERSE n..1 LOOP
    as_of := date_trunc('month', now()) - (m - 1) * interval '1 month';
    PERFORM segments.refresh_facts(as_of);
    PERFORM count(*) FROM segments.refresh_all();
    COMMIT;
  END LOOP;
  PERFORM segments.refresh_facts();
  PERFORM count(*) FROM segments.refresh_all();
END $$;
