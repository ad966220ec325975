-- Issue 11: refresh cost in proportion to the change (run-once migration from 0.1; the functions
-- are re-created from sql/engine/*.sql by the upgrade script).
-- Column comments are replaceable: engine/facts/columns.sql and engine/comments.sql set them, for
-- an upgraded database as for a fresh one.

-- facts (11a)
-- Incremental facts that are exact (docs/segments.md#incremental-facts): each row's horizon, and
-- the last full refresh (it refits the predictive models). Rows upgraded from 0.1 have no horizon
-- (NULL = never): the first facts refresh after the upgrade is full (full_refreshed_at is NULL).
ALTER TABLE segments.customers ADD COLUMN horizon_at timestamptz;
ALTER TABLE segments.facts_status ADD COLUMN full_refreshed_at timestamptz,
  ADD COLUMN incremental boolean NOT NULL DEFAULT false;

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

ALTER TABLE segments.runs ADD COLUMN evaluated bigint;

ALTER TABLE segments.membership ADD COLUMN orders_mark int NOT NULL DEFAULT 0;

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
ALTER TABLE segments.facts_status
  ADD COLUMN bgnbd @extschema@.bgnbd_model,
  ADD COLUMN gammagamma @extschema@.gammagamma_model,
  ADD COLUMN cutoff_day date,
  ADD COLUMN changed_since_fit bigint NOT NULL DEFAULT 0;

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

-- incremental refresh cost (11a, session 4): the exact sum and count of the buyers' AOVs, kept by
-- an incremental facts refresh (NULL until known: then it sums the rows once), the index an
-- incremental segment refresh reads the changed customers' memberships by, and the one re-banding
-- finds the AOVs near a moved cut point by.
ALTER TABLE segments.facts_status
  ADD COLUMN aov_sum numeric,
  ADD COLUMN buyers bigint;
CREATE INDEX ON segments.membership (customer_id);
CREATE INDEX ON segments_internal.customer_facts (aov);
-- room on each membership page for a moved mark's new version (schema.sql; existing pages keep
-- theirs until rewritten, e.g. by CLUSTER segments.membership USING membership_customer_id_idx)
ALTER TABLE segments.membership SET (fillfactor = 90);

-- segments, full refresh (11-full): a full refresh of several rule segments evaluates them in one
-- pass over every customer; the pass then names no customers (NULL).
ALTER TABLE segments_internal.pass ALTER COLUMN pgs_customers DROP NOT NULL;
COMMENT ON TABLE segments_internal.pass IS
  'Transient: the segments and customers (NULL: all) a refresh evaluates in one pass in this transaction (one row per transaction, deleted before commit)';

-- order facts in one aggregate (11-orderfacts): the composite segments_internal.order_facts_of
-- returns, as sql/engine/facts/order_facts_row.sql creates it (the aggregate and its functions are
-- replaceable: sql/engine/facts/orders.sql).
CREATE TYPE segments_internal.order_facts_row AS (
  orders int, attempted_orders int, revenue numeric, first_order_at timestamptz, second_order_at timestamptz,
  last_order_at timestamptz, last_attempted_order_at timestamptz, order_latency_days float8,
  lifecycle @extschema@.lifecycle, orders_7d int, orders_14d int, orders_30d int, orders_90d int,
  revenue_30d numeric, rfm @extschema@.rfm, attempted_orders_14d int, order_horizon timestamptz);
