-- Run once, before any object that uses them: the extension's schemas (docs/development.md); the
-- roles they grant to come from roles.sql. Analytics functions and types live in the
-- extension's own schema (@extschema@). Comments: sql/comments.sql.

CREATE SCHEMA segments;
REVOKE ALL ON SCHEMA segments FROM PUBLIC;
GRANT USAGE ON SCHEMA segments TO segments_reader, segments_editor, segments_pii;

-- One materialized view per segment holds the rule's latest result; REFRESH MATERIALIZED VIEW runs
-- it as the view's owner (the segment owner) in a security-restricted operation. Only the engine
-- (the extension owner) creates them: nobody else has CREATE here, so no name can be squatted.
CREATE SCHEMA segment_rules;
REVOKE ALL ON SCHEMA segment_rules FROM PUBLIC;

-- One view per segment: its members joined with their facts (for BI tools and ORMs).
CREATE SCHEMA segment_members;
REVOKE ALL ON SCHEMA segment_members FROM PUBLIC;
GRANT USAGE ON SCHEMA segment_members TO segments_reader, segments_editor, segments_pii;

-- Internal helpers of the engine and the insights (not part of the API).
CREATE SCHEMA segments_internal;
REVOKE ALL ON SCHEMA segments_internal FROM PUBLIC;
GRANT USAGE ON SCHEMA segments_internal TO segments_reader, segments_editor;
