-- The privilege matrix (docs/security.md): each role x object or function x action, allowed or
-- denied, every cell asserted by this file's expected output. Roles: a login role with no grant
-- (public), segments_reader, two editors (a and b), a non-superuser segments_admin, and a reader
-- with segments_pii. Each cell runs in its own subtransaction that is rolled back afterwards, so
-- cells do not depend on one another. A cell shows ok:<rows> or the SQLSTATE of the error.
-- Then the audit: properties every object of the extension must have, so that objects other
-- engineers add later are checked too.
DROP EXTENSION IF EXISTS pg_segments CASCADE;
CREATE EXTENSION pg_segments;
SET timezone = 'UTC';
SET pg_segments.facts_max_age = -1;

CREATE ROLE regress_sec_public;
CREATE ROLE regress_sec_reader IN ROLE segments_reader;
CREATE ROLE regress_sec_editor_a IN ROLE segments_editor;
CREATE ROLE regress_sec_editor_b IN ROLE segments_editor;
CREATE ROLE regress_sec_admin IN ROLE segments_admin;
CREATE ROLE regress_sec_pii IN ROLE segments_reader, segments_pii;

CREATE SCHEMA sec_shop;
CREATE TABLE sec_shop.orders (cid text, at timestamptz, amount numeric);
CREATE TABLE sec_shop.people (cid text, email text, first text);
INSERT INTO sec_shop.orders VALUES ('c1', '2024-01-05', 40), ('c1', '2024-03-01', 60), ('c2', '2024-02-01', 900),
  ('c3', '2024-04-01', 15);
INSERT INTO sec_shop.people VALUES ('c1', 'c1@example.com', 'Ann'), ('c2', 'c2@example.com', 'Bo'), ('c3', NULL, 'Cy');
GRANT USAGE ON SCHEMA sec_shop TO segments_editor, segments_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA sec_shop TO segments_editor, segments_reader;
SELECT segments.map_source('orders', 'sec_shop.orders', '{"customer_id": "cid", "ordered_at": "at", "amount": "amount"}');
SELECT segments.map_source('contacts', 'sec_shop.people', '{"customer_id": "cid", "email": "email", "first_name": "first"}');
SELECT customers FROM segments.refresh_facts('2024-06-01');
SET ROLE regress_sec_editor_a;
SELECT segments.create_segment('a_big', 'revenue > 50') > 0 AS created;
RESET ROLE;
SET ROLE regress_sec_editor_b;
SELECT segments.create_segment('b_small', 'revenue <= 50') > 0 AS created;
RESET ROLE;
SELECT name, owner, status FROM segments.segments ORDER BY id;

