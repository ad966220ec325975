-- Helpers for bench/run, in schema bench of the benchmark's own database.
CREATE EXTENSION IF NOT EXISTS pg_segments;
CREATE SCHEMA bench;
CREATE TABLE bench.results (name text, rep int, ms float8, peak_kb bigint);
CREATE TABLE bench.info (k text PRIMARY KEY, v text);
-- Each customer's average order value: the input of the value_band window.
CREATE TABLE bench.aov AS SELECT customer_id, avg(total) AS aov FROM shop.orders GROUP BY customer_id;
ANALYZE bench.aov;
-- Each customer's purchase summary in weeks (paid orders up to the end of the data): the input of
-- the BG/NBD and Pareto/NBD fits.
CREATE TABLE bench.rfm AS
  SELECT customer_id, rfm_summary(created_at, total, current_setting('bench.as_of')::timestamptz) AS rfm
  FROM shop.orders WHERE status = 'paid' GROUP BY customer_id;
ANALYZE bench.rfm;

-- The backend's peak private memory so far (kB): its peak resident memory (VmHWM, /proc) less the
-- shared memory (shared buffers) and files (libraries) it maps now. A backend maps a shared buffer
-- the first time it reads the page in it and keeps it mapped, so these only grow: an index scan
-- over a 300 MB index raises VmHWM by 300 MB of buffers (and so would any plan reading it, ours or
-- the plain SQL's), which is not memory the query allocated. Exact when the query peaks after its
-- last first read of a buffer (hash tables and sorts peak at the end of their input); else a lower
-- bound.
CREATE FUNCTION bench.private_peak_kb() RETURNS bigint LANGUAGE sql AS $$
  SELECT (regexp_match(s, 'VmHWM:\s+(\d+)'))[1]::bigint - (regexp_match(s, 'RssShmem:\s+(\d+)'))[1]::bigint
         - (regexp_match(s, 'RssFile:\s+(\d+)'))[1]::bigint
  FROM pg_read_file('/proc/self/status') s $$;

-- Run before each measured query: load the extension library and read the orders table in this
-- backend (caches warm for every query alike). Returns the private peak so far, which the measured
-- query's peak is taken relative to.
CREATE FUNCTION bench.warm() RETURNS bigint LANGUAGE plpgsql
SET max_parallel_workers_per_gather = 0 AS $$
BEGIN
  PERFORM clv(x) FROM (VALUES (1::numeric)) v(x);
  PERFORM count(*) FROM shop.orders;
  PERFORM count(*) FROM bench.aov;
  RETURN bench.private_peak_kb();
END $$;

-- Before a full refresh: every ready-made segment dropped and installed again, not yet built.
CREATE FUNCTION bench.reinstall_packs() RETURNS int LANGUAGE plpgsql AS $$
BEGIN
  PERFORM segments.drop_segment(name) FROM segments.segments;
  PERFORM segments.install_pack(p, build => false) FROM unnest(ARRAY['ecommerce', 'payments', 'crm', 'lifecycle']) p;
  RETURN (SELECT count(*) FROM segments.segments);
END $$;

-- The 1% of the customers of a run (a different 1% each run).
CREATE FUNCTION bench.run_customers(run int) RETURNS SETOF bigint LANGUAGE sql STABLE AS $$
  SELECT customer_id FROM shop.customers WHERE customer_id % 100 = run % 100 $$;

-- Before a refresh after a small change: the run's 1% of the customers place an order.
CREATE FUNCTION bench.change_customers(run int) RETURNS bigint LANGUAGE sql AS $$
  WITH ins AS (
    INSERT INTO shop.orders (customer_id, created_at, status, total, items)
    SELECT c, now() - interval '1 minute' * (c % 60), 'paid', 42.50, 1
    FROM bench.run_customers(run) c
    RETURNING 1)
  SELECT count(*) FROM ins $$;

-- The write floor of building every segment, run right after a full refresh: its membership rows
-- and as many change-log rows (a first build logs a join per member) written by CREATE TABLE AS
-- with the tables' indexes. A full refresh cannot cost less than this plus the facts' CREATE TABLE AS.
CREATE FUNCTION bench.write_build_rows() RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
  DROP TABLE IF EXISTS bench.membership_copy, bench.changes_copy;
  CREATE TABLE bench.membership_copy AS SELECT * FROM segments.membership ORDER BY customer_id COLLATE "C", segment_id;
  ALTER TABLE bench.membership_copy ADD PRIMARY KEY (segment_id, customer_id);
  CREATE INDEX ON bench.membership_copy (customer_id);
  CREATE TABLE bench.changes_copy AS
    SELECT * FROM segments.changes ORDER BY id DESC LIMIT (SELECT count(*) FROM segments.membership);
  ALTER TABLE bench.changes_copy ADD PRIMARY KEY (id);
  CREATE INDEX ON bench.changes_copy (segment_id, id);
  RETURN (SELECT count(*) FROM bench.changes_copy);
END $$;

-- The floor of an incremental facts refresh after change_customers(run): each source's rows of the
-- customers that ordered, read by customer through the text-key indexes the incremental refresh
-- uses (the same rows it must read: in tables kept in time order they lie on most of the pages).
CREATE FUNCTION bench.read_changed(run int) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE ids text[] := ARRAY(SELECT c::text FROM bench.run_customers(run) c);
        k text; n bigint; total bigint := 0;
BEGIN
  FOR k IN SELECT kind FROM segments.source_map LOOP  -- every source kind, mapped or not
    EXECUTE format('SELECT count(*) FROM segments.source_%s WHERE customer_id = ANY ($1)', k) INTO n USING ids;
    total := total + n;
  END LOOP;
  RETURN total;
END $$;

-- Do ours and the plain-SQL equivalents agree? Rows that differ, per aggregate.
CREATE FUNCTION bench.check() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO bench.info
  SELECT 'differ_clv', count(*)::text FROM (
    SELECT customer_id, clv(total)::text a, sum(total)::text b FROM shop.orders GROUP BY 1) s WHERE a IS DISTINCT FROM b;
  INSERT INTO bench.info
  SELECT 'differ_order_latency', count(*)::text FROM (
    SELECT o.customer_id, o.v a, p.v b
    FROM (SELECT customer_id, order_latency(created_at) v FROM shop.orders GROUP BY 1) o
    JOIN (SELECT customer_id, avg(gap) v FROM (SELECT customer_id, date_part('epoch', created_at - lag(created_at)
            OVER (PARTITION BY customer_id ORDER BY created_at)) / 86400 gap FROM shop.orders) g GROUP BY 1) p
      USING (customer_id)) s
  WHERE (a IS NULL) <> (b IS NULL) OR abs(a - b) > 1e-6 * greatest(1, abs(b));
  -- rfm_summary: frequency, recency and T exactly, monetary to 1e-9 (the plain SQL divides in numeric)
  INSERT INTO bench.info
  SELECT 'differ_rfm_summary', count(*)::text FROM (
    SELECT customer_id, rfm_summary(created_at, total, current_setting('bench.as_of')::timestamptz) a
    FROM shop.orders GROUP BY 1) o
  FULL JOIN (
    SELECT customer_id, (count(*) - 1)::int f, (max(d) - min(d)) / 7.0::float8 r,
           (current_setting('bench.as_of')::date - min(d)) / 7.0::float8 t,
           CASE WHEN count(*) > 1 THEN ((sum(s) - sum(s) FILTER (WHERE d = fd)) / (count(*) - 1))::float8 ELSE 0 END m
    FROM (SELECT customer_id, d, sum(coalesce(total, 0)) s, min(d) OVER (PARTITION BY customer_id) fd
          FROM (SELECT customer_id, created_at::date d, total FROM shop.orders
                WHERE created_at::date <= current_setting('bench.as_of')::date) x GROUP BY 1, 2) y
    GROUP BY 1) p USING (customer_id)
  WHERE (o.a IS NULL) <> (p.f IS NULL) OR (o.a).frequency <> p.f OR (o.a).recency <> p.r OR (o.a).t <> p.t
     OR abs((o.a).monetary - p.m) > 1e-9 * greatest(1, abs(p.m));
  INSERT INTO bench.info
  SELECT 'differ_lifecycle_stage', count(*)::text FROM (
    SELECT customer_id, lifecycle_stage(created_at, current_setting('bench.as_of')::timestamptz)::text a FROM shop.orders GROUP BY 1) o
  JOIN (SELECT customer_id, CASE WHEN silence <= 30 THEN 'just_ordered' WHEN silence <= m + sp THEN 'active'
               WHEN silence <= m + 3 * sp THEN 'slipping_away' ELSE 'lost' END AS b
        FROM (SELECT customer_id, date_part('epoch', current_setting('bench.as_of')::timestamptz - max(created_at)) / 86400 AS silence,
                     coalesce(avg(gap), 90) AS m,
                     greatest(CASE WHEN count(*) = 1 THEN 90 ELSE coalesce(stddev_samp(gap), 0) END,
                              0.5 * coalesce(avg(gap), 90)) AS sp
              FROM (SELECT customer_id, created_at, date_part('epoch', created_at - lag(created_at)
                      OVER (PARTITION BY customer_id ORDER BY created_at)) / 86400 AS gap
                    FROM shop.orders WHERE created_at <= current_setting('bench.as_of')::timestamptz) g GROUP BY 1) x) p USING (customer_id)
  WHERE a IS DISTINCT FROM b;
  -- fed in order: the same answers as the unordered calls checked above
  INSERT INTO bench.info
  SELECT 'differ_order_latency_ordered', count(*)::text FROM (
    SELECT customer_id, order_latency(created_at) a, order_latency(created_at ORDER BY created_at) b
    FROM shop.orders GROUP BY 1) s WHERE a IS DISTINCT FROM b;
  INSERT INTO bench.info
  SELECT 'differ_lifecycle_stage_ordered', count(*)::text FROM (
    SELECT customer_id, lifecycle_stage(created_at, current_setting('bench.as_of')::timestamptz) a,
           lifecycle_stage(created_at, current_setting('bench.as_of')::timestamptz ORDER BY created_at) b
    FROM shop.orders GROUP BY 1) s WHERE a IS DISTINCT FROM b;
  INSERT INTO bench.info
  SELECT 'differ_rfm_summary_ordered', count(*)::text FROM (
    SELECT customer_id, rfm_summary(created_at, total, current_setting('bench.as_of')::timestamptz) a,
           rfm_summary(created_at, total, current_setting('bench.as_of')::timestamptz ORDER BY created_at) b
    FROM shop.orders GROUP BY 1) s WHERE a IS DISTINCT FROM b;
  INSERT INTO bench.info
  SELECT 'differ_value_band', count(*)::text FROM (
    SELECT value_band(aov) OVER ()::text a,
           CASE WHEN aov / avg(aov) OVER () < 0.75 THEN 'low' WHEN aov / avg(aov) OVER () <= 1.25 THEN 'medium'
                WHEN aov / avg(aov) OVER () <= 2.5 THEN 'high' ELSE 'very_high' END b
    FROM bench.aov) s
  WHERE a IS DISTINCT FROM b;
END $$;

-- The table bench/run prints: medians, ratios, peak memory. Each aggregate is compared with the
-- fastest of its plain-SQL equivalents (x_sql, x_sql_<way>), named in the "plain SQL" column.
CREATE FUNCTION bench.report() RETURNS TABLE (
  measure text, "ms" numeric, "vs count(*)" numeric, "plain SQL" text, "plain SQL ms" numeric,
  "vs plain SQL" numeric, "peak MB" numeric, "plain peak MB" numeric, "rows differing" text)
LANGUAGE sql AS $$
  WITH m AS (
    SELECT name, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS ms,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY peak_kb) / 1024.0 AS mb
    FROM bench.results GROUP BY name),
  base AS (SELECT (SELECT ms FROM m WHERE name = 'count') AS agg, (SELECT ms FROM m WHERE name = 'count_window') AS win)
  SELECT CASE o.name WHEN 'count' THEN 'count(*) GROUP BY customer'
                     WHEN 'columns' THEN 'max(created_at), sum(total) GROUP BY customer'
                     WHEN 'count_window' THEN 'count(*) OVER () (customers)' ELSE o.name END,
         round(o.ms::numeric, 1),
         CASE WHEN o.name IN ('count', 'columns', 'clv', 'order_latency', 'order_latency_ordered', 'lifecycle_stage', 'lifecycle_stage_ordered',
                              'rfm_summary', 'rfm_summary_ordered')
              THEN round((o.ms / base.agg)::numeric, 2)
              WHEN o.name IN ('count_window', 'value_band') THEN round((o.ms / base.win)::numeric, 2) END,
         p.way,
         round(p.ms::numeric, 1),
         round((o.ms / p.ms)::numeric, 2),
         round(o.mb::numeric, 1),
         round(p.mb::numeric, 1),
         (SELECT v FROM bench.info WHERE k = 'differ_' || o.name)
  FROM m o CROSS JOIN base
  LEFT JOIN LATERAL (
    SELECT q.name AS way, q.ms, q.mb
    FROM m q, LATERAL (SELECT regexp_replace(o.name, '_ordered$', '') AS x) b  -- x_ordered: x's plain SQL
    WHERE q.name = b.x || '_sql' OR q.name LIKE b.x || '\_sql\_%'
    ORDER BY q.ms LIMIT 1) p ON true
  WHERE o.name NOT LIKE '%\_sql' AND o.name NOT LIKE '%\_sql\_%'
    AND o.name NOT IN ('bgnbd_fit', 'paretonbd_fit', 'facts_ctas', 'build_write_floor', 'refresh_full', 'refresh_1pct', 'segments_full',
                       'incr_1pct', 'incr_segments_1pct', 'incr_nothing', 'freshness')
    AND o.name NOT LIKE 'facts\_%'
  ORDER BY CASE o.name WHEN 'count' THEN 0 WHEN 'columns' THEN 0.5 WHEN 'clv' THEN 1 WHEN 'order_latency' THEN 2 WHEN 'order_latency_ordered' THEN 2.5
                       WHEN 'lifecycle_stage' THEN 3 WHEN 'lifecycle_stage_ordered' THEN 3.5 WHEN 'rfm_summary' THEN 4
                       WHEN 'rfm_summary_ordered' THEN 4.5 WHEN 'count_window' THEN 5
                       WHEN 'value_band' THEN 6 ELSE 7 END, o.name
