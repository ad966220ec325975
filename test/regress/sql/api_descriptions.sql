-- Every object of the extension a user can see (the schemas, and every function, aggregate, table,
-- view, sequence and type outside segments_internal) has a description (COMMENT ON), so \df+, \d+
-- and a BI tool's schema browser explain it. scripts/check-docs (run by make) checks that each also
-- has an example in docs/. The internal helpers of segments_internal are not API.
CREATE EXTENSION IF NOT EXISTS pg_segments;
WITH member AS (
  SELECT pg_describe_object(d.classid, d.objid, 0) AS object,
         obj_description(d.objid, (SELECT relname FROM pg_class WHERE oid = d.classid)) IS NOT NULL AS described,
         CASE d.classid
           WHEN 'pg_proc'::regclass THEN (SELECT p.pronamespace FROM pg_proc p WHERE p.oid = d.objid)
           WHEN 'pg_class'::regclass THEN (SELECT c.relnamespace FROM pg_class c WHERE c.oid = d.objid)
           WHEN 'pg_type'::regclass THEN (SELECT t.typnamespace FROM pg_type t WHERE t.oid = d.objid)
         END AS nsp
  FROM pg_depend d
  WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
    AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_segments'))
SELECT count(*) FILTER (WHERE NOT described) AS undescribed,
       string_agg(object, ', ' ORDER BY object) FILTER (WHERE NOT described) AS which
FROM member
WHERE nsp IS DISTINCT FROM 'segments_internal'::regnamespace;
