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

-- The stored facts move to segments_internal.customer_facts; segments.customers becomes a view over
-- them (sql/engine/facts/customers.sql) that derives refreshed_at and days_since_last_order when read,
-- so they are no longer stored. What 0.1 built over the table is dropped first and rebuilt over the
-- view by the replaceable files: compute_facts, the extension's views (segments.overview), every
-- segment's rule relation and member view (access/grants.sql). A view of the user's own over segments.customers stops the update (it would
-- follow the table, not the view): drop it, update, then create it again.
DO $$
DECLARE v regclass; own text;
BEGIN
  SELECT string_agg(DISTINCT r.ev_class::regclass::text, ', ') INTO own
  FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid
  WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = 'segments.customers'::regclass
    AND r.ev_class <> 'segments.customers'::regclass
    AND (SELECT c.relnamespace FROM pg_catalog.pg_class c WHERE c.oid = r.ev_class)
        NOT IN ('segment_rules'::regnamespace, 'segment_members'::regnamespace)
    AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend e WHERE e.classid = 'pg_class'::regclass
                    AND e.objid = r.ev_class AND e.deptype = 'e');
  IF own IS NOT NULL THEN
    RAISE EXCEPTION 'views over segments.customers stop the update to 0.2: %', own USING ERRCODE = '2BP01',
      HINT = 'Drop them, run ALTER EXTENSION pg_segments UPDATE, then create them again (segments.customers keeps its columns).';
  END IF;
  FOR v IN SELECT DISTINCT r.ev_class::regclass
           FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid
           WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = 'segments.customers'::regclass
             AND r.ev_class <> 'segments.customers'::regclass LOOP
    EXECUTE format('DROP %s %s', CASE (SELECT relkind FROM pg_catalog.pg_class WHERE oid = v)
                                 WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'VIEW' END, v);
  END LOOP;
END $$;
DROP FUNCTION segments.compute_facts(timestamptz, text[]);
CREATE SCHEMA IF NOT EXISTS segments_internal;  -- issue-12.sql, which runs later, gives it its rights
ALTER TABLE segments.customers DROP COLUMN days_since_last_order, DROP COLUMN refreshed_at;
ALTER TABLE segments.customers RENAME CONSTRAINT customers_pkey TO customer_facts_pkey;
ALTER TABLE segments.customers RENAME TO customer_facts;
ALTER TABLE segments.customer_facts SET SCHEMA segments_internal;
REVOKE ALL ON segments_internal.customer_facts FROM PUBLIC, segments_reader, segments_editor, segments_pii;
COMMENT ON TABLE segments_internal.customer_facts IS
  'Stored customer facts (internal: read segments.customers), one row per customer found in any source, as of the last segments.refresh_facts()';
CREATE INDEX ON segments_internal.customer_facts (horizon_at);

-- segments (11b)
-- Incremental segments: classification and the state an incremental refresh starts from. Segments
-- upgraded from 0.1 have incremental NULL: their next refresh classifies them and is full.
ALTER TABLE segments.segments
  ADD COLUMN incremental boolean,
  ADD COLUMN facts_mark timestamptz,
  ADD COLUMN member_count bigint,
  ADD COLUMN member_revenue numeric,
  ADD COLUMN member_orders bigint;
COMMENT ON COLUMN segments.segments.incremental IS
  'true: the rule reads only facts columns of one customer (no clock, no subquery, no volatile or user function), so a refresh evaluates it only for customers whose facts changed; false: refreshed in full; NULL: not classified yet (the next refresh does)';
COMMENT ON COLUMN segments.segments.facts_mark IS
  'Facts stamp (segments_internal.facts_stamp()) the membership reflects; the next incremental refresh looks at customers stamped later. NULL: the next refresh is full';
COMMENT ON COLUMN segments.segments.member_count IS 'Members after the last refresh (the history size an incremental refresh starts from)';
COMMENT ON COLUMN segments.segments.member_revenue IS 'Sum of the members'' revenue marks after the last refresh';
COMMENT ON COLUMN segments.segments.member_orders IS 'Sum of the members'' order marks after the last refresh';

ALTER TABLE segments.runs ADD COLUMN evaluated bigint;
COMMENT ON COLUMN segments.runs.evaluated IS
  'Customers whose facts changed and the rule was evaluated for (incremental refresh); NULL: evaluated for everyone (full refresh)';