$$;

-- The second table: the segment engine against CREATE TABLE AS of the facts query.
CREATE FUNCTION bench.report_engine() RETURNS TABLE (
  measure text, "ms" numeric, "vs CREATE TABLE AS facts" numeric, "peak MB" numeric)
LANGUAGE sql AS $$
  WITH m AS (
    SELECT name, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS ms,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY peak_kb) / 1024.0 AS mb
    FROM bench.results WHERE name IN ('facts_ctas', 'build_write_floor', 'refresh_full', 'refresh_1pct') GROUP BY name),
  base AS (SELECT ms FROM m WHERE name = 'facts_ctas')
  SELECT CASE m.name
           WHEN 'facts_ctas' THEN 'CREATE TABLE AS SELECT * FROM compute_facts()'
           WHEN 'build_write_floor' THEN format('+ writing the build''s %s memberships and change-log rows (CREATE TABLE AS, indexes)',
                                                (SELECT count(*) FROM segments.membership))
           WHEN 'refresh_full' THEN format('full refresh: facts + %s segments built', (SELECT count(*) FROM segments.segments WHERE name <> 'bench probe'))
           ELSE 'refresh after 1% of customers ordered' END,
         round(m.ms::numeric, 1),
         -- the write floor's ratio counts the facts' CREATE TABLE AS too: the floor of a full refresh
         round(((m.ms + CASE WHEN m.name = 'build_write_floor' THEN base.ms ELSE 0 END) / base.ms)::numeric, 2),
         round(m.mb::numeric, 1)
  FROM m LEFT JOIN base ON true
  ORDER BY array_position(ARRAY['facts_ctas', 'build_write_floor', 'refresh_full', 'refresh_1pct'], m.name)
