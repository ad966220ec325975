-- Life cycle on past dates, new vs returning vs lapsed, customer events (with products) and cohorts,
-- each checked against plain SQL over the shop's own tables.
\i test/regress/sql/insights_data.psql
-- The purchases (refunds, valid rows with a negative total, are not orders).
CREATE TEMP VIEW valid_orders AS SELECT * FROM ins.orders WHERE status <> 'cancelled' AND total >= 0;
SELECT count(*) AS refunds FROM ins.orders WHERE total < 0;
CREATE TEMP TABLE days AS SELECT date_trunc('day', now()) AS today;

-- Life cycle on a past date: the orders after it are ignored; on the refresh date it is the facts' stage.
SELECT count(*) AS customers, count(*) FILTER (WHERE l.lifecycle IS DISTINCT FROM c.lifecycle) AS differing
FROM segments.lifecycle_on((SELECT max(refreshed_at) FROM segments.customers)) l
FULL JOIN (SELECT * FROM segments.customers WHERE orders > 0) c USING (customer_id);
CREATE TEMP TABLE past AS SELECT * FROM segments.lifecycle_on((SELECT today - interval '120 days' FROM days));
SELECT lifecycle, count(*) FROM past GROUP BY 1 ORDER BY 1;
SELECT count(*) AS differing FROM past p
WHERE p.lifecycle IS DISTINCT FROM (SELECT lifecycle_stage(o.created_at, (SELECT today - interval '120 days' FROM days))
                                    FROM valid_orders o WHERE o.customer = p.customer_id)
   OR p.orders <> (SELECT count(*) FROM valid_orders o WHERE o.customer = p.customer_id
                   AND o.created_at <= (SELECT today - interval '120 days' FROM days));

-- New vs returning vs lapsed: oracle with one correlated subquery per question.
CREATE FUNCTION pg_temp.oracle_nrl(f timestamptz, t timestamptz) RETURNS TABLE(status text, customers bigint)
LANGUAGE sql AS $$
  SELECT s, count(*) FROM (
    SELECT CASE
      WHEN (SELECT min(created_at) FROM valid_orders o WHERE o.customer = c.customer) >= f THEN 'new'
      WHEN EXISTS (SELECT 1 FROM valid_orders o WHERE o.customer = c.customer AND created_at >= f AND created_at < t) THEN 'returning'
      WHEN (SELECT lifecycle_stage(created_at, t) FROM valid_orders o WHERE o.customer = c.customer AND created_at < f) = 'lost'
       AND (SELECT lifecycle_stage(created_at, f) FROM valid_orders o WHERE o.customer = c.customer AND created_at < f) <> 'lost'
      THEN 'lapsed' END AS s
    FROM (SELECT DISTINCT customer FROM valid_orders WHERE created_at < t) c) x
  WHERE s IS NOT NULL GROUP BY s
$$;
SELECT r.n AS range_no, x.status, x.customers, x.orders, x.revenue,
       x.customers = coalesce((SELECT customers FROM pg_temp.oracle_nrl(r.f, r.t) o WHERE o.status = x.status), 0) AS as_oracle
FROM (SELECT 1, today - interval '30 days', today FROM days UNION ALL
      SELECT 2, today - interval '120 days', today - interval '60 days' FROM days UNION ALL
      SELECT 3, today - interval '300 days', today - interval '200 days' FROM days) r(n, f, t)
CROSS JOIN LATERAL segments.new_returning_lapsed(r.f, r.t) x;
-- Mutually exclusive: one status per customer, and every customer who ordered in range is new or returning.
SELECT sum(customers) FILTER (WHERE status <> 'lapsed') AS new_plus_returning,
       (SELECT count(DISTINCT customer) FROM valid_orders, days
        WHERE created_at >= today - interval '120 days' AND created_at < today - interval '60 days') AS ordered_in_range