-- One cell: run q as role r in a subtransaction, always rolled back.
CREATE FUNCTION pg_temp.cell(r text, q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE n bigint; st text; msg text;
BEGIN
  BEGIN
    EXECUTE format('SET LOCAL ROLE %I', r);
    EXECUTE q;
    GET DIAGNOSTICS n = ROW_COUNT;
    RAISE EXCEPTION USING ERRCODE = 'PGS99', MESSAGE = n::text;
  EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
    RETURN CASE WHEN st = 'PGS99' THEN 'ok:' || msg ELSE st END;
  END;
END $$;

CREATE TEMP TABLE matrix (pos serial, object text, action text, q text);
INSERT INTO matrix (object, action, q) VALUES
  -- read: everything the engine produces
  ('segments.segments', 'read', 'SELECT * FROM segments.segments'),
  ('segments.overview', 'read', 'SELECT * FROM segments.overview'),
  ('segments.members', 'read', 'SELECT * FROM segments.members'),
  ('segments.membership', 'read', 'SELECT * FROM segments.membership'),
  ('segments.changes', 'read', 'SELECT * FROM segments.changes'),
  ('segments.history', 'read', 'SELECT * FROM segments.history'),
  ('segments.runs', 'read', 'SELECT * FROM segments.runs'),
  ('segment_members.a_big (facts)', 'read', 'SELECT customer_id, joined_at, revenue FROM segment_members.a_big'),
  ('segment_members.a_big email', 'read', 'SELECT email FROM segment_members.a_big'),
  ('segment_members.b_small (facts)', 'read', 'SELECT customer_id, revenue FROM segment_members.b_small'),
  ('segments.customers (facts)', 'read', 'SELECT customer_id, revenue, lifecycle, p_alive FROM segments.customers'),
  ('segments.customers email', 'read', 'SELECT email FROM segments.customers'),
  ('segments.customers names', 'read', 'SELECT first_name FROM segments.customers'),
  ('segments.customers *', 'read', 'SELECT * FROM segments.customers'),
  ('segments.source_map', 'read', 'SELECT * FROM segments.source_map'),
  ('segments.sources', 'read', 'SELECT * FROM segments.sources'),
  ('segments.source_orders', 'read', 'SELECT * FROM segments.source_orders'),
  ('segments.facts_status', 'read', 'SELECT * FROM segments.facts_status'),
  ('segments.packs', 'read', 'SELECT * FROM segments.packs'),
  ('segments.pack_catalog', 'read', 'SELECT * FROM segments.pack_catalog'),
  ('segments.worker_status', 'read', 'SELECT * FROM segments.worker_status'),
  ('segments.dimensions', 'read', 'SELECT * FROM segments.dimensions'),
  ('segments.breakdown()', 'read', $q$SELECT * FROM segments.breakdown('lifecycle')$q$),
  ('segments.breakdown(email)', 'read', $q$SELECT * FROM segments.breakdown('email')$q$),
  ('segments.dimension_matrix()', 'read', $q$SELECT * FROM segments.dimension_matrix('lifecycle', 'value_band')$q$),
  ('segments.rfm()', 'read', 'SELECT * FROM segments.rfm()'),
  ('segments.members_at(a_big)', 'read', $q$SELECT * FROM segments.members_at('a_big', now())$q$),
  ('segments.overlap()', 'read', 'SELECT * FROM segments.overlap()'),
  ('segments.compute_facts()', 'read', $q$SELECT customer_id FROM segments.compute_facts('2024-06-01')$q$),
  ('clv() (analytics)', 'read', 'SELECT clv(amount) FROM (VALUES (1.5), (2.5)) v(amount)'),
  -- export: personal data
  ('segments.export(a_big)', 'export', $q$SELECT * FROM segments.export('a_big')$q$),
  ('segments.export_csv(a_big)', 'export', $q$SELECT segments.export_csv('a_big', include_names => true)$q$),
  -- write through the engine
  ('segments.create_segment', 'write', $q$SELECT segments.create_segment('x_new', 'orders > 1')$q$),
  ('segments.alter_segment(a_big)', 'write', $q$SELECT segments.alter_segment('a_big', rule => 'true')$q$),
  ('segments.alter_segment(b_small)', 'write', $q$SELECT segments.alter_segment('b_small', description => 'mine')$q$),
  ('segments.duplicate_segment(a_big)', 'write', $q$SELECT segments.duplicate_segment('a_big', 'a_copy')$q$),
  ('segments.deactivate_segment(a_big)', 'write', $q$SELECT segments.deactivate_segment('a_big')$q$),
  ('segments.activate_segment(b_small)', 'write', $q$SELECT segments.activate_segment('b_small')$q$),
  ('segments.refresh(a_big)', 'refresh', $q$SELECT segments.refresh('a_big')$q$),
  ('segments.refresh_now(b_small)', 'refresh', $q$SELECT segments.refresh_now('b_small')$q$),
  ('segments.refresh_all()', 'refresh', 'SELECT * FROM segments.refresh_all()'),
  ('segments.drop_segment(a_big)', 'drop', $q$SELECT segments.drop_segment('a_big')$q$),
  ('segments.drop_segment(b_small)', 'drop', $q$SELECT segments.drop_segment('b_small')$q$),
  -- the administrator's functions
  ('segments.map_source(table)', 'map', $q$SELECT segments.map_source('orders', 'sec_shop.orders', '{"customer_id": "cid", "ordered_at": "at", "amount": "amount"}')$q$),
  ('segments.map_source(expression)', 'map', $q$SELECT segments.map_source('orders', 'sec_shop.orders', '{"customer_id": "cid", "ordered_at": "at", "amount": "amount * 2"}')$q$),
  ('segments.map_source(pg_authid)', 'map', $q$SELECT segments.map_source('contacts', 'pg_catalog.pg_authid', '{"customer_id": "rolname", "email": "rolpassword"}')$q$),
  ('segments.unmap_source', 'map', $q$SELECT segments.unmap_source('contacts')$q$),
  ('segments.refresh_facts', 'refresh', $q$SELECT segments.refresh_facts('2024-06-01')$q$),
  ('segments.track_changes', 'map', 'SELECT segments.track_changes()'),
  ('segments.install_pack', 'write', $q$SELECT * FROM segments.install_pack('lifecycle', build => false)$q$),
  ('segments.uninstall_pack', 'drop', $q$SELECT * FROM segments.uninstall_pack('lifecycle')$q$),
  ('internal _start_run (fake run)', 'write', $q$SELECT segments_internal._start_run((SELECT min(id) FROM segments.segments), 'manual')$q$),
  ('segments.recover_runs', 'write', 'SELECT segments.recover_runs()'),
  ('segments.prune_runs', 'drop', 'SELECT segments.prune_runs()'),
  -- attacks from issue 10: direct writes to the catalog
  ('segments.segments: edit rule text', 'write', $q$UPDATE segments.segments SET rule = 'true'$q$),
  ('segments.segments: newline in name', 'write', $q$UPDATE segments.segments SET name = E'a\nb'$q$),
  ('segments.segments: forged insert', 'write', $q$INSERT INTO segments.segments (name, rule) VALUES ('forged', 'true')$q$),
  ('segments.runs: fake running run', 'write', $q$INSERT INTO segments.runs (segment_id, trigger) SELECT min(id), 'manual' FROM segments.segments$q$),
  ('segments.changes: delete the log', 'drop', 'DELETE FROM segments.changes'),
  ('segments.changes: forge a change', 'write', $q$INSERT INTO segments.changes (segment_id, segment, customer_id, change, at) VALUES (1, 'a_big', 'c9', 'joined', now())$q$),
  ('segments.history: delete', 'drop', 'DELETE FROM segments.history'),
  ('segments.membership: insert', 'write', $q$INSERT INTO segments.membership VALUES (1, 'c9', now())$q$),
  ('segments.customers: update facts', 'write', 'UPDATE segments.customers SET revenue = 0'),
  ('segments.source_map: insert', 'map', $q$INSERT INTO segments.source_map (kind, source, columns) VALUES ('events', 'sec_shop.orders', '{}')$q$),
  -- attacks: internal helpers, squatting, dropping engine objects
  ('_build_member_view(999999, b_small)', 'drop', $q$SELECT segments_internal._build_member_view(999999, 'b_small')$q$),
  ('segments_internal.drop_segment', 'drop', $q$SELECT segments_internal.drop_segment('10'::oid::regrole, 'a_big', false)$q$),
  ('segments_internal._refresh', 'refresh', $q$SELECT segments_internal._refresh(1, 'manual', true)$q$),
  ('segment_rules: squat s_<next id>', 'write', $q$CREATE TABLE segment_rules.s_3 (customer_id text)$q$),
  ('segment_rules.s_1: drop', 'drop', 'DROP MATERIALIZED VIEW segment_rules.s_1'),
  ('segment_members.a_big: drop', 'drop', 'DROP VIEW segment_members.a_big'),
  ('schema segments: create', 'write', 'CREATE TABLE segments.mine (x int)'),
  -- bounded input
  ('create_segment: 200,000-char rule', 'write', $q$SELECT segments.create_segment('long', repeat('x', 200000))$q$),
  ('create_segment: 178000000 years', 'write', $q$SELECT segments.create_segment('ages', 'true', refresh_interval => '178000000 years')$q$),
  ('install_pack: 178000000 years', 'write', $q$SELECT * FROM segments.install_pack('lifecycle', refresh_interval => '178000000 years')$q$),
  ('create_segment: newline in name', 'write', $q$SELECT segments.create_segment(E'a\nb', 'true')$q$);

SET client_min_messages = error;  -- the refresh_now NOTICEs
CREATE TEMP TABLE cells AS
SELECT m.pos, m.object, m.action, r.role, pg_temp.cell(r.role, m.q) AS outcome
FROM matrix m CROSS JOIN unnest(ARRAY['regress_sec_public', 'regress_sec_reader', 'regress_sec_editor_a',
  'regress_sec_editor_b', 'regress_sec_admin', 'regress_sec_pii']) AS r(role);
RESET client_min_messages;

SELECT m.object, m.action,
  max(c.outcome) FILTER (WHERE c.role = 'regress_sec_public') AS public,
  max(c.outcome) FILTER (WHERE c.role = 'regress_sec_reader') AS reader,
  max(c.outcome) FILTER (WHERE c.role = 'regress_sec_editor_a') AS editor_a,
  max(c.outcome) FILTER (WHERE c.role = 'regress_sec_editor_b') AS editor_b,
  max(c.outcome) FILTER (WHERE c.role = 'regress_sec_admin') AS admin,
  max(c.outcome) FILTER (WHERE c.role = 'regress_sec_pii') AS reader_pii
FROM matrix m JOIN cells c USING (pos) GROUP BY m.pos, m.object, m.action ORDER BY m.pos;
SELECT count(*) AS cells, count(*) FILTER (WHERE outcome LIKE 'ok:%') AS allowed,
       count(*) FILTER (WHERE outcome NOT LIKE 'ok:%') AS denied FROM cells;

-- Nothing changed: every cell was rolled back, and the superuser sees the catalog as before.
SELECT name, owner, status, rule FROM segments.segments ORDER BY id;
SELECT count(*) AS runs FROM segments.runs;

-- A role without the reader role reads no customer row at all; with it, every segment.
SELECT pg_temp.cell('regress_sec_public', 'SELECT customer_id FROM segments.customers') AS public_customers,
       pg_temp.cell('regress_sec_reader', 'SELECT customer_id FROM segments.customers') AS reader_customers;

-- A rule cannot read what its owner cannot (editor a has no SELECT on pg_authid), whoever
-- refreshes it: checked at create, as the owner.
SELECT pg_temp.cell('regress_sec_editor_a', $q$SELECT segments.create_segment('a_peek',
  query => 'SELECT rolname::text FROM pg_catalog.pg_authid', build => false)$q$) AS a_reads_pg_authid;

-- An administrator who rewrites another role's rule becomes its owner: it cannot borrow the
-- owner's rights (here a superuser's); without a new rule the owner stays.
SELECT segments.create_segment('super_owned', 'orders > 0') > 0 AS created;
SET ROLE regress_sec_admin;
SELECT segments.alter_segment('super_owned', description => 'reworded');
SELECT owner FROM segments.segments WHERE name = 'super_owned';
SELECT pg_temp.cell('regress_sec_admin', $q$SELECT segments.alter_segment('super_owned',
  query => 'SELECT rolname::text FROM pg_catalog.pg_authid')$q$) AS admin_reads_pg_authid;
