-- What the objects no author describes one by one say in \df+ and a BI tool's schema browser: the
-- support functions of every aggregate (a description naming their aggregate and role) and the
-- sequences behind identity columns. Generated from the catalog, so a new aggregate or table is
-- covered without another line here; an object that already has its own comment keeps it.
-- Before access/grants.sql, after every area that defines aggregates or tables.
DO $descr$
DECLARE
  r record;
BEGIN
  FOR r IN
    SELECT s.fn, format('Support function of %s %s (%s); not callable on its own',
                        CASE WHEN count(DISTINCT ag.proname) > 1 THEN 'aggregates' ELSE 'aggregate' END,
                        string_agg(DISTINCT ag.proname::text, ', '), min(s.role)) AS text
    FROM pg_catalog.pg_aggregate a
    JOIN pg_catalog.pg_proc ag ON ag.oid = a.aggfnoid
    JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_proc'::regclass AND d.objid = a.aggfnoid
     AND d.refclassid = 'pg_catalog.pg_extension'::regclass AND d.deptype = 'e'
     AND d.refobjid = (SELECT e.oid FROM pg_catalog.pg_extension e WHERE e.extname = 'pg_segments')
    CROSS JOIN LATERAL (VALUES
      (a.aggtransfn, 'transition: adds one row to the state'),
      (a.aggfinalfn, 'final: the result from the state'),
      (a.aggcombinefn, 'combine: merges two partial states of a parallel plan'),
      (a.aggserialfn, 'serialize: state to bytes, between parallel processes'),
      (a.aggdeserialfn, 'deserialize: bytes to state'),
      (a.aggmtransfn, 'moving-frame transition'),
      (a.aggminvtransfn, 'moving-frame inverse transition: removes one row'),
      (a.aggmfinalfn, 'moving-frame final')) AS s(fn, role)
    WHERE s.fn <> 0 AND pg_catalog.obj_description(s.fn, 'pg_proc') IS NULL
      AND EXISTS (SELECT 1 FROM pg_catalog.pg_depend m  -- the extension's own functions only
                  WHERE m.classid = 'pg_catalog.pg_proc'::regclass AND m.objid = s.fn AND m.deptype = 'e'
                    AND m.refobjid = d.refobjid)
    GROUP BY s.fn
  LOOP
    EXECUTE format('COMMENT ON FUNCTION %s IS %L', r.fn::regprocedure, r.text);
  END LOOP;
  FOR r IN
    SELECT q.oid::regclass AS seq, format('Generates %s.%I', t.oid::regclass, c.attname) AS text
    FROM pg_catalog.pg_class q
    JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = q.oid
     AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.deptype IN ('a', 'i')
    JOIN pg_catalog.pg_class t ON t.oid = d.refobjid
    JOIN pg_catalog.pg_attribute c ON c.attrelid = t.oid AND c.attnum = d.refobjsubid
    WHERE q.relkind = 'S' AND t.relnamespace IN ('segments'::regnamespace, 'segments_internal'::regnamespace)
      AND pg_catalog.obj_description(q.oid, 'pg_class') IS NULL
  LOOP
    EXECUTE format('COMMENT ON SEQUENCE %s IS %L', r.seq, r.text);
  END LOOP;
END $descr$;
