-- Run once, before any object that uses them: the roles a DBA grants (docs/security.md) and the
-- extension's schemas (docs/development.md). Analytics functions and types live in the
-- extension's own schema (@extschema@).

-- The roles a DBA grants to login roles (docs/security.md). They are cluster-wide and survive DROP
-- EXTENSION, so a re-create reuses them. PostgreSQL reserves names starting with pg_ for its own
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

CREATE SCHEMA segments;
COMMENT ON SCHEMA segments IS
  'pg_segments engine: source mapping, customer facts, segments, membership, change log, history, runs';
REVOKE ALL ON SCHEMA segments FROM PUBLIC;
GRANT USAGE ON SCHEMA segments TO segments_reader, segments_editor, segments_pii;

-- One materialized view per segment holds the rule's latest result; REFRESH MATERIALIZED VIEW runs
-- it as the view's owner (the segment owner) in a security-restricted operation. Only the engine
-- (the extension owner) creates them: nobody else has CREATE here, so no name can be squatted.
CREATE SCHEMA segment_rules;
COMMENT ON SCHEMA segment_rules IS
  'pg_segments internal: one materialized view per segment (the rule, owned by the segment owner)';
REVOKE ALL ON SCHEMA segment_rules FROM PUBLIC;

-- One view per segment: its members joined with their facts (for BI tools and ORMs).
CREATE SCHEMA segment_members;
COMMENT ON SCHEMA segment_members IS
  'pg_segments: one view per segment, named like the segment: members joined with segments.customers';
REVOKE ALL ON SCHEMA segment_members FROM PUBLIC;
GRANT USAGE ON SCHEMA segment_members TO segments_reader, segments_editor, segments_pii;

-- Internal helpers of the engine and the insights (not part of the API).
CREATE SCHEMA segments_internal;
COMMENT ON SCHEMA segments_internal IS 'pg_segments internal helpers (not part of the API)';
REVOKE ALL ON SCHEMA segments_internal FROM PUBLIC;
GRANT USAGE ON SCHEMA segments_internal TO segments_reader, segments_editor;
