-- demo/run: what a marketer looks at once the segments are fresh.
\pset footer off
\pset null ''

\echo '== The shop (segments.customers, facts as of the last refresh)'
SELECT to_char(count(*), 'FM999,999,999') AS contacts,
       to_char(count(*) FILTER (WHERE orders > 0), 'FM999,999,999') AS customers,
       to_char(sum(orders), 'FM999,999,999') AS orders,
       to_char(sum(revenue), 'FM$999,999,999,990') AS revenue,
       to_char(sum(revenue) / nullif(sum(orders), 0), 'FM$999,990.00') AS aov,
       to_char(avg(revenue) FILTER (WHERE orders > 0), 'FM$999,990.00') AS avg_clv,
       to_char(avg(order_latency_days), 'FM9,990.0') AS avg_latency_days,
       max(refreshed_at)::timestamp(0) AS facts_as_of
FROM segments.customers;

\echo
\echo '== Segment overview (segments.overview): members and their lifetime figures'
SELECT o.segment,
       to_char(o.customers, 'FM999,999,990') AS customers,
       to_char(o.revenue, 'FM$999,999,999,990') AS revenue,
       to_char(o.orders, 'FM999,999,990') AS orders,
       coalesce(to_char(o.aov, 'FM$999,990.00'), '') AS aov,
       coalesce(to_char(o.avg_clv, 'FM$999,999,990.00'), '') AS clv,
       coalesce(to_char(o.avg_order_latency_days, 'FM99,990.0'), '') AS latency_days,
       o.status
FROM segments.overview o
LEFT JOIN segments.pack_catalog p ON p.segment = o.segment
ORDER BY array_position(ARRAY['ecommerce', 'payments', 'crm', 'lifecycle'], o.pack), p.position, o.segment;

\echo
\echo '== Life cycle x value band: customers (share of revenue) in each cell'
WITH cells AS (
  SELECT lifecycle, value_band, count(*) AS n, sum(revenue) AS revenue
  FROM segments.customers WHERE orders > 0 GROUP BY 1, 2),
total AS (SELECT sum(revenue) AS revenue FROM cells),
f AS (
  SELECT c.lifecycle, c.value_band, c.n, c.revenue,
         to_char(c.n, 'FM999,999,990') || ' (' || to_char(100 * c.revenue / t.revenue, 'FM990.0') || '%)' AS fmt
  FROM cells c CROSS JOIN total t)
SELECT coalesce(lifecycle::text, '(none)') AS "life cycle",
       max(fmt) FILTER (WHERE value_band = 'low') AS low,
       max(fmt) FILTER (WHERE value_band = 'medium') AS medium,
       max(fmt) FILTER (WHERE value_band = 'high') AS high,
       max(fmt) FILTER (WHERE value_band = 'very_high') AS very_high,
       to_char(sum(n), 'FM999,999,990') || ' (' || to_char(100 * sum(revenue) / (SELECT revenue FROM total), 'FM990.0') || '%)' AS "all bands"
FROM f
GROUP BY lifecycle
ORDER BY lifecycle NULLS LAST;

\echo
\echo '== Members of lifecycle_slipping_away with the most revenue: win them back before they are lost'
SELECT c.customer_id, c.first_name || ' ' || c.last_name AS name, c.email,
       c.orders, to_char(c.revenue, 'FM$999,999,990.00') AS revenue,
       c.last_order_at::date AS last_order,
       round(c.order_latency_days::numeric, 1) AS latency_days,
       round(c.days_since_last_order::numeric) AS days_silent,
       c.value_band
FROM segments.members m JOIN segments.customers c USING (customer_id)
WHERE m.segment = 'lifecycle_slipping_away'
ORDER BY c.revenue DESC, c.customer_id
LIMIT 8;
