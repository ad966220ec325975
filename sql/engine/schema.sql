-- Segment engine, run-once part (docs/segments.md): tables, row-level security, grants and
-- pg_extension_config_dump. Created once by CREATE EXTENSION; an upgrade changes it with ALTER
-- statements in sql/updates/, never by re-running this file.

CREATE TABLE segments.source_map (
  kind text PRIMARY KEY CHECK (kind IN ('orders', 'contacts', 'events', 'subscriptions', 'deals')),
  source regclass NOT NULL,
  columns jsonb NOT NULL,
  mapped_by name NOT NULL DEFAULT current_user,
  mapped_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE segments.source_map IS
  'Which user table feeds each source kind, and how its columns map (written by segments.map_source)';
SELECT pg_catalog.pg_extension_config_dump('segments.source_map', '');
GRANT SELECT ON segments.source_map TO segments_reader, segments_editor;

-- Customer facts (docs/segments.md#customer-facts): stored by segments.refresh_facts(), read through
-- the view segments.customers (sql/engine/facts/customers.sql), which adds the columns that move
-- with the clock alone (refreshed_at, days_since_last_order): derived at read time, never stored,
-- so a refresh rewrites only the rows whose facts changed.
CREATE TABLE segments_internal.customer_facts (
  customer_id text PRIMARY KEY,
  email text,
  first_name text,
  last_name text,
  opted_in boolean,
  lead_at timestamptz,
  first_order_at timestamptz,
  second_order_at timestamptz,
  last_order_at timestamptz,
  orders int NOT NULL DEFAULT 0,
  attempted_orders int NOT NULL DEFAULT 0,
  revenue numeric NOT NULL DEFAULT 0,
  aov numeric,
  order_latency_days float8,
  lifecycle @extschema@.lifecycle,
  value_band @extschema@.value_band,
  first_order_delay_days float8,
  second_order_delay_days float8,
  -- beyond the core columns: what the ready-made segments need
  shipping_address text,
  billing_address text,
  last_attempted_order_at timestamptz,
  orders_7d int NOT NULL DEFAULT 0,
  orders_14d int NOT NULL DEFAULT 0,
  orders_30d int NOT NULL DEFAULT 0,
  orders_90d int NOT NULL DEFAULT 0,
  revenue_30d numeric NOT NULL DEFAULT 0,
  product_views_7d int NOT NULL DEFAULT 0,
  product_views_14d int NOT NULL DEFAULT 0,
  product_views_30d int NOT NULL DEFAULT 0,
  cart_adds_7d int NOT NULL DEFAULT 0,
  cart_adds_14d int NOT NULL DEFAULT 0,
  last_product_view_at timestamptz,
  last_cart_add_at timestamptz,
  last_abandoned_cart_at timestamptz,
  abandoned_carts_7d int NOT NULL DEFAULT 0,
  abandoned_carts_14d int NOT NULL DEFAULT 0,
  last_checkout_at timestamptz,
  back_in_stock_requests int NOT NULL DEFAULT 0,
  last_back_in_stock_at timestamptz,
  last_email_open_at timestamptz,
  last_email_click_at timestamptz,
  last_campaign_engagement_at timestamptz,
  last_session_at timestamptz,
  sessions_30d int NOT NULL DEFAULT 0,
  last_engaged_at timestamptz,
  subscription_status text,
  has_active_subscription boolean NOT NULL DEFAULT false,
  on_trial boolean NOT NULL DEFAULT false,
  trial_started_at timestamptz,
  subscribed_at timestamptz,
  engagement_rating int,
  last_seen_at timestamptz,
  deals int NOT NULL DEFAULT 0,
  deals_90d int NOT NULL DEFAULT 0,
  open_deals int NOT NULL DEFAULT 0,
  won_deals int NOT NULL DEFAULT 0,
  lost_deals int NOT NULL DEFAULT 0,
  lost_deals_90d int NOT NULL DEFAULT 0,
  last_deal_at timestamptz,
  last_deal_update_at timestamptz,
  deal_updates_30d int,
  -- incremental facts (docs/segments.md#incremental-facts)
  horizon_at timestamptz,
  -- windows the packs read as rules (docs/packs.md), kept exact by horizon_at like the others
  attempted_orders_14d int NOT NULL DEFAULT 0,
  checkouts_7d int NOT NULL DEFAULT 0,
  checkouts_14d int NOT NULL DEFAULT 0,
  campaign_engagements_30d int NOT NULL DEFAULT 0,
  -- the BTYD summary the predictive scores of segments.customers are computed from when read (with
  -- the models stored in segments.facts_status; docs/segments.md#incremental-facts)
  btyd_frequency int,
  btyd_recency float8,
  btyd_monetary float8,
  btyd_first_day date,
  -- per-subscription / per-deal conditions the payments and crm packs read as rules (issue 11b)
  active_subscriptions int NOT NULL DEFAULT 0,
  paid_subscriptions int NOT NULL DEFAULT 0,
  trials int NOT NULL DEFAULT 0,
  trials_30d int NOT NULL DEFAULT 0,
  engaged_trials int NOT NULL DEFAULT 0,
  active_5_star_subscriptions int NOT NULL DEFAULT 0,
  slipping_trials int NOT NULL DEFAULT 0,
  subscriptions_seen_30d int NOT NULL DEFAULT 0,
  opted_in_over_30d int NOT NULL DEFAULT 0,
  busy_deals_90d int NOT NULL DEFAULT 0,
  new_deals_touched_30d int NOT NULL DEFAULT 0
);
COMMENT ON TABLE segments_internal.customer_facts IS
  'Stored customer facts (internal: read segments.customers), one row per customer found in any source, as of the last segments.refresh_facts()';
-- Read only through the view segments.customers (column grants there: access/grants.sql).
REVOKE ALL ON segments_internal.customer_facts FROM PUBLIC;
-- An incremental refresh finds the rows whose horizon has passed without a scan.
CREATE INDEX ON segments_internal.customer_facts (horizon_at);
-- ... and the rows whose value band a moved mean AOV may change (ranges of AOVs).
CREATE INDEX ON segments_internal.customer_facts (aov);

CREATE TABLE segments.facts_status (
  id int PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  refreshed_at timestamptz NOT NULL,
  started_at timestamptz NOT NULL,
  duration interval NOT NULL,
  customers bigint NOT NULL,
  inserted bigint NOT NULL,
  updated bigint NOT NULL,
  deleted bigint NOT NULL,
  full_refreshed_at timestamptz,
  incremental boolean NOT NULL DEFAULT false,
  -- the predictive models segments.customers scores with when read (docs/segments.md#incremental-facts)
  bgnbd @extschema@.bgnbd_model,
  gammagamma @extschema@.gammagamma_model,
  cutoff_day date,
  changed_since_fit bigint NOT NULL DEFAULT 0,
  -- the exact sum and count of the buyers' stored AOVs (the mean the value bands use), kept by
  -- difference by an incremental refresh instead of two scans of every row; NULL: not known (scan)
  aov_sum numeric,
  buyers bigint
);
COMMENT ON TABLE segments.facts_status IS 'The last segments.refresh_facts(): as-of time, duration, row counts';
GRANT SELECT ON segments.facts_status TO segments_reader, segments_editor;

-- Customers whose source rows changed since the last refresh (logged by segments.track_changes).
CREATE TABLE segments.changed_customers (
  customer_id text PRIMARY KEY,
  changed_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE segments.changed_customers IS
  'Customers whose source rows changed since the last facts refresh (triggers of segments.track_changes)';
GRANT SELECT ON segments.changed_customers TO segments_reader, segments_editor;

--
-- Privileges (docs/security.md): only the extension owner writes these tables, through the engine's
-- functions, which check the caller's role and ownership first. Catalog rows carry their owner (the
-- role that created the segment); row-level security lets a role read the segments of roles whose
-- privileges it has, and segments_reader read all (superusers and the extension owner see all).
-- A segment's rule lives in a materialized view segment_rules.s_<id> owned by the segment owner:
-- REFRESH MATERIALIZED VIEW runs it as that owner in a security-restricted operation, so a rule
-- can never read what its owner cannot, whoever triggers the refresh.

CREATE TABLE segments.segments (
  id bigserial PRIMARY KEY,
  name text NOT NULL UNIQUE,
  description text,
  rule text,
  query text,
  owner regrole NOT NULL DEFAULT current_user::regrole,
  status text NOT NULL DEFAULT 'building' CHECK (status IN ('building', 'active', 'inactive', 'failed')),
  refresh_interval interval NOT NULL DEFAULT '1 day' CHECK (refresh_interval > interval '0'),
  timezone text,
  next_refresh_at timestamptz DEFAULT now(),
  last_refresh_at timestamptz,
  refresh_requested_at timestamptz,
  last_error text,
  last_error_sqlstate text,
  last_error_at timestamptz,
  consecutive_failures int NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  pack text,
  required_sources text[],
  -- incremental refresh (docs/segments.md#incremental-refresh)
  incremental boolean,
  facts_mark timestamptz,
  member_count bigint,
  member_revenue numeric,
  member_orders bigint,
  CHECK ((rule IS NULL) <> (query IS NULL)),
  CHECK (length(name) BETWEEN 1 AND 63)
);
COMMENT ON TABLE segments.segments IS
  'Segment catalog: name, rule or query, owner, status (building, active, inactive, failed), schedule, last error';
SELECT pg_catalog.pg_extension_config_dump('segments.segments', '');
SELECT pg_catalog.pg_extension_config_dump('segments.segments_id_seq', '');

-- membership and changes carry no foreign key (1.3M rows of a first pack build pay 3x for the
-- checks); only refreshes write them, row-level security admits only existing segments' ids, and
-- drop_segment deletes a segment's rows.
CREATE TABLE segments.membership (
  segment_id bigint NOT NULL,
  customer_id text NOT NULL,
  joined_at timestamptz NOT NULL,
  revenue_mark numeric NOT NULL DEFAULT 0,
  orders_mark int NOT NULL DEFAULT 0,
  PRIMARY KEY (segment_id, customer_id)
) WITH (fillfactor = 90);
-- An incremental segment refresh reads the memberships of the customers whose facts changed, and
-- moves the revenue marks of those that stay. A build writes a customer's memberships side by side
-- (refresh.sql, _diff), and the pages keep room for a mark's new version (a HOT update: no index
-- entry). At 10M orders, after 1% of the customers ordered, the 46k memberships of 10k customers lay
-- on 30k of the 39k pages in segment order; the diff took 1.4-1.8 s, now 0.7-0.8 s.
CREATE INDEX ON segments.membership (customer_id);
COMMENT ON TABLE segments.membership IS 'Current members of each segment (written only by refreshes)';
SELECT pg_catalog.pg_extension_config_dump('segments.membership', '');

CREATE TABLE segments.changes (
  id bigserial PRIMARY KEY,
  segment_id bigint NOT NULL,
  segment text NOT NULL,
  customer_id text NOT NULL,
  change text NOT NULL CHECK (change IN ('joined', 'left')),
  at timestamptz NOT NULL,
  run_id bigint
);
CREATE INDEX ON segments.changes (segment_id, id);
COMMENT ON TABLE segments.changes IS
  'Append-only log of joins and leaves; ids increase in commit order, so a consumer can resume after the last id it saw';
SELECT pg_catalog.pg_extension_config_dump('segments.changes', '');
SELECT pg_catalog.pg_extension_config_dump('segments.changes_id_seq', '');

CREATE TABLE segments.runs (
  id bigserial PRIMARY KEY,
  segment_id bigint NOT NULL REFERENCES segments.segments ON DELETE CASCADE,
  trigger text NOT NULL CHECK (trigger IN ('worker', 'manual', 'refresh_now', 'create', 'cron')),
  started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  finished_at timestamptz,
  status text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'succeeded', 'failed', 'skipped')),
  joined int,
  "left" int,
  size bigint,
  sqlstate text,
  message text,
  backend_pid int DEFAULT pg_backend_pid(),
  facts_refreshed boolean,
  evaluated bigint
);
CREATE INDEX ON segments.runs (segment_id, id);
CREATE INDEX ON segments.runs (status) WHERE status = 'running';
COMMENT ON TABLE segments.runs IS
  'One row per segment refresh: trigger, times, status (running, succeeded, failed, skipped), joined/left, error';
SELECT pg_catalog.pg_extension_config_dump('segments.runs', '');
SELECT pg_catalog.pg_extension_config_dump('segments.runs_id_seq', '');

CREATE TABLE segments.history (
  segment_id bigint NOT NULL REFERENCES segments.segments ON DELETE CASCADE,
  run_id bigint NOT NULL,
  at timestamptz NOT NULL,
  size bigint NOT NULL,
  joined int NOT NULL,
  "left" int NOT NULL,
  revenue numeric NOT NULL,
  orders bigint NOT NULL,
  added_revenue numeric NOT NULL,
  facts_at timestamptz,
  PRIMARY KEY (segment_id, run_id)
);
COMMENT ON TABLE segments.history IS
  'Segment development: one row per successful refresh (size, joined, left, members'' revenue and orders, added revenue)';
SELECT pg_catalog.pg_extension_config_dump('segments.history', '');

-- Row-level security for reading (nobody but the owner can write): a role reads the segments of
-- roles whose privileges it has; segments_reader reads all. The other tables follow segments.
ALTER TABLE segments.segments ENABLE ROW LEVEL SECURITY;
CREATE POLICY read_rows ON segments.segments FOR SELECT
  USING (pg_catalog.pg_has_role('segments_reader', 'USAGE') OR pg_catalog.pg_has_role(owner, 'USAGE'));
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['membership', 'changes', 'runs', 'history'] LOOP
    EXECUTE format('ALTER TABLE segments.%I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY read_rows ON segments.%I FOR SELECT USING (segment_id IN (SELECT id FROM segments.segments))', t);
  END LOOP;
END $$;
REVOKE ALL ON segments.segments, segments.membership, segments.runs, segments.changes, segments.history FROM PUBLIC;
GRANT SELECT ON segments.segments, segments.membership, segments.runs, segments.changes, segments.history
  TO segments_reader, segments_editor;

-- A sharded refresh (sql/engine/shards/, docs/scale-out.md) hands each shard the models and the mean AOV
-- computed over all shards: one row, written and removed inside that shard's refresh transaction,
-- so no other session ever sees it; segments.compute_facts uses it instead of its own customers'.
CREATE TABLE segments_internal.facts_globals (
  id int PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  mean_aov numeric,
  bgnbd @extschema@.bgnbd_model,
  gammagamma @extschema@.gammagamma_model,
  recomputed text[]
);
COMMENT ON TABLE segments_internal.facts_globals IS
  'Inside a sharded facts refresh on a shard only: the mean AOV and BTYD models of all shards, or the customers an incremental one recomputed (empty otherwise)';

-- Incremental segments (docs/segments.md#incremental-refresh).
-- Facts stamps: when each customer's facts row last changed or was deleted (written by the
-- statement triggers of sql/engine/facts_changes.sql; the stamp is clock_timestamp() of the
-- writing statement, and facts writers are serialized by the facts lock, so stamps increase in
-- commit order). Derived data: not dumped.
CREATE TABLE segments_internal.facts_stamps (
  customer_id text PRIMARY KEY,
  changed_at timestamptz NOT NULL,
  deleted boolean NOT NULL DEFAULT false
);
CREATE INDEX ON segments_internal.facts_stamps (changed_at);
COMMENT ON TABLE segments_internal.facts_stamps IS
  'When each customer''s facts last changed (deleted: the row left segments.customers); read by incremental segment refreshes';

-- One row per refresh transaction while it evaluates segments in one pass: which segments and
-- which customers (NULL: every customer, a full refresh of several). The owners' pass views
-- (segment_rules.o_<owner oid>) read it; row-level security shows a transaction only its own row,
-- and the row is deleted before commit.
CREATE TABLE segments_internal.pass (
  pgs_xid xid8 PRIMARY KEY DEFAULT pg_catalog.pg_current_xact_id(),
  pgs_segments bigint[] NOT NULL,
  pgs_customers text[]
);
COMMENT ON TABLE segments_internal.pass IS
  'Transient: the segments and customers (NULL: all) a refresh evaluates in one pass in this transaction (one row per transaction, deleted before commit)';
ALTER TABLE segments_internal.pass ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_transaction ON segments_internal.pass
  USING (pgs_xid = pg_catalog.pg_current_xact_id()) WITH CHECK (pgs_xid = pg_catalog.pg_current_xact_id());
-- The owners' pass views (owned by the segment owners, editors) read it; only the engine writes it.
GRANT SELECT ON segments_internal.pass TO segments_editor;
