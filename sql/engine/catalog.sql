-- Segment engine: the segment catalog's management functions (docs/segments.md).
-- The tables, row-level security and grants are in engine/schema.sql.

-- The segment row, by name, with a clear error when there is none (or it is not yours).
CREATE OR REPLACE FUNCTION segments_internal._get(name text) RETURNS segments.segments
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE s segments.segments;
BEGIN
  SELECT * INTO s FROM segments.segments g WHERE g.name = _get.name;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'segment "%" does not exist', name USING ERRCODE = '42704',
      HINT = 'SELECT name FROM segments.segments lists the segments you can see.';
  END IF;
  RETURN s;
END $$;

CREATE OR REPLACE FUNCTION segments_internal._rule_relation(id bigint) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT format('segment_rules.%I', 's_' || id) $$;

-- The query a segment's rule materializes (a customer_id text column), from a validated fragment.
CREATE OR REPLACE FUNCTION segments_internal._membership_sql(rule text, query text) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF (rule IS NULL) = (query IS NULL) THEN
    RAISE EXCEPTION 'give exactly one of rule or query' USING ERRCODE = '22023',
      HINT = 'rule: a boolean expression over segments.customers, e.g. ''orders > 1''; query: SQL returning customer ids.';
  END IF;
  IF rule IS NOT NULL THEN
    RETURN format(E'SELECT c.customer_id FROM segments.customers AS c WHERE (\n%s\n)',
                  segments_internal._check_fragment(rule, 'rule'));
  END IF;
  RETURN format(E'SELECT * FROM (\n%s\n) AS q', segments_internal._check_fragment(query, 'query'));
END $$;

-- Compiles the rule or query as the calling role (syntax, columns, boolean, privileges) and
-- (re)creates the rule's materialized view, empty, owned by the segment owner.
CREATE OR REPLACE FUNCTION segments_internal._build_rule_relation(id bigint, rule text, query text, owner regrole) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  body text := segments_internal._membership_sql(rule, query);
  rel text := segments_internal._rule_relation(id);
  natts int; col name; typ regtype;
  st text; msg text; hnt text; det text;
BEGIN
  BEGIN
    -- EXPLAIN checks privileges too, without reading a row.
    EXECUTE 'EXPLAIN (COSTS OFF) ' || body;
    IF query IS NOT NULL THEN
      EXECUTE format('CREATE TEMP VIEW pgs_query_shape AS %s', body);
      SELECT count(*), min(attname), min(atttypid::regtype::text)::regtype INTO natts, col, typ
      FROM pg_attribute WHERE attrelid = 'pg_temp.pgs_query_shape'::regclass AND attnum > 0 AND NOT attisdropped;
      DROP VIEW pg_temp.pgs_query_shape;
      IF natts <> 1 THEN
        RAISE EXCEPTION 'a segment query must return exactly one column (customer ids); this one returns %', natts
          USING ERRCODE = '42601', HINT = 'SELECT customer_id FROM ... ';
      END IF;
      body := format(E'SELECT q.%I::text AS customer_id FROM (\n%s\n) AS q', col, segments_internal._check_fragment(query, 'query'));
    END IF;
  EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, hnt = PG_EXCEPTION_HINT, det = PG_EXCEPTION_DETAIL;
    RAISE EXCEPTION 'invalid segment %: %', CASE WHEN rule IS NOT NULL THEN 'rule' ELSE 'query' END, msg
      USING ERRCODE = st, DETAIL = coalesce(nullif(det, ''), coalesce(rule, query)),
            HINT = coalesce(nullif(hnt, ''), CASE WHEN rule IS NOT NULL
              THEN 'A rule is a boolean SQL expression over the columns of segments.customers, e.g. orders > 1 AND revenue >= 100.'
              ELSE 'A query returns one column of customer ids and may read segments.customers and segments.source_* views.' END);
  END;
  IF to_regclass(rel) IS NOT NULL THEN
    EXECUTE format('DROP MATERIALIZED VIEW %s', rel);
  END IF;
  EXECUTE format('CREATE MATERIALIZED VIEW %s AS %s WITH NO DATA', rel, body);
  IF (SELECT relowner FROM pg_class WHERE oid = rel::regclass) <> owner THEN
    EXECUTE format('ALTER MATERIALIZED VIEW %s OWNER TO %I', rel, owner::text);
  END IF;
  EXECUTE format('COMMENT ON MATERIALIZED VIEW %s IS %L', rel,
                 format('pg_segments: rule of segment %s (internal; read segment_members or segments.members)', id));
