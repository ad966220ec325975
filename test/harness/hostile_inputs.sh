#!/usr/bin/env bash
# Hostile input (docs/security.md#hostile-input): every function of the extension, found in
# pg_proc/pg_depend (so functions added later are covered without touching this file), called with
# hostile values per argument type -- NULL, NaN, +-Infinity, +-infinity timestamps, extreme
# intervals, 0, negatives, empty and 1 MB strings, quotes and '; DROP ...', unicode, bad regclass,
# unknown names, odd arrays, JSON and bytes -- as a superuser and as a segments_editor, each call in
# its own transaction (rolled back) under a statement timeout.
# Asserts: no backend crash (psql and the server log), no XX000, no timeout, and every call returns
# a value or a clean error: SQLSTATE class 22 (bad data), 42 (syntax, unknown object, permission),
# 54 (limit), 55 (wrong state), 0A (not supported: e.g. a trigger function called directly) or
# 3F000 / 2BP01. Anything else (XX000, 23xxx reaching a constraint, P0001 without a code, 53xxx,
# 57014 timeout, 40xxx, a crash) fails, listed with the call.
# Per function: the all-baseline call, the all-NULL call and each argument replaced by each hostile
# value of its type, at most PGS_HOSTILE_CAP (60) calls (evenly sampled beyond).
# No function is skipped; known failures of other areas are listed in KNOWN below.
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/lib/pg.sh
trap pgs_stop EXIT
pgs_setup
# The server log keeps crashes (LOG) but not the errors: those echo the 1 MB arguments.
pgs_start "shared_preload_libraries = 'pg_segments'" "pg_segments.scheduler_enabled = off" \
  "log_min_messages = log" "log_min_error_statement = panic"

CAP=${PGS_HOSTILE_CAP:-60}
TIMEOUT_S=${PGS_HOSTILE_TIMEOUT:-10}
# Known failures in other areas, reported but not failing the harness: "<function> <SQLSTATE>",
# e.g. "public.expected_purchases XX000" (fixed by issue 13). Keep it empty.
KNOWN=()
work=$(mktemp -d /tmp/pg_segments_hostile.XXXXXX)
trap 'rm -rf "$work"; pgs_stop' EXIT
chmod 777 "$work"

pgs_psql >/dev/null <<'SQL'
SET client_min_messages = error;
CREATE EXTENSION pg_segments;
SET pg_segments.facts_max_age = -1;
CREATE SCHEMA hostile;
CREATE TABLE hostile.orders (cid text, at timestamptz, amount numeric, ok boolean);
CREATE TABLE hostile.people (cid text, email text, first text, created timestamptz);
CREATE TABLE hostile.events (cid text, kind text, at timestamptz);
CREATE TABLE hostile.lines (order_id text, product text, units numeric);
INSERT INTO hostile.orders SELECT 'c' || (i % 40), timestamptz '2024-01-01' + i * interval '37 hours', (i % 13) * 7.5, i % 11 <> 0
FROM generate_series(1, 300) i;
INSERT INTO hostile.people SELECT 'c' || i, 'c' || i || '@example.com', 'N' || i, timestamptz '2023-12-01' + i * interval '1 day'
FROM generate_series(0, 45) i;
INSERT INTO hostile.events SELECT 'c' || (i % 30), (ARRAY['product_view', 'cart_add', 'email_open', 'session'])[1 + i % 4],
  timestamptz '2024-04-01' + i * interval '5 hours' FROM generate_series(1, 200) i;
SELECT segments.map_source('orders', 'hostile.orders', '{"customer_id": "cid", "ordered_at": "at", "amount": "amount", "valid": "ok"}');
SELECT segments.map_source('contacts', 'hostile.people', '{"customer_id": "cid", "email": "email", "first_name": "first", "created_at": "created"}');
SELECT segments.map_source('events', 'hostile.events', '{"customer_id": "cid", "kind": "kind", "at": "at"}');
SELECT segments.refresh_facts('2024-06-01');
SELECT segments.create_segment('hostile_seg', 'orders > 2');
SELECT segments.create_segment('hostile_q', query => 'SELECT customer_id FROM segments.customers WHERE revenue > 50');
SELECT count(*) FROM segments.install_pack('lifecycle');
CREATE ROLE hostile_editor IN ROLE segments_editor;
GRANT USAGE ON SCHEMA hostile TO hostile_editor;
GRANT SELECT ON ALL TABLES IN SCHEMA hostile TO hostile_editor;
SET ROLE hostile_editor;
SELECT segments.create_segment('hostile_mine', 'orders > 1');
RESET ROLE;
SQL

