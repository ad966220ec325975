-- demo/run cdnow: the BG/NBD story on real data. Calibrate on the first 39 weeks (to 1997-09-30),
-- predict the next 39 weeks, compare with what the customers really bought.
\pset footer off
\echo '== BG/NBD fitted on the first 39 weeks (Fader, Hardie & Lee 2005 report r=0.243 alpha=4.414 a=0.793 b=2.426 on a 1/10 sample)'
CREATE TEMP TABLE calib AS
  SELECT customer_id, rfm_summary(ordered_on, dollars, '1997-09-30') AS rfm
  FROM cdnow.orders GROUP BY customer_id;
CREATE TEMP TABLE model AS
  SELECT bgnbd_fit((rfm).frequency, (rfm).recency, (rfm).t) AS bg FROM calib WHERE rfm IS NOT NULL;
SELECT round((bg).r::numeric, 3) AS r, round((bg).alpha::numeric, 3) AS alpha, round((bg).a::numeric, 3) AS a,
       round((bg).b::numeric, 3) AS b, round((bg).log_likelihood::numeric, 1) AS log_likelihood,
       (bg).customers, (bg).converged
FROM model;

\echo
\echo '== Predicted repeat purchase days in the next 39 weeks against the real ones, by calibration frequency'
WITH pred AS (
  SELECT c.customer_id, (c.rfm).frequency AS x,
         expected_purchases(m.bg, (c.rfm).frequency, (c.rfm).recency, (c.rfm).t, 39) AS predicted
  FROM calib c, model m WHERE c.rfm IS NOT NULL),
actual AS (
  SELECT customer_id, count(DISTINCT ordered_on) AS actual
  FROM cdnow.orders WHERE ordered_on > '1997-09-30' GROUP BY customer_id)
SELECT CASE WHEN x >= 7 THEN '7+' ELSE x::text END AS repeat_days_in_calibration,
       count(*) AS customers,
       round(avg(predicted)::numeric, 2) AS predicted_per_customer,
       round(avg(coalesce(a.actual, 0))::numeric, 2) AS actual_per_customer
FROM pred p LEFT JOIN actual a USING (customer_id)
GROUP BY 1 ORDER BY min(x);
