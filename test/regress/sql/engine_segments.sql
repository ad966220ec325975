-- Segment engine: create, refresh as a diff, change log, history, oracle, management, worker calls.
DROP EXTENSION IF EXISTS pg_segments CASCADE;
CREATE EXTENSION pg_segments;
SET timezone = 'UTC';
SET pg_segments.facts_max_age = -1;  -- facts are refreshed explicitly, as of fixed dates

\i test/regress/sql/error_of.psql

CREATE SCHEMA shop;
CREATE TABLE shop.customers(id int PRIMARY KEY, email text, first text, last text, marketing boolean,
  created timestamptz, ship text, bill text);
CREATE TABLE shop.orders(id serial PRIMARY KEY, customer_id int, created_at timestamptz, total numeric, status text);
INSERT INTO shop.customers VALUES
  (1, 'ann@example.com', 'Ann', 'Lee', true, '2024-01-01', '1 Main St, Springfield', '1 Main St'),
  (2, 'bob@example.com', 'Bob', NULL, false, '2024-02-01', NULL, NULL),
  (3, 'cy@example.com', 'Cy "the guy"', 'O''Neil', true, '2024-03-01', E'Line 1\nLine 2', 'PO Box 7'),
  (5, 'eve@example.com', NULL, NULL, true, '2024-05-01', NULL, NULL),
  (6, NULL, 'Nomail', NULL, true, '2024-05-02', NULL, NULL);
INSERT INTO shop.orders(customer_id, created_at, total, status) VALUES
  (1, '2024-01-05', 100, 'paid'), (1, '2024-02-05', 200, 'paid'), (1, '2024-05-20', 50, 'paid'),
  (2, '2024-02-10', 30, 'paid'), (2, '2024-03-10', 30, 'cancelled'),
  (3, '2024-04-01', 1500, 'paid'),
  (4, '2024-05-30', 10, 'paid');
SELECT segments.map_source('orders', 'shop.orders',
  '{"customer_id": "customer_id", "order_id": "id", "ordered_at": "created_at", "amount": "total", "valid": "status <> ''cancelled''"}');
SELECT segments.map_source('contacts', 'shop.customers',
  '{"customer_id": "id", "email": "email", "first_name": "first", "last_name": "last", "opted_in": "marketing",
    "created_at": "created", "shipping_address": "ship", "billing_address": "bill"}');
SELECT customers, inserted, updated, deleted FROM segments.refresh_facts('2024-06-01');

-- Rule segments and a query segment; each is built at create.
SELECT segments.create_segment('repeat', 'orders > 1', description => 'Ordered more than once') AS repeat_id;
SELECT segments.create_segment('VIP customers', 'revenue > 1000');
SELECT segments.create_segment('small orders', query => 'SELECT customer_id FROM segments.source_orders WHERE amount < 40');
SELECT segments.create_segment('prospects', 'orders = 0 AND opted_in', refresh_interval => '1 hour', timezone => 'Europe/Berlin');
SELECT segment, customer_id FROM segments.members ORDER BY 1, 2;
SELECT name, status, rule, query, owner, refresh_interval, timezone, last_refresh_at = created_at AS refreshed_at_create,
       next_refresh_at - last_refresh_at AS next_in
FROM segments.segments ORDER BY id;
SELECT customer_id, email, orders, revenue FROM segment_members."VIP customers";

-- The oracle: each materialized segment equals its defining query (EXCEPT both ways), and replaying
-- the change log gives the current membership exactly, without two joins or leaves in a row.
CREATE FUNCTION pg_temp.oracle() RETURNS TABLE (segment text, missing bigint, extra bigint, replay_mismatch bigint, bad_sequences bigint)
LANGUAGE plpgsql AS $$
DECLARE s record; q text;
BEGIN
  FOR s IN SELECT * FROM segments.segments ORDER BY id LOOP
    q := CASE WHEN s.query IS NOT NULL THEN format('SELECT customer_id::text FROM (%s) x', s.query)
              ELSE format('SELECT customer_id FROM segments.customers WHERE %s', s.rule) END;
    segment := s.name;
    EXECUTE format('SELECT count(*) FROM (%s EXCEPT SELECT customer_id FROM segments.membership WHERE segment_id = %s) d', q, s.id) INTO missing;
    EXECUTE format('SELECT count(*) FROM (SELECT customer_id FROM segments.membership WHERE segment_id = %s EXCEPT %s) d', s.id, q) INTO extra;
    SELECT count(*) INTO replay_mismatch FROM (
      (SELECT DISTINCT ON (c.customer_id) c.customer_id, c.change FROM segments.changes c
       WHERE c.segment_id = s.id ORDER BY c.customer_id, c.id DESC) EXCEPT
      (SELECT m.customer_id, 'joined' FROM segments.membership m WHERE m.segment_id = s.id)
      UNION ALL
      (SELECT m.customer_id, 'joined' FROM segments.membership m WHERE m.segment_id = s.id) EXCEPT
      (SELECT DISTINCT ON (c.customer_id) c.customer_id, c.change FROM segments.changes c
       WHERE c.segment_id = s.id ORDER BY c.customer_id, c.id DESC)) d;
    SELECT count(*) INTO bad_sequences FROM (
      SELECT c.change, lag(c.change, 1, 'left') OVER (PARTITION BY c.customer_id ORDER BY c.id) AS prev
      FROM segments.changes c WHERE c.segment_id = s.id) d WHERE d.change = d.prev;
    RETURN NEXT;
  END LOOP;
