-- The insights as views, for BI tools (docs/bi.md): they list views, not set-returning functions.
-- Each is one insight function with the defaults a dashboard wants; for other arguments call the
-- function. security_invoker: a reader sees what its own rights allow (row-level security).

-- Time "now" of the data: the facts' as-of time (so a shop loaded from history, like CDNOW, has
-- its recent months), else the clock.
CREATE OR REPLACE FUNCTION segments_internal._insights_data_now() RETURNS timestamptz
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT coalesce((SELECT f.refreshed_at FROM segments.facts_status f), now())
$$;
COMMENT ON FUNCTION segments_internal._insights_data_now() IS
  'Internal: the facts'' as-of time (segments.facts_status.refreshed_at), or now() before any facts refresh';

CREATE OR REPLACE VIEW segments.lifecycle_value_matrix WITH (security_invoker = true) AS
  SELECT m.row_value AS lifecycle, m.column_value AS value_band, m.row_order AS lifecycle_order,
         m.column_order AS value_band_order, m.contacts, m.customers, m.revenue,
         m.pct_of_total, m.pct_of_row, m.pct_of_column
  FROM segments.dimension_matrix('lifecycle', 'value_band') m;
COMMENT ON VIEW segments.lifecycle_value_matrix IS
  'Life cycle x value band over all customers (segments.dimension_matrix(''lifecycle'', ''value_band'')): one row per cell, zeros included. Natural key: (lifecycle, value_band)';
COMMENT ON COLUMN segments.lifecycle_value_matrix.lifecycle IS 'Life-cycle stage: lead, just_ordered, active, slipping_away, lost';
COMMENT ON COLUMN segments.lifecycle_value_matrix.value_band IS 'Value band: no_orders, low, medium, high, very_high';
COMMENT ON COLUMN segments.lifecycle_value_matrix.lifecycle_order IS 'Display position of the row (sort by it)';
COMMENT ON COLUMN segments.lifecycle_value_matrix.value_band_order IS 'Display position of the column (sort by it)';
COMMENT ON COLUMN segments.lifecycle_value_matrix.contacts IS 'Contacts in the cell (with or without orders)';
COMMENT ON COLUMN segments.lifecycle_value_matrix.customers IS 'Contacts in the cell with a valid order';
COMMENT ON COLUMN segments.lifecycle_value_matrix.revenue IS 'Lifetime revenue of the cell';
COMMENT ON COLUMN segments.lifecycle_value_matrix.pct_of_total IS 'Contacts in the cell, % of all contacts';
COMMENT ON COLUMN segments.lifecycle_value_matrix.pct_of_row IS 'Contacts in the cell, % of its life-cycle stage';
COMMENT ON COLUMN segments.lifecycle_value_matrix.pct_of_column IS 'Contacts in the cell, % of its value band';

CREATE OR REPLACE VIEW segments.cohort_retention WITH (security_invoker = true) AS
  SELECT * FROM segments.cohorts('month');
COMMENT ON VIEW segments.cohort_retention IS
  'Monthly cohorts by first valid order (segments.cohorts(''month'')): per cohort and month since, the customers who ordered and their share. Natural key: (cohort, period_number)';
COMMENT ON COLUMN segments.cohort_retention.cohort IS 'Month of the customers'' first valid order';
COMMENT ON COLUMN segments.cohort_retention.cohort_size IS 'Customers in the cohort';
COMMENT ON COLUMN segments.cohort_retention.period_number IS 'Months since the cohort month (0 = the first-order month)';
COMMENT ON COLUMN segments.cohort_retention.period_start IS 'First day of that month';
COMMENT ON COLUMN segments.cohort_retention.active_customers IS 'Cohort customers with a valid order in that month';
COMMENT ON COLUMN segments.cohort_retention.retention IS 'active_customers / cohort_size (0..1)';
COMMENT ON COLUMN segments.cohort_retention.orders IS 'Valid orders of the cohort in that month';
COMMENT ON COLUMN segments.cohort_retention.revenue IS 'Revenue of the cohort in that month';

