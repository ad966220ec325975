-- Issue 11: refresh cost in proportion to the change (run-once migration from 0.1; the functions
-- are re-created from sql/engine/*.sql by the upgrade script).

-- facts (11a)
-- Incremental facts that are exact (docs/segments.md#incremental-facts): each row's horizon, and
-- the last full refresh (it refits the predictive models). Rows upgraded from 0.1 have no horizon
-- (NULL = never): the first facts refresh after the upgrade is full (full_refreshed_at is NULL).
ALTER TABLE segments.customers ADD COLUMN horizon_at timestamptz;
COMMENT ON COLUMN segments.customers.horizon_at IS
  'Earliest time after refreshed_at at which a stored window, life-cycle, abandoned-cart or not-yet-visible (future-dated) fact of this row changes with no new data (NULL: never); an incremental refresh recomputes the row once it has passed';
ALTER TABLE segments.facts_status ADD COLUMN full_refreshed_at timestamptz,
  ADD COLUMN incremental boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN segments.facts_status.full_refreshed_at IS
  'As-of time of the last full facts refresh (it refits the predictive models); incremental refreshes keep it';
COMMENT ON COLUMN segments.facts_status.incremental IS 'Whether the last facts refresh was incremental';
