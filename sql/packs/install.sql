-- Ready-made packs: what a BI user reads about them, install_pack and uninstall_pack (docs/packs.md).

-- The catalog a BI user reads: every ready-made segment, what it means, what it needs, whether it
-- is installed.
CREATE OR REPLACE VIEW segments.pack_catalog AS
SELECT p.pack, p.position, p.name AS segment, p.title, p.meaning, p.source_text,
       CASE WHEN p.rule IS NOT NULL THEN 'rule' ELSE 'query' END AS kind,
       coalesce(p.rule, p.query) AS definition,
       p.required_sources,
       ARRAY(SELECT k FROM unnest(p.required_sources) k
             WHERE k NOT IN (SELECT m.kind FROM segments.sources m WHERE m.mapped)
             ORDER BY k) AS missing_sources,
       s.id IS NOT NULL AS installed
FROM segments.pack_segments p
LEFT JOIN segments.segments s ON s.name = p.name AND s.pack = p.pack;
COMMENT ON VIEW segments.pack_catalog IS
  'Ready-made segments by pack: plain-English meaning, the source product''s wording, the rule or query, required and still unmapped sources, and whether installed';
COMMENT ON COLUMN segments.pack_catalog.pack IS 'Pack name, the argument of segments.install_pack';
COMMENT ON COLUMN segments.pack_catalog.position IS 'Order within the pack';
COMMENT ON COLUMN segments.pack_catalog.segment IS 'Name of the segment once installed';
COMMENT ON COLUMN segments.pack_catalog.title IS 'Display name (Ortto''s audience name)';
COMMENT ON COLUMN segments.pack_catalog.meaning IS 'Plain-English rule as implemented, with every threshold';
COMMENT ON COLUMN segments.pack_catalog.source_text IS 'The definition as the source product words it';
COMMENT ON COLUMN segments.pack_catalog.kind IS 'rule (expression over segments.customers) or query (returns customer ids)';
COMMENT ON COLUMN segments.pack_catalog.definition IS 'The rule or query; {vip_threshold} is replaced by the install_pack argument';
COMMENT ON COLUMN segments.pack_catalog.required_sources IS 'Source kinds the segment needs';
COMMENT ON COLUMN segments.pack_catalog.missing_sources IS 'Required source kinds not mapped yet (segments.map_source); empty when the segment can work';
COMMENT ON COLUMN segments.pack_catalog.installed IS 'Whether the segment exists (installed from this pack)';

-- One row per pack: what it is, how much of it is installed, what it still needs.
CREATE OR REPLACE VIEW segments.packs AS
SELECT c.pack,
       CASE c.pack
         WHEN 'ecommerce' THEN 'Ortto''s nine eCommerce audiences (BigCommerce, PrestaShop, Shopify, WooCommerce)'
         WHEN 'payments' THEN 'Ortto''s seven payments audiences (Chargebee, Recurly, Stripe)'
         WHEN 'crm' THEN 'Ortto''s seven CRM audiences (Pipedrive)'
         WHEN 'lifecycle' THEN 'Clerk.io life-cycle stages and Ometria value bands'
       END AS description,
       count(*)::int AS segments,
       count(*) FILTER (WHERE c.installed)::int AS installed,
       count(*) FILTER (WHERE cardinality(c.missing_sources) = 0)::int AS ready,
       ARRAY(SELECT DISTINCT k FROM segments.pack_catalog c2, unnest(c2.missing_sources) k
             WHERE c2.pack = c.pack ORDER BY k) AS missing_sources
FROM segments.pack_catalog c
GROUP BY c.pack
ORDER BY min(CASE c.pack WHEN 'ecommerce' THEN 1 WHEN 'payments' THEN 2 WHEN 'crm' THEN 3 ELSE 4 END);
COMMENT ON VIEW segments.packs IS
  'Ready-made packs: description, number of segments, how many are installed, how many can work with the mapped sources, which sources are missing';
