-- Issue 11: refresh cost in proportion to the change (run-once migration from 0.1; the functions
-- are re-created from sql/engine/*.sql by the upgrade script).

-- facts (11a)
-- Incremental facts that are exact (docs/segments.md#incremental-facts): each row's horizon, and
-- the last full refresh (it refits the predictive models). Rows upgraded from 0.1 have no horizon
-- (NULL = never): the first facts refresh after the upgrade is full (full_refreshed_at is NULL).
ALTER TABLE segments.customers ADD COLUMN horizon_at timestamptz;
COMMENT ON COLUMN segments.customers.horizon_at IS
  'Earliest time after refreshed_at at which a stored window, life-cycle, abandoned-cart or not-yet-visible (future-dated) fact of this row changes with no new data (NULL: never); an incremental refresh recomputes the row once it has passed';
ALTER TABLE segments.facts_status ADD COLUMN full_refreshed_at timestamptz,
  ADD COLUMN incremental boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN segments.facts_status.full_refreshed_at IS
  'As-of time of the last full facts refresh (it refits the predictive models); incremental refreshes keep it';
COMMENT ON COLUMN segments.facts_status.incremental IS 'Whether the last facts refresh was incremental';

-- The stored facts move to segments_internal.customer_facts; segments.customers becomes a view over
-- them (sql/engine/facts/customers.sql) that derives refreshed_at and days_since_last_order when read,
-- so they are no longer stored. What 0.1 built over the table is dropped first and rebuilt over the
-- view by the replaceable files: compute_facts, the extension's views (segments.overview), every
-- segment's rule relation and member view (access/grants.sql). A view of the user's own over segments.customers stops the update (it would
-- follow the table, not the view): drop it, update, then create it again.
DO $$
DECLARE v regclass; own text;
BEGIN
  SELECT string_agg(DISTINCT r.ev_class::regclass::text, ', ') INTO own
  FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid
  WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = 'segments.customers'::regclass
    AND r.ev_class <> 'segments.customers'::regclass
    AND (SELECT c.relnamespace FROM pg_catalog.pg_class c WHERE c.oid = r.ev_class)
        NOT IN ('segment_rules'::regnamespace, 'segment_members'::regnamespace)
    AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend e WHERE e.classid = 'pg_class'::regclass
                    AND e.objid = r.ev_class AND e.deptype = 'e');
  IF own IS NOT NULL THEN
    RAISE EXCEPTION 'views over segments.customers stop the update to 0.2: %', own USING ERRCODE = '2BP01',
      HINT = 'Drop them, run ALTER EXTENSION pg_segments UPDATE, then create them again (segments.customers keeps its columns).';
  END IF;
  FOR v IN SELECT DISTINCT r.ev_class::regclass
           FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid
           WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = 'segments.customers'::regclass
             AND r.ev_class <> 'segments.customers'::regclass LOOP
    EXECUTE format('DROP %s %s', CASE (SELECT relkind FROM pg_catalog.pg_class WHERE oid = v)
                                 WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'VIEW' END, v);
  END LOOP;
END $$;
DROP FUNCTION segments.compute_facts(timestamptz, text[]);
CREATE SCHEMA IF NOT EXISTS segments_internal;  -- issue-12.sql, which runs later, gives it its rights
ALTER TABLE segments.customers DROP COLUMN days_since_last_order, DROP COLUMN refreshed_at;
ALTER TABLE segments.customers RENAME CONSTRAINT customers_pkey TO customer_facts_pkey;
ALTER TABLE segments.customers RENAME TO customer_facts;
ALTER TABLE segments.customer_facts SET SCHEMA segments_internal;
REVOKE ALL ON segments_internal.customer_facts FROM PUBLIC, segments_reader, segments_editor, segments_pii;
COMMENT ON TABLE segments_internal.customer_facts IS
  'Stored customer facts (internal: read segments.customers), one row per customer found in any source, as of the last segments.refresh_facts()';
CREATE INDEX ON segments_internal.customer_facts (horizon_at);
