-- What BI tools, ORMs and sync jobs read: the insight views equal their functions, every column of
-- schemas segments and segment_members has a comment, overview uses only portable types and says
-- when facts are stale, and the audience functions replay to the membership.
\i test/regress/sql/insights_data.psql
SELECT segments.map_source('orders', 'ins.orders',
  '{"customer_id": "customer", "order_id": "id", "ordered_at": "created_at", "amount": "total", "valid": "status = ''paid''"}');
SELECT segments.map_source('contacts', 'ins.contacts',
  '{"customer_id": "id", "email": "email", "opted_in": "opted_in", "created_at": "signup_at"}');
SELECT 1 AS refreshed FROM segments.refresh_facts();
SELECT segments.create_segment('bi_loyal', rule => 'orders >= 5') > 0 AS created;
SELECT segments.create_segment('bi "quoted" name', rule => 'revenue > 500') > 0 AS created;

-- Each view is its function with the documented defaults: no row differs either way.
SELECT 'lifecycle_value_matrix' AS view, count(*) AS differing FROM (
  (SELECT lifecycle, value_band, contacts, customers, revenue FROM segments.lifecycle_value_matrix
   EXCEPT ALL SELECT row_value, column_value, contacts, customers, revenue FROM segments.dimension_matrix('lifecycle', 'value_band'))
  UNION ALL
  (SELECT row_value, column_value, contacts, customers, revenue FROM segments.dimension_matrix('lifecycle', 'value_band')
   EXCEPT ALL SELECT lifecycle, value_band, contacts, customers, revenue FROM segments.lifecycle_value_matrix)) d
UNION ALL
SELECT 'cohort_retention', count(*) FROM (
  (SELECT * FROM segments.cohort_retention EXCEPT ALL SELECT * FROM segments.cohorts('month'))
  UNION ALL (SELECT * FROM segments.cohorts('month') EXCEPT ALL SELECT * FROM segments.cohort_retention)) d
UNION ALL
SELECT 'new_returning_lapsed_monthly', count(*) FROM (
  (SELECT * FROM segments.new_returning_lapsed_monthly
   EXCEPT ALL SELECT * FROM segments.new_returning_lapsed_series(date_trunc('month', now()) - interval '11 months',
                                                                   date_trunc('month', now()) + interval '1 month'))
  UNION ALL
  (SELECT * FROM segments.new_returning_lapsed_series(date_trunc('month', now()) - interval '11 months',
                                                       date_trunc('month', now()) + interval '1 month')
   EXCEPT ALL SELECT * FROM segments.new_returning_lapsed_monthly)) d
UNION ALL
SELECT 'segment_overlap', count(*) FROM (
  (SELECT * FROM segments.segment_overlap EXCEPT ALL SELECT * FROM segments.overlap())
  UNION ALL (SELECT * FROM segments.overlap() EXCEPT ALL SELECT * FROM segments.segment_overlap)) d
UNION ALL
SELECT 'segment_development', count(*) FROM (
  (SELECT segment, run_id, size, joined, "left" FROM segments.segment_development
   EXCEPT ALL SELECT s.name, h.run_id, h.size, h.joined, h."left" FROM segments.history h JOIN segments.segments s ON s.id = h.segment_id)
  UNION ALL
  (SELECT s.name, h.run_id, h.size, h.joined, h."left" FROM segments.history h JOIN segments.segments s ON s.id = h.segment_id
   EXCEPT ALL SELECT segment, run_id, size, joined, "left" FROM segments.segment_development)) d;
SELECT count(*) = 12 * 3 AS twelve_months_of_three_statuses FROM segments.new_returning_lapsed_monthly;

-- Every column of every table and view in segments and segment_members has a comment.
SELECT n.nspname, c.relname, a.attname
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname IN ('segments', 'segment_members') AND c.relkind IN ('r', 'v', 'm', 'p', 'f')
  AND coalesce(col_description(c.oid, a.attnum), '') = ''
ORDER BY 1, 2, a.attnum;
SELECT count(*) > 100 AS many_columns_checked
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname IN ('segments', 'segment_members') AND c.relkind IN ('r', 'v', 'm', 'p', 'f');
-- A member view carries the facts' own descriptions.
SELECT col_description('segment_members.bi_loyal'::regclass, a.attnum) = col_description('segments.customers'::regclass, b.attnum) AS same_comment
FROM pg_attribute a, pg_attribute b
WHERE a.attrelid = 'segment_members.bi_loyal'::regclass AND a.attname = 'predicted_clv'
  AND b.attrelid = 'segments.customers'::regclass AND b.attname = 'predicted_clv';