END $$;

-- (Re)creates segment_members."<name>": members joined with their facts. A fixed-shape view (no
-- user SQL), so it is made as the extension owner; security_invoker so readers need their own rights.
CREATE OR REPLACE FUNCTION segments_internal._build_member_view(id bigint, old_name text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE nm text; cols text;
BEGIN
  SELECT s.name INTO nm FROM segments.segments s WHERE s.id = _build_member_view.id;
  IF old_name IS NOT NULL AND to_regclass(format('segment_members.%I', old_name)) IS NOT NULL THEN
    EXECUTE format('DROP VIEW segment_members.%I', old_name);
  END IF;
  IF nm IS NULL THEN
    RETURN;
  END IF;
  SELECT string_agg(format('c.%I', attname), ', ' ORDER BY attnum) INTO cols
  FROM pg_attribute WHERE attrelid = 'segments.customers'::regclass AND attnum > 0 AND NOT attisdropped
    AND attname <> 'customer_id';
  EXECUTE format('CREATE OR REPLACE VIEW segment_members.%I WITH (security_invoker = true) AS '
                 'SELECT m.customer_id, m.joined_at, %s FROM segments.membership m '
                 'JOIN segments.customers c ON c.customer_id = m.customer_id WHERE m.segment_id = %s',
                 nm, cols, id);
  EXECUTE format('COMMENT ON VIEW segment_members.%I IS %L', nm,
                 format('Members of segment %s with their facts (pg_segments)', nm));
  EXECUTE format('GRANT SELECT ON segment_members.%I TO PUBLIC', nm);
END $$;

CREATE OR REPLACE FUNCTION segments_internal._drop_member_view(name text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  -- Only for names no segment has any more.
  IF NOT EXISTS (SELECT 1 FROM segments.segments s WHERE s.name = _drop_member_view.name)
     AND to_regclass(format('segment_members.%I', name)) IS NOT NULL THEN
    EXECUTE format('DROP VIEW IF EXISTS segment_members.%I', name);
  END IF;
END $$;

CREATE OR REPLACE FUNCTION segments_internal._check_name(name text) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF name IS NULL OR btrim(name) = '' OR octet_length(name) > 63 OR name <> btrim(name) OR name ~ '[[:cntrl:]]' THEN
    RAISE EXCEPTION 'invalid segment name "%"', name USING ERRCODE = '42602',
      HINT = 'A segment name is 1 to 63 bytes, without control characters or leading/trailing spaces.';
  END IF;
END $$;

CREATE OR REPLACE FUNCTION segments_internal._check_schedule(refresh_interval interval, timezone text) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF refresh_interval IS NULL OR refresh_interval <= interval '0' THEN
    RAISE EXCEPTION 'refresh_interval must be positive, not %', refresh_interval USING ERRCODE = '22023',
      HINT = 'e.g. interval ''1 day'' or ''15 minutes''.';
  END IF;
  IF timezone IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_timezone_names WHERE name = timezone)
     AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_timezone_abbrevs WHERE abbrev = timezone) THEN
    RAISE EXCEPTION 'unknown time zone "%"', timezone USING ERRCODE = '22023',
      HINT = 'SELECT name FROM pg_timezone_names lists them, e.g. Europe/Berlin.';
  END IF;
END $$;

