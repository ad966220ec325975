-- Upgrade 0.1 -> 0.2, issue 10 (trust boundary; docs/security.md): the run-once part of
-- sql/engine/schema.sql as changes to a 0.1 database. The replaceable files re-run after it
-- (access/grants.sql last: function and column grants, member views rebuilt).

-- The roles come from sql/roles.sql, which the upgrade script runs before this part.

-- Schemas: nothing for PUBLIC; nobody but the extension owner creates in segment_rules.
REVOKE ALL ON SCHEMA segments, segment_rules, segment_members FROM PUBLIC;
GRANT USAGE ON SCHEMA segments, segment_members TO segments_reader, segments_editor, segments_pii;
-- (0.2's layout creates segments_internal; its USAGE is for readers and editors only.)
DO $$
BEGIN
  IF to_regnamespace('segments_internal') IS NOT NULL THEN
    REVOKE ALL ON SCHEMA segments_internal FROM PUBLIC;
    GRANT USAGE ON SCHEMA segments_internal TO segments_reader, segments_editor;
  END IF;
END $$;

-- Tables: only the extension owner writes; readers and editors read (row-level security below).
REVOKE ALL ON segments.source_map, segments.customers, segments.facts_status, segments.changed_customers,
  segments.segments, segments.membership, segments.runs, segments.changes, segments.history FROM PUBLIC;
REVOKE ALL ON SEQUENCE segments.segments_id_seq, segments.changes_id_seq, segments.runs_id_seq FROM PUBLIC;
GRANT SELECT ON segments.source_map, segments.facts_status, segments.changed_customers,
  segments.segments, segments.membership, segments.runs, segments.changes, segments.history
  TO segments_reader, segments_editor;

-- Row-level security: read policies only (0.1's owner_rows let owners write their rows).
DROP POLICY IF EXISTS owner_rows ON segments.segments;
CREATE POLICY read_rows ON segments.segments FOR SELECT
  USING (pg_catalog.pg_has_role('segments_reader', 'USAGE') OR pg_catalog.pg_has_role(owner, 'USAGE'));
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['membership', 'changes', 'runs', 'history'] LOOP
    EXECUTE format('DROP POLICY IF EXISTS owner_rows ON segments.%I', t);
    EXECUTE format('CREATE POLICY read_rows ON segments.%I FOR SELECT USING (segment_id IN (SELECT id FROM segments.segments))', t);
  END LOOP;
END $$;

-- Rule relations squatted under 0.1 (any role could create in segment_rules): a relation there that
-- is not a segment's rule materialized view is dropped, so the next create_segment can use its name.
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT c.oid::regclass AS rel, c.relkind FROM pg_catalog.pg_class c
           WHERE c.relnamespace = 'segment_rules'::regnamespace AND c.relkind IN ('r', 'v', 'm', 'p', 'f')
             AND NOT EXISTS (SELECT 1 FROM segments.segments s WHERE c.relname = 's_' || s.id AND c.relkind = 'm')
  LOOP
    EXECUTE format('DROP %s %s CASCADE', CASE r.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                   WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END, r.rel);
  END LOOP;
END $$;
