-- Breakdown (Ometria's fifteen fields) and dimension matrix, each checked against plain SQL over
-- the shop's own tables; matrix cells turned into segments.
\i test/regress/sql/insights_data.psql

-- Oracle: one row per contact or customer, computed from ins.* directly (not from segments.customers).
CREATE TEMP TABLE oracle AS
WITH ref AS (SELECT max(refreshed_at) AS now_ FROM segments.customers),
ids AS (SELECT id FROM ins.contacts UNION SELECT customer FROM ins.orders),
-- A purchase: not cancelled and a non-negative total; refunds (negative) only reduce revenue.
o AS (SELECT customer, count(*) FILTER (WHERE status <> 'cancelled' AND total >= 0) AS n,
             count(*) FILTER (WHERE total >= 0) AS attempted,
             sum(total) FILTER (WHERE status <> 'cancelled') AS rev,
             min(created_at) FILTER (WHERE status <> 'cancelled' AND total >= 0) AS first_at,
             max(created_at) FILTER (WHERE status <> 'cancelled' AND total >= 0) AS last_at,
             lifecycle_stage(created_at, (SELECT now_ FROM ref)) FILTER (WHERE status <> 'cancelled' AND total >= 0) AS stage
      FROM ins.orders GROUP BY customer),
second AS (SELECT customer, created_at AS second_at FROM (
             SELECT customer, created_at, row_number() OVER (PARTITION BY customer ORDER BY created_at) AS k
             FROM ins.orders WHERE status <> 'cancelled' AND total >= 0) x WHERE k = 2)
SELECT ids.id, coalesce(o.n, 0) AS n, coalesce(o.attempted, 0) AS attempted, coalesce(o.rev, 0) AS rev,
       extract(epoch FROM (SELECT now_ FROM ref) - o.last_at) / 86400 AS recency,
       extract(epoch FROM o.first_at - c.signup_at) / 86400 AS first_delay,
       extract(epoch FROM s.second_at - o.first_at) / 86400 AS second_delay,
       coalesce(o.stage::text, 'lead') AS stage, c.opted_in,
       CASE WHEN o.n >= 7 THEN 'very_loyal' WHEN o.n >= 4 THEN 'loyal' WHEN o.n >= 2 THEN 'repeat'
            WHEN o.n = 1 THEN 'one_time' ELSE 'no_orders' END AS freq
FROM ids LEFT JOIN o ON o.customer = ids.id LEFT JOIN ins.contacts c ON c.id = ids.id
LEFT JOIN second s ON s.customer = ids.id;

CREATE FUNCTION pg_temp.oracle_breakdown(grp text) RETURNS TABLE(g text, contacts bigint, customers bigint,
  repeaters bigint, one_time bigint, orders bigint, attempted bigint, clv numeric, avg_clv numeric,
  avg_orders numeric, aov numeric, conversion numeric, repeat_rate numeric, recency numeric,
  first_delay numeric, second_delay numeric) LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY EXECUTE format($q$
    SELECT %s, count(*), count(*) FILTER (WHERE n > 0), count(*) FILTER (WHERE n > 1),
           count(*) FILTER (WHERE n = 1), sum(n)::bigint, sum(attempted)::bigint, sum(rev),
           round(sum(rev) / nullif(count(*) FILTER (WHERE n > 0), 0), 2),
           round(sum(n) / nullif(count(*) FILTER (WHERE n > 0), 0)::numeric, 2),
           round(sum(rev) / nullif(sum(n), 0), 2),
           round(count(*) FILTER (WHERE n > 0)::numeric / count(*), 4),
           round(count(*) FILTER (WHERE n > 1)::numeric / nullif(count(*) FILTER (WHERE n > 0), 0), 4),
           round(avg(recency)::numeric, 6), round(avg(first_delay)::numeric, 6), round(avg(second_delay)::numeric, 6)
    FROM pg_temp.oracle o GROUP BY 1$q$, grp);
END $$;
CREATE FUNCTION pg_temp.rounded_breakdown(grp text) RETURNS TABLE(g text, contacts bigint, customers bigint,
  repeaters bigint, one_time bigint, orders bigint, attempted bigint, clv numeric, avg_clv numeric,
  avg_orders numeric, aov numeric, conversion numeric, repeat_rate numeric, recency numeric,
  first_delay numeric, second_delay numeric) LANGUAGE sql AS $$
  SELECT group_value, contacts, customers, repeat_customers, one_time_customers, total_orders,
         total_orders_attempted, total_clv, average_clv, average_orders, aov, contact_conversion_rate,
         customer_repeat_rate, round(average_recency_days::numeric, 6),
         round(average_first_order_delay_days::numeric, 6), round(average_second_order_delay_days::numeric, 6)
  FROM segments.breakdown(grp)
$$;

-- All customers, by life cycle, by frequency, by opted_in (a plain facts column): no difference either way.
SELECT grp, (SELECT count(*) FROM (SELECT * FROM pg_temp.rounded_breakdown(grp) EXCEPT
                                   SELECT * FROM pg_temp.oracle_breakdown(coalesce(expr, '''all''::text'))) d) AS only_function,
            (SELECT count(*) FROM (SELECT * FROM pg_temp.oracle_breakdown(coalesce(expr, '''all''::text')) EXCEPT
                                   SELECT * FROM pg_temp.rounded_breakdown(grp)) d) AS only_oracle,
            (SELECT count(*) FROM segments.breakdown(grp)) AS groups
FROM (VALUES (NULL, NULL), ('lifecycle', 'stage'), ('frequency', 'freq'), ('opted_in', 'opted_in::text')) v(grp, expr);

-- The overall row (recency depends on the hour the test runs: checked above), and the groups of a
-- dimension in display order.
SELECT group_value, group_order, contacts, customers, repeat_customers, one_time_customers, total_orders,
       total_orders_attempted, total_clv, average_clv, average_orders, aov, contact_conversion_rate,
       customer_repeat_rate, average_recency_days > 0 AS has_recency,
       round(average_first_order_delay_days::numeric, 4) AS average_first_order_delay_days,
       round(average_second_order_delay_days::numeric, 4) AS average_second_order_delay_days
FROM segments.breakdown() \gx
SELECT group_value, group_order, contacts, customers, repeat_customers, one_time_customers, total_orders,
       total_orders_attempted, total_clv, average_orders, contact_conversion_rate, customer_repeat_rate
FROM segments.breakdown('frequency');
-- Group sums add up to the whole.
SELECT sum(contacts) = (SELECT contacts FROM segments.breakdown()) AS contacts_add_up,
       sum(total_clv) = (SELECT total_clv FROM segments.breakdown()) AS clv_adds_up
FROM segments.breakdown('value_band');

-- Within one segment, and grouped by segment.
SELECT segments.create_segment('ins_big', rule => 'revenue >= 800') > 0 AS created;
SELECT segments.create_segment('ins_repeat', rule => 'orders > 1') > 0 AS created;
SELECT group_value, contacts, customers, total_clv FROM segments.breakdown('segment');
SELECT count(*) AS oracle_big, sum(rev) AS oracle_clv FROM oracle WHERE rev >= 800;
SELECT group_value, contacts, total_clv FROM segments.breakdown(NULL, 'ins_big');
SELECT sum(contacts) AS big_contacts FROM segments.breakdown('frequency', 'ins_big');

-- Dimension matrix: life cycle x frequency against the oracle; percentages of total, row and column.
CREATE TEMP TABLE m AS SELECT * FROM segments.dimension_matrix('lifecycle', 'frequency');
SELECT count(*) AS cells, sum(contacts) AS contacts, sum(pct_of_total) AS pct_total FROM m;
SELECT (SELECT count(*) FROM (SELECT row_value, column_value, contacts FROM m WHERE contacts > 0
                              EXCEPT SELECT stage, freq, count(*) FROM oracle GROUP BY 1, 2) d) AS only_function,
       (SELECT count(*) FROM (SELECT stage, freq, count(*) FROM oracle GROUP BY 1, 2
                              EXCEPT SELECT row_value, column_value, contacts FROM m) d) AS only_oracle;
SELECT row_value, column_value, row_order, column_order, contacts, pct_of_total, pct_of_row, pct_of_column
FROM m WHERE row_value = 'lead';
SELECT row_value, sum(pct_of_row) AS row_total FROM m GROUP BY row_value ORDER BY min(row_order);

-- Email engagement against the oracle (last open and click in the 90 days before now).
CREATE TEMP TABLE eng AS
SELECT o.id, o.stage, CASE
    WHEN o.opted_in IS FALSE THEN 'unsubscribed'
    WHEN max(e.at) FILTER (WHERE e.type = 'email_click' AND e.at > now() - interval '30 days') IS NOT NULL THEN 'high'
    WHEN max(e.at) FILTER (WHERE e.type = 'email_click' AND e.at > now() - interval '90 days') IS NOT NULL
      OR max(e.at) FILTER (WHERE e.type = 'email_open' AND e.at > now() - interval '30 days') IS NOT NULL THEN 'medium'
    WHEN max(e.at) FILTER (WHERE e.type = 'email_open' AND e.at > now() - interval '90 days') IS NOT NULL THEN 'low'
    ELSE 'none' END AS engagement
FROM oracle o LEFT JOIN ins.events e ON e.customer = o.id AND e.at <= now()
GROUP BY o.id, o.stage, o.opted_in;
SELECT engagement, count(*) FROM eng GROUP BY 1 ORDER BY 1;
SELECT (SELECT count(*) FROM (SELECT row_value, column_value, contacts FROM segments.dimension_matrix('lifecycle', 'email_engagement') WHERE contacts > 0
                              EXCEPT SELECT stage, engagement, count(*) FROM eng GROUP BY 1, 2) d) AS only_function,
       (SELECT count(*) FROM (SELECT stage, engagement, count(*) FROM eng GROUP BY 1, 2
                              EXCEPT SELECT row_value, column_value, contacts FROM segments.dimension_matrix('lifecycle', 'email_engagement')) d) AS only_oracle;
-- segments.email_engagement_level over the facts (what the matrix and the rules read) agrees with the
-- oracle per customer.
SELECT count(*) AS customers,
       count(*) FILTER (WHERE segments.email_engagement_level(c.opted_in, c.last_email_open_at, c.last_email_click_at,
                                                              c.refreshed_at) IS DISTINCT FROM eng.engagement) AS disagreeing
FROM segments.customers c FULL JOIN eng ON eng.id = c.customer_id;

-- Value band x frequency: every combination of seen values, zeros included.
SELECT count(*) AS cells, count(*) FILTER (WHERE contacts = 0) AS empty_cells,
       count(DISTINCT row_value) AS bands, count(DISTINCT column_value) AS frequencies
FROM segments.dimension_matrix('value_band', 'frequency');
SELECT row_value, column_value, contacts, customers FROM segments.dimension_matrix('value_band', 'frequency')
WHERE row_value = 'no_orders' OR column_value = 'no_orders';

-- Chosen cells become a segment (a rule over segments.customers), whose members are the oracle's.
SELECT * FROM segments.matrix_rule('frequency', 'lifecycle', ARRAY[['loyal', 'lost'], ['very_loyal', NULL]]);
SELECT * FROM segments.matrix_rule('lifecycle', 'email_engagement', ARRAY[['lead', 'high'], ['slipping_away', 'medium']]);
SELECT * FROM segments.matrix_rule('opted_in', 'orders', ARRAY[['false', '3']]);
SELECT segments.create_matrix_segment('ins_vip_lost', 'frequency', 'lifecycle',
                                      ARRAY[['loyal', 'lost'], ['very_loyal', NULL]]) > 0 AS created;
SELECT (SELECT count(*) FROM segments.members WHERE segment = 'ins_vip_lost') > 30 AS has_members,
       (SELECT count(*) FROM (SELECT customer_id FROM segments.members WHERE segment = 'ins_vip_lost'
                              EXCEPT SELECT id FROM oracle WHERE (freq = 'loyal' AND stage = 'lost') OR freq = 'very_loyal') d) AS only_segment,
       (SELECT count(*) FROM (SELECT id FROM oracle WHERE (freq = 'loyal' AND stage = 'lost') OR freq = 'very_loyal'
                              EXCEPT SELECT customer_id FROM segments.members WHERE segment = 'ins_vip_lost') d) AS only_oracle;
SELECT segments.create_matrix_segment('ins_engaged_leads', 'lifecycle', 'email_engagement',
                                      ARRAY[['lead', 'medium'], ['lead', 'high']]) > 0 AS created;
SELECT (SELECT count(*) FROM segments.members WHERE segment = 'ins_engaged_leads') AS members,
       (SELECT count(*) FROM eng WHERE stage = 'lead' AND engagement IN ('medium', 'high')) AS oracle,
       (SELECT count(*) FROM (SELECT customer_id FROM segments.members WHERE segment = 'ins_engaged_leads'
                              EXCEPT SELECT id FROM eng WHERE stage = 'lead' AND engagement IN ('medium', 'high')) d) AS only_segment;
-- A query dimension (rfm_group) gives a query segment.
SELECT rule IS NULL AS no_rule, query IS NOT NULL AS has_query
FROM segments.matrix_rule('rfm_group', 'value_band', ARRAY[['champions', NULL]]);
SELECT segments.create_matrix_segment('ins_champions', 'rfm_group', 'value_band', ARRAY[['champions', NULL]]) > 0 AS created;
SELECT (SELECT count(*) FROM segments.members WHERE segment = 'ins_champions') > 0 AS has_members,
       (SELECT count(*) FROM (SELECT customer_id FROM segments.members WHERE segment = 'ins_champions'
                              EXCEPT SELECT customer_id FROM segments.rfm() WHERE rfm_group = 'champions') d) AS only_segment,
       (SELECT count(*) FROM (SELECT customer_id FROM segments.rfm() WHERE rfm_group = 'champions'
                              EXCEPT SELECT customer_id FROM segments.members WHERE segment = 'ins_champions') d) AS only_rfm;

-- Bad input.
SELECT q AS statement, pg_temp.error_of(q) AS error FROM (VALUES
  ($q$SELECT * FROM segments.breakdown('revenue; DROP TABLE ins.orders')$q$),
  ($q$SELECT * FROM segments.breakdown('lifecycle', 'no such segment')$q$),
  ($q$SELECT * FROM segments.dimension_matrix('lifecycle', NULL)$q$),
  ($q$SELECT * FROM segments.matrix_rule('lifecycle', 'frequency', ARRAY['lost', 'loyal'])$q$),
  ($q$SELECT * FROM segments.matrix_rule('lifecycle', 'frequency', ARRAY[['lapsed', 'loyal']])$q$),
  ($q$SELECT * FROM segments.matrix_rule('lifecycle', 'orders', ARRAY[['lost', 'many']])$q$)
) v(q);
SELECT count(*) AS orders_still_there FROM ins.orders;

\i test/regress/sql/insights_teardown.psql