END $$;
SELECT * FROM pg_temp.oracle();

-- Data changes: a new order makes customer 2 a repeat buyer and customer 4 a VIP; customer 1's
-- orders are cancelled except one; customer 5 orders; customer 6 is deleted.
UPDATE shop.orders SET status = 'cancelled' WHERE customer_id = 1 AND created_at > '2024-01-10';
INSERT INTO shop.orders(customer_id, created_at, total, status) VALUES
  (2, '2024-06-02', 70, 'paid'), (4, '2024-06-03', 2000, 'paid'), (5, '2024-06-04', 20, 'paid');
DELETE FROM shop.customers WHERE id = 6;
SELECT customers, inserted, updated, deleted FROM segments.refresh_facts('2024-06-05');
-- Facts changed, memberships not yet: the oracle sees the difference.
SELECT * FROM pg_temp.oracle();
SELECT name, (r).status, (r).joined, (r)."left", (r).size
FROM (SELECT name, segments.refresh(name) AS r FROM segments.segments ORDER BY id) x;
SELECT * FROM pg_temp.oracle();
SELECT segment, customer_id, change, run_id FROM segments.changes ORDER BY id;
-- A refresh with nothing changed logs nothing; refresh_all returns one run per segment.
SELECT count(*) AS runs, sum(joined) AS joined, sum("left") AS left FROM segments.refresh_all();
SELECT max(id) AS last_change FROM segments.changes;

-- History and added revenue: customer 2 stayed in "small orders" and spent 70 more; customer 4
-- (in "small orders" before this refresh) spent 2000 more: attributed to the segment.
SELECT s.name, h.size, h.joined, h."left", h.revenue, h.orders, h.added_revenue
FROM segments.history h JOIN segments.segments s ON s.id = h.segment_id ORDER BY h.segment_id, h.run_id;
SELECT segment, status, customers, revenue, orders, aov, avg_clv, round(avg_order_latency_days::numeric, 2) AS latency, added_revenue
FROM segments.overview ORDER BY id;