FROM segments.new_returning_lapsed((SELECT today - interval '120 days' FROM days), (SELECT today - interval '60 days' FROM days));
-- The series, one pass for all periods, against the oracle per period.
SELECT count(*) AS rows, count(DISTINCT period_start) AS periods,
       bool_and(x.customers = coalesce((SELECT o.customers FROM pg_temp.oracle_nrl(x.period_start, x.period_end) o
                                        WHERE o.status = x.status), 0)) AS as_oracle,
       sum(x.customers) FILTER (WHERE x.status = 'lapsed') AS lapsed,
       max(period_end) = (SELECT today FROM days) AS ends_at_to
FROM segments.new_returning_lapsed_series((SELECT today - interval '300 days' FROM days), (SELECT today FROM days), '30 days') x;

-- lifecycle_stage_before (window function) is lifecycle_stage over the earlier orders at each order's
-- time, for every order, with the default and with other thresholds; NULLs are skipped.
CREATE TEMP TABLE before_check AS
SELECT o.customer, o.created_at,
       lifecycle_stage_before(o.created_at) OVER (PARTITION BY o.customer ORDER BY o.created_at, o.id) AS fast,
       (SELECT lifecycle_stage(p.created_at, o.created_at) FROM valid_orders p
        WHERE p.customer = o.customer AND (p.created_at, p.id) < (o.created_at, o.id)) AS slow
FROM valid_orders o;
SET pg_segments.lifecycle_lost_sigmas = 1.5;
SET pg_segments.typical_latency_days = 40;
INSERT INTO before_check
SELECT o.customer, o.created_at,
       lifecycle_stage_before(o.created_at) OVER (PARTITION BY o.customer ORDER BY o.created_at, o.id),
       (SELECT lifecycle_stage(p.created_at, o.created_at) FROM valid_orders p
        WHERE p.customer = o.customer AND (p.created_at, p.id) < (o.created_at, o.id))
FROM valid_orders o;
RESET pg_segments.lifecycle_lost_sigmas;
RESET pg_segments.typical_latency_days;
SELECT count(*) AS orders, count(*) FILTER (WHERE fast IS DISTINCT FROM slow) AS differing,
       count(*) FILTER (WHERE fast IS NULL) AS first_orders, count(DISTINCT fast) AS stages
FROM before_check;
SELECT t, lifecycle_stage_before(t) OVER (ORDER BY n) AS stage
FROM (VALUES (1, '2024-01-01'::timestamptz), (2, NULL), (3, '2024-01-11'), (4, '2024-01-11'), (5, '2024-09-01')) v(n, t);
SELECT pg_temp.error_of($q$SELECT lifecycle_stage_before(t) OVER (ORDER BY n DESC)
  FROM (VALUES (1, '2024-01-01'::timestamptz), (2, '2024-02-01')) v(n, t)$q$) AS unordered,
       pg_temp.error_of($q$SELECT lifecycle_stage_before('infinity'::timestamptz) OVER ()$q$) AS infinite;

-- lifecycle_lost_at: just after it the customer is lost (by lifecycle_stage over the orders so far),
-- just before it not, for every order.
SELECT count(*) AS orders,
       count(*) FILTER (WHERE (SELECT lifecycle_stage(p.created_at, x.lost_at + interval '1 second') FROM valid_orders p
                               WHERE p.customer = x.customer AND (p.created_at, p.id) <= (x.created_at, x.id)) <> 'lost'
                          OR (SELECT lifecycle_stage(p.created_at, x.lost_at - interval '1 second') FROM valid_orders p
                               WHERE p.customer = x.customer AND (p.created_at, p.id) <= (x.created_at, x.id)) = 'lost') AS wrong
FROM (SELECT o.*, lifecycle_lost_at(o.created_at) OVER (PARTITION BY o.customer ORDER BY o.created_at, o.id) AS lost_at
      FROM valid_orders o) x;
SELECT n, t, lifecycle_lost_at(t) OVER (ORDER BY n) AS lost_at
FROM (VALUES (1, '2024-01-01'::timestamptz), (2, NULL), (3, '2024-01-31'), (4, '2024-03-01')) v(n, t);