CREATE OR REPLACE FUNCTION segments_internal._check_sources(required text[]) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE missing text[];
BEGIN
  SELECT array_agg(k ORDER BY k) INTO missing
  FROM unnest(required) k WHERE NOT EXISTS (SELECT 1 FROM segments.source_map m WHERE m.kind = k);
  IF missing IS NOT NULL THEN
    RAISE EXCEPTION 'segment needs unmapped source%: %', CASE WHEN cardinality(missing) > 1 THEN 's' ELSE '' END,
      array_to_string(missing, ', ') USING ERRCODE = '55000',
      HINT = format('Map it first: SELECT segments.map_source(%L, ''your_schema.your_table'', ''{...}'');', missing[1]);
  END IF;
END $$;

CREATE OR REPLACE FUNCTION segments.create_segment(
  name text, rule text DEFAULT NULL, query text DEFAULT NULL, description text DEFAULT NULL,
  refresh_interval interval DEFAULT '1 day', timezone text DEFAULT NULL, pack text DEFAULT NULL,
  required_sources text[] DEFAULT NULL, build boolean DEFAULT true)
RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE new_id bigint;
BEGIN
  PERFORM segments_internal._check_name(name);
  PERFORM segments_internal._check_schedule(refresh_interval, timezone);
  PERFORM segments_internal._check_sources(required_sources);
  PERFORM segments_internal._membership_sql(rule, query);  -- exactly one, each a single fragment
  IF EXISTS (SELECT 1 FROM segments.segments s WHERE s.name = create_segment.name) THEN
    RAISE EXCEPTION 'segment "%" already exists', name USING ERRCODE = '42710',
      HINT = 'Choose another name, or change it with segments.alter_segment().';
  END IF;
  INSERT INTO segments.segments AS s (name, description, rule, query, refresh_interval, timezone, pack, required_sources)
  VALUES (name, description, rule, query, refresh_interval, timezone, pack, required_sources)
  RETURNING s.id INTO new_id;
  PERFORM segments_internal._build_rule_relation(new_id, rule, query, current_user::regrole);
  PERFORM segments_internal._build_member_view(new_id);
  IF build THEN
    PERFORM segments_internal._refresh(new_id, 'create', true);
  END IF;
  RETURN new_id;
END $$;
COMMENT ON FUNCTION segments.create_segment(text, text, text, text, interval, text, text, text[], boolean) IS
  'Creates a segment from a rule (boolean expression over segments.customers) or a query (customer ids); builds it unless build => false';

CREATE OR REPLACE FUNCTION segments.alter_segment(
  name text, rule text DEFAULT NULL, query text DEFAULT NULL, description text DEFAULT NULL,
  refresh_interval interval DEFAULT NULL, timezone text DEFAULT NULL, new_name text DEFAULT NULL,
  build boolean DEFAULT true)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE s segments.segments := segments_internal._get(name);
BEGIN
  PERFORM 1 FROM segments.segments g WHERE g.id = s.id FOR UPDATE;
  IF new_name IS NOT NULL AND new_name <> s.name THEN
    PERFORM segments_internal._check_name(new_name);
    IF EXISTS (SELECT 1 FROM segments.segments g WHERE g.name = new_name) THEN
      RAISE EXCEPTION 'segment "%" already exists', new_name USING ERRCODE = '42710';
    END IF;
  END IF;
  PERFORM segments_internal._check_schedule(coalesce(refresh_interval, s.refresh_interval), coalesce(timezone, s.timezone));
  IF rule IS NOT NULL OR query IS NOT NULL THEN
    PERFORM segments_internal._build_rule_relation(s.id, rule, query, s.owner);
  END IF;
  UPDATE segments.segments g SET
    name = coalesce(new_name, g.name),
    description = coalesce(alter_segment.description, g.description),
    rule = CASE WHEN alter_segment.rule IS NOT NULL OR alter_segment.query IS NOT NULL THEN alter_segment.rule ELSE g.rule END,
    query = CASE WHEN alter_segment.rule IS NOT NULL OR alter_segment.query IS NOT NULL THEN alter_segment.query ELSE g.query END,
    refresh_interval = coalesce(alter_segment.refresh_interval, g.refresh_interval),
    timezone = coalesce(alter_segment.timezone, g.timezone),
    -- a new schedule takes effect now: the next slot counts from the last refresh
    next_refresh_at = CASE WHEN alter_segment.refresh_interval IS NULL AND alter_segment.timezone IS NULL
                           THEN g.next_refresh_at
                           ELSE segments_internal._next_refresh(coalesce(g.last_refresh_at, now()),
                                                       coalesce(alter_segment.refresh_interval, g.refresh_interval),
                                                       coalesce(alter_segment.timezone, g.timezone)) END,
    updated_at = now()
  WHERE g.id = s.id;
  IF new_name IS NOT NULL AND new_name <> s.name THEN
    PERFORM segments_internal._build_member_view(s.id, s.name);
  END IF;
  IF build AND (rule IS NOT NULL OR query IS NOT NULL) THEN
    PERFORM segments_internal._refresh(s.id, 'manual', true);
  END IF;