ALTER TABLE segments.membership ADD COLUMN orders_mark int NOT NULL DEFAULT 0;
COMMENT ON COLUMN segments.membership.orders_mark IS
  'The member''s orders at the last refresh (so an incremental refresh keeps the history''s orders total exact)';

CREATE TABLE segments_internal.facts_stamps (
  customer_id text PRIMARY KEY,
  changed_at timestamptz NOT NULL,
  deleted boolean NOT NULL DEFAULT false
);
CREATE INDEX ON segments_internal.facts_stamps (changed_at);
COMMENT ON TABLE segments_internal.facts_stamps IS
  'When each customer''s facts last changed (deleted: the row left segments.customers); read by incremental segment refreshes';

CREATE TABLE segments_internal.pass (
  pgs_xid xid8 PRIMARY KEY DEFAULT pg_catalog.pg_current_xact_id(),
  pgs_segments bigint[] NOT NULL,
  pgs_customers text[] NOT NULL
);
COMMENT ON TABLE segments_internal.pass IS
  'Transient: the segments and customers an incremental refresh evaluates in this transaction (one row per transaction, deleted before commit)';
ALTER TABLE segments_internal.pass ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_transaction ON segments_internal.pass
  USING (pgs_xid = pg_catalog.pg_current_xact_id()) WITH CHECK (pgs_xid = pg_catalog.pg_current_xact_id());
GRANT SELECT ON segments_internal.pass TO segments_editor;  -- read by the owners' pass views

-- A refresh is a batch of runs (segments_internal._execute_batch, _execute_recorded): the one-run
-- _execute of 0.1 is gone (dropped before issue-12.sql moves the other helpers).
DROP FUNCTION segments._execute(bigint, boolean);

-- Windows the packs read as rules (docs/packs.md), appended to the stored facts (segments.customers,
-- regenerated by the replaceable files, appends them). The first facts refresh after the update is
-- full (11a above), so they are filled before any incremental one.
ALTER TABLE segments_internal.customer_facts
  ADD COLUMN attempted_orders_14d int NOT NULL DEFAULT 0,
  ADD COLUMN checkouts_7d int NOT NULL DEFAULT 0,
  ADD COLUMN checkouts_14d int NOT NULL DEFAULT 0,
  ADD COLUMN campaign_engagements_30d int NOT NULL DEFAULT 0;
COMMENT ON COLUMN segments_internal.customer_facts.attempted_orders_14d IS
  'Orders of any status (valid or not; refunds excluded, as in attempted_orders) in the 14 days before refreshed_at';
COMMENT ON COLUMN segments_internal.customer_facts.checkouts_7d IS 'checkout events in the 7 days before refreshed_at (also _14d)';
COMMENT ON COLUMN segments_internal.customer_facts.checkouts_14d IS 'checkout events in the 14 days before refreshed_at';
COMMENT ON COLUMN segments_internal.customer_facts.campaign_engagements_30d IS
  'email_open and email_click events in the 30 days before refreshed_at';

-- predictive scores (11a)
-- The predictive scores are no longer stored: segments.customers (regenerated by the replaceable
-- files) computes them when read from the models of the last full refresh, stored in
-- segments.facts_status, and each row's stored BTYD summary (docs/segments.md#incremental-facts).
-- Rows upgraded from 0.1 have no summary and facts_status no model until the first facts refresh
-- after the update, which is full (full_refreshed_at is NULL, 11a above).
ALTER TABLE segments_internal.customer_facts
  DROP COLUMN p_alive, DROP COLUMN expected_orders_90d, DROP COLUMN predicted_clv, DROP COLUMN expected_next_order_at,
  ADD COLUMN btyd_frequency int,
  ADD COLUMN btyd_recency float8,
  ADD COLUMN btyd_monetary float8,
  ADD COLUMN btyd_first_day date;
COMMENT ON COLUMN segments_internal.customer_facts.btyd_frequency IS
  'BTYD summary (rfm_summary in weeks, as of refreshed_at): repeat purchase days, i.e. distinct days with a valid order after the first; NULL without any';
COMMENT ON COLUMN segments_internal.customer_facts.btyd_recency IS
  'BTYD summary: weeks from the first to the last purchase day (0 with one purchase day)';
COMMENT ON COLUMN segments_internal.customer_facts.btyd_monetary IS
  'BTYD summary: mean spend of the repeat purchase days (the first day excluded; 0 with one purchase day)';