-- Customer events: the orders behind them, against an oracle with correlated subqueries.
CREATE TEMP TABLE ev AS
SELECT * FROM segments.customer_event_orders((SELECT today - interval '150 days' FROM days), (SELECT today FROM days));
CREATE TEMP TABLE ev_oracle AS
SELECT o.customer, o.id, o.created_at, o.total,
       1 + (SELECT count(*) FROM valid_orders p WHERE p.customer = o.customer AND (p.created_at, p.id) < (o.created_at, o.id)) AS n,
       (SELECT lifecycle_stage(p.created_at, o.created_at) FROM valid_orders p
        WHERE p.customer = o.customer AND (p.created_at, p.id) < (o.created_at, o.id)) AS stage_before
FROM valid_orders o, days WHERE o.created_at >= today - interval '150 days' AND o.created_at < today;
SELECT (SELECT count(*) FROM ev) AS event_orders,
       (SELECT count(*) FROM (SELECT * FROM ev EXCEPT SELECT * FROM ev_oracle) d) AS only_function,
       (SELECT count(*) FROM (SELECT * FROM ev_oracle EXCEPT SELECT * FROM ev) d) AS only_oracle;
SELECT stage_before, count(*) FROM ev GROUP BY 1 ORDER BY 1;

-- The five metrics against the oracle, this range and the default comparison (the 150 days before).
CREATE TEMP TABLE ev_oracle_before AS
SELECT o.customer, o.total, 1 + (SELECT count(*) FROM valid_orders p WHERE p.customer = o.customer AND (p.created_at, p.id) < (o.created_at, o.id)) AS n,
       (SELECT lifecycle_stage(p.created_at, o.created_at) FROM valid_orders p
        WHERE p.customer = o.customer AND (p.created_at, p.id) < (o.created_at, o.id)) AS stage_before
FROM valid_orders o, days WHERE o.created_at >= today - interval '300 days' AND o.created_at < today - interval '150 days';
CREATE FUNCTION pg_temp.oracle_metrics(tab regclass) RETURNS TABLE(metric text, customers bigint, orders bigint, revenue numeric)
LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY EXECUTE format($q$
    SELECT m, count(DISTINCT customer) FILTER (WHERE hit), count(*) FILTER (WHERE hit), coalesce(sum(total) FILTER (WHERE hit), 0)
    FROM (SELECT m, customer, total, CASE m WHEN 'unique_customers' THEN true WHEN 'customers_gained' THEN n = 1
                   WHEN 'placed_second_order' THEN n = 2 WHEN 'won_back' THEN stage_before IS NOT DISTINCT FROM 'lost'
                   ELSE stage_before IS NOT DISTINCT FROM 'slipping_away' END AS hit
          FROM %1$s, unnest('{unique_customers,customers_gained,placed_second_order,won_back,saved}'::text[]) m) x
    GROUP BY m$q$, tab);
END $$;
SELECT e.metric, e.customers, e.orders, e.revenue, e.comparison_customers, e.change, e.change_ratio,
       (e.customers, e.orders, e.revenue) = (a.customers, a.orders, a.revenue)
       AND (e.comparison_customers, e.comparison_orders, e.comparison_revenue) = (b.customers, b.orders, b.revenue) AS as_oracle
FROM segments.customer_events((SELECT today - interval '150 days' FROM days), (SELECT today FROM days)) e
JOIN pg_temp.oracle_metrics('ev_oracle') a USING (metric)
JOIN pg_temp.oracle_metrics('ev_oracle_before') b USING (metric)
ORDER BY e.metric_order;
-- An explicit comparison range equal to the default one gives the same answer.
SELECT (SELECT array_agg(comparison_customers ORDER BY metric_order) FROM segments.customer_events(
          (SELECT today - interval '150 days' FROM days), (SELECT today FROM days),
          (SELECT today - interval '300 days' FROM days), (SELECT today - interval '150 days' FROM days)))
     = (SELECT array_agg(comparison_customers ORDER BY metric_order) FROM segments.customer_events(
          (SELECT today - interval '150 days' FROM days), (SELECT today FROM days))) AS same_comparison;