END $$;
COMMENT ON FUNCTION segments.alter_segment(text, text, text, text, interval, text, text, boolean) IS
  'Changes a segment''s rule or query (validated, then rebuilt), description, schedule or name; NULL keeps a value';

CREATE OR REPLACE FUNCTION segments.duplicate_segment(name text, new_name text, build boolean DEFAULT true) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE s segments.segments := segments_internal._get(name);
BEGIN
  RETURN segments.create_segment(new_name, s.rule, s.query,
    coalesce(s.description, '') || CASE WHEN s.description IS NULL THEN 'copy of ' ELSE ' (copy of ' END
      || s.name || CASE WHEN s.description IS NULL THEN '' ELSE ')' END,
    s.refresh_interval, s.timezone, NULL, s.required_sources, build);
END $$;
COMMENT ON FUNCTION segments.duplicate_segment(text, text, boolean) IS
  'Creates a copy of a segment (same rule and schedule, owned by you) under a new name';

CREATE OR REPLACE FUNCTION segments.drop_segment(name text, if_exists boolean DEFAULT false) RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE s segments.segments;
BEGIN
  IF if_exists AND NOT EXISTS (SELECT 1 FROM segments.segments g WHERE g.name = drop_segment.name) THEN
    RETURN false;
  END IF;
  s := segments_internal._get(name);
  PERFORM 1 FROM segments.segments g WHERE g.id = s.id FOR UPDATE;
  DELETE FROM segments.membership m WHERE m.segment_id = s.id;
  DELETE FROM segments.changes c WHERE c.segment_id = s.id;
  DELETE FROM segments.segments g WHERE g.id = s.id;
  IF to_regclass(segments_internal._rule_relation(s.id)) IS NOT NULL THEN
    EXECUTE format('DROP MATERIALIZED VIEW %s', segments_internal._rule_relation(s.id));
  END IF;
  PERFORM segments_internal._drop_member_view(s.name);
  RETURN true;
END $$;
COMMENT ON FUNCTION segments.drop_segment(text, boolean) IS
  'Drops a segment with its membership, changes, history and runs';

CREATE OR REPLACE FUNCTION segments.deactivate_segment(name text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE s segments.segments := segments_internal._get(name);
BEGIN
  UPDATE segments.segments g SET status = 'inactive', updated_at = now() WHERE g.id = s.id;
END $$;
COMMENT ON FUNCTION segments.deactivate_segment(text) IS
  'Pauses a segment: it keeps its members but is no longer refreshed on schedule';

CREATE OR REPLACE FUNCTION segments.activate_segment(name text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE s segments.segments := segments_internal._get(name);
BEGIN
  UPDATE segments.segments g SET
    status = CASE WHEN g.last_refresh_at IS NULL THEN 'building'
                  WHEN g.status = 'inactive' THEN (CASE WHEN g.consecutive_failures > 0 THEN 'failed' ELSE 'active' END)
                  ELSE g.status END,
    next_refresh_at = least(g.next_refresh_at, now()), updated_at = now()
  WHERE g.id = s.id;
END $$;
COMMENT ON FUNCTION segments.activate_segment(text) IS
  'Resumes a deactivated segment; it is refreshed at the next opportunity';
