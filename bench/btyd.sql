-- BTYD fit benchmark: one million synthetic customer summaries, fitted with each model.
--   psql -v customers=1000000 -f bench/btyd.sql        (as a superuser: reads /proc/self/status)
-- Prints the time of each statement and the peak resident memory (VmHWM) of this backend. Each
-- fit is best run in a fresh session to see its own peak; here they run in one, so VmHWM only grows.
\set ON_ERROR_STOP on
\if :{?customers}
\else
  \set customers 1000000
\endif
CREATE EXTENSION IF NOT EXISTS pg_segments;
SET max_parallel_workers_per_gather = 0;
SELECT setseed(0.42);
-- Plausible BTYD summaries at day granularity (as rfm_summary builds them, in weeks = days / 7):
-- heavy-tailed purchase rates, about 70% one-time buyers, ages up to a year. Only the shapes are
-- plausible (spends have no Gamma-Gamma structure): the timings matter here, not the estimates.
CREATE TEMP TABLE btyd_bench_days AS
SELECT i AS customer, x::float8 AS x,
       CASE WHEN x = 0 THEN 0 ELSE greatest(1, t_days - floor(random() ^ 2 * t_days)) / 7.0 END::float8 AS t_x,
       (t_days / 7.0)::float8 AS t,
       CASE WHEN x = 0 THEN 0 ELSE round((20 + 60 * random() ^ 2)::numeric, 2) END::float8 AS m
FROM (SELECT i, t_days, least(floor(0.08 * (-ln(random())) ^ 2 * t_days / 7.0 * random()), t_days - 1)::int AS x
      FROM (SELECT i, 7 + floor(random() * 358)::int AS t_days FROM generate_series(1, :customers) i) a) b;
-- The same in whole weeks: coarser summaries, far fewer distinct ones.
CREATE TEMP TABLE btyd_bench_weeks AS
SELECT customer, x, CASE WHEN x = 0 THEN 0 ELSE least(greatest(round(t_x), 1), round(t)) END AS t_x, round(t) AS t, m
FROM btyd_bench_days;
ANALYZE btyd_bench_days;
ANALYZE btyd_bench_weeks;
SELECT (SELECT count(*) FROM btyd_bench_days) AS customers,
       (SELECT count(*) FROM (SELECT DISTINCT x, t_x, t FROM btyd_bench_days) d) AS distinct_days,
       (SELECT count(*) FROM (SELECT DISTINCT x, t_x, t FROM btyd_bench_weeks) d) AS distinct_weeks;

CREATE FUNCTION pg_temp.vmhwm() RETURNS text LANGUAGE sql AS
$$ SELECT (regexp_match(pg_read_file('/proc/self/status'), 'VmHWM:\s+(\d+ kB)'))[1] $$;
SELECT pg_temp.vmhwm() AS vmhwm_before;
\timing on
SELECT count(*) FROM btyd_bench_days;
SELECT pg_temp.vmhwm() AS vmhwm_after_scan;
SELECT bgnbd_fit(x, t_x, t) FROM btyd_bench_weeks;
SELECT bgnbd_fit(x, t_x, t) FROM btyd_bench_days;
SELECT pg_temp.vmhwm() AS vmhwm_after_bgnbd;
SELECT gammagamma_fit(x, m) FROM btyd_bench_weeks;
SELECT paretonbd_fit(x, t_x, t) FROM btyd_bench_weeks;
SELECT pg_temp.vmhwm() AS vmhwm_after_all;
\timing off
DROP TABLE btyd_bench_days, btyd_bench_weeks;
