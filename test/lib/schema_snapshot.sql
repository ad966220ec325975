-- One line per property of every object of pg_segments in this database, sorted: what an upgraded
-- database and a fresh install must agree on (test/harness/upgrade.sh diffs two of these).
-- Per-segment objects (segment_rules.s_<id>) are left out: their names carry ids.
WITH ext AS (SELECT oid FROM pg_extension WHERE extname = 'pg_segments'),
nsp AS (SELECT oid, nspname FROM pg_namespace
        WHERE nspname IN ('segments', 'segments_internal', 'segment_rules', 'segment_members')
           OR oid = (SELECT extnamespace FROM pg_extension WHERE extname = 'pg_segments')),
member AS (SELECT classid, objid FROM pg_depend WHERE refclassid = 'pg_extension'::regclass
           AND refobjid = (SELECT oid FROM ext) AND deptype = 'e'),
procs AS (SELECT p.* FROM pg_proc p WHERE p.pronamespace IN (SELECT oid FROM nsp)
          AND (p.pronamespace <> (SELECT extnamespace FROM pg_extension WHERE extname = 'pg_segments')
               OR p.oid IN (SELECT objid FROM member WHERE classid = 'pg_proc'::regclass))),
rels AS (SELECT c.* FROM pg_class c WHERE c.relnamespace IN (SELECT oid FROM nsp)
         AND c.relkind IN ('r', 'v', 'm', 'S', 'p', 'f', 'c', 'i')
         AND NOT (c.relnamespace = 'segment_rules'::regnamespace)
         AND (c.relnamespace <> (SELECT extnamespace FROM pg_extension WHERE extname = 'pg_segments')
              OR c.oid IN (SELECT objid FROM member WHERE classid = 'pg_class'::regclass)
              OR c.reltype IN (SELECT objid FROM member WHERE classid = 'pg_type'::regclass))),
types AS (SELECT t.* FROM pg_type t WHERE t.oid IN (SELECT objid FROM member WHERE classid = 'pg_type'::regclass)
          OR (t.typnamespace IN (SELECT oid FROM nsp WHERE nspname LIKE 'segment%') AND t.typtype IN ('e', 'd'))),
lines(line) AS (
  SELECT format('schema %s acl=%s comment=%s', n.nspname, n.nspacl, obj_description(n.oid, 'pg_namespace'))
  FROM pg_namespace n WHERE n.oid IN (SELECT oid FROM nsp WHERE nspname LIKE 'segment%')
  UNION ALL
  SELECT format('routine %s kind=%s returns=%s lang=%s secdef=%s vol=%s strict=%s par=%s config=%s args=%s src=%s acl=%s member=%s comment=%s',
    p.oid::regprocedure, p.prokind, pg_get_function_result(p.oid), l.lanname, p.prosecdef, p.provolatile,
    p.proisstrict, p.proparallel, p.proconfig, pg_get_function_arguments(p.oid),
    CASE WHEN l.lanname = 'c' THEN p.prosrc ELSE md5(p.prosrc) END, p.proacl,
    p.oid IN (SELECT objid FROM member), obj_description(p.oid, 'pg_proc'))
  FROM procs p JOIN pg_language l ON l.oid = p.prolang
  UNION ALL
  SELECT format('aggregate %s sfunc=%s stype=%s final=%s combine=%s serial=%s deserial=%s msfunc=%s minv=%s mstype=%s finalmodify=%s sspace=%s init=%s',
    a.aggfnoid::regprocedure, a.aggtransfn, a.aggtranstype::regtype, a.aggfinalfn, a.aggcombinefn, a.aggserialfn,
    a.aggdeserialfn, a.aggmtransfn, a.aggminvtransfn, a.aggmtranstype::regtype, a.aggfinalmodify, a.aggtransspace, a.agginitval)
  FROM pg_aggregate a WHERE a.aggfnoid IN (SELECT oid FROM procs)
  UNION ALL
  SELECT format('relation %s.%s kind=%s acl=%s rls=%s options=%s member=%s comment=%s%s',
    c.relnamespace::regnamespace, c.relname, c.relkind, c.relacl, c.relrowsecurity, c.reloptions,
    c.oid IN (SELECT objid FROM member), obj_description(c.oid, 'pg_class'),
    CASE WHEN c.relkind IN ('v', 'm') AND c.relnamespace <> 'segment_members'::regnamespace
         THEN ' view=' || md5(pg_get_viewdef(c.oid)) ELSE '' END)
  FROM rels c WHERE c.relkind <> 'i'
  UNION ALL
  SELECT format('column %s.%s.%s type=%s notnull=%s default=%s acl=%s comment=%s',
    c.relnamespace::regnamespace, c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
    pg_get_expr(d.adbin, d.adrelid), a.attacl, col_description(c.oid, a.attnum))
  FROM rels c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
  WHERE c.relkind <> 'i'
  UNION ALL
  SELECT format('column-order %s.%s %s', c.relnamespace::regnamespace, c.relname,
    (SELECT string_agg(a.attname, ',' ORDER BY a.attnum) FROM pg_attribute a
     WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped))
  FROM rels c WHERE c.relkind <> 'i'
  UNION ALL
  SELECT format('constraint %s %s %s', co.conrelid::regclass, co.conname, pg_get_constraintdef(co.oid))
  FROM pg_constraint co WHERE co.conrelid IN (SELECT oid FROM rels)
  UNION ALL
  SELECT format('index %s', regexp_replace(pg_get_indexdef(i.indexrelid), 'INDEX \S+ ON', 'INDEX ON'))
  FROM pg_index i WHERE i.indrelid IN (SELECT oid FROM rels)
  UNION ALL
  SELECT format('trigger %s %s', t.tgrelid::regclass, pg_get_triggerdef(t.oid))
  FROM pg_trigger t WHERE NOT t.tgisinternal AND (t.tgrelid IN (SELECT oid FROM rels) OR t.tgfoid IN (SELECT oid FROM procs))
  UNION ALL
  SELECT format('policy %s %s cmd=%s roles=%s using=%s check=%s', po.polrelid::regclass, po.polname, po.polcmd,
    po.polroles::regrole[], pg_get_expr(po.polqual, po.polrelid), pg_get_expr(po.polwithcheck, po.polrelid))
  FROM pg_policy po WHERE po.polrelid IN (SELECT oid FROM rels)
  UNION ALL
  SELECT format('type %s kind=%s labels=%s comment=%s member=%s', t.oid::regtype, t.typtype,
    (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid),
    obj_description(t.oid, 'pg_type'), t.oid IN (SELECT objid FROM member))
  FROM types t
  UNION ALL
  SELECT format('type-attributes %s %s', t.oid::regtype,
    (SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum)
     FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped))
  FROM types t WHERE t.typtype = 'c'
  UNION ALL
  SELECT format('sequence %s start=%s inc=%s max=%s', s.seqrelid::regclass, s.seqstart, s.seqincrement, s.seqmax)
  FROM pg_sequence s WHERE s.seqrelid IN (SELECT oid FROM rels)
  UNION ALL
  SELECT format('config-dump %s condition=%s', c.cfg::regclass, c.cond)
  FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS c(cfg, cond) WHERE e.extname = 'pg_segments'
  UNION ALL
  SELECT format('extension version=%s schema=%s', e.extversion, e.extnamespace::regnamespace)
  FROM pg_extension e WHERE e.extname = 'pg_segments'
)
SELECT line FROM lines ORDER BY line COLLATE "C";
