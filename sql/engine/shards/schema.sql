-- Sharded mode, run-once part (docs/scale-out.md): the coordinator's list of shards.
CREATE TABLE segments.shards (
  server name PRIMARY KEY,
  position int NOT NULL UNIQUE CHECK (position >= 0),
  added_at timestamptz NOT NULL DEFAULT now(),
  added_by name NOT NULL DEFAULT current_user
);
COMMENT ON TABLE segments.shards IS
  'The shards of a sharded pg_segments (one postgres_fdw server each; written by segments.add_shard): each computes the facts of its own customers';
COMMENT ON COLUMN segments.shards.server IS 'The postgres_fdw foreign server of the shard (with a user mapping)';
COMMENT ON COLUMN segments.shards.position IS
  'The shard''s hash remainder: segments.shard_table() gives it the customers with hash(customer_id) % shards = position';
COMMENT ON COLUMN segments.shards.added_at IS 'When segments.add_shard declared it';
COMMENT ON COLUMN segments.shards.added_by IS 'The role that declared it (segments.add_shard''s caller)';
SELECT pg_catalog.pg_extension_config_dump('segments.shards', '');
GRANT SELECT ON segments.shards TO PUBLIC;
