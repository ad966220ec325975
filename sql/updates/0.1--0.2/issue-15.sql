-- 0.1 -> 0.2, issue 15 (scale out over postgres_fdw shards): run-once statements. The replaceable
-- definitions (fit states, the time_unit rfm_summary, the sharded mode's functions) are re-run
-- from their area files by the upgrade script.
CREATE TYPE @extschema@.time_unit AS ENUM ('days', 'weeks');
CREATE TABLE segments_internal.facts_globals (
  id int PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  mean_aov numeric,
  bgnbd @extschema@.bgnbd_model,
  gammagamma @extschema@.gammagamma_model,
  recomputed text[]
);
COMMENT ON TABLE segments_internal.facts_globals IS
  'Inside a sharded facts refresh on a shard only: the mean AOV and BTYD models of all shards, or the customers an incremental one recomputed (empty otherwise)';
CREATE TABLE segments.shards (
  server name PRIMARY KEY,
  position int NOT NULL UNIQUE CHECK (position >= 0),
  added_at timestamptz NOT NULL DEFAULT now(),
  added_by name NOT NULL DEFAULT current_user
);
COMMENT ON TABLE segments.shards IS
  'The shards of a sharded pg_segments (one postgres_fdw server each; written by segments.add_shard): each computes the facts of its own customers';
SELECT pg_catalog.pg_extension_config_dump('segments.shards', '');
GRANT SELECT ON segments.shards TO PUBLIC;
