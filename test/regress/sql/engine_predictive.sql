-- Predictive columns of the customer facts: at each facts refresh BG/NBD and Gamma-Gamma are fitted
-- over every buyer's RFM summary (weeks) and each customer is scored. On CDNOW (test/data/cdnow),
-- with the facts as of the end of the 39-week calibration period, the facts' model is the published
-- one and each customer's scores equal the scoring functions called on that model by hand.
DROP EXTENSION IF EXISTS pg_segments CASCADE;
CREATE EXTENSION pg_segments;
SET timezone = 'UTC';
CREATE SCHEMA cdnow_shop;
CREATE TABLE cdnow_shop.raw(line text);
\copy cdnow_shop.raw FROM 'test/data/cdnow/CDNOW_sample.txt' WITH (FORMAT text, DELIMITER '|')
CREATE TABLE cdnow_shop.orders AS
SELECT f[2]::int AS customer, to_date(f[3], 'YYYYMMDD')::timestamptz AS ordered_at, f[5]::numeric AS amount
FROM (SELECT regexp_split_to_array(btrim(line, E' \r'), '\s+') AS f FROM cdnow_shop.raw) s;
SELECT segments.map_source('orders', 'cdnow_shop.orders',
  '{"customer_id": "customer", "ordered_at": "ordered_at", "amount": "amount"}');
SELECT customers FROM segments.refresh_facts('1997-09-30');

-- The model the facts used, fitted independently here.
CREATE TEMP TABLE summary AS
SELECT customer::text AS customer_id, rfm_summary(ordered_at, amount, '1997-09-30', 'weeks') AS s
FROM cdnow_shop.orders WHERE ordered_at <= '1997-09-30' GROUP BY customer;
CREATE TEMP TABLE model AS
SELECT bgnbd_fit((s).frequency, (s).recency, (s).t) AS bg, gammagamma_fit((s).frequency, (s).monetary) AS gg
FROM summary;
SELECT round((bg).r::numeric, 3) AS r, round((bg).alpha::numeric, 3) AS alpha, round((bg).a::numeric, 3) AS a,
       round((bg).b::numeric, 3) AS b, round((gg).p::numeric, 2) AS p, round((gg).q::numeric, 2) AS q,
       round((gg).gamma::numeric, 2) AS gamma
FROM model;

-- Every customer's scores equal the hand-made ones.
SELECT count(*) AS customers,
  count(*) FILTER (WHERE abs(c.p_alive - p_alive(m.bg, (x.s).frequency, (x.s).recency, (x.s).t)) < 1e-6) AS same_p_alive,
  count(*) FILTER (WHERE abs(c.expected_orders_90d
                         - expected_purchases(m.bg, (x.s).frequency, (x.s).recency, (x.s).t, 90 / 7.0)) < 1e-6) AS same_expected,
  count(*) FILTER (WHERE abs(c.predicted_clv - predicted_clv(m.bg, m.gg, (x.s).frequency, (x.s).recency, (x.s).t,
                                                             (x.s).monetary)::numeric) <= 0.005) AS same_clv,
  count(*) FILTER (WHERE abs(extract(epoch FROM c.expected_next_order_at
      - expected_next_order_at(m.bg, (x.s).frequency, (x.s).recency, c.last_order_at))) < 0.001) AS same_next
FROM segments.customers c JOIN summary x USING (customer_id) CROSS JOIN model m;

-- Customer 1 of the published summary (x = 2, t_x = 30.43, T = 38.86): lifetimes' example values.
SELECT customer_id, orders, round(p_alive::numeric, 3) AS p_alive, round(expected_orders_90d::numeric, 3) AS exp_90d,
       predicted_clv, expected_next_order_at::date
FROM segments.customers WHERE customer_id IN ('1', '2', '3') ORDER BY customer_id;

-- "Overdue for their next order" as a one-line rule (RetentionX's re-engagement example; add
-- `orders = 1` for first-time buyers: on CDNOW none is overdue yet, as a one-order customer's median
-- wait is 72 weeks).
SELECT segments.create_segment('overdue', rule => 'expected_next_order_at < refreshed_at') > 0 AS created;
SELECT count(*) AS members, count(*) > 100 AS many,
       (SELECT count(*) FROM segments.customers WHERE expected_next_order_at < '1997-09-30') AS by_hand,
       bool_and(c.orders >= 2) AS all_repeat_buyers
FROM segments.members m JOIN segments.customers c USING (customer_id) WHERE m.segment = 'overdue';

-- A shop too small to identify the models still refreshes its facts: the scores are NULL, not an error.
-- Customer 4's repeat order was free: a repeat buyer without spend (no Gamma-Gamma input, no CLV).
CREATE TABLE cdnow_shop.tiny(customer int, ordered_at timestamptz, amount numeric);
INSERT INTO cdnow_shop.tiny VALUES (1, '2024-01-01', 10), (1, '2024-02-01', 10), (2, '2024-01-15', 30), (3, '2024-03-01', 5),
  (4, '2024-01-01', 10), (4, '2024-02-01', 0);
SELECT segments.map_source('orders', 'cdnow_shop.tiny',
  '{"customer_id": "customer", "ordered_at": "ordered_at", "amount": "amount"}');
SELECT customers FROM segments.refresh_facts('2024-04-01');
SELECT count(*) AS customers, count(p_alive) AS with_p_alive, count(predicted_clv) AS with_clv FROM segments.customers;
SELECT customer_id, orders, revenue, p_alive IS NOT NULL AS scored FROM segments.customers WHERE customer_id = '4';

DROP EXTENSION pg_segments CASCADE;
DROP SCHEMA cdnow_shop CASCADE;
CREATE EXTENSION pg_segments;