COMMENT ON COLUMN segments.packs.pack IS 'Pack name, the argument of segments.install_pack';
COMMENT ON COLUMN segments.packs.description IS 'Where the pack comes from';
COMMENT ON COLUMN segments.packs.segments IS 'Segments in the pack';
COMMENT ON COLUMN segments.packs.installed IS 'Segments of the pack installed now';
COMMENT ON COLUMN segments.packs.ready IS 'Segments whose required sources are all mapped';
COMMENT ON COLUMN segments.packs.missing_sources IS 'Source kinds to map (segments.map_source) for the whole pack to work';
GRANT SELECT ON segments.packs TO segments_reader, segments_editor;

-- install_pack: creates (or updates) every segment of a pack whose sources are mapped, through
-- segments.create_segment; reports one row per segment of the pack.
CREATE OR REPLACE FUNCTION segments.install_pack(pack text, vip_threshold numeric DEFAULT 1000,
                                      refresh_interval interval DEFAULT '1 day', build boolean DEFAULT true)
RETURNS TABLE (segment text, status text, segment_id bigint, missing_sources text[], error text)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
#variable_conflict use_variable
DECLARE
  d record;
  cur record;
  v_rule text;
  skipped text[] := '{}';
  created int := 0;
  packs text;
  -- Without the background worker, the engine warns once per new segment; a pack says it once.
  unscheduled boolean;
  saved_level text := current_setting('client_min_messages');
BEGIN
  IF pack IS NULL OR NOT EXISTS (SELECT 1 FROM segments.pack_segments p WHERE p.pack = install_pack.pack) THEN
    SELECT string_agg(DISTINCT p.pack, ', ') INTO packs FROM segments.pack_segments p;
    RAISE EXCEPTION 'unknown pack: %', coalesce(quote_literal(pack), 'NULL')
      USING ERRCODE = '22023',
            HINT = format('Available packs: %s (see segments.pack_catalog).', packs);
  END IF;
  IF vip_threshold IS NULL OR vip_threshold < 0 OR vip_threshold = 'NaN'::numeric THEN
    RAISE EXCEPTION 'vip_threshold must be a non-negative amount, got %', coalesce(vip_threshold::text, 'NULL')
      USING ERRCODE = '22023',
            HINT = 'VIP customers are those whose revenue is above this amount; the default is 1000.';
  END IF;
  PERFORM segments_internal._check_schedule(refresh_interval, NULL);

  unscheduled := NOT segments.worker_preloaded();

  FOR d IN SELECT p.* FROM segments.pack_segments p WHERE p.pack = install_pack.pack ORDER BY p.position LOOP
    segment := d.name;
    error := NULL;
    v_rule := replace(d.rule, '{vip_threshold}', vip_threshold::text);
    missing_sources := ARRAY(SELECT k FROM unnest(d.required_sources) k
                             WHERE k NOT IN (SELECT m.kind FROM segments.sources m WHERE m.mapped)
                             ORDER BY k);
    SELECT s.* INTO cur FROM segments.segments s WHERE s.name = d.name;
    IF FOUND AND cur.pack IS DISTINCT FROM d.pack THEN
      RAISE EXCEPTION 'segment % already exists and was not installed from pack %', d.name, d.pack
        USING ERRCODE = '42710',
              HINT = 'Rename or drop that segment, then install the pack again.';
    END IF;
    IF NOT FOUND THEN
      IF cardinality(missing_sources) > 0 THEN
        status := 'skipped';
        segment_id := NULL;
        skipped := skipped || d.name;
      ELSE
        IF unscheduled THEN
          PERFORM set_config('client_min_messages', 'error', true);
        END IF;
        BEGIN
          segment_id := segments.create_segment(name => d.name, rule => v_rule, query => d.query,
                          description => d.meaning, refresh_interval => install_pack.refresh_interval,
                          pack => d.pack, required_sources => d.required_sources, build => build);
        EXCEPTION WHEN unique_violation THEN
          -- the name is taken by a segment this role cannot see (row-level security)
          RAISE EXCEPTION 'segment % already exists, owned by a role whose segments you cannot see', d.name
            USING ERRCODE = '42710',
                  HINT = 'Ask that role (or a superuser) to install or drop the pack, or to grant you its role.';
        END;
        PERFORM set_config('client_min_messages', saved_level, true);
        status := 'created';
        created := created + 1;
      END IF;
    ELSE
      segment_id := cur.id;
      IF cur.rule IS NOT DISTINCT FROM v_rule AND cur.query IS NOT DISTINCT FROM d.query
         AND cur.refresh_interval = install_pack.refresh_interval
         AND cur.description IS NOT DISTINCT FROM d.meaning THEN
        status := 'unchanged';
      ELSIF cur.rule IS NOT DISTINCT FROM v_rule AND cur.query IS NOT DISTINCT FROM d.query THEN
        -- schedule or wording only: no rebuild
        PERFORM segments.alter_segment(d.name, description => d.meaning,
                                       refresh_interval => install_pack.refresh_interval);
        status := 'updated';
      ELSE
        PERFORM segments.alter_segment(d.name, rule => v_rule, query => d.query, description => d.meaning,
                                       refresh_interval => install_pack.refresh_interval, build => build);
        status := 'updated';
      END IF;
    END IF;
    -- A build that failed (the engine keeps the segment, status failed): say why.
    IF segment_id IS NOT NULL THEN
      SELECT s.last_error INTO error FROM segments.segments s WHERE s.id = segment_id AND s.status = 'failed';
    END IF;
    RETURN NEXT;
  END LOOP;

  IF unscheduled AND created > 0 THEN
    RAISE WARNING 'pack %: % new segment(s) will not refresh automatically: pg_segments is not in shared_preload_libraries',
      pack, created
      USING HINT = 'Add pg_segments to shared_preload_libraries and restart the server, or refresh from cron with CALL segments.refresh_due().';
  END IF;
  IF cardinality(skipped) > 0 THEN
    RAISE WARNING 'pack %: % segment(s) not installed, their sources are not mapped: %',
      pack, cardinality(skipped), array_to_string(skipped, ', ')
      USING HINT = 'Map the sources listed in missing_sources with segments.map_source, then call segments.install_pack again.';
  END IF;