-- No type a common client cannot map in the BI relations (regrole, regclass, oid, arrays of them).
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname IN ('segments', 'segment_members') AND c.relkind = 'v'
  AND a.atttypid IN ('regrole'::regtype, 'regclass'::regtype, 'regproc'::regtype, 'oid'::regtype)
  AND c.relname NOT IN ('worker_status', 'sources')
ORDER BY 1, 2;
SELECT segment, owner, customers > 0 AS has_members, facts_stale FROM segments.overview ORDER BY segment;

-- Facts gone (as after pg_restore): overview still counts the members and says the facts are stale.
CREATE TEMP TABLE before AS SELECT segment, customers FROM segments.overview;
DELETE FROM segments.facts_status;
DELETE FROM segments.customers;
SELECT o.segment, o.customers = b.customers AS same_count, o.revenue, o.facts_as_of, o.facts_stale
FROM segments.overview o JOIN before b USING (segment) ORDER BY 1;
SELECT 1 AS refreshed FROM segments.refresh_facts();
SELECT segment, facts_stale, facts_as_of IS NOT NULL AS has_as_of FROM segments.overview ORDER BY 1;

-- Audience: identifiers are the hex SHA-256 of the trimmed, lower-cased address.
SELECT segments.audience_identifier('  Ann.Lee@Example.COM ') = encode(sha256('ann.lee@example.com'), 'hex') AS sha256_of_normalized,
       segments.audience_identifier('Ann.Lee@Example.COM', 'meta') = segments.audience_identifier('ann.lee@example.com') AS meta_same,
       segments.audience_identifier('A.n.n@GoogleMail.com', 'email') AS normalized,
       segments.audience_identifier('A.n.n@GMail.com', 'google') = encode(sha256('ann@gmail.com'), 'hex') AS google_gmail_dots,
       segments.audience_identifier('A.n.n@example.com', 'google') = encode(sha256('a.n.n@example.com'), 'hex') AS google_other_keeps_dots,
       segments.audience_identifier('   ') IS NULL AS blank_is_null;
-- Membership moves: some members leave, others join; replaying the changes from 0 (in order) gives
-- exactly the current members' identifiers, in batches too.
UPDATE ins.orders SET status = 'cancelled' WHERE customer IN (SELECT customer_id FROM segments.members WHERE segment = 'bi_loyal' ORDER BY 1 LIMIT 7);
SELECT 1 AS refreshed FROM segments.refresh_facts();
SELECT status, joined, "left" FROM segments.refresh('bi_loyal');
CREATE TEMP TABLE dest(identifier text PRIMARY KEY);
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT * FROM segments.audience_changes('bi_loyal', 0) WHERE identifier IS NOT NULL ORDER BY id LOOP
    IF r.action = 'add' THEN INSERT INTO dest VALUES (r.identifier) ON CONFLICT DO NOTHING;
    ELSE DELETE FROM dest WHERE identifier = r.identifier; END IF;
  END LOOP;
END $$;
SELECT count(*) AS members_with_email,
       (SELECT count(*) FROM dest) AS replayed,
       (SELECT count(*) FROM (SELECT segments.audience_identifier(c.email) FROM segments.members m
          JOIN segments.customers c USING (customer_id) WHERE m.segment = 'bi_loyal' AND c.email IS NOT NULL
          EXCEPT SELECT identifier FROM dest) x) AS missing
FROM segments.members m JOIN segments.customers c USING (customer_id) WHERE m.segment = 'bi_loyal' AND c.email IS NOT NULL;
TRUNCATE dest;
DO $$
DECLARE b record;
BEGIN
  FOR b IN SELECT * FROM segments.audience_batches('bi_loyal', 0, 'meta', 50) ORDER BY batch LOOP
    IF b.action = 'add' THEN
      INSERT INTO dest SELECT jsonb_array_elements_text(b.payload -> 'data') ON CONFLICT DO NOTHING;
    ELSE DELETE FROM dest WHERE identifier IN (SELECT jsonb_array_elements_text(b.payload -> 'data')); END IF;
  END LOOP;