# The calls: one line each, "<function oid>|<n>|<kind>|<statement>".
pgs_psql -At -F '|' -v cap="$CAP" > "$work/calls" <<'SQL'
-- Hostile values by type (SQL expressions, one line each); the first non-NULL is the baseline
-- unless an argument name says better (below).
CREATE TEMP TABLE v (typ regtype, ord int, val text);
INSERT INTO v VALUES
  ('text', 1, $$'x'$$), ('text', 2, 'NULL'), ('text', 3, $$''$$), ('text', 4, $$repeat('x', 1048576)$$),
  ('text', 5, $$''''$$), ('text', 6, $$'"'$$), ('text', 7, $$'''; DROP TABLE hostile.orders; --'$$),
  ('text', 8, $v$'$$ x'$v$), ('text', 9, $$'/*'$$), ('text', 10, $$'ü😀 ∑ 𝔘'$$), ('text', 11, $$E'\t\n\r'$$),
  ('text', 12, $$'no_such_thing'$$), ('text', 13, $$'hostile_seg'$$), ('text', 14, $$repeat('é', 300)$$),
  ('name', 1, $$'x'$$), ('name', 2, 'NULL'), ('name', 3, $$''$$), ('name', 4, $$repeat('x', 1048576)$$),
  ('name', 5, $$'no_such_db'$$), ('name', 6, $$'''; DROP'$$),
  ('integer', 1, '1'), ('integer', 2, 'NULL'), ('integer', 3, '0'), ('integer', 4, '-1'),
  ('integer', 5, '2147483647'), ('integer', 6, '-2147483648'),
  ('bigint', 1, '1'), ('bigint', 2, 'NULL'), ('bigint', 3, '0'), ('bigint', 4, '-1'),
  ('bigint', 5, '9223372036854775807'), ('bigint', 6, '-9223372036854775808'),
  ('double precision', 1, '1'), ('double precision', 2, 'NULL'), ('double precision', 3, $$'NaN'$$),
  ('double precision', 4, $$'Infinity'$$), ('double precision', 5, $$'-Infinity'$$), ('double precision', 6, '0'),
  ('double precision', 7, '-1'), ('double precision', 8, '1e308'), ('double precision', 9, '5e-324'),
  ('double precision', 10, '-1e308'),
  ('numeric', 1, '1'), ('numeric', 2, 'NULL'), ('numeric', 3, $$'NaN'$$), ('numeric', 4, $$'Infinity'$$),
  ('numeric', 5, $$'-Infinity'$$), ('numeric', 6, '0'), ('numeric', 7, '-1'), ('numeric', 8, '1e300'),
  ('numeric', 9, '-1e-300'), ('numeric', 10, '99999999999999999999999999999999999999.123456789'),
  ('timestamp with time zone', 1, $$'2024-06-01'$$), ('timestamp with time zone', 2, 'NULL'),
  ('timestamp with time zone', 3, $$'infinity'$$), ('timestamp with time zone', 4, $$'-infinity'$$),
  ('timestamp with time zone', 5, $$'4713-01-01 00:00:00+00 BC'$$),
  ('timestamp with time zone', 6, $$'294276-12-31 23:59:59+00'$$), ('timestamp with time zone', 7, $$'1970-01-01'$$),
  ('timestamp with time zone', 8, 'now()'),
  ('interval', 1, $$'1 day'$$), ('interval', 2, 'NULL'), ('interval', 3, $$'0'$$), ('interval', 4, $$'-1 day'$$),
  ('interval', 5, $$'178000000 years'$$), ('interval', 6, $$'-178000000 years'$$), ('interval', 7, $$'1 microsecond'$$),
  ('interval', 8, $$'2147483647 days'$$), ('interval', 9, $$'1 month -30 days'$$),
  ('boolean', 1, 'false'), ('boolean', 2, 'NULL'), ('boolean', 3, 'true'),
  ('regclass', 1, $$'hostile.orders'$$), ('regclass', 2, 'NULL'), ('regclass', 3, $$'pg_catalog.pg_class'$$),
  ('regclass', 4, $$'pg_catalog.pg_authid'$$), ('regclass', 5, '0::oid'), ('regclass', 6, '4000000000::oid'),
  ('regclass', 7, $$'segments.customers'$$), ('regclass', 8, $$'segments.overview'$$),
  ('regrole', 1, 'current_user'), ('regrole', 2, 'NULL'), ('regrole', 3, '0::oid'), ('regrole', 4, '4000000000::oid'),
  ('regrole', 5, $$'segments_reader'$$), ('regrole', 6, $$'pg_read_all_data'$$),
  ('jsonb', 1, $$'{}'$$), ('jsonb', 2, 'NULL'), ('jsonb', 3, $$'[]'$$), ('jsonb', 4, $$'null'$$), ('jsonb', 5, $$'"x"'$$),
  ('jsonb', 6, $$'{"customer_id": "cid; DROP TABLE hostile.orders"}'$$), ('jsonb', 7, $$'{"customer_id": null}'$$),
  ('jsonb', 8, $$'{"customer_id": 1, "ordered_at": [], "amount": {}}'$$),
  ('jsonb', 9, $$(repeat('[', 3000) || repeat(']', 3000))$$),
  ('jsonb', 10, $$(SELECT jsonb_object_agg('k' || i, i) FROM generate_series(1, 10000) i)::text$$),
  ('text[]', 1, $$'{}'$$), ('text[]', 2, 'NULL'), ('text[]', 3, $$'{NULL}'$$), ('text[]', 4, $$ARRAY[repeat('x', 1048576)]$$),
  ('text[]', 5, $$'{"a;b","''"}'$$), ('text[]', 6, $$array_fill('x'::text, ARRAY[10000])$$),
  ('text[]', 7, $$'{{a,b},{c,d}}'$$), ('text[]', 8, $$'{orders,no_such_kind}'$$), ('text[]', 9, $$'[5:6]={x,y}'$$),
  ('double precision[]', 1, $$'{}'$$), ('double precision[]', 2, 'NULL'), ('double precision[]', 3, $$'{NaN}'$$),
  ('double precision[]', 4, $$'{Infinity,-Infinity}'$$), ('double precision[]', 5, $$'{1,2,3,4}'$$),
  ('double precision[]', 6, $$'{4,3,2,1}'$$), ('double precision[]', 7, $$array_fill(1.0::float8, ARRAY[10000])$$),
  ('double precision[]', 8, $$'{{1,2},{3,4}}'$$), ('double precision[]', 9, $$'{1,NULL,3,4}'$$),
  ('bytea', 1, $$'\x'$$), ('bytea', 2, 'NULL'), ('bytea', 3, $$'\x00'$$), ('bytea', 4, $$decode(repeat('ff', 100), 'hex')$$),
  ('bytea', 5, $$decode(repeat('ab', 1048576), 'hex')$$), ('bytea', 6, $$decode(md5('a') || md5('b'), 'hex')$$),
  ('bytea', 7, $$decode('01000000' || repeat('00', 60), 'hex')$$), ('bytea', 8, $$decode(repeat('7f', 64), 'hex')$$),
  ('internal', 1, 'NULL');
-- Enums: every label and NULL.
INSERT INTO v SELECT e.enumtypid::regtype, e.enumsortorder::int, quote_literal(e.enumlabel) FROM pg_enum e
WHERE e.enumtypid IN (SELECT t.oid FROM pg_type t JOIN pg_depend d ON d.classid = 'pg_type'::regclass AND d.objid = t.oid
                      AND d.deptype = 'e' JOIN pg_extension x ON x.oid = d.refobjid AND x.extname = 'pg_segments');
INSERT INTO v SELECT DISTINCT typ, 100, 'NULL' FROM v WHERE typ IN (SELECT enumtypid FROM pg_enum);
-- Composite types: a real value where one can be made (a fitted model, a summary), NULL, all
-- fields NULL, and every field at NaN / -1 / infinity / 1e308.
CREATE TEMP TABLE comp AS
SELECT t.oid::regtype AS typ,
  'ROW(' || string_agg(CASE WHEN a.atttypid IN ('float8'::regtype, 'float4'::regtype, 'numeric'::regtype) THEN $$'NaN'$$
                            WHEN a.atttypid IN ('int4'::regtype, 'int8'::regtype, 'int2'::regtype) THEN '-1'
                            WHEN a.atttypid = 'bool'::regtype THEN 'true'
                            WHEN a.atttypid = 'timestamptz'::regtype THEN $$'infinity'$$
                            ELSE 'NULL' END, ', ' ORDER BY a.attnum) || ')' AS nan_row,
  'ROW(' || string_agg(CASE WHEN a.atttypid IN ('float8'::regtype, 'float4'::regtype, 'numeric'::regtype) THEN $$'1e308'$$
                            WHEN a.atttypid IN ('int4'::regtype, 'int8'::regtype, 'int2'::regtype) THEN '0'
                            WHEN a.atttypid = 'bool'::regtype THEN 'false'
                            WHEN a.atttypid = 'timestamptz'::regtype THEN $$'-infinity'$$
                            ELSE 'NULL' END, ', ' ORDER BY a.attnum) || ')' AS big_row,
  'ROW(' || string_agg(CASE WHEN a.atttypid IN ('float8'::regtype, 'float4'::regtype, 'numeric'::regtype) THEN $$'-Infinity'$$
                            WHEN a.atttypid IN ('int4'::regtype, 'int8'::regtype, 'int2'::regtype) THEN '2147483647'
                            ELSE 'NULL' END, ', ' ORDER BY a.attnum) || ')' AS inf_row,
  'ROW(' || string_agg('NULL', ', ') || ')' AS null_row
FROM pg_type t JOIN pg_attribute a ON a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_depend d ON d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e'
JOIN pg_extension x ON x.oid = d.refobjid AND x.extname = 'pg_segments'
WHERE t.typtype = 'c' GROUP BY t.oid;
INSERT INTO v SELECT typ, 1, CASE typ::text
    WHEN 'bgnbd_model' THEN '(SELECT bgnbd_fit(f, r, t) FROM (VALUES (2, 30, 40), (0, 0, 35), (5, 20, 38), (1, 3, 30)) s(f, r, t))'
    WHEN 'paretonbd_model' THEN '(SELECT paretonbd_fit(f, r, t) FROM (VALUES (2, 30, 40), (0, 0, 35), (5, 20, 38), (1, 3, 30)) s(f, r, t))'
    WHEN 'gammagamma_model' THEN '(SELECT gammagamma_fit(f, m) FROM (VALUES (2, 30), (1, 20), (5, 25), (3, 40)) s(f, m))'
    WHEN 'rfm' THEN $$(SELECT rfm_summary(o, 10, '2024-06-01') FROM (VALUES (timestamptz '2024-01-01'), ('2024-03-01')) s(o))$$
    ELSE 'NULL' END FROM comp;
INSERT INTO v SELECT typ, 2, 'NULL' FROM comp;
INSERT INTO v SELECT typ, 3, null_row FROM comp;
INSERT INTO v SELECT typ, 4, nan_row FROM comp;
INSERT INTO v SELECT typ, 5, big_row FROM comp;
INSERT INTO v SELECT typ, 6, inf_row FROM comp;

-- Baselines by argument name, so that the other arguments get past the first check.
CREATE TEMP TABLE b (argname text, val text);
INSERT INTO b VALUES
  ('name', $$'hostile_seg'$$), ('segment', $$'hostile_seg'$$), ('new_name', $$'hostile_new'$$),
  ('rule', $$'orders > 0'$$), ('query', 'NULL'), ('description', $$'hostile'$$), ('timezone', $$'UTC'$$),
  ('pack', $$'lifecycle'$$), ('required_sources', 'NULL'), ('build', 'false'), ('kind', $$'orders'$$),
  ('source', $$'hostile.orders'$$), ('order_lines', $$'hostile.lines'$$),
  ('columns', $$'{"customer_id": "cid", "ordered_at": "at", "amount": "amount"}'$$), ('period', $$'month'$$),
  ('from_at', $$'2024-01-01'$$), ('to_at', $$'2024-06-01'$$), ('compare_from', 'NULL'), ('compare_to', 'NULL'),
  ('step', $$'1 month'$$), ('as_of', $$'2024-06-01'$$), ('at', 'now()'), ('cutoff', $$'2024-06-01'$$),
  ('group_by', $$'lifecycle'$$), ('dimension', $$'lifecycle'$$), ('row_dimension', $$'lifecycle'$$),
  ('column_dimension', $$'value_band'$$), ('cells', $$'{{active,low}}'$$), ('label', $$'active'$$), ('buckets', '5'),
  ('run_id', '(SELECT max(id) FROM segments.runs)'), ('segment_id', '(SELECT min(id) FROM segments.segments)'),
  ('id', '(SELECT min(id) FROM segments.segments)'), ('trigger', $$'manual'$$), ('sqlstate', $$'P0001'$$),
  ('message', $$'m'$$), ('caller', 'current_user'), ('owner', 'current_user'), ('enable', 'false'),
  ('frequency', '2'), ('recency', '30'), ('t', '40'), ('monetary', '20'), ('horizon', '10'), ('months', '12'),
  ('monthly_discount', '0.01'), ('unit', $$'weeks'$$), ('last_order_at', $$'2024-05-01'$$), ('aov', '50'),
  ('reference', '40'), ('amount', '10'), ('ordered_at', $$'2024-01-01'$$), ('typical_latency', $$'30 days'$$),
  ('r_score', '3'), ('f_score', '3'), ('opted_in', 'true'), ('last_open_at', $$'2024-05-01'$$),
  ('last_click_at', $$'2024-05-01'$$), ('database', 'current_database()'), ('what', $$'rule'$$), ('max_chars', '100'),
  ('action', $$'create'$$), ('a', $$'x'$$), ('body', $$'SELECT 1'$$), ('note', $$'n'$$), ('val', $$'x'$$),
  ('sql', $$'orders > 0'$$), ('every', $$'1 day'$$), ('tz', $$'UTC'$$), ('old_name', 'NULL'), ('fallback', $$'x'$$),
  ('catch', 'true'), ('wait', 'true'), ('only_customers', 'NULL'), ('if_exists', 'false'), ('vip_threshold', '1000'),
  ('segment_names', 'NULL'), ('required', 'NULL'), ('for_metric', 'NULL'), ('spend_model', NULL), ('model', NULL),
  ('incremental', 'false'), ('state', NULL), ('value', $$'x'$$);

CREATE TEMP TABLE fn AS
SELECT p.oid, p.prokind, format('%I.%I', n.nspname, p.proname) AS qname,
       p.proargtypes::oid[] AS types, coalesce(p.proargnames, '{}') AS names, p.pronargs AS nargs
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
JOIN pg_extension x ON x.oid = d.refobjid AND x.extname = 'pg_segments';

-- Argument i of each function: its type, its baseline and its hostile values.
CREATE TEMP TABLE arg AS
SELECT f.oid, i, f.types[i - 1]::regtype AS typ, f.names[i] AS argname,
  coalesce((SELECT b.val FROM b WHERE b.argname = f.names[i] AND b.val IS NOT NULL
              AND f.types[i - 1]::regtype NOT IN ('internal'::regtype, 'bytea'::regtype) AND (f.types[i - 1]::regtype::text NOT LIKE '%model'
                                                                          AND f.types[i - 1]::regtype::text <> 'rfm')),
           CASE WHEN f.types[i - 1]::regtype = 'bytea'::regtype AND f.names[i] = 'state' THEN
             CASE WHEN f.qname LIKE '%bgnbd%' THEN '(SELECT bgnbd_fit_state(2, 30, 40))'
                  WHEN f.qname LIKE '%paretonbd%' THEN '(SELECT paretonbd_fit_state(2, 30, 40))'
                  WHEN f.qname LIKE '%gammagamma%' THEN '(SELECT gammagamma_fit_state(2, 30))' END END,
           (SELECT v.val FROM v WHERE v.typ = f.types[i - 1]::regtype AND v.val <> 'NULL' ORDER BY v.ord LIMIT 1),
           'NULL') AS base
FROM fn f, generate_series(1, f.nargs) i;
-- Create functions get a fresh name by default, so that creating is exercised, not just refused.
UPDATE arg SET base = $$'hostile_new'$$
WHERE argname = 'name' AND oid IN (SELECT oid FROM fn WHERE qname LIKE '%create%segment');

CREATE TEMP TABLE calls AS
WITH variants AS (
  SELECT f.oid, 0 AS i, NULL::text AS val, 0 AS ord FROM fn f           -- all baselines
  UNION ALL SELECT f.oid, -1, NULL, 0 FROM fn f WHERE f.nargs > 0      -- all NULL
  UNION ALL SELECT a.oid, a.i, v.val, v.ord FROM arg a JOIN v ON v.typ = a.typ AND v.val <> a.base
),
numbered AS (
  SELECT x.*, row_number() OVER (PARTITION BY x.oid ORDER BY x.i <> 0, x.i <> -1, x.ord, x.i) AS n,
         count(*) OVER (PARTITION BY x.oid) AS total
  FROM variants x
),
kept AS (SELECT * FROM numbered WHERE total <= :cap OR (n - 1) % ceil(total::numeric / :cap)::int = 0)
SELECT k.oid, k.n, f.prokind, f.qname,
  (SELECT string_agg(format('(%s)::%s', CASE WHEN k.i = -1 THEN 'NULL' WHEN a.i = k.i THEN k.val ELSE a.base END,
                            format_type(a.typ, NULL)), ', ' ORDER BY a.i)
   FROM arg a WHERE a.oid = k.oid) AS args,
  (SELECT string_agg(format('(%s)::%s', a.base, format_type(a.typ, NULL)), ', ' ORDER BY a.i)
   FROM arg a WHERE a.oid = k.oid) AS base_args,
  (SELECT string_agg('x' || a.i, ', ' ORDER BY a.i) FROM arg a WHERE a.oid = k.oid) AS cols
FROM kept k JOIN fn f ON f.oid = k.oid;

SELECT oid, n, prokind,
  CASE prokind
    WHEN 'p' THEN format('CALL %s(%s);', qname, coalesce(args, ''))
    WHEN 'a' THEN format('SELECT %s(%s) FROM (VALUES (%s), (%s)) v(%s);', qname, cols, base_args, args, cols)
    WHEN 'w' THEN format('SELECT %s(%s) OVER (ORDER BY x1) FROM (VALUES (%s), (%s)) v(%s);', qname, cols, base_args, args, cols)
    ELSE format('SELECT %s(%s);', qname, coalesce(args, '')) END
FROM calls ORDER BY oid, n;
SQL
total_fns=$(cut -d'|' -f1 "$work/calls" | sort -u | wc -l)
echo "functions: $total_fns, calls per role: $(wc -l < "$work/calls")"

# One psql per function and role; each call in a transaction that is rolled back (procedures
# manage their own transactions); markers on stderr between calls attribute each error.
run_role() {
  local role=$1 fnoid script
  for fnoid in $(cut -d'|' -f1 "$work/calls" | sort -un); do
    script="$work/$role.$fnoid.sql"
    {
      echo '\set VERBOSITY sqlstate'
      echo 'SET client_min_messages = error;'
      echo "SET statement_timeout = '${TIMEOUT_S}s';"
      echo "SET lock_timeout = '5s';"
      [ "$role" = postgres ] || echo "SET ROLE $role;"
      awk -F'|' -v f="$fnoid" '$1 == f {
        stmt = substr($0, length($1) + length($2) + length($3) + 4)
        print "\\warn @@" $1 ":" $2
        if ($3 == "p") print stmt; else { print "BEGIN;"; print stmt; print "ROLLBACK;" }
      }' "$work/calls"
      echo '\warn @@end'
    } > "$script"
    local rc=0
    timeout $((TIMEOUT_S * 4 + 60)) "$PGS_BIN/psql" -X -q -d postgres -o /dev/null -f "$script" 2> "$script.err" || rc=$?
    echo "$fnoid $rc" >> "$work/$role.rc"
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then
      # psql lost the connection (crash) or hung: wait for the server to accept connections again.
      for _ in $(seq 1 60); do "$PGS_BIN/pg_isready" -q -h "$PGS_SOCK" -p "$PGS_PORT" && break; sleep 1; done
    fi
  done
}

start=$(date +%s)
run_role postgres
run_role hostile_editor
elapsed=$(( $(date +%s) - start ))

# Tally: per call, the SQLSTATE of its error (if any) from the lines after its marker.
for role in postgres hostile_editor; do
  for err in "$work"/$role.*.sql.err; do
    awk -v role="$role" '
      /^psql:.*@@/ || /^@@/ { sub(/^.*@@/, ""); if (cur != "") print role, cur, (st == "" ? "value" : st); cur = $0; st = ""; next }
      /ERROR:  / { if (st == "") { i = index($0, "ERROR:  "); st = substr($0, i + 8, 5) } next }
      /server closed the connection|connection to server was lost|no connection to the server/ { if (st == "") st = "CRASH" }
      END { if (cur != "" && cur != "end") print role, cur, (st == "" ? "CRASH" : st) }
    ' "$err"
  done
done > "$work/outcomes" || true

# Each outcome with its function's name: role, oid:call, outcome, function.
sed -E 's/^([0-9]+)\|[0-9]+\|.\|(SELECT|CALL) ([A-Za-z0-9_]+\.[A-Za-z0-9_]+).*/\1 \3/' "$work/calls" | sort -u > "$work/names"
awk 'NR == FNR { name[$1] = $2; next } { split($2, k, ":"); print $0, name[k[1]] }' "$work/names" "$work/outcomes" > "$work/named"
printf '%s\n' "${KNOWN[@]+"${KNOWN[@]}"}" > "$work/known"
awk 'NR == FNR { known[$0] = 1; next }
     { c = ($3 == "value") ? "value" : ($3 ~ /^(22|42|54|55|0A)/ || $3 == "3F000" || $3 == "2BP01") ? "clean" \
           : (($4 " " $3) in known) ? "known" : "bad"; print $0, c }' "$work/known" "$work/named" > "$work/classified"

calls=$(wc -l < "$work/classified")
values=$(awk '$5 == "value"' "$work/classified" | wc -l)
clean=$(awk '$5 == "clean"' "$work/classified" | wc -l)
known=$(awk '$5 == "known"' "$work/classified" | wc -l)
bad=$(awk '$5 == "bad"' "$work/classified" | wc -l)
xx=$(awk '$5 == "bad" && $3 ~ /^XX/' "$work/classified" | wc -l)
timeouts=$(awk '$3 == "57014"' "$work/classified" | wc -l)
crashes=$(awk '$3 == "CRASH"' "$work/classified" | wc -l)
psql_failed=$(cat "$work"/*.rc | awk '$2 != 0 && $2 != 1' | wc -l)
log_crashes=$(grep -cE "terminated by signal|PANIC|TRAP:" "$PGS_DATA/server.log" || true)

echo "figures: $elapsed s on $(nproc) cores, $total_fns functions x 2 roles, cap $CAP calls per function, timeout ${TIMEOUT_S}s"
show() {  # the calls of one class, with their statements
  awk -v c="$1" '$5 == c' "$work/classified" | head -40 | while read -r role id st fn _; do
    echo "  $role $st $(awk -F'|' -v k="$id" '($1 ":" $2) == k { print substr($0, length($1) + length($2) + length($3) + 4) }' "$work/calls" | cut -c1-240)"
  done
}
if [ "$known" -gt 0 ]; then echo "known failures of other areas (KNOWN), not counted as failing:"; show known; fi
if [ "$bad" -gt 0 ] || [ "$psql_failed" -gt 0 ] || [ "$log_crashes" -gt 0 ]; then
  echo "calls that failed (role, outcome, statement):"; show bad
  awk '$2 != 0 && $2 != 1 { print "  psql exit " $2 " for function " $1 }' "$work"/*.rc | head
  grep -E "terminated by signal|PANIC|TRAP:" "$PGS_DATA/server.log" | head -5 || true
fi
[ "$crashes" -eq 0 ] && [ "$psql_failed" -eq 0 ] && [ "$log_crashes" -eq 0 ] || fail "backend crashes: $crashes calls, $psql_failed psql runs, $log_crashes in the server log"
[ "$xx" -eq 0 ] || fail "$xx calls raised XX000"
[ "$timeouts" -eq 0 ] || fail "$timeouts calls timed out"
[ "$bad" -eq 0 ] || fail "$bad calls ended in an error that is not clean"
ok "every call returned a value or a clean error; no crash, XX000 or timeout"
echo "hostile inputs: $calls calls tried, $clean clean errors, $values values returned, $known known failures elsewhere (KNOWN), 0 XX000, 0 timeouts, 0 crashes"