CREATE OR REPLACE VIEW segments.new_returning_lapsed_monthly WITH (security_invoker = true) AS
  SELECT s.period_start, s.period_end, s.status, s.customers, s.orders, s.revenue
  FROM (SELECT date_trunc('month', segments_internal._insights_data_now()) + interval '1 month' AS to_at) t,
       segments.new_returning_lapsed_series(t.to_at - interval '12 months', t.to_at, interval '1 month') s;
COMMENT ON VIEW segments.new_returning_lapsed_monthly IS
  'New, returning and lapsed customers per month, the 12 months up to the facts'' as-of month (segments.new_returning_lapsed_series). Natural key: (period_start, status)';
COMMENT ON COLUMN segments.new_returning_lapsed_monthly.period_start IS 'Month start (in the session time zone)';
COMMENT ON COLUMN segments.new_returning_lapsed_monthly.period_end IS 'Next month''s start (exclusive)';
COMMENT ON COLUMN segments.new_returning_lapsed_monthly.status IS 'new (first valid order in the month), returning (ordered, not new), lapsed (no order, became lost in the month)';
COMMENT ON COLUMN segments.new_returning_lapsed_monthly.customers IS 'Customers with that status in the month';
COMMENT ON COLUMN segments.new_returning_lapsed_monthly.orders IS 'Their valid orders in the month';
COMMENT ON COLUMN segments.new_returning_lapsed_monthly.revenue IS 'Their revenue in the month';

CREATE OR REPLACE VIEW segments.segment_development WITH (security_invoker = true) AS
  SELECT s.name AS segment, h.segment_id, h.run_id, h.at, coalesce(h.facts_at, h.at) AS as_of,
         h.size, h.joined, h."left", h.revenue, h.orders, h.added_revenue
  FROM segments.history h JOIN segments.segments s ON s.id = h.segment_id;
COMMENT ON VIEW segments.segment_development IS
  'Segment development over time (segments.history with names): size, joined, left, revenue and added revenue at every refresh. Natural key: (segment, run_id)';
COMMENT ON COLUMN segments.segment_development.segment IS 'Segment name';
COMMENT ON COLUMN segments.segment_development.segment_id IS 'segments.segments.id';
COMMENT ON COLUMN segments.segment_development.run_id IS 'segments.runs.id of the refresh';
COMMENT ON COLUMN segments.segment_development.at IS 'When the refresh ran';
COMMENT ON COLUMN segments.segment_development.as_of IS 'As-of time of the facts it used (the time axis to chart; = at without facts time)';
COMMENT ON COLUMN segments.segment_development.size IS 'Members after the refresh';
COMMENT ON COLUMN segments.segment_development.joined IS 'Customers who joined in it';
COMMENT ON COLUMN segments.segment_development."left" IS 'Customers who left in it';
COMMENT ON COLUMN segments.segment_development.revenue IS 'Lifetime revenue of the members after it';
COMMENT ON COLUMN segments.segment_development.orders IS 'Valid orders of the members after it';
COMMENT ON COLUMN segments.segment_development.added_revenue IS 'Revenue the earlier members generated since the previous refresh';

CREATE OR REPLACE VIEW segments.segment_overlap WITH (security_invoker = true) AS
  SELECT * FROM segments.overlap();
COMMENT ON VIEW segments.segment_overlap IS
  'Pairwise overlap of all segments (segments.overlap()): every ordered pair incl. a segment with itself. Natural key: (segment_a, segment_b)';
COMMENT ON COLUMN segments.segment_overlap.segment_a IS 'First segment';
COMMENT ON COLUMN segments.segment_overlap.segment_b IS 'Second segment';
COMMENT ON COLUMN segments.segment_overlap.size_a IS 'Members of segment_a';
COMMENT ON COLUMN segments.segment_overlap.size_b IS 'Members of segment_b';
COMMENT ON COLUMN segments.segment_overlap.in_both IS 'Customers in both';
COMMENT ON COLUMN segments.segment_overlap.only_a IS 'In segment_a only';
COMMENT ON COLUMN segments.segment_overlap.only_b IS 'In segment_b only';
COMMENT ON COLUMN segments.segment_overlap.jaccard IS 'in_both / customers in either (0..1)';
COMMENT ON COLUMN segments.segment_overlap.pct_of_a IS 'in_both as % of segment_a';
