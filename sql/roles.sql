-- The roles a DBA grants to login roles (docs/security.md). They are cluster-wide and survive DROP
-- EXTENSION, so a re-create reuses them, and this file is idempotent: an upgrade script runs it
-- first, before its run-once part grants to the roles (sql/order.txt: "first"). PostgreSQL reserves names starting with pg_ for its own
-- roles (CREATE ROLE pg_x fails, pg_dumpall skips them), hence segments_*.
DO $$
DECLARE r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['segments_reader', 'segments_editor', 'segments_admin', 'segments_pii'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r) THEN
      EXECUTE format('CREATE ROLE %I NOLOGIN', r);
    END IF;
  END LOOP;
END $$;
COMMENT ON ROLE segments_reader IS
  'pg_segments: reads everything the engine produces for every segment (facts without PII, membership, overview, history, changes, runs, packs, insights); writes nothing';
COMMENT ON ROLE segments_editor IS
  'pg_segments: creates, alters, refreshes and drops its own segments; sees only segments of roles it has the privileges of (grant segments_reader too to see all)';
COMMENT ON ROLE segments_admin IS
  'pg_segments: reader and editor of every segment, plus map_source, refresh_facts, track_changes, install_pack, uninstall_pack';
COMMENT ON ROLE segments_pii IS
  'pg_segments: may read the personal columns of segments.customers and segment_members (email, names, addresses) and export them';
GRANT segments_reader, segments_editor TO segments_admin;