END $$;
SELECT (SELECT count(*) FROM dest) AS replayed_batches,
       (SELECT count(*) FROM segments.members m JOIN segments.customers c USING (customer_id)
        WHERE m.segment = 'bi_loyal' AND c.email IS NOT NULL
          AND segments.audience_identifier(c.email) NOT IN (SELECT identifier FROM dest)) AS missing;
SELECT batch, action, identifiers, payload ? 'schema' AS meta_shape, max(last_id) OVER () = (SELECT max(id) FROM segments.changes WHERE segment = 'bi_loyal') AS cursor_reaches_end
FROM segments.audience_batches('bi_loyal', 0, 'meta', 50) ORDER BY batch;
SELECT jsonb_path_query_first(payload, '$.operations[0].remove.userIdentifiers[0].hashedEmail') IS NOT NULL AS google_remove_shape
FROM segments.audience_batches('bi_loyal', 0, 'google') WHERE action = 'remove';
SELECT count(*) AS after_last FROM segments.audience_changes('bi_loyal', (SELECT max(id) FROM segments.changes));
SELECT count(*) AS limited FROM segments.audience_changes('bi_loyal', 0, max_rows => 3);

-- Bad input.
SELECT q AS statement, pg_temp.error_of(q) AS error FROM (VALUES
  ($q$SELECT segments.audience_identifier('a@b.c', 'md5')$q$),
  ($q$SELECT * FROM segments.audience_changes('no such segment', 0)$q$),
  ($q$SELECT * FROM segments.audience_changes('bi_loyal', -1)$q$),
  ($q$SELECT * FROM segments.audience_changes('bi_loyal', NULL)$q$),
  ($q$SELECT * FROM segments.audience_changes('bi_loyal', 0, 'sha1')$q$),
  ($q$SELECT * FROM segments.audience_changes('bi_loyal', 0, max_rows => 0)$q$),
  ($q$SELECT * FROM segments.audience_batches('bi_loyal', 0, 'tiktok')$q$),
  ($q$SELECT * FROM segments.audience_batches('bi_loyal', 0, 'meta', 0)$q$),
  ($q$SELECT * FROM segments.audience_batches('bi_loyal', 0, 'meta', 1000000)$q$)
) v(q);

-- As the reader role: every BI view reads (the insights over the sources also need SELECT on the
-- shop's mapped tables, as every insight does); the audience (hashed e-mails) needs segments_pii.
CREATE ROLE bi_reader IN ROLE segments_reader;
CREATE ROLE bi_pii IN ROLE segments_reader, segments_pii;
GRANT USAGE ON SCHEMA ins TO bi_reader, bi_pii;
GRANT SELECT ON ALL TABLES IN SCHEMA ins TO bi_reader, bi_pii;
SET ROLE bi_reader;
SELECT (SELECT count(*) FROM segments.lifecycle_value_matrix) > 0 AS matrix,
       (SELECT count(*) FROM segments.cohort_retention) > 0 AS cohorts,
       (SELECT count(*) FROM segments.new_returning_lapsed_monthly) > 0 AS nrl,
       (SELECT count(*) FROM segments.segment_development) > 0 AS development,
       (SELECT count(*) FROM segments.segment_overlap) > 0 AS overlap,
       (SELECT count(*) FROM segments.overview) AS overview_rows;
SELECT pg_temp.error_of($q$SELECT * FROM segments.audience_changes('bi_loyal', 0)$q$) AS reader_audience;
SELECT pg_temp.error_of($q$SELECT * FROM segments.audience_batches('bi_loyal', 0)$q$) AS reader_batches;
SET ROLE bi_pii;
SELECT count(*) > 0 AS pii_audience FROM segments.audience_changes('bi_loyal', 0);
RESET ROLE;
REVOKE ALL ON ALL TABLES IN SCHEMA ins FROM bi_reader, bi_pii;
REVOKE ALL ON SCHEMA ins FROM bi_reader, bi_pii;
DROP ROLE bi_reader;
DROP ROLE bi_pii;

-- Leave a fresh extension and no tables behind.
DISCARD TEMP;
SET client_min_messages = warning;
DROP EXTENSION pg_segments CASCADE;
DROP SCHEMA ins CASCADE;
CREATE EXTENSION pg_segments;
RESET client_min_messages;