$$;

-- The fits table: the BG/NBD and Pareto/NBD fits on the same summaries, the Pareto/NBD as a ratio
-- of the BG/NBD (issue 13's goal: within 3x), with the number of distinct summaries the fits
-- optimise over (customers sharing (x, t_x, T) are one weighted row).
CREATE FUNCTION bench.report_fits() RETURNS TABLE (
  measure text, "ms" numeric, "vs bgnbd_fit" numeric, "peak MB" numeric, converged boolean)
LANGUAGE sql AS $$
  WITH m AS (
    SELECT name, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS ms,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY peak_kb) / 1024.0 AS mb
    FROM bench.results WHERE name IN ('bgnbd_fit', 'paretonbd_fit') GROUP BY name),
  base AS (SELECT ms FROM m WHERE name = 'bgnbd_fit'),
  data AS (SELECT count(*) AS customers,
                  count(DISTINCT ((rfm).frequency, (rfm).recency, (rfm).t)) AS distinct_summaries
           FROM bench.rfm)
  SELECT format('%s over %s customers (%s distinct summaries)', m.name, data.customers, data.distinct_summaries),
         round(m.ms::numeric, 1),
         round((m.ms / base.ms)::numeric, 2),
         round(m.mb::numeric, 1),
         CASE m.name WHEN 'bgnbd_fit' THEN (SELECT (bgnbd_fit((rfm).frequency, (rfm).recency, (rfm).t)).converged FROM bench.rfm)
                     ELSE (SELECT (paretonbd_fit((rfm).frequency, (rfm).recency, (rfm).t)).converged FROM bench.rfm) END
  FROM m CROSS JOIN base CROSS JOIN data
  ORDER BY m.name
