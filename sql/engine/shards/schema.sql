-- Sharded mode, run-once part (docs/scale-out.md): the coordinator's list of shards.
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