SELECT segments.alter_segment('super_owned', query => 'SELECT cid FROM sec_shop.orders WHERE amount > 50');
RESET ROLE;
SELECT name, owner, status FROM segments.segments WHERE name = 'super_owned';
SELECT customer_id FROM segment_members.super_owned ORDER BY 1;

--
-- Audit (covers every object of the extension, including ones added later).
--
-- 1. No routine of schemas segments or segments_internal is executable by PUBLIC.
SELECT p.oid::regprocedure AS executable_by_public FROM pg_proc p
WHERE p.pronamespace IN ('segments'::regnamespace, 'segments_internal'::regnamespace)
  AND (p.proacl IS NULL OR EXISTS (SELECT 1 FROM aclexplode(p.proacl) a WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE'));
-- 2. Every SECURITY DEFINER routine of the extension pins search_path.
SELECT p.oid::regprocedure AS definer_without_search_path FROM pg_proc p
JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
  AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_segments')
WHERE p.prosecdef AND NOT coalesce(p.proconfig::text[] && ARRAY['search_path=pg_catalog, pg_temp'], false);
-- 3. No SECURITY DEFINER routine is executable by readers or editors (the administrator's functions
--    and the engine's implementations behind pgs_engine_call are SECURITY DEFINER).
SELECT p.oid::regprocedure AS definer_for_readers_or_editors FROM pg_proc p
WHERE p.pronamespace IN ('segments'::regnamespace, 'segments_internal'::regnamespace) AND p.prosecdef
  AND (has_function_privilege('segments_reader', p.oid, 'EXECUTE') OR has_function_privilege('segments_editor', p.oid, 'EXECUTE'));
-- 4. A C function of schema segments is either the engine's door (pgs_engine_call), with a SECURITY
--    DEFINER implementation segments_internal.<name>(regrole, <same arguments>), or a read-only
--    worker function; no internal routine with side effects is executable by a non-owner.
SELECT p.oid::regprocedure AS c_function_without_definer_implementation FROM pg_proc p
JOIN pg_language l ON l.oid = p.prolang
WHERE p.pronamespace = 'segments'::regnamespace AND l.lanname = 'c'
  AND p.proname NOT IN ('wake_worker', 'worker_preloaded', 'worker_serves', 'worker_status_rows', 'progress_rows')
  AND NOT (p.prosrc = 'pgs_engine_call' AND EXISTS (
    SELECT 1 FROM pg_proc i WHERE i.pronamespace = 'segments_internal'::regnamespace AND i.proname = p.proname
      AND i.prosecdef AND i.proargtypes::text = btrim('regrole'::regtype::oid::text || ' ' || p.proargtypes::text)));
--    An internal routine readers or editors may execute is SECURITY INVOKER SQL or PL/pgSQL and
--    STABLE or IMMUTABLE, so PostgreSQL refuses any write inside it: it can do nothing the caller
--    could not do by hand. An aggregate among them (order_facts_of) runs only support functions
--    that are SECURITY INVOKER and STABLE or IMMUTABLE.
SELECT p.oid::regprocedure AS internal_routine_that_could_write, l.lanname, p.provolatile FROM pg_proc p
JOIN pg_language l ON l.oid = p.prolang
WHERE p.pronamespace = 'segments_internal'::regnamespace
  AND (has_function_privilege('segments_reader', p.oid, 'EXECUTE') OR has_function_privilege('segments_editor', p.oid, 'EXECUTE'))
  AND (p.prosecdef OR p.provolatile = 'v' OR (l.lanname NOT IN ('sql', 'plpgsql') AND p.prokind <> 'a')
       OR EXISTS (SELECT 1 FROM pg_aggregate a JOIN pg_proc s
                    ON s.oid IN (a.aggtransfn, a.aggfinalfn, a.aggcombinefn, a.aggserialfn, a.aggdeserialfn)
                  WHERE a.aggfnoid = p.oid AND (s.prosecdef OR s.provolatile = 'v')));
-- 5. No schema of the extension lets anyone but its owner create objects in it.
SELECT n.nspname, a.grantee::regrole FROM pg_namespace n, aclexplode(n.nspacl) a
WHERE n.nspname IN ('segments', 'segments_internal', 'segment_rules', 'segment_members')
  AND a.privilege_type = 'CREATE' AND a.grantee <> n.nspowner;
-- 6. Nobody but the owner may write a table, view or sequence of the extension's schemas.
SELECT c.oid::regclass AS writable, a.grantee, a.privilege_type FROM pg_class c, aclexplode(c.relacl) a
WHERE c.relnamespace IN ('segments'::regnamespace, 'segments_internal'::regnamespace, 'segment_rules'::regnamespace,
                         'segment_members'::regnamespace)
  AND a.grantee <> c.relowner AND a.privilege_type NOT IN ('SELECT');
SELECT c.oid::regclass AS writable_column, a.attname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
WHERE c.relnamespace = 'segments'::regnamespace AND a.attacl IS NOT NULL
  AND EXISTS (SELECT 1 FROM aclexplode(a.attacl) x WHERE x.privilege_type <> 'SELECT');
-- 7. A personal column is readable only with segments_pii, wherever it is shown.
SELECT c.oid::regclass AS relation, a.attname AS personal_column,
       has_column_privilege('segments_reader', c.oid, a.attnum, 'SELECT') AS reader,
       has_column_privilege('segments_editor', c.oid, a.attnum, 'SELECT') AS editor,
       has_column_privilege('segments_pii', c.oid, a.attnum, 'SELECT') AS pii
FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
WHERE c.relnamespace IN ('segments'::regnamespace, 'segment_members'::regnamespace) AND c.relkind IN ('r', 'v', 'm')
  AND a.attname = ANY (ARRAY['email', 'first_name', 'last_name', 'shipping_address', 'billing_address'])
  AND (has_column_privilege('segments_reader', c.oid, a.attnum, 'SELECT')
       OR has_column_privilege('segments_editor', c.oid, a.attnum, 'SELECT')
       OR NOT has_column_privilege('segments_pii', c.oid, a.attnum, 'SELECT'));
-- 8. Readers read every relation of schema segments (the personal columns aside).
SELECT c.oid::regclass AS unreadable_by_reader FROM pg_class c
WHERE c.relnamespace = 'segments'::regnamespace AND c.relkind IN ('r', 'v', 'm')
  AND NOT has_table_privilege('segments_reader', c.oid, 'SELECT')
  AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0
                  AND has_column_privilege('segments_reader', c.oid, a.attnum, 'SELECT'));

-- The roles survive DROP EXTENSION (they are cluster-wide) and CREATE EXTENSION reuses them.
SET client_min_messages = warning;
DROP EXTENSION pg_segments CASCADE;
RESET client_min_messages;
SELECT rolname FROM pg_roles WHERE rolname LIKE 'segments\_%' ORDER BY 1;
CREATE EXTENSION pg_segments;
SELECT pg_has_role('regress_sec_reader', 'segments_reader', 'USAGE') AS reader_kept,
       pg_has_role('regress_sec_admin', 'segments_editor', 'USAGE') AS admin_is_editor;

-- Clean up.
SET client_min_messages = warning;
DROP SCHEMA sec_shop CASCADE;
DROP ROLE regress_sec_public, regress_sec_reader, regress_sec_editor_a, regress_sec_editor_b, regress_sec_admin,
  regress_sec_pii;
RESET client_min_messages;
