-- Segment engine: the rule views of segments (segment_rules.s_<id>, one per segment) and the
-- owners' pass views (segment_rules.o_<owner oid>, every incremental rule of an owner in one scan),
-- and which rules are incremental (docs/segments.md#incremental-refresh). Each is a materialized
-- view owned by the segment owner, so REFRESH runs the rule as the owner, security-restricted.

-- The materialized view holding a segment's rule result.
CREATE OR REPLACE FUNCTION segments_internal._rule_relation(id bigint) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT format('segment_rules.%I', 's_' || id) $$;

-- A per-segment relation created inside an extension script (ALTER EXTENSION ... UPDATE rebuilds
-- them) became a member of the extension: it belongs to its segment (pg_dump keeps it), so it leaves.
CREATE OR REPLACE FUNCTION segments_internal._leave_extension(rel regclass, kind text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_depend WHERE classid = 'pg_class'::regclass AND objid = rel AND deptype = 'e') THEN
    EXECUTE format('ALTER EXTENSION pg_segments DROP %s %s', kind, rel);
  END IF;
END $$;

-- (Re)creates a materialized view of rules, empty, owned by the segment owner (so REFRESH runs it
-- as the owner, security-restricted); body NULL only drops it.
CREATE OR REPLACE FUNCTION segments_internal._create_rule_view(rel text, body text, owner regrole, note text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF to_regclass(rel) IS NOT NULL THEN
    EXECUTE format('DROP MATERIALIZED VIEW %s', rel);
  END IF;
  IF body IS NULL THEN
    RETURN;
  END IF;
  EXECUTE format('CREATE MATERIALIZED VIEW %s AS %s WITH NO DATA', rel, body);
  PERFORM segments_internal._leave_extension(rel::regclass, 'MATERIALIZED VIEW');
  IF (SELECT relowner FROM pg_class WHERE oid = rel::regclass) <> owner THEN
    EXECUTE format('ALTER MATERIALIZED VIEW %s OWNER TO %I', rel, owner::text);
  END IF;
  EXECUTE format('COMMENT ON MATERIALIZED VIEW %s IS %L', rel, note);
END $$;

-- Whether a segment's rule can be refreshed incrementally: its rule view (built above) reads only
-- segments.customers, no clock column and no whole row, has no subquery and no SQL value function
-- (current_date, current_timestamp, ...), and calls only immutable functions or stable built-in ones
-- that do not read the clock. Then its result for a customer depends on that customer's facts row
-- alone, so only customers whose facts changed can join or leave.
CREATE OR REPLACE FUNCTION segments_internal._rule_is_incremental(id bigint) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  WITH rw AS (
    SELECT w.oid, w.ev_action::text AS tree FROM pg_rewrite w
    WHERE w.ev_class = to_regclass(segments_internal._rule_relation(id)) AND w.rulename = '_RETURN'),
  dep AS (SELECT d.* FROM pg_depend d, rw WHERE d.classid = 'pg_rewrite'::regclass AND d.objid = rw.oid),
  -- every function the rule calls, directly or through an operator (pg_depend omits built-ins)
  funcs AS (
    SELECT m[2]::oid AS fn FROM rw, regexp_matches(rw.tree, ':(funcid|opfuncid) ([0-9]+)', 'g') m
    UNION SELECT o.oprcode FROM rw, regexp_matches(rw.tree, ':opno ([0-9]+)', 'g') m JOIN pg_operator o ON o.oid = m[1]::oid)
  SELECT EXISTS (SELECT 1 FROM segments.segments s WHERE s.id = _rule_is_incremental.id AND s.rule IS NOT NULL)
    AND EXISTS (SELECT 1 FROM rw)
    AND NOT EXISTS (SELECT 1 FROM rw WHERE rw.tree ~ '\{(SUBLINK|SQLVALUEFUNCTION) ' OR rw.tree ~ ':varattno 0 ')
    AND NOT EXISTS (SELECT 1 FROM dep d WHERE d.refclassid = 'pg_class'::regclass
                    AND d.refobjid NOT IN ('segments.customers'::regclass, to_regclass(segments_internal._rule_relation(id))))
    AND NOT EXISTS (SELECT 1 FROM dep d JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                    WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = 'segments.customers'::regclass
                      AND a.attname = ANY (segments_internal.clock_columns()))
    AND NOT EXISTS (SELECT 1 FROM funcs f JOIN pg_proc p ON p.oid = f.fn
                    WHERE p.provolatile = 'v'
                       OR (p.provolatile = 's' AND (p.oid >= 16384 OR p.proname IN
                           ('now', 'transaction_timestamp', 'statement_timestamp', 'clock_timestamp', 'timeofday', 'age'))))
$$;

-- (Re)creates the owner's pass view segment_rules.o_<owner oid>: every incremental rule of the
-- owner evaluated in one scan of the customers of this transaction's pass (segments_internal.pass),
-- or of every customer when the pass names none (a full refresh of several of them: one scan instead
-- of one per segment), each rule only when its segment is in the pass. Owned by the owner, so
-- REFRESH runs the rules as the owner in a security-restricted operation, as the per-segment views
-- do. Dropped when the owner has no incremental segment left.
CREATE OR REPLACE FUNCTION segments_internal._pass_relation(owner regrole) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT format('segment_rules.%I', 'o_' || owner::oid) $$;

CREATE OR REPLACE FUNCTION segments_internal._build_pass_relation(owner regrole) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE rel text := segments_internal._pass_relation(owner); arms text; all_arms text; chosen text;
BEGIN
  -- A customer's hits as one array of segment ids (NULL: not in the pass, or not a hit), unnested:
  -- at 100k customers and the 31 packs, 0.24-0.34 s against 0.62-0.78 s for a VALUES row per rule
  -- filtered on its hit (3.1M rows made to keep 458k).
  SELECT string_agg(format(E'CASE WHEN %s = ANY (pgs_pass.pgs_segments) THEN CASE WHEN (\n%s\n) THEN %s::bigint END END',
                           s.id, segments_internal._check_fragment(s.rule, 'rule'), s.id), E',\n' ORDER BY s.id),
         -- over every customer, whether each segment is in the pass is computed once (half the time)
         string_agg(format(E'CASE WHEN pgs_pass.pgs_in_%s THEN CASE WHEN (\n%s\n) THEN %s::bigint END END',
                           s.id, segments_internal._check_fragment(s.rule, 'rule'), s.id), E',\n' ORDER BY s.id),
         string_agg(format('%s = ANY (pgs_p.pgs_segments) AS pgs_in_%s', s.id, s.id), ', ' ORDER BY s.id)
    INTO arms, all_arms, chosen
  FROM segments.segments s WHERE s.owner = _build_pass_relation.owner AND s.incremental;
  PERFORM segments_internal._create_rule_view(rel, CASE WHEN arms IS NOT NULL THEN
    format(E'SELECT pgs_v.pgs_segment_id AS segment_id, c.customer_id\n'
           'FROM segments_internal.pass AS pgs_pass\n'
           -- the customers as an uncorrelated subquery (one row per transaction): postgres_fdw ships
           -- "customer_id = ANY ($1)" to the shards of a coordinator, a join filter it would not
           'JOIN segments.customers AS c ON c.customer_id = ANY ((SELECT pgs_p.pgs_customers FROM segments_internal.pass AS pgs_p\n'
           '  WHERE pgs_p.pgs_xid = pg_catalog.pg_current_xact_id())::text[])\n'
           'CROSS JOIN LATERAL unnest(ARRAY[\n%1$s]) AS pgs_v (pgs_segment_id)\n'
           'WHERE pgs_pass.pgs_xid = pg_catalog.pg_current_xact_id() AND pgs_v.pgs_segment_id IS NOT NULL\n'
           -- every customer, when the pass names none (a one-time filter: otherwise never scanned)
           'UNION ALL\n'
           'SELECT pgs_v.pgs_segment_id, c.customer_id\n'
           'FROM (SELECT %3$s FROM segments_internal.pass AS pgs_p\n'
           '      WHERE pgs_p.pgs_xid = pg_catalog.pg_current_xact_id() OFFSET 0) AS pgs_pass\n'
           'CROSS JOIN segments.customers AS c\n'
           'CROSS JOIN LATERAL unnest(ARRAY[\n%2$s]) AS pgs_v (pgs_segment_id)\n'
           'WHERE pgs_v.pgs_segment_id IS NOT NULL\n'
           '  AND (SELECT pgs_p.pgs_customers IS NULL FROM segments_internal.pass AS pgs_p\n'
           '       WHERE pgs_p.pgs_xid = pg_catalog.pg_current_xact_id())',
           arms, all_arms, chosen) END,
    owner, format('pg_segments: the incremental rules of %s in one pass (internal)', owner));
END $$;

-- After a segment's rule view was (re)built: classify it, and rebuild its owner's pass view. A
-- changed rule starts over with a full refresh (facts_mark NULL).
CREATE OR REPLACE FUNCTION segments_internal._classify(id bigint) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE o regrole;
BEGIN
  UPDATE segments.segments s SET incremental = segments_internal._rule_is_incremental(s.id), facts_mark = NULL
  WHERE s.id = _classify.id RETURNING s.owner INTO o;
  PERFORM segments_internal._build_pass_relation(o);
END $$;