COMMENT ON COLUMN segments_internal.customer_facts.btyd_first_day IS
  'BTYD summary: first purchase day (local day in the time zone of the facts refresh); T = (segments.facts_status.cutoff_day - btyd_first_day) / 7 weeks';
ALTER TABLE segments.facts_status
  ADD COLUMN bgnbd @extschema@.bgnbd_model,
  ADD COLUMN gammagamma @extschema@.gammagamma_model,
  ADD COLUMN cutoff_day date,
  ADD COLUMN changed_since_fit bigint NOT NULL DEFAULT 0;
COMMENT ON COLUMN segments.facts_status.bgnbd IS
  'BG/NBD model fitted by the last full facts refresh over every buyer; segments.customers scores p_alive, expected_orders_90d and expected_next_order_at with it when read';
COMMENT ON COLUMN segments.facts_status.gammagamma IS
  'Gamma-Gamma spend model fitted by the last full facts refresh; segments.customers.predicted_clv uses it with bgnbd';
COMMENT ON COLUMN segments.facts_status.cutoff_day IS
  'Local day of refreshed_at in the time zone of the refresh: the cut-off day of the BTYD summaries (T of a customer = cutoff_day - btyd_first_day, in weeks)';
COMMENT ON COLUMN segments.facts_status.changed_since_fit IS
  'Customers recomputed because their source rows changed, summed over the incremental refreshes since the last fit (full refresh); the automatic refresh refits once it exceeds pg_segments.facts_refit_share of the buyers the models were fitted over';

-- segments (11b, session 3): counts over one subscription / deal / contact row that the payments
-- and crm packs read as rules (docs/packs.md), appended like the windows above.
ALTER TABLE segments_internal.customer_facts
  ADD COLUMN active_subscriptions int NOT NULL DEFAULT 0,
  ADD COLUMN paid_subscriptions int NOT NULL DEFAULT 0,
  ADD COLUMN trials int NOT NULL DEFAULT 0,
  ADD COLUMN trials_30d int NOT NULL DEFAULT 0,
  ADD COLUMN engaged_trials int NOT NULL DEFAULT 0,
  ADD COLUMN active_5_star_subscriptions int NOT NULL DEFAULT 0,
  ADD COLUMN slipping_trials int NOT NULL DEFAULT 0,
  ADD COLUMN subscriptions_seen_30d int NOT NULL DEFAULT 0,
  ADD COLUMN opted_in_over_30d int NOT NULL DEFAULT 0,
  ADD COLUMN busy_deals_90d int NOT NULL DEFAULT 0,
  ADD COLUMN new_deals_touched_30d int NOT NULL DEFAULT 0;
COMMENT ON COLUMN segments_internal.customer_facts.active_subscriptions IS 'Subscriptions with status active (trial or not)';
COMMENT ON COLUMN segments_internal.customer_facts.paid_subscriptions IS 'Subscriptions that are not trials (is_trial false)';
COMMENT ON COLUMN segments_internal.customer_facts.trials IS 'Trial subscriptions (is_trial)';
COMMENT ON COLUMN segments_internal.customer_facts.trials_30d IS 'Trial subscriptions started in the 30 days before refreshed_at';
COMMENT ON COLUMN segments_internal.customer_facts.engaged_trials IS 'Trial subscriptions with status trialing and an engagement rating above 3';
COMMENT ON COLUMN segments_internal.customer_facts.active_5_star_subscriptions IS 'Subscriptions with status active and an engagement rating of 5';
COMMENT ON COLUMN segments_internal.customer_facts.slipping_trials IS 'Trial subscriptions started more than 2 and less than 30 days before refreshed_at, rated 1 or 2 or last seen more than 7 days before it';
COMMENT ON COLUMN segments_internal.customer_facts.subscriptions_seen_30d IS 'Subscriptions last seen (last_seen_at) at most 30 days before refreshed_at, or later';
COMMENT ON COLUMN segments_internal.customer_facts.opted_in_over_30d IS 'Contact rows opted in to marketing and created 30 days or more before refreshed_at (or with no created_at)';
COMMENT ON COLUMN segments_internal.customer_facts.busy_deals_90d IS 'Deals created in the 90 days before refreshed_at with more than 2 updates in the last 30 days (updates_30d)';
COMMENT ON COLUMN segments_internal.customer_facts.new_deals_touched_30d IS 'Deals created in the 90 days before refreshed_at and updated (else created) in the last 30 days';
