-- Run once at CREATE EXTENSION: every source kind starts as an empty view (unmapped), so rules
-- and facts always compile. Not re-run by upgrades (it would unmap the shop's sources).
DO $$
DECLARE k text;
BEGIN
  FOREACH k IN ARRAY ARRAY['orders', 'contacts', 'events', 'subscriptions', 'deals'] LOOP
    PERFORM segments_internal._install_source_view(k, segments_internal._empty_source_sql(k), k || ' source, not mapped (no rows)');
    EXECUTE format('GRANT SELECT ON segments.%I TO segments_reader, segments_editor', 'source_' || k);
  END LOOP;
END $$;

CREATE VIEW segments.sources AS
  SELECT k.kind, m.kind IS NOT NULL AS mapped, m.source, m.columns, m.mapped_by, m.mapped_at,
         format('segments.%I', 'source_' || k.kind) AS view_name
  FROM (VALUES ('orders', 1), ('contacts', 2), ('events', 3), ('subscriptions', 4), ('deals', 5)) k(kind, ord)
  LEFT JOIN segments.source_map m ON m.kind = k.kind
  ORDER BY k.ord;
COMMENT ON VIEW segments.sources IS
  'One row per source kind: whether it is mapped, to which table, with which column mapping';
GRANT SELECT ON segments.sources TO segments_reader, segments_editor;
