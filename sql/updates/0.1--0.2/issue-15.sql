-- 0.1 -> 0.2, issue 15 (scale out over postgres_fdw shards): run-once statements. The replaceable
-- definitions (fit states, the time_unit rfm_summary, the sharded mode's functions) are re-run
-- from their area files by the upgrade script.
CREATE TYPE @extschema@.time_unit AS ENUM ('days', 'weeks');
COMMENT ON TYPE @extschema@.time_unit IS
  'Period of a BTYD summary: days or weeks (an enum, so that calls with it can be pushed down to shards)';
