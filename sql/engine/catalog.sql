-- Segment engine: the segment catalog's management functions (docs/segments.md). The tables,
-- row-level security and grants are in engine/schema.sql; building a segment is a refresh
-- (engine/refresh.sql, listed before this file).

-- Creating a segment where nothing will refresh it on schedule works, but says so (pg_cron's and
-- TimescaleDB's users' top complaint is jobs that silently never run). Not for
-- pg_segments.scheduler_enabled = off: switching the worker off is deliberate and visible.
CREATE OR REPLACE FUNCTION segments_internal._warn_unscheduled(name text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF NOT segments.worker_preloaded() THEN
    RAISE WARNING 'segment "%" will not refresh automatically: pg_segments is not in shared_preload_libraries', name
      USING HINT = 'Add pg_segments to shared_preload_libraries and restart the server, or refresh from cron with CALL segments.refresh_due().';
  ELSIF segments_internal._setting('pg_segments.scheduler_enabled')::boolean AND NOT segments.worker_serves() THEN
    RAISE WARNING 'segment "%" will not refresh automatically: pg_segments.databases does not list database "%"', name, current_database()
      USING HINT = 'Add the database to pg_segments.databases and reload the configuration, or refresh from cron with CALL segments.refresh_due().';
  END IF;
END $$;

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

-- Checks the rule or query as the segment owner (syntax, columns, boolean, privileges) and
-- (re)creates the rule's materialized view, empty, owned by the segment owner. The check is a
-- LIMIT 0 copy of it that the owner refreshes: REFRESH runs it as the owner (security-restricted)
-- and checks every privilege without reading a row. The engine creates both (it alone may create
-- in segment_rules); the rule only ever runs as the owner.
CREATE OR REPLACE FUNCTION segments_internal._build_rule_relation(id bigint, rule text, query text, owner regrole) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  body text := segments_internal._membership_sql(rule, query);
  rel text := segments_internal._rule_relation(id);
  chk text := format('segment_rules.%I', 'check_' || id);
  natts int; col name;
  st text; msg text; hnt text; det text;
BEGIN
  BEGIN
    IF to_regclass(chk) IS NOT NULL THEN
      EXECUTE format('DROP MATERIALIZED VIEW %s', chk);
    END IF;
    EXECUTE format(E'CREATE MATERIALIZED VIEW %s AS SELECT * FROM (\n%s\n) AS q LIMIT 0 WITH NO DATA', chk, body);
    EXECUTE format('ALTER MATERIALIZED VIEW %s OWNER TO %I', chk, owner::text);
    EXECUTE format('REFRESH MATERIALIZED VIEW %s', chk);
    SELECT count(*), min(attname) INTO natts, col
    FROM pg_attribute WHERE attrelid = chk::regclass AND attnum > 0 AND NOT attisdropped;
    EXECUTE format('DROP MATERIALIZED VIEW %s', chk);
    IF query IS NOT NULL THEN
      IF natts <> 1 THEN
        RAISE EXCEPTION 'a segment query must return exactly one column (customer ids); this one returns %', natts
          USING ERRCODE = '42601', HINT = 'SELECT customer_id FROM ... ';
      END IF;
      body := format(E'SELECT q.%I::text AS customer_id FROM (\n%s\n) AS q', col, segments_internal._check_fragment(query, 'query'));
    END IF;
  EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, hnt = PG_EXCEPTION_HINT, det = PG_EXCEPTION_DETAIL;
    RAISE EXCEPTION 'invalid segment %: %', CASE WHEN rule IS NOT NULL THEN 'rule' ELSE 'query' END, msg
      USING ERRCODE = st, DETAIL = coalesce(nullif(det, ''), left(coalesce(rule, query), 1000)),
            HINT = coalesce(nullif(hnt, ''), CASE WHEN rule IS NOT NULL
              THEN 'A rule is a boolean SQL expression over the columns of segments.customers, e.g. orders > 1 AND revenue >= 100.'
              ELSE 'A query returns one column of customer ids and may read segments.customers and segments.source_* views.' END);
  END;
  PERFORM segments_internal._create_rule_view(rel, body, owner,
    format('pg_segments: rule of segment %s (internal; read segment_members or segments.members)', id));  -- check-order: prose
END $$;

-- The personal columns of segments.customers: readable only with role segments_pii.
CREATE OR REPLACE FUNCTION segments_internal._pii_columns() RETURNS name[]
LANGUAGE sql IMMUTABLE AS $$ SELECT ARRAY['email', 'first_name', 'last_name', 'shipping_address', 'billing_address']::name[] $$;

-- SELECT on a relation shaped like segments.customers: every column but the personal ones to readers
-- and editors, the personal ones (with customer_id) to segments_pii.
CREATE OR REPLACE FUNCTION segments_internal._grant_facts_columns(rel regclass) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE open_cols text; pii_cols text;
BEGIN
  SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FILTER (WHERE attname <> ALL (segments_internal._pii_columns())),
         string_agg(quote_ident(attname), ', ' ORDER BY attnum) FILTER (WHERE attname = ANY (segments_internal._pii_columns())
                                                                        OR attname = 'customer_id')
    INTO open_cols, pii_cols
  FROM pg_attribute WHERE attrelid = rel AND attnum > 0 AND NOT attisdropped;
  EXECUTE format('REVOKE ALL ON %s FROM PUBLIC, segments_reader, segments_editor, segments_pii', rel);
  IF open_cols IS NOT NULL THEN
    EXECUTE format('GRANT SELECT (%s) ON %s TO segments_reader, segments_editor', open_cols, rel);
  END IF;
  IF pii_cols IS NOT NULL THEN
    EXECUTE format('GRANT SELECT (%s) ON %s TO segments_pii', pii_cols, rel);
  END IF;
END $$;

-- Copies the column comments of segments.customers onto a member view (same column names).
CREATE OR REPLACE FUNCTION segments_internal._comment_member_view(name text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE rel regclass := format('segment_members.%I', name)::regclass; a record;
BEGIN
  FOR a IN
    SELECT v.attname,
           CASE v.attname
             WHEN 'customer_id' THEN 'Member''s customer id (text); the natural key of this view'
             WHEN 'joined_at' THEN 'Start of the refresh that added the customer (current stay)'
             ELSE col_description('segments.customers'::regclass, c.attnum) END AS note
    FROM pg_attribute v
    LEFT JOIN pg_attribute c ON c.attrelid = 'segments.customers'::regclass AND c.attname = v.attname
    WHERE v.attrelid = rel AND v.attnum > 0 AND NOT v.attisdropped
  LOOP
    EXECUTE format('COMMENT ON COLUMN %s.%I IS %L', rel, a.attname, a.note);
  END LOOP;
END $$;

-- (Re)creates segment_members."<name>": members joined with their facts. Fixed shape (no user SQL),
-- owned by the extension owner, so it reads past row-level security and shows the rows only to
-- those who may see the segment (segments_reader, or the privileges of its owner); security_barrier
-- keeps a caller's own conditions from running before that check. Column grants as on
-- segments.customers: the personal columns need segments_pii.
CREATE OR REPLACE FUNCTION segments_internal._build_member_view(id bigint, old_name text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE nm text; cols text; body text;
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
  body := format('CREATE OR REPLACE VIEW segment_members.%I WITH (security_barrier) AS '
                 'SELECT m.customer_id, m.joined_at, %s FROM segments.membership m '
                 'JOIN segments.customers c ON c.customer_id = m.customer_id WHERE m.segment_id = %s '
                 'AND EXISTS (SELECT FROM segments.segments s WHERE s.id = %s AND '
                 '(pg_catalog.pg_has_role(''segments_reader'', ''USAGE'') OR pg_catalog.pg_has_role(s.owner, ''USAGE'')))',
                 nm, cols, id, id);
  BEGIN
    EXECUTE body;
    PERFORM segments_internal._leave_extension(format('segment_members.%I', nm)::regclass, 'VIEW');
  EXCEPTION WHEN object_not_in_prerequisite_state THEN
    -- Inside ALTER EXTENSION ... UPDATE (the upgrade rebuilds every member view) PostgreSQL lets
    -- an extension script replace only its own objects: the view, which belongs to the segment and
    -- not to the extension (pg_dump keeps it), joins the extension for the replacement only.
    EXECUTE format('ALTER EXTENSION pg_segments ADD VIEW segment_members.%I', nm);
    EXECUTE body;
    EXECUTE format('ALTER EXTENSION pg_segments DROP VIEW segment_members.%I', nm);
  END;
  EXECUTE format('COMMENT ON VIEW segment_members.%I IS %L', nm,
                 format('Members of segment %s with their facts (pg_segments). Natural key: customer_id', nm));
  -- BI tools show column comments as descriptions: the facts' own, plus the two membership columns.
  PERFORM segments_internal._comment_member_view(nm);
  PERFORM segments_internal._grant_facts_columns(format('segment_members.%I', nm)::regclass);
END $$;

CREATE OR REPLACE FUNCTION segments_internal._drop_member_view(name text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  -- Only for names no segment has any more.
  IF NOT EXISTS (SELECT 1 FROM segments.segments s WHERE s.name = _drop_member_view.name)
     AND to_regclass(format('segment_members.%I', name)) IS NOT NULL THEN
    EXECUTE format('DROP VIEW IF EXISTS segment_members.%I', name);
  END IF;
END $$;

-- Documented limits (docs/security.md#limits): names 1..63 bytes, descriptions up to 10,000
-- characters, rules and queries up to 100,000 characters, refresh_interval 1 second .. 10 years.
CREATE OR REPLACE FUNCTION segments_internal._check_name(name text) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF octet_length(name) > 63 THEN
    RAISE EXCEPTION 'segment name is too long (% bytes)', octet_length(name) USING ERRCODE = '54000',
      HINT = 'A segment name is 1 to 63 bytes (it names the view segment_members."<name>").';
  END IF;
  IF name IS NULL OR btrim(name) = '' OR name <> btrim(name) OR name ~ '[[:cntrl:]]' THEN
    RAISE EXCEPTION 'invalid segment name "%"', name USING ERRCODE = '42602',
      HINT = 'A segment name is 1 to 63 bytes, without control characters or leading/trailing spaces.';
  END IF;
END $$;

-- A text argument within its documented maximum length (54000 beyond it).
CREATE OR REPLACE FUNCTION segments_internal._check_length(value text, what text, max_chars int) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF length(value) > max_chars THEN
    RAISE EXCEPTION '% is too long (% characters)', what, length(value) USING ERRCODE = '54000',
      HINT = format('A segment %s has at most %s characters; shorten it, or split the segment in two.', what, max_chars);
  END IF;
END $$;

CREATE OR REPLACE FUNCTION segments_internal._check_schedule(refresh_interval interval, timezone text) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF refresh_interval IS NULL OR refresh_interval < interval '1 second' OR refresh_interval > interval '10 years' THEN
    RAISE EXCEPTION 'refresh_interval must be between 1 second and 10 years, not %', coalesce(refresh_interval::text, 'NULL')
      USING ERRCODE = '22023', HINT = 'e.g. interval ''1 day'' or ''15 minutes''.';
  END IF;
  IF timezone IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_timezone_names WHERE name = timezone)
     AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_timezone_abbrevs WHERE abbrev = timezone) THEN
    RAISE EXCEPTION 'unknown time zone "%"', left(timezone, 100) USING ERRCODE = '22023',
      HINT = 'SELECT name FROM pg_timezone_names lists them, e.g. Europe/Berlin.';
  END IF;
END $$;

-- Name, description, rule or query (exactly one, each one SQL fragment) and schedule of a segment.
CREATE OR REPLACE FUNCTION segments_internal._check_definition(name text, description text, rule text, query text,
  refresh_interval interval, timezone text) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM segments_internal._check_name(name);
  PERFORM segments_internal._check_length(description, 'description', 10000);
  PERFORM segments_internal._check_length(rule, 'rule', 100000);
  PERFORM segments_internal._check_length(query, 'query', 100000);
  PERFORM segments_internal._check_schedule(refresh_interval, timezone);
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

-- The write entry points below are the C function pgs_engine_call (src/pg/engine_call.cpp): it calls
-- segments_internal.<same name>(caller, <same arguments>), SECURITY DEFINER, with the calling role.

CREATE OR REPLACE FUNCTION segments.create_segment(
  name text, rule text DEFAULT NULL, query text DEFAULT NULL, description text DEFAULT NULL,
  refresh_interval interval DEFAULT '1 day', timezone text DEFAULT NULL, pack text DEFAULT NULL,
  required_sources text[] DEFAULT NULL, build boolean DEFAULT true)
RETURNS bigint AS 'MODULE_PATHNAME', 'pgs_engine_call' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION segments.create_segment(text, text, text, text, interval, text, text, text[], boolean) IS
  'Creates a segment from a rule (boolean expression over segments.customers) or a query (customer ids); builds it unless build => false';

CREATE OR REPLACE FUNCTION segments_internal.create_segment(caller regrole,
  name text, rule text, query text, description text, refresh_interval interval, timezone text, pack text,
  required_sources text[], build boolean)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE new_id bigint; holder regrole;
BEGIN
  PERFORM segments_internal._authorize(caller, 'create', what => 'create segments');
  PERFORM segments_internal._check_definition(name, description, rule, query, refresh_interval, timezone);
  PERFORM segments_internal._check_length(pack, 'pack name', 63);
  PERFORM segments_internal._check_sources(required_sources);
  PERFORM segments_internal._membership_sql(rule, query);  -- exactly one, each a single fragment
  SELECT s.owner INTO holder FROM segments.segments s WHERE s.name = create_segment.name;
  IF FOUND THEN
    IF pg_has_role(caller, 'segments_reader', 'USAGE') OR pg_has_role(caller, holder, 'USAGE') THEN
      RAISE EXCEPTION 'segment "%" already exists', name USING ERRCODE = '42710',
        HINT = 'Choose another name, or change it with segments.alter_segment().';
    END IF;
    RAISE EXCEPTION 'segment "%" already exists, owned by a role whose segments you cannot see', name
      USING ERRCODE = '42710', HINT = 'Choose another name (segment names are unique across all owners).';
  END IF;
  INSERT INTO segments.segments AS s (name, description, rule, query, owner, refresh_interval, timezone, pack, required_sources)
  VALUES (name, description, rule, query, caller, refresh_interval, timezone, pack, required_sources)
  RETURNING s.id INTO new_id;
  PERFORM segments_internal._build_rule_relation(new_id, rule, query, caller);
  PERFORM segments_internal._classify(new_id);
  PERFORM segments_internal._build_member_view(new_id);
  PERFORM segments_internal._warn_unscheduled(name);
  IF coalesce(build, true) THEN
    PERFORM segments_internal._refresh(new_id, 'create');
  END IF;
  RETURN new_id;
END $$;

CREATE OR REPLACE FUNCTION segments.alter_segment(
  name text, rule text DEFAULT NULL, query text DEFAULT NULL, description text DEFAULT NULL,
  refresh_interval interval DEFAULT NULL, timezone text DEFAULT NULL, new_name text DEFAULT NULL,
  build boolean DEFAULT true)
RETURNS void AS 'MODULE_PATHNAME', 'pgs_engine_call' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION segments.alter_segment(text, text, text, text, interval, text, text, boolean) IS
  'Changes a segment''s rule or query (validated, then rebuilt), description, schedule or name; NULL keeps a value';

CREATE OR REPLACE FUNCTION segments_internal.alter_segment(caller regrole,
  name text, rule text, query text, description text, refresh_interval interval, timezone text, new_name text,
  build boolean)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  s segments.segments := segments_internal._segment_for(caller, name, 'alter');
  -- A rule runs as the role that wrote it: an administrator without the owner's privileges who
  -- rewrites another role's rule becomes the segment's owner (it could otherwise borrow the owner's rights).
  new_owner regrole := CASE WHEN (rule IS NOT NULL OR query IS NOT NULL) AND NOT pg_has_role(caller, s.owner, 'USAGE')
                            THEN caller ELSE s.owner END;
BEGIN
  IF coalesce(build, true) AND (rule IS NOT NULL OR query IS NOT NULL) THEN
    PERFORM segments_internal._ensure_facts();  -- the facts lock comes before the segment row (locks.sql)
  END IF;
  PERFORM 1 FROM segments.segments g WHERE g.id = s.id FOR UPDATE;
  PERFORM segments_internal._check_definition(coalesce(new_name, s.name), description, rule, query,
                                              coalesce(refresh_interval, s.refresh_interval), coalesce(timezone, s.timezone));
  IF new_name IS NOT NULL AND new_name <> s.name THEN
    IF EXISTS (SELECT 1 FROM segments.segments g WHERE g.name = new_name) THEN
      RAISE EXCEPTION 'segment "%" already exists', new_name USING ERRCODE = '42710',
        HINT = 'Choose another new_name (segment names are unique across all owners).';
    END IF;
  END IF;
  IF rule IS NOT NULL OR query IS NOT NULL THEN
    PERFORM segments_internal._build_rule_relation(s.id, rule, query, new_owner);
  END IF;
  UPDATE segments.segments g SET
    name = coalesce(new_name, g.name),
    owner = new_owner,
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
  IF rule IS NOT NULL OR query IS NOT NULL THEN
    PERFORM segments_internal._classify(s.id);
    IF new_owner <> s.owner AND s.incremental THEN
      PERFORM segments_internal._build_pass_relation(s.owner);
    END IF;
  END IF;
  IF new_name IS NOT NULL AND new_name <> s.name THEN
    PERFORM segments_internal._build_member_view(s.id, s.name);
  END IF;
  IF coalesce(build, true) AND (rule IS NOT NULL OR query IS NOT NULL) THEN
    PERFORM segments_internal._refresh(s.id, 'manual');
  END IF;
END $$;

-- Reads the source segment as the caller and creates the copy through segments.create_segment.
CREATE OR REPLACE FUNCTION segments.duplicate_segment(name text, new_name text, build boolean DEFAULT true) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE s segments.segments := segments_internal._get(name);
BEGIN
  RETURN segments.create_segment(new_name, s.rule, s.query,
    left(coalesce(s.description, '') || CASE WHEN s.description IS NULL THEN 'copy of ' ELSE ' (copy of ' END
      || s.name || CASE WHEN s.description IS NULL THEN '' ELSE ')' END, 10000),
    s.refresh_interval, s.timezone, NULL, s.required_sources, build);
END $$;
COMMENT ON FUNCTION segments.duplicate_segment(text, text, boolean) IS
  'Creates a copy of a segment (same rule and schedule, owned by you) under a new name';

CREATE OR REPLACE FUNCTION segments.drop_segment(name text, if_exists boolean DEFAULT false) RETURNS boolean
AS 'MODULE_PATHNAME', 'pgs_engine_call' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION segments.drop_segment(text, boolean) IS
  'Drops a segment with its membership, changes, history and runs';

CREATE OR REPLACE FUNCTION segments_internal.drop_segment(caller regrole, name text, if_exists boolean) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE s segments.segments;
BEGIN
  IF coalesce(if_exists, false) AND NOT EXISTS (
       SELECT 1 FROM segments.segments g WHERE g.name = drop_segment.name
         AND (pg_has_role(caller, 'segments_reader', 'USAGE') OR pg_has_role(caller, g.owner, 'USAGE'))) THEN
    RETURN false;
  END IF;
  s := segments_internal._segment_for(caller, name, 'drop');
  PERFORM 1 FROM segments.segments g WHERE g.id = s.id FOR UPDATE;
  DELETE FROM segments.membership m WHERE m.segment_id = s.id;
  DELETE FROM segments.changes c WHERE c.segment_id = s.id;
  DELETE FROM segments.segments g WHERE g.id = s.id;
  IF s.incremental THEN
    PERFORM segments_internal._build_pass_relation(s.owner);
  END IF;
  IF to_regclass(segments_internal._rule_relation(s.id)) IS NOT NULL THEN
    EXECUTE format('DROP MATERIALIZED VIEW %s', segments_internal._rule_relation(s.id));
  END IF;
  PERFORM segments_internal._drop_member_view(s.name);
  RETURN true;
END $$;

CREATE OR REPLACE FUNCTION segments.deactivate_segment(name text) RETURNS void
AS 'MODULE_PATHNAME', 'pgs_engine_call' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION segments.deactivate_segment(text) IS
  'Pauses a segment: it keeps its members but is no longer refreshed on schedule';

CREATE OR REPLACE FUNCTION segments_internal.deactivate_segment(caller regrole, name text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE s segments.segments := segments_internal._segment_for(caller, name, 'deactivate');
BEGIN
  UPDATE segments.segments g SET status = 'inactive', updated_at = now() WHERE g.id = s.id;
END $$;

CREATE OR REPLACE FUNCTION segments.activate_segment(name text) RETURNS void
AS 'MODULE_PATHNAME', 'pgs_engine_call' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION segments.activate_segment(text) IS
  'Resumes a deactivated segment; it is refreshed at the next opportunity';

CREATE OR REPLACE FUNCTION segments_internal.activate_segment(caller regrole, name text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE s segments.segments := segments_internal._segment_for(caller, name, 'activate');
BEGIN
  UPDATE segments.segments g SET
    status = CASE WHEN g.last_refresh_at IS NULL THEN 'building'
                  WHEN g.status = 'inactive' THEN (CASE WHEN g.consecutive_failures > 0 THEN 'failed' ELSE 'active' END)
                  ELSE g.status END,
    next_refresh_at = least(g.next_refresh_at, now()), updated_at = now()
  WHERE g.id = s.id;
END $$;