-- Per product: units, unique customers and revenue of the orders behind each metric.
CREATE TEMP TABLE prod AS
SELECT * FROM segments.customer_event_products((SELECT today - interval '150 days' FROM days), (SELECT today FROM days),
  'ins.lines', '{"order_id": "order_ref", "product": "sku", "units": "qty", "revenue": "line_total"}');
CREATE TEMP TABLE prod_oracle AS
SELECT m.metric, l.sku AS product, sum(l.qty)::numeric AS units, count(DISTINCT e.customer) AS customers, sum(l.line_total) AS revenue
FROM ev_oracle e JOIN ins.lines l ON l.order_ref = e.id
JOIN (VALUES ('unique_customers'), ('customers_gained'), ('placed_second_order'), ('won_back'), ('saved')) m(metric)
  ON CASE m.metric WHEN 'unique_customers' THEN true WHEN 'customers_gained' THEN e.n = 1
       WHEN 'placed_second_order' THEN e.n = 2 WHEN 'won_back' THEN e.stage_before = 'lost'
       ELSE e.stage_before = 'slipping_away' END
GROUP BY 1, 2;
SELECT (SELECT count(*) FROM prod) AS product_rows, (SELECT count(DISTINCT metric) FROM prod) AS metrics,
       (SELECT count(*) FROM (SELECT metric, product, units, customers, revenue FROM prod EXCEPT SELECT * FROM prod_oracle) d) AS only_function,
       (SELECT count(*) FROM (SELECT * FROM prod_oracle EXCEPT SELECT metric, product, units, customers, revenue FROM prod) d) AS only_oracle;
SELECT metric, product, units, customers, revenue FROM prod WHERE metric = 'won_back';
-- Grouped by a product attribute, one metric only.
SELECT metric, product AS category, units, customers, revenue
FROM segments.customer_event_products((SELECT today - interval '150 days' FROM days), (SELECT today FROM days),
  'ins.lines', '{"order_id": "order_ref", "product": "category", "units": "qty", "revenue": "line_total"}', 'saved');

-- Cohorts by first-order month against an oracle that walks the months.
CREATE TEMP TABLE co AS SELECT * FROM segments.cohorts('month');
CREATE TEMP TABLE co_oracle AS
WITH firsts AS (SELECT customer, date_trunc('month', min(created_at)) AS c FROM valid_orders GROUP BY 1),
months AS (SELECT m FROM generate_series((SELECT min(c) FROM firsts), (SELECT date_trunc('month', max(created_at)) FROM valid_orders), '1 month') m)
SELECT f.c::date AS cohort, (SELECT count(*) FROM firsts f2 WHERE f2.c = f.c) AS size,
       (extract(year FROM age(months.m, f.c)) * 12 + extract(month FROM age(months.m, f.c)))::int AS k,
       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM valid_orders o WHERE o.customer = f.customer
                                      AND o.created_at >= months.m AND o.created_at < months.m + interval '1 month')) AS active
FROM firsts f JOIN months ON months.m >= f.c GROUP BY f.c, months.m;
SELECT (SELECT count(*) FROM co) > 50 AS many_cells, (SELECT count(DISTINCT cohort) FROM co) > 5 AS several_cohorts,
       (SELECT bool_and(retention = 1) FROM co WHERE period_number = 0) AS all_retained_at_start,
       (SELECT count(*) FROM (SELECT cohort, cohort_size, period_number, active_customers FROM co EXCEPT SELECT * FROM co_oracle) d) AS only_function,
       (SELECT count(*) FROM (SELECT * FROM co_oracle EXCEPT SELECT cohort, cohort_size, period_number, active_customers FROM co) d) AS only_oracle,
       (SELECT sum(orders) FROM co) = (SELECT count(*) FROM valid_orders) AS all_orders_counted;