$$;

-- The third table: refresh cost in proportion to the change (issue 11) and freshness under load.
CREATE FUNCTION bench.report_incremental() RETURNS TABLE (measure text, "ms" numeric, "share" text, goal text)
LANGUAGE sql AS $$
  WITH m AS (
    SELECT name, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS ms FROM bench.results GROUP BY name),
  f AS (SELECT ms FROM m WHERE name = 'refresh_full'), s AS (SELECT ms FROM m WHERE name = 'segments_full'),
  lat AS (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) / 1000 AS p50,
                 percentile_cont(0.95) WITHIN GROUP (ORDER BY ms) / 1000 AS p95, count(*) AS n
          FROM bench.results WHERE name = 'freshness')
  SELECT x.measure, round(x.ms::numeric, 1), x.share, x.goal FROM (
    SELECT 1 AS o, 'refresh after 1% of customers ordered (incremental facts + segments)' AS measure, m.ms,
           round((100 * m.ms / f.ms)::numeric, 2) || ' % of a full refresh' AS share, '<= 5 %' AS goal
    FROM m, f WHERE m.name = 'incr_1pct'
    UNION ALL
    SELECT 2, 'refresh when nothing changed and no time passed', m.ms,
           round((100 * m.ms / f.ms)::numeric, 2) || ' % of a full refresh', '<= 1 %' FROM m, f WHERE m.name = 'incr_nothing'
    UNION ALL
    SELECT 3, format('refresh_all() of %s segments after 1%% ordered (facts already refreshed)', (SELECT count(*) FROM segments.segments WHERE pack IS NOT NULL)),
           m.ms, round((100 * m.ms / s.ms)::numeric, 2) || ' % of refresh_all() building them', NULL FROM m, s WHERE m.name = 'incr_segments_1pct'
    UNION ALL
    SELECT 4, 'refresh_all() building every segment (facts already refreshed)', m.ms, NULL, NULL FROM m WHERE m.name = 'segments_full'
    UNION ALL
    SELECT 5, format('data change -> membership, worker under a write load (%s probes)', lat.n), NULL,
           format('p50 %s s, p95 %s s', round(lat.p50::numeric, 1), round(lat.p95::numeric, 1)), 'p95 <= 60 s'
    FROM lat WHERE lat.n > 0) x
  ORDER BY x.o
