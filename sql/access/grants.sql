-- Who may use what (docs/security.md). Last in sql/order.txt and re-run by every upgrade, so it
-- covers every relation and routine the areas above define, including ones added later:
--
-- relations of schemas segments and segment_members: SELECT for segments_reader and segments_editor
--   (row-level security and the member views' own check decide which segments' rows they see);
--   a relation with a personal column (segments_internal._pii_columns()) gets column grants instead:
--   the other columns to readers and editors, the personal ones (and customer_id) to segments_pii.
-- routines of schemas segments and segments_internal: nothing for PUBLIC; then
--   segments_admin   the administrator's functions listed below;
--   segments_editor  the write entry points listed below (each checks ownership itself);
--   reader + editor  every other SECURITY INVOKER SQL or PL/pgSQL routine of schema segments (it can
--                    only do what the caller's own privileges allow: nobody but the extension owner
--                    may write the engine's tables), the listed C functions, and the read-only
--                    SECURITY INVOKER helpers of segments_internal that such routines call
--                    (_insights_* and the listed ones; each must be STABLE or IMMUTABLE, so that
--                    PostgreSQL refuses any write inside it: security_matrix checks this);
--   nobody else      every other routine: the SECURITY DEFINER implementations and helpers of the
--                    engine run only as the extension owner, called by the entry points.
-- Analytics functions of the extension's own schema (clv, order_latency, ...) keep PUBLIC's
-- default EXECUTE: they are pure functions over the caller's own data.

-- Segments created before this version: rule relations the upgrade dropped (over 0.1's stored
-- facts table, sql/updates/0.1--0.2/issue-11.sql) are rebuilt over segments.customers, empty until
-- the next refresh; member views are rebuilt (0.1's were security_invoker, granted to PUBLIC).
SELECT segments_internal._build_rule_relation(s.id, s.rule, s.query, s.owner) FROM segments.segments s
WHERE to_regclass(segments_internal._rule_relation(s.id)) IS NULL;
SELECT segments_internal._build_member_view(s.id) FROM segments.segments s;

DO $$
DECLARE
  r record;
  admin_routines name[] := ARRAY['map_source', 'unmap_source', 'restore_sources', 'refresh_facts', 'track_changes',
    'install_pack', 'uninstall_pack', 'recover_runs', 'prune_runs', 'refresh_due',
    'add_shard', 'remove_shard', 'shard_table'];
  -- the refresh-due policy, which CALL segments.refresh_due() runs as its caller
  admin_internal_routines name[] := ARRAY['_next_due_runs', '_run_due'];
  editor_routines name[] := ARRAY['create_segment', 'alter_segment', 'drop_segment', 'activate_segment',
    'deactivate_segment', 'refresh', 'refresh_now', 'refresh_all', 'wake_worker'];
  reader_c_routines name[] := ARRAY['worker_preloaded', 'worker_serves', 'worker_status_rows', 'progress_rows'];
  -- the per-source fact queries and the mean AOV compute_facts inlines (read-only, SECURITY INVOKER)
  reader_helpers name[] := ARRAY['_get', '_check_schedule', 'order_facts', 'contact_facts', 'event_facts',
    'abandoned_carts', 'cart_facts', 'subscription_facts', 'deal_facts', '_mean_aov', 'holdout_customers', 'holdout_check'];
  -- the C aggregate order_facts inlines (its support functions stay the owner's)
  reader_internal_aggregates name[] := ARRAY['order_facts_of'];
  grantee text;
BEGIN
  FOR r IN
    SELECT c.oid::regclass AS rel,
           EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0
                   AND NOT a.attisdropped AND a.attname = ANY (segments_internal._pii_columns())) AS personal
    FROM pg_catalog.pg_class c
    WHERE c.relnamespace IN ('segments'::regnamespace, 'segment_members'::regnamespace)
      AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
  LOOP
    IF r.personal THEN
      PERFORM segments_internal._grant_facts_columns(r.rel);
    ELSE
      EXECUTE format('REVOKE ALL ON %s FROM PUBLIC', r.rel);
      EXECUTE format('GRANT SELECT ON %s TO segments_reader, segments_editor', r.rel);
    END IF;
  END LOOP;
  REVOKE ALL ON ALL TABLES IN SCHEMA segment_rules, segments_internal FROM PUBLIC;
  -- compute_facts (readers may run it) reads the sharded refresh's globals (empty outside it)
  GRANT SELECT ON segments_internal.facts_globals TO segments_reader, segments_editor;
  REVOKE ALL ON ALL SEQUENCES IN SCHEMA segments, segments_internal FROM PUBLIC;

  REVOKE ALL ON ALL ROUTINES IN SCHEMA segments, segments_internal FROM PUBLIC;
  FOR r IN
    SELECT p.oid::regprocedure AS fn, p.proname, n.nspname, p.prosecdef, l.lanname
    FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
    JOIN pg_catalog.pg_language l ON l.oid = p.prolang
    WHERE n.nspname IN ('segments', 'segments_internal')
  LOOP
    grantee := CASE
      WHEN r.nspname = 'segments' AND r.proname = ANY (admin_routines) THEN 'segments_admin'
      WHEN r.nspname = 'segments_internal' AND r.proname = ANY (admin_internal_routines) THEN 'segments_admin'
      WHEN r.nspname = 'segments' AND r.proname = ANY (editor_routines) THEN 'segments_editor'
      WHEN r.nspname = 'segments' AND r.proname = ANY (reader_c_routines) THEN 'segments_reader, segments_editor'
      WHEN r.nspname = 'segments_internal' AND r.proname = ANY (reader_internal_aggregates) THEN 'segments_reader, segments_editor'
      WHEN r.prosecdef OR r.lanname NOT IN ('sql', 'plpgsql') THEN NULL
      WHEN r.nspname = 'segments' THEN 'segments_reader, segments_editor'
      WHEN r.proname LIKE '\_insights\_%' OR r.proname = ANY (reader_helpers) THEN 'segments_reader, segments_editor'
    END;
    IF grantee IS NOT NULL THEN
      EXECUTE format('GRANT EXECUTE ON ROUTINE %s TO %s', r.fn, grantee);
    END IF;
  END LOOP;
END $$;