-- Quarterly and weekly cohorts; cohorts chosen by first-order date.
SELECT period, count(*) > 10 AS has_cells, bool_and(active_customers <= cohort_size) AS active_within_size,
       sum(orders) FILTER (WHERE true) = (SELECT count(*) FROM valid_orders) AS all_orders_counted
FROM (SELECT 'quarter' AS period, * FROM segments.cohorts('quarter') UNION ALL
      SELECT 'week', * FROM segments.cohorts('week')) x GROUP BY period ORDER BY period;
SELECT count(DISTINCT cohort) BETWEEN 3 AND 5 AS some_cohorts,
       min(cohort) >= date_trunc('month', (SELECT today - interval '200 days' FROM days))::date AS from_respected,
       max(cohort) < (SELECT today - interval '100 days' FROM days)::date AS to_respected
FROM segments.cohorts('month', (SELECT today - interval '200 days' FROM days), (SELECT today - interval '100 days' FROM days));

-- Bad input.
SELECT q AS statement, pg_temp.error_of(q) AS error FROM (VALUES
  ($q$SELECT * FROM segments.new_returning_lapsed('2024-02-01', '2024-01-01')$q$),
  ($q$SELECT * FROM segments.new_returning_lapsed('2024-02-01', 'infinity')$q$),
  ($q$SELECT * FROM segments.new_returning_lapsed_series('2024-01-01', '2024-02-01', '-1 day')$q$),
  ($q$SELECT * FROM segments.customer_events('2024-01-01', '2024-02-01', '2023-01-01')$q$),
  ($q$SELECT * FROM segments.customer_event_products('2024-01-01', '2024-02-01', 'ins.lines')$q$),
  ($q$SELECT * FROM segments.customer_event_products('2024-01-01', '2024-02-01', 'ins.lines', '{"order_id": "order_ref", "product": "sku", "units": "qty", "revenue": "line_total", "price": "x"}')$q$),
  ($q$SELECT * FROM segments.customer_event_products('2024-01-01', '2024-02-01', 'ins.lines', '{"order_id": "order_ref", "product": "sku", "units": "qty", "revenue": "line_total"}', 'lapsed')$q$),
  ($q$SELECT * FROM segments.cohorts('fortnight')$q$)
) v(q);

-- One definition of a purchase: on a shop with refunds, the insights agree with segments.customers.
SELECT (SELECT sum(orders) FROM segments.customers) AS facts_orders,
       (SELECT sum(orders) FROM segments.cohorts('month')) AS cohort_orders,
       (SELECT count(*) FROM segments.customer_event_orders('2000-01-01', (SELECT max(refreshed_at) FROM segments.customers))) AS event_orders,
       (SELECT sum(orders) FROM segments.new_returning_lapsed('2000-01-01', (SELECT max(refreshed_at) FROM segments.customers))) AS nrl_orders,
       (SELECT sum(orders) FROM segments.lifecycle_on((SELECT max(refreshed_at) FROM segments.customers))) AS lifecycle_on_orders,
       (SELECT sum(revenue) FROM segments.customers WHERE orders > 0) = (SELECT sum(revenue) FROM segments.cohorts('month')) AS cohort_revenue_agrees,
       (SELECT sum(revenue) FROM segments.customers WHERE orders > 0)
         = (SELECT sum(revenue) FROM segments.new_returning_lapsed('2000-01-01', (SELECT max(refreshed_at) FROM segments.customers))) AS nrl_revenue_agrees,
       (SELECT count(*) FROM segments.customers WHERE orders > 0)
         = (SELECT customers FROM segments.new_returning_lapsed('2000-01-01', (SELECT max(refreshed_at) FROM segments.customers)) WHERE status = 'new') AS all_new;

\i test/regress/sql/insights_teardown.psql