-- Export: valid CSV (COPY's own quoting), with optional columns.
SELECT * FROM segments.export('VIP customers', include_names => true, include_shipping => true, include_billing => true);
COPY (SELECT * FROM segments.export('VIP customers', include_names => true, include_shipping => true)) TO STDOUT WITH CSV HEADER;
SELECT segments.export_csv('VIP customers', include_names => true, include_billing => true);
SELECT segments.export_csv('repeat');
-- export_csv is byte for byte what COPY ... CSV HEADER writes, and COPY FROM reads it back.
UPDATE shop.customers SET last = '' WHERE id = 2;
UPDATE shop.customers SET first = '  Bob, Jr.' WHERE id = 2;
SELECT customers FROM segments.refresh_facts('2024-06-05');
CREATE TEMP TABLE csv_back(email text, first_name text, last_name text);
DO $$
DECLARE f text := current_setting('data_directory') || '/pgs_engine_export.csv';
BEGIN
  EXECUTE format($c$COPY (SELECT email, first_name, last_name FROM segments.export('repeat', include_names => true))
                    TO %L WITH CSV HEADER$c$, f);
  IF pg_read_file(f) <> segments.export_csv('repeat', include_names => true) THEN
    RAISE EXCEPTION 'export_csv differs from COPY: % vs %', pg_read_file(f), segments.export_csv('repeat', include_names => true);
  END IF;
  EXECUTE format('COPY csv_back FROM %L WITH CSV HEADER', f);
END $$;
SELECT segments.export_csv('repeat', include_names => true);
SELECT * FROM csv_back EXCEPT SELECT email, first_name, last_name FROM segments.export('repeat', include_names => true);
SELECT count(*) AS rows_back, count(*) FILTER (WHERE last_name = '') AS empty_not_null FROM csv_back;

-- Management: deactivate keeps members and leaves the schedule; activate resumes; duplicate, alter, rename, drop.
SELECT segments.deactivate_segment('repeat');
SELECT name, status FROM segments.segments WHERE name = 'repeat';
SELECT count(*) AS due_inactive FROM segments.due_segments() d JOIN segments.segments s ON s.id = d WHERE s.name = 'repeat';
SELECT segments.activate_segment('repeat');
SELECT name, status FROM segments.segments WHERE name = 'repeat';
SELECT segments.duplicate_segment('repeat', 'repeat copy') > 0 AS duplicated;
SELECT name, rule, description, status FROM segments.segments WHERE name = 'repeat copy';
SELECT segments.alter_segment('repeat copy', rule => 'orders >= 1 AND revenue < 100', new_name => 'small buyers');
SELECT name, rule FROM segments.segments WHERE name IN ('repeat copy', 'small buyers');
SELECT customer_id FROM segment_members."small buyers" ORDER BY 1;
SELECT to_regclass('segment_members."repeat copy"') IS NULL AS old_view_gone;
SELECT * FROM pg_temp.oracle() WHERE segment = 'small buyers';
SELECT segments.drop_segment('small buyers');
SELECT to_regclass('segment_members."small buyers"') IS NULL AS view_gone,
       (SELECT count(*) FROM segments.changes c WHERE c.segment = 'small buyers') AS changes_left;
SELECT segments.drop_segment('small buyers', if_exists => true);

-- Bad rules and names: rejected with the server's message, nothing created.
SELECT q AS statement, pg_temp.error_of(q) AS error FROM (VALUES
  ($q$SELECT segments.create_segment('bad', 'orders + 1')$q$),
  ($q$SELECT segments.create_segment('bad', 'no_such_column > 1')$q$),
  ($q$SELECT segments.create_segment('bad', 'orders > ')$q$),
  ($q$SELECT segments.create_segment('bad', 'orders > 1; DROP TABLE shop.orders')$q$),
  ($q$SELECT segments.create_segment('bad', 'email = ''x')$q$),
  ($q$SELECT segments.create_segment('bad', query => 'SELECT customer_id, email FROM segments.customers')$q$),
  ($q$SELECT segments.create_segment('bad', query => 'SELECT nope FROM shop.nothing')$q$),
  ($q$SELECT segments.create_segment('bad')$q$),
  ($q$SELECT segments.create_segment('bad', 'true', query => 'SELECT 1')$q$),
  ($q$SELECT segments.create_segment('repeat', 'true')$q$),
  ($q$SELECT segments.create_segment('', 'true')$q$),
  ($q$SELECT segments.create_segment(repeat('x', 64), 'true')$q$),
  ($q$SELECT segments.create_segment('bad', 'true', refresh_interval => '-1 day')$q$),
  ($q$SELECT segments.create_segment('bad', 'true', timezone => 'Mars/Olympus')$q$),
  ($q$SELECT segments.create_segment('bad', 'true', required_sources => '{orders,deals}')$q$),
  ($q$SELECT segments.refresh('no such segment')$q$),
  ($q$SELECT segments.alter_segment('repeat', rule => 'revenue')$q$),
  ($q$SELECT segments_internal._start_run(999999, 'worker')$q$),
  ($q$SELECT segments_internal._start_run((SELECT id FROM segments.segments WHERE name = 'repeat'), 'whenever')$q$),
  ($q$SELECT segments_internal._next_due_runs('whenever', now())$q$),
  ($q$SELECT segments_internal._run_due('{999999}')$q$)
) t(q);
SELECT count(*) AS segments, count(*) FILTER (WHERE name = 'bad') AS bad FROM segments.segments;
SELECT rule FROM segments.segments WHERE name = 'repeat';
-- A semicolon inside a string literal or comment is fine.
SELECT segments.create_segment('semicolon', $r$coalesce(email, '') <> 'a;b' /* ; */ AND orders > 1 -- ;$r$) > 0 AS created;
SELECT customer_id FROM segment_members.semicolon ORDER BY 1;
SELECT segments.drop_segment('semicolon');

-- A rule failing at refresh time: the segment is failed with its error, members kept.
SELECT segments.create_segment('fragile', 'revenue / (orders - 1) > 10') > 0 AS created;
SELECT name, status, last_error FROM segments.segments WHERE name = 'fragile';
SELECT segments.alter_segment('fragile', rule => 'revenue / nullif(orders - 1, 0) > 10');
SELECT name, status, last_error, consecutive_failures FROM segments.segments WHERE name = 'fragile';
SELECT customer_id FROM segment_members.fragile ORDER BY 1;
INSERT INTO shop.orders(customer_id, created_at, total, status) VALUES (3, '2024-06-06', 5, 'paid');
SELECT customers FROM segments.refresh_facts('2024-06-07');
-- Customer 3 now has two orders: this rule divides by zero at refresh time.
SELECT segments.alter_segment('fragile', rule => 'revenue / (orders - 2) > 10', build => false);
SELECT (segments.refresh('fragile')).status;
SELECT name, status, last_error, last_error_sqlstate, consecutive_failures,
       next_refresh_at - last_error_at AS retry_in FROM segments.segments WHERE name = 'fragile';
SELECT customer_id FROM segment_members.fragile ORDER BY 1;
SELECT status, sqlstate, message FROM segments.runs WHERE segment_id = (SELECT id FROM segments.segments WHERE name = 'fragile') ORDER BY id;
SELECT (segments.refresh('fragile')).status;
SELECT name, status, consecutive_failures, next_refresh_at - last_error_at AS retry_in FROM segments.segments WHERE name = 'fragile';
SELECT segments.drop_segment('fragile');

-- The refresh-due policy, one step per transaction as the worker and refresh_due() take it: a run
-- started for every due segment (a refresh_now request first, trigger refresh_now, then the most
-- overdue schedule), then the batch refreshed in one transaction; each segment once per pass.
UPDATE segments.segments SET next_refresh_at = now() - interval '1 hour' WHERE name = 'repeat';
UPDATE segments.segments SET next_refresh_at = now() - interval '2 hours' WHERE name = 'VIP customers';
UPDATE segments.segments SET next_refresh_at = now() + interval '1 hour' WHERE name NOT IN ('repeat', 'VIP customers');
SELECT segments.refresh_now('prospects');
SELECT s.name FROM segments.due_segments() d JOIN segments.segments s ON s.id = d;
SELECT clock_timestamp() AS pass \gset
CREATE TEMP TABLE batch AS SELECT * FROM segments_internal._next_due_runs('worker', :'pass');
SELECT s.name, b.trigger, b.status FROM batch b JOIN segments.segments s ON s.id = b.segment_id ORDER BY b.id;
SELECT refresh_requested_at IS NULL AS request_taken FROM segments.segments WHERE name = 'prospects';
SELECT count(*) AS due_while_running FROM segments.due_segments();
SELECT s.name, r.trigger, r.status FROM segments_internal._run_due(ARRAY(SELECT id FROM batch)) r
  JOIN segments.segments s ON s.id = r.segment_id ORDER BY r.id;
SELECT count(*) AS runs, count(*) FILTER (WHERE status = 'succeeded' AND finished_at >= started_at) AS succeeded,
       count(DISTINCT xmin::text) AS transactions FROM segments.runs WHERE id IN (SELECT id FROM batch);
SELECT pg_temp.error_of(format('SELECT segments_internal._run_due(%L)', ARRAY(SELECT id FROM batch)));
SELECT count(*) AS more_in_this_pass FROM segments_internal._next_due_runs('worker', :'pass');
-- A scheduled segment due again at once (here: moved back by hand) waits for the next pass ...
UPDATE segments.segments SET next_refresh_at = now() - interval '1 hour' WHERE name = 'VIP customers';
SELECT count(*) AS more_in_this_pass FROM segments_internal._next_due_runs('worker', :'pass');
-- ... unless refresh_now asks for it again.
SELECT segments.refresh_now('VIP customers');
SELECT s.name, r.trigger, r.status
FROM segments_internal._run_due(ARRAY(SELECT id FROM segments_internal._next_due_runs('worker', :'pass'))) r
  JOIN segments.segments s ON s.id = r.segment_id;
DROP TABLE batch;
UPDATE segments.segments SET next_refresh_at = now() + interval '1 hour' WHERE name = 'VIP customers';
-- A due refresh is bounded by pg_segments.refresh_timeout: here 300 ms for a rule sleeping 2 s.
SELECT segments.create_segment('sleepy', query => 'SELECT customer_id FROM segments.customers, pg_sleep(2)', build => false) > 0 AS created;
SELECT segments_internal._start_run((SELECT id FROM segments.segments WHERE name = 'sleepy'), 'worker') AS run \gset
SELECT status, sqlstate, message FROM segments_internal._execute_recorded(ARRAY[:run], true, 300);
SELECT name, status, consecutive_failures FROM segments.segments WHERE name = 'sleepy';
SELECT pg_sleep(0.5);  -- the deadline is disarmed: nothing cancels this
SELECT segments.drop_segment('sleepy');
-- A run left running by a session that is gone is recovered as failed.
INSERT INTO segments.runs(segment_id, trigger, backend_pid) SELECT id, 'worker', 2147483647 FROM segments.segments WHERE name = 'repeat';
SELECT segments.recover_runs() AS recovered;
SELECT status, sqlstate FROM segments.runs WHERE backend_pid = 2147483647;
-- A failure: back-off grows with consecutive failures.
SELECT segments_internal._start_run((SELECT id FROM segments.segments WHERE name = 'repeat'), 'worker') AS run \gset
SELECT segments_internal._fail_run(:run, '57014', 'canceling statement due to statement timeout');
SELECT name, status, last_error, consecutive_failures, next_refresh_at - last_error_at AS retry_in FROM segments.segments WHERE name = 'repeat';
SELECT segments_internal._start_run((SELECT id FROM segments.segments WHERE name = 'repeat'), 'worker') AS run \gset
SELECT segments_internal._fail_run(:run, '57014', 'canceling statement due to statement timeout');
SELECT name, status, consecutive_failures, next_refresh_at - last_error_at AS retry_in FROM segments.segments WHERE name = 'repeat';
SELECT segments_internal._start_run((SELECT id FROM segments.segments WHERE name = 'repeat'), 'worker') AS run \gset
SELECT status FROM segments_internal._run_due(ARRAY[:run]);
SELECT name, status, last_error, consecutive_failures FROM segments.segments WHERE name = 'repeat';
-- prune_runs keeps recent runs, deletes old finished ones.
UPDATE segments.runs SET finished_at = now() - interval '40 days' WHERE backend_pid = 2147483647;
SELECT segments.prune_runs() AS pruned;
SHOW pg_segments.run_retention;
UPDATE segments.runs SET finished_at = now() - interval '2 days' WHERE id = :run;
SET pg_segments.run_retention = '1d';
SELECT segments.prune_runs() AS pruned;
RESET pg_segments.run_retention;

-- Schedule: the interval is added in the segment's time zone (a day stays 24 wall-clock hours);
-- an overdue schedule moves to the first slot of its cadence after now.
SELECT segments_internal._next_refresh(NULL, '1 day', 'Europe/Berlin', '2024-03-30 12:00+00') AS over_dst,
       segments_internal._next_refresh('2024-03-30 12:00+00', '1 hour', NULL, '2024-03-30 12:30+00') AS from_schedule,
       segments_internal._next_refresh('2024-03-30 12:00+00', '1 hour', NULL, '2024-03-30 15:30+00') AS overdue;

-- The procedure for cron: one transaction per due segment; a broken segment fails alone.
SELECT segments.create_segment('broken', 'revenue / (orders - orders) > 0', build => false) > 0 AS created;
UPDATE segments.segments SET next_refresh_at = now() - interval '1 minute';
INSERT INTO shop.orders(customer_id, created_at, total, status) VALUES (5, '2024-06-08', 25, 'paid');
SELECT customers FROM segments.refresh_facts('2024-06-09');
CALL segments.refresh_due();
SELECT s.name, r.status, r.sqlstate FROM segments.runs r JOIN segments.segments s ON s.id = r.segment_id
WHERE r.trigger = 'cron' ORDER BY s.id;
SELECT name, status, last_error FROM segments.segments WHERE name = 'broken';
SELECT count(*) AS still_due FROM segments.due_segments();
SELECT segments.drop_segment('broken');

-- Facts staleness is judged by when they were computed, not by their as-of time (2024 here).
SET pg_segments.facts_max_age = '1h';
SELECT (segments.refresh('repeat')).facts_refreshed AS recomputed_recent_facts;
SET pg_segments.facts_max_age = 0;
SELECT (segments.refresh('repeat')).facts_refreshed AS recomputed_with_zero_age;
SELECT refreshed_at > '2025-01-01' AS facts_now_as_of_now FROM segments.facts_status;
SET pg_segments.facts_max_age = -1;
SELECT (segments.refresh('repeat')).facts_refreshed AS never_with_minus_one;
SELECT * FROM pg_temp.oracle();

-- Clean up.
SET client_min_messages = warning;
DROP EXTENSION pg_segments CASCADE;
DROP SCHEMA shop CASCADE;
RESET client_min_messages;
CREATE EXTENSION pg_segments;