$$;

-- The fitted BG/NBD model next to the one the generator drew from (rates there are per day).
CREATE FUNCTION bench.fit_note() RETURNS text LANGUAGE sql AS $$
  SELECT format('BG/NBD fitted on the generated shop: r=%s alpha=%s weeks a=%s b=%s (converged %s); '
                'the generator drew r=0.75, a=1.2, b=20 (then thinned repeat orders by season)',
                round((f).r::numeric, 3), round((f).alpha::numeric, 2), round((f).a::numeric, 3),
                round((f).b::numeric, 3), (f).converged)
  FROM (SELECT bgnbd_fit((rfm).frequency, (rfm).recency, (rfm).t) AS f FROM bench.rfm) s
$$;

-- The facts pipeline (issue 11): compute_facts against its floor, the facts refreshes against
-- CREATE TABLE AS of the facts.
CREATE FUNCTION bench.report_facts() RETURNS TABLE (measure text, "ms" numeric, ratio text, goal text)
LANGUAGE sql AS $$
  WITH m AS (SELECT name, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS ms FROM bench.results GROUP BY name),
  v AS (SELECT (SELECT ms FROM m WHERE name = 'facts_floor') AS floor, (SELECT ms FROM m WHERE name = 'facts_ctas') AS ctas,
               (SELECT ms FROM m WHERE name = 'facts_refresh_full') AS full_)
  SELECT x.measure, round(x.ms::numeric, 1), x.ratio, x.goal FROM (
    SELECT 1 AS o, 'floor: count(*) GROUP BY customer over each source, summed' AS measure, m.ms, NULL AS ratio, NULL AS goal
    FROM m WHERE m.name = 'facts_floor'
    UNION ALL
    SELECT 2, 'SELECT count(*) FROM compute_facts()', m.ms, round((m.ms / v.floor)::numeric, 2) || ' x the floor', '<= 5 x'
    FROM m, v WHERE m.name = 'facts_compute'
    UNION ALL
    SELECT 3, 'refresh_facts() (full)', m.ms, round((m.ms / v.ctas)::numeric, 2) || ' x CREATE TABLE AS', '<= 1.5 x'
    FROM m, v WHERE m.name = 'facts_refresh_full'
    UNION ALL
    SELECT 4, 'refresh_facts(incremental) after 1% of customers ordered', m.ms,
           round((100 * m.ms / v.full_)::numeric, 2) || ' % of a full one, '
           || round((m.ms / f.ms)::numeric, 2) || ' x its floor', NULL
    FROM m, v, m f WHERE m.name = 'facts_refresh_incr_1pct' AND f.name = 'facts_incr_floor'
    UNION ALL
    SELECT 3.5, 'floor: the changed customers'' rows of each source, read by customer', m.ms, NULL, NULL
    FROM m WHERE m.name = 'facts_incr_floor'
    UNION ALL
    SELECT 5, 'refresh_facts(incremental), nothing changed', m.ms,
           round((100 * m.ms / v.full_)::numeric, 2) || ' % of a full one', NULL FROM m, v WHERE m.name = 'facts_refresh_incr_nothing'
    UNION ALL
    SELECT 6, 'SELECT sum(orders), sum(revenue) FROM segments.customers (no score selected)', m.ms,
           round((m.ms / t.ms)::numeric, 2) || ' x the stored table', '1 x' FROM m, m t
    WHERE m.name = 'facts_read_view' AND t.name = 'facts_read_table'
    UNION ALL
    SELECT 7, 'the four predictive scores, computed when read', m.ms,
           round((m.ms / t.ms)::numeric, 2) || ' x the stored table', NULL FROM m, m t
    WHERE m.name = 'facts_read_scores' AND t.name = 'facts_read_table') x
  ORDER BY x.o
$$;
