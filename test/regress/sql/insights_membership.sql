-- Membership on a past moment, replayed from the change log, against snapshots taken at the time;
-- pairwise overlap of segments against plain set operations.
\i test/regress/sql/insights_data.psql

SELECT segments.create_segment('ins_loyal', rule => 'orders >= 5') > 0 AS created;
CREATE TEMP TABLE snap(step int, at timestamptz, customer_id text);
INSERT INTO snap SELECT 1, statement_timestamp(), customer_id FROM segments.members WHERE segment = 'ins_loyal';
-- Step 2: four members with five orders lose one (cancelled), five customers with four gain two.
CREATE TEMP TABLE movers AS
SELECT min(id) AS order_id, customer FROM ins.orders
WHERE status <> 'cancelled' AND customer IN (SELECT customer_id FROM segments.customers WHERE orders = 5 ORDER BY 1 LIMIT 4)
GROUP BY customer;
UPDATE ins.orders SET status = 'cancelled' WHERE id IN (SELECT order_id FROM movers);
INSERT INTO ins.orders SELECT 'extra' || k || customer, customer, now() - interval '2 days', 50, 'paid'
FROM (SELECT customer FROM ins.orders WHERE status <> 'cancelled' AND customer NOT IN (SELECT customer FROM movers)
      GROUP BY customer HAVING count(*) = 4 ORDER BY customer LIMIT 5) c,
     generate_series(1, 2) k;
SELECT 1 AS refreshed FROM segments.refresh_facts();
SELECT status FROM segments.refresh('ins_loyal');
INSERT INTO snap SELECT 2, statement_timestamp(), customer_id FROM segments.members WHERE segment = 'ins_loyal';
-- Step 3: the cancelled orders come back (those customers rejoin); the extra orders are cancelled.
UPDATE ins.orders SET status = 'paid' WHERE id IN (SELECT order_id FROM movers);
UPDATE ins.orders SET status = 'cancelled' WHERE id LIKE 'extra%';
SELECT 1 AS refreshed FROM segments.refresh_facts();
SELECT status FROM segments.refresh('ins_loyal');
INSERT INTO snap SELECT 3, statement_timestamp(), customer_id FROM segments.members WHERE segment = 'ins_loyal';

SELECT step, count(*) AS members FROM snap GROUP BY step ORDER BY step;
-- At each snapshot moment, members_at gives the snapshot: no difference either way.
SELECT s.step, (SELECT count(*) FROM segments.members_at('ins_loyal', s.at)) AS members_at,
       (SELECT count(*) FROM (SELECT customer_id FROM segments.members_at('ins_loyal', s.at)
                              EXCEPT SELECT customer_id FROM snap WHERE step = s.step) d) AS only_function,
       (SELECT count(*) FROM (SELECT customer_id FROM snap WHERE step = s.step
                              EXCEPT SELECT customer_id FROM segments.members_at('ins_loyal', s.at)) d) AS only_snapshot
FROM (SELECT DISTINCT step, at FROM snap) s ORDER BY s.step;
-- Before the segment existed: nobody. Now: the current members. Rejoined customers: joined_at is the latest join.
SELECT count(*) AS before_creation FROM segments.members_at('ins_loyal', '2000-01-01');
SELECT (SELECT count(*) FROM (SELECT customer_id FROM segments.members_at('ins_loyal', now())
                              EXCEPT SELECT customer_id FROM segments.members WHERE segment = 'ins_loyal') d) AS only_function_now;
SELECT customer_id, joined_at > (SELECT min(at) FROM snap WHERE step = 2) AS rejoined_after_step_2
FROM segments.members_at('ins_loyal', now()) WHERE customer_id IN (SELECT customer FROM movers) ORDER BY 1;
SELECT count(*) AS movers_at_step_2 FROM segments.members_at('ins_loyal', (SELECT min(at) FROM snap WHERE step = 2))
WHERE customer_id IN (SELECT customer FROM movers);

-- Overlap: every ordered pair, against INTERSECT / UNION counts.
SELECT segments.create_segment('ins_big', rule => 'revenue >= 800') > 0 AS created;
SELECT segments.create_segment('ins_no_email_optin', rule => 'opted_in IS FALSE') > 0 AS created;
SELECT segments.create_segment('ins_nobody', rule => 'orders > 1000') > 0 AS created;
CREATE TEMP TABLE ov AS SELECT * FROM segments.overlap(ARRAY['ins_loyal', 'ins_big', 'ins_no_email_optin', 'ins_nobody']);
SELECT segment_a, segment_b, size_a, size_b, in_both, only_a, only_b, jaccard, pct_of_a FROM ov;
SELECT count(*) AS pairs,
       count(*) FILTER (WHERE in_both <> (SELECT count(*) FROM (
           SELECT customer_id FROM segments.members WHERE segment = segment_a INTERSECT
           SELECT customer_id FROM segments.members WHERE segment = segment_b) i)) AS wrong_both,
       count(*) FILTER (WHERE jaccard IS DISTINCT FROM round(in_both::numeric / nullif((SELECT count(*) FROM (
           SELECT customer_id FROM segments.members WHERE segment = segment_a UNION
           SELECT customer_id FROM segments.members WHERE segment = segment_b) u), 0), 4)) AS wrong_jaccard
FROM ov;
SELECT count(*) AS all_pairs FROM segments.overlap();

-- Bad input.
SELECT q AS statement, pg_temp.error_of(q) AS error FROM (VALUES
  ($q$SELECT * FROM segments.members_at('no such segment', now())$q$),
  ($q$SELECT * FROM segments.members_at('ins_loyal', NULL)$q$),
  ($q$SELECT * FROM segments.overlap(ARRAY['ins_loyal', 'nope'])$q$)
) v(q);

\i test/regress/sql/insights_teardown.psql