END
$fn$;
COMMENT ON FUNCTION segments.install_pack(text, numeric, interval, boolean) IS
  'Installs a ready-made pack (ecommerce, payments, crm, lifecycle); idempotent; skips segments whose sources are unmapped and says which';

GRANT SELECT ON segments.pack_segments, segments.pack_catalog TO segments_reader, segments_editor;

-- uninstall_pack: drops the segments installed from a pack (with their membership, changes and
-- history); a user's own segments are never touched.
CREATE OR REPLACE FUNCTION segments.uninstall_pack(pack text) RETURNS SETOF text
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE nm text; packs text;
BEGIN
  IF pack IS NULL OR NOT EXISTS (SELECT 1 FROM segments.pack_segments p WHERE p.pack = uninstall_pack.pack) THEN
    SELECT string_agg(DISTINCT p.pack, ', ') INTO packs FROM segments.pack_segments p;
    RAISE EXCEPTION 'unknown pack: %', coalesce(quote_literal(pack), 'NULL')
      USING ERRCODE = '22023',
            HINT = format('Available packs: %s (see segments.pack_catalog).', packs);
  END IF;
  FOR nm IN SELECT s.name FROM segments.segments s
            JOIN segments.pack_segments p ON p.name = s.name AND p.pack = s.pack
            WHERE s.pack = uninstall_pack.pack ORDER BY p.position LOOP
    PERFORM segments.drop_segment(nm);
    RETURN NEXT nm;
  END LOOP;
END
$fn$;
COMMENT ON FUNCTION segments.uninstall_pack(text) IS
  'Drops the segments installed from a pack (membership, changes and history included); returns their names';

COMMENT ON COLUMN segments.pack_segments.position IS 'Order within the pack';
