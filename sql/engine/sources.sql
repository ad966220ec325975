-- Segment engine: source mapping, the views the facts read (docs/segments.md#sources).
-- The shop's own tables are never copied: segments.map_source() (re)creates one view per source
-- kind, segments.source_<kind>, with fixed column names and types.

-- The normalized columns of each source kind.
CREATE OR REPLACE FUNCTION segments.source_columns(kind text DEFAULT NULL)
RETURNS TABLE (kind text, column_name text, data_type regtype, required boolean, default_value text, ord int)
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
  SELECT v.kind, v.column_name, v.data_type::regtype, v.required, v.default_value, v.ord
  FROM (VALUES
    ('orders', 'customer_id', 'text', true, NULL, 1),
    ('orders', 'order_id', 'text', false, NULL, 2),
    ('orders', 'ordered_at', 'timestamptz', true, NULL, 3),
    ('orders', 'amount', 'numeric', true, NULL, 4),
    ('orders', 'valid', 'boolean', false, 'true', 5),
    ('contacts', 'customer_id', 'text', true, NULL, 1),
    ('contacts', 'email', 'text', false, NULL, 2),
    ('contacts', 'opted_in', 'boolean', false, NULL, 3),
    ('contacts', 'created_at', 'timestamptz', false, NULL, 4),
    ('contacts', 'first_name', 'text', false, NULL, 5),
    ('contacts', 'last_name', 'text', false, NULL, 6),
    ('contacts', 'shipping_address', 'text', false, NULL, 7),
    ('contacts', 'billing_address', 'text', false, NULL, 8),
    ('events', 'customer_id', 'text', true, NULL, 1),
    ('events', 'kind', 'text', true, NULL, 2),
    ('events', 'at', 'timestamptz', true, NULL, 3),
    ('subscriptions', 'customer_id', 'text', true, NULL, 1),
    ('subscriptions', 'started_at', 'timestamptz', true, NULL, 2),
    ('subscriptions', 'is_trial', 'boolean', false, 'false', 3),
    ('subscriptions', 'status', 'text', true, NULL, 4),
    ('subscriptions', 'engagement_rating', 'integer', false, NULL, 5),
    ('subscriptions', 'last_seen_at', 'timestamptz', false, NULL, 6),
    ('deals', 'customer_id', 'text', true, NULL, 1),
    ('deals', 'deal_id', 'text', false, NULL, 2),
    ('deals', 'created_at', 'timestamptz', true, NULL, 3),
    ('deals', 'updated_at', 'timestamptz', false, NULL, 4),
    ('deals', 'state', 'text', true, NULL, 5),
    ('deals', 'updates_30d', 'integer', false, NULL, 6)
  ) AS v(kind, column_name, data_type, required, default_value, ord)
  WHERE source_columns.kind IS NULL OR v.kind = source_columns.kind
  ORDER BY v.kind, v.ord
$$;
COMMENT ON FUNCTION segments.source_columns(text) IS
  'The normalized columns of each source kind (orders, contacts, events, subscriptions, deals)';

-- Is the text one SQL fragment (no top-level semicolon, no unterminated quote or comment)?
-- Rules, queries and mapping expressions are spliced into one statement only after this check;
-- the server then parses the statement and reports any other error with its own message.
-- Returns the text without trailing spaces and semicolons. One pass in C++ (src/core/sql_fragment.h).
CREATE OR REPLACE FUNCTION segments_internal._check_fragment(sql text, what text) RETURNS text
AS 'MODULE_PATHNAME', 'pgs_check_fragment' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- The view body of an unmapped kind: its columns, no rows.
CREATE OR REPLACE FUNCTION segments_internal._empty_source_sql(kind text) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT 'SELECT ' || string_agg(format('NULL::%s AS %I', c.data_type, c.column_name), ', ' ORDER BY c.ord)
         || ' WHERE false'
  FROM segments.source_columns(kind) c
$$;

-- (Re)creates segments.source_<kind> from a select list; security_invoker so that whoever reads the
-- view needs SELECT on the mapped table (a segment cannot read what its owner cannot).
CREATE OR REPLACE FUNCTION segments_internal._install_source_view(kind text, body text, note text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  EXECUTE format('CREATE OR REPLACE VIEW segments.%I WITH (security_invoker = true) AS %s',
                 'source_' || kind, body);
  EXECUTE format('COMMENT ON VIEW segments.%I IS %L', 'source_' || kind, note);
END $$;

-- A constant (quoted string, number, true/false/null): what a non-superuser may map besides columns.
CREATE OR REPLACE FUNCTION segments_internal._is_constant(val text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT val ~ '^''([^'']|'''')*''$' OR val ~ '^-?[0-9]+(\.[0-9]+)?$' OR lower(val) IN ('true', 'false', 'null')
$$;

CREATE OR REPLACE FUNCTION segments.map_source(kind text, source regclass, columns jsonb) RETURNS void
AS 'MODULE_PATHNAME', 'pgs_engine_call' LANGUAGE C VOLATILE;

-- The facts refresh reads the mapped relation as the extension owner. So a mapping made by a
-- segments_admin who is not a superuser may name only a table or materialized view the admin can
-- read, and map its columns or constants: a view, a foreign table or an SQL expression would run
-- code with the extension owner's rights at every refresh, and only a superuser may map those.
CREATE OR REPLACE FUNCTION segments_internal.map_source(caller regrole, kind text, source regclass, columns jsonb) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  col record; key text; val text; expr text; typ regtype; sel text[] := '{}';
  src text := source::text; cols text; st text; msg text; hnt text;
  super boolean := (SELECT r.rolsuper FROM pg_roles r WHERE r.oid = caller);
BEGIN
  PERFORM segments_internal._authorize(caller, 'admin', what => 'map sources');
  IF NOT EXISTS (SELECT 1 FROM segments.source_columns(kind)) THEN
    RAISE EXCEPTION 'unknown source kind "%"', left(kind, 100) USING ERRCODE = '22023',
      HINT = 'Source kinds: orders, contacts, events, subscriptions, deals.';
  END IF;
  IF source IS NULL OR NOT has_table_privilege(caller, source, 'SELECT') THEN
    RAISE EXCEPTION 'permission denied to map %: % cannot read it', coalesce(src, 'NULL'), caller USING ERRCODE = '42501',
      HINT = 'Map a table you may SELECT from; its rows become customer facts that readers see.';
  END IF;
  IF NOT super AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = source AND c.relkind IN ('r', 'p', 'm')) THEN
    RAISE EXCEPTION 'permission denied to map %: only a superuser may map a view or foreign table', src
      USING ERRCODE = '42501',
      HINT = 'The facts refresh reads it with the extension owner''s rights. Map a table, or ask a superuser.';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = source AND c.relkind IN ('r', 'p', 'v', 'm', 'f')) THEN
    RAISE EXCEPTION '% is not a table or view', src USING ERRCODE = '42809';
  END IF;
  IF columns IS NULL OR jsonb_typeof(columns) <> 'object' THEN
    RAISE EXCEPTION 'columns must be a JSON object' USING ERRCODE = '22023',
      HINT = format('Example: {"customer_id": "customer_id", ...}; %s columns: %s', kind,
                    (SELECT string_agg(column_name, ', ') FROM segments.source_columns(kind)));
  END IF;
  FOR key, val IN SELECT j.key, j.value #>> '{}' FROM jsonb_each(columns) j WHERE jsonb_typeof(j.value) <> 'null' LOOP
    IF NOT EXISTS (SELECT 1 FROM segments.source_columns(kind) c WHERE c.column_name = key) THEN
      RAISE EXCEPTION 'source kind % has no column "%"', kind, key USING ERRCODE = '42703',
        HINT = format('%s columns: %s', kind, (SELECT string_agg(column_name, ', ') FROM segments.source_columns(kind)));
    END IF;
    IF jsonb_typeof(columns -> key) <> 'string' THEN
      RAISE EXCEPTION 'mapping of %.% must be a string (a column name or an SQL expression)', kind, key
        USING ERRCODE = '22023';
    END IF;
  END LOOP;
  SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO cols
  FROM pg_attribute a WHERE a.attrelid = source AND a.attnum > 0 AND NOT a.attisdropped;

  FOR col IN SELECT * FROM segments.source_columns(kind) LOOP
    val := columns ->> col.column_name;
    IF val IS NULL THEN
      IF col.required THEN
        RAISE EXCEPTION 'mapping of source % needs column "%"', kind, col.column_name
          USING ERRCODE = '22023',
          HINT = format('Map it to a column of %s (%s) or an expression, e.g. {"%s": "..."}',
                        src, cols, col.column_name);
      END IF;
      expr := coalesce(col.default_value, 'NULL');
    ELSIF EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = source AND a.attname = val
                  AND a.attnum > 0 AND NOT a.attisdropped) THEN
      expr := quote_ident(val);
    ELSIF NOT super AND NOT segments_internal._is_constant(val) THEN
      RAISE EXCEPTION 'permission denied to map %.% to an SQL expression: only a superuser may', kind, col.column_name
        USING ERRCODE = '42501',
        HINT = format('Map a column of %s (%s) or a constant; an expression runs with the extension owner''s rights at every refresh.', src, cols);
    ELSIF val ~ '^[A-Za-z_][A-Za-z_0-9$]*$' THEN
      RAISE EXCEPTION 'column "%" of % does not exist (mapping %.%)', val, src, kind, col.column_name
        USING ERRCODE = '42703', HINT = format('Columns of %s: %s', src, cols);
    ELSE
      expr := '(' || segments_internal._check_fragment(val, format('mapping %s.%s', kind, col.column_name)) || E'\n)';
    END IF;
    -- Compile it against the table (no rows read) and check the type.
    BEGIN
      EXECUTE format('SELECT pg_typeof(s.x) FROM (VALUES (1)) v LEFT JOIN (SELECT %s AS x FROM %s LIMIT 0) s ON true',
                     expr, src) INTO typ;
    EXCEPTION WHEN OTHERS THEN
      GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, hnt = PG_EXCEPTION_HINT;
      RAISE EXCEPTION 'mapping %.% = %: %', kind, col.column_name, val, msg USING ERRCODE = st,
        HINT = coalesce(nullif(hnt, ''), format('Columns of %s: %s', src, cols));
    END;
    IF val IS NOT NULL AND NOT (
         typ = col.data_type OR typ = 'unknown'::regtype
      OR (col.data_type = 'text'::regtype)  -- anything has a text form
      OR (col.data_type = 'numeric'::regtype AND typ IN ('smallint', 'integer', 'bigint', 'real', 'double precision', 'money'))
      OR (col.data_type = 'integer'::regtype AND typ IN ('smallint', 'bigint'))
      OR (col.data_type = 'timestamptz'::regtype AND typ IN ('timestamp', 'date'))) THEN
      RAISE EXCEPTION '%.% = % has type %, but % needs %', kind, col.column_name, val, typ,
        col.column_name, col.data_type USING ERRCODE = '42804',
        HINT = format('Map an expression instead, e.g. "%s::%s" or a comparison for a boolean.', val, col.data_type);
    END IF;
    sel := sel || format('%s::%s AS %I', expr, col.data_type, col.column_name);
  END LOOP;

  PERFORM segments_internal._install_source_view(kind,
    format(E'SELECT %s\nFROM %s', array_to_string(sel, E',\n       '), src),
    format('%s source, mapped to %s by %s', kind, src, caller));
  INSERT INTO segments.source_map AS m (kind, source, columns, mapped_by)
  VALUES (kind, source, columns, caller::name)
  ON CONFLICT ON CONSTRAINT source_map_pkey DO UPDATE
    SET source = excluded.source, columns = excluded.columns, mapped_by = excluded.mapped_by, mapped_at = now();
END $$;
COMMENT ON FUNCTION segments.map_source(text, regclass, jsonb) IS
  'Maps a user table (and its columns or SQL expressions) to a source kind; (re)creates segments.source_<kind>';

CREATE OR REPLACE FUNCTION segments.unmap_source(kind text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM segments.source_columns(kind)) THEN
    RAISE EXCEPTION 'unknown source kind "%"', kind USING ERRCODE = '22023',
      HINT = 'Source kinds: orders, contacts, events, subscriptions, deals.';
  END IF;
  PERFORM segments_internal._install_source_view(kind, segments_internal._empty_source_sql(kind), kind || ' source, not mapped (no rows)');
  DELETE FROM segments.source_map m WHERE m.kind = unmap_source.kind;
END $$;
COMMENT ON FUNCTION segments.unmap_source(text) IS
  'Forgets the mapping of a source kind; segments.source_<kind> becomes empty';

-- After pg_dump/restore the source_map rows come back but the views are the extension's empty
-- ones: this rebuilds them (segments.refresh_facts() calls it when needed).
CREATE OR REPLACE FUNCTION segments.restore_sources() RETURNS int
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE m record; n int := 0;
BEGIN
  FOR m IN SELECT * FROM segments.source_map ORDER BY kind LOOP
    PERFORM segments.map_source(m.kind, m.source, m.columns);
    n := n + 1;
  END LOOP;
  RETURN n;
END $$;
COMMENT ON FUNCTION segments.restore_sources() IS
  'Rebuilds the segments.source_<kind> views from segments.source_map (after a restore); returns how many';
