-- RFM: quantile scores against an oracle built from percentile_disc cut points over the shop's own
-- tables; settable cut points; the named groups.
\i test/regress/sql/insights_data.psql

-- Oracle: per customer with a valid order, recency (days before the facts refresh), frequency, monetary.
CREATE TEMP TABLE rfm_in AS
SELECT customer AS customer_id,
       extract(epoch FROM (SELECT max(refreshed_at) FROM segments.customers) - max(created_at) FILTER (WHERE total >= 0)) / 86400 AS r,
       count(*) FILTER (WHERE total >= 0) AS f, sum(total) AS m
FROM ins.orders WHERE status <> 'cancelled' GROUP BY customer;
CREATE FUNCTION pg_temp.oracle_rfm(k int) RETURNS TABLE(customer_id text, r_score int, f_score int, m_score int)
LANGUAGE sql AS $$
  WITH fr AS (SELECT array_agg(i::float8 / k ORDER BY i) AS a FROM generate_series(1, k - 1) i),
  cuts AS (SELECT percentile_disc((SELECT a FROM fr)) WITHIN GROUP (ORDER BY r) AS rc,
                  percentile_disc((SELECT a FROM fr)) WITHIN GROUP (ORDER BY f::float8) AS fc,
                  percentile_disc((SELECT a FROM fr)) WITHIN GROUP (ORDER BY m::float8) AS mc FROM rfm_in)
  SELECT customer_id,
         k - (SELECT count(*) FROM unnest(rc) x WHERE x < r)::int,
         1 + (SELECT count(*) FROM unnest(fc) x WHERE x < f)::int,
         1 + (SELECT count(*) FROM unnest(mc) x WHERE x < m)::int
  FROM rfm_in, cuts
$$;

-- Default quintiles (window functions) and three buckets, against the oracle: no difference either way.
SELECT k, (SELECT count(*) FROM segments.rfm(k)) AS customers,
       (SELECT count(*) FROM (SELECT customer_id, r_score, f_score, m_score FROM segments.rfm(k)
                              EXCEPT SELECT * FROM pg_temp.oracle_rfm(k)) d) AS only_function,
       (SELECT count(*) FROM (SELECT * FROM pg_temp.oracle_rfm(k)
                              EXCEPT SELECT customer_id, r_score, f_score, m_score FROM segments.rfm(k)) d) AS only_oracle
FROM (VALUES (5), (3), (10)) v(k);

-- The cut points are visible (and are the oracle's quantiles); passing them back gives the same scores.
SELECT count(*) AS differing_cuts FROM segments.rfm_cut_points() c
JOIN (SELECT percentile_disc('{0.2,0.4,0.6,0.8}'::float8[]) WITHIN GROUP (ORDER BY r) AS rc,
             percentile_disc('{0.2,0.4,0.6,0.8}'::float8[]) WITHIN GROUP (ORDER BY f::float8) AS fc,
             percentile_disc('{0.2,0.4,0.6,0.8}'::float8[]) WITHIN GROUP (ORDER BY m::float8) AS mc FROM rfm_in) o
  ON true
WHERE EXISTS (SELECT 1 FROM unnest(c.cut_points, CASE c.dimension WHEN 'recency' THEN o.rc WHEN 'frequency' THEN o.fc ELSE o.mc END) u(x, y)
              WHERE abs(x - y) > 1e-6 OR y IS NULL);  -- recency: days computed in float8 vs numeric
SELECT dimension, cardinality(cut_points) AS cuts,
       CASE WHEN dimension = 'recency' THEN NULL ELSE cut_points END AS cut_points_if_not_time_dependent
FROM segments.rfm_cut_points();
SELECT count(*) AS differing FROM segments.rfm() a
JOIN segments.rfm(5, (SELECT cut_points FROM segments.rfm_cut_points() WHERE dimension = 'recency'),
                     (SELECT cut_points FROM segments.rfm_cut_points() WHERE dimension = 'frequency'),
                     (SELECT cut_points FROM segments.rfm_cut_points() WHERE dimension = 'monetary')) b USING (customer_id)
WHERE (a.r_score, a.f_score, a.m_score, a.rfm_score, a.rfm_group) IS DISTINCT FROM (b.r_score, b.f_score, b.m_score, b.rfm_score, b.rfm_group);

-- Ties share a score (quintiles of a column with few distinct values are uneven, never split).
SELECT frequency, min(f_score) AS min_f, max(f_score) AS max_f, count(*) FROM segments.rfm() GROUP BY 1 ORDER BY 1;
SELECT f_score, count(*) FROM segments.rfm() GROUP BY 1 ORDER BY 1;
SELECT r_score, count(*) FROM segments.rfm() GROUP BY 1 ORDER BY 1;

-- Chosen cut points: frequency 1 | 2 | 3-4 | 5-6 | 7+; monetary by fixed amounts.
SELECT frequency, f_score, count(*) FROM segments.rfm(5, frequency_cuts => '{1,2,4,6}') GROUP BY 1, 2 ORDER BY 1;
SELECT m_score, min(monetary), max(monetary), count(*)
FROM segments.rfm(5, monetary_cuts => '{100,250,500,1000}') GROUP BY 1 ORDER BY 1;

-- The score text and the named groups.
SELECT rfm_score = concat(r_score, f_score, m_score) AS score_text, count(*) FROM segments.rfm() GROUP BY 1;
SELECT bool_and(rfm_score = concat_ws('-', r_score, f_score, m_score)) AS dashed_with_10_buckets,
       max(r_score) AS max_r, count(DISTINCT rfm_group) > 5 AS groups_rescaled FROM segments.rfm(10);
SELECT rfm_group, count(*), min(r_score) AS min_r, max(r_score) AS max_r, min(f_score) AS min_f, max(f_score) AS max_f
FROM segments.rfm() GROUP BY 1 ORDER BY 1;
SELECT r, string_agg(f || ':' || segments.rfm_group(r, f), ' ' ORDER BY f) AS "f:group"
FROM generate_series(1, 5) r, generate_series(1, 5) f GROUP BY r ORDER BY r DESC;
SELECT row_value AS rfm_group, sum(contacts) AS contacts FROM segments.dimension_matrix('rfm_group', 'frequency')
GROUP BY 1, row_order ORDER BY row_order;

-- Bad input.
SELECT q AS statement, pg_temp.error_of(q) AS error FROM (VALUES
  ($q$SELECT * FROM segments.rfm(1)$q$),
  ($q$SELECT * FROM segments.rfm_cut_points(NULL)$q$),
  ($q$SELECT * FROM segments.rfm(5, frequency_cuts => '{1,2,3}')$q$),
  ($q$SELECT * FROM segments.rfm(5, monetary_cuts => '{100,50,200,300}')$q$),
  ($q$SELECT * FROM segments.rfm(3, recency_cuts => '{10,NULL}')$q$)
) v(q);

\i test/regress/sql/insights_teardown.psql
