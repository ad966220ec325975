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
COMMENT ON COLUMN segments_internal.customer_facts.customer_id IS 'The customer''s id in the mapped sources';
COMMENT ON COLUMN segments_internal.customer_facts.email IS 'From the contacts source';
COMMENT ON COLUMN segments_internal.customer_facts.opted_in IS 'Opted in to marketing (contacts source)';
COMMENT ON COLUMN segments_internal.customer_facts.lead_at IS 'Lead date: earliest contacts.created_at';
COMMENT ON COLUMN segments_internal.customer_facts.first_order_at IS 'First valid order';
COMMENT ON COLUMN segments_internal.customer_facts.second_order_at IS 'Second valid order';
COMMENT ON COLUMN segments_internal.customer_facts.last_order_at IS 'Latest valid order';
COMMENT ON COLUMN segments_internal.customer_facts.attempted_orders_14d IS
  'Orders of any status (valid or not; refunds excluded, as in attempted_orders) in the 14 days before refreshed_at';
COMMENT ON COLUMN segments_internal.customer_facts.checkouts_7d IS 'checkout events in the 7 days before refreshed_at (also _14d)';
COMMENT ON COLUMN segments_internal.customer_facts.checkouts_14d IS 'checkout events in the 14 days before refreshed_at';
COMMENT ON COLUMN segments_internal.customer_facts.campaign_engagements_30d IS
  'email_open and email_click events in the 30 days before refreshed_at';
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
COMMENT ON COLUMN segments_internal.customer_facts.orders IS
  'Valid orders; a refund (valid row with a negative amount) is not an order, it reduces revenue';
COMMENT ON COLUMN segments_internal.customer_facts.attempted_orders IS 'All orders, valid or not (cancelled, failed); refunds excluded';
COMMENT ON COLUMN segments_internal.customer_facts.revenue IS 'clv() of valid orders; 0 without any';
COMMENT ON COLUMN segments_internal.customer_facts.aov IS 'Average order value: revenue / orders';
COMMENT ON COLUMN segments_internal.customer_facts.order_latency_days IS 'order_latency() of valid orders: mean days between orders';
COMMENT ON COLUMN segments_internal.customer_facts.lifecycle IS 'lifecycle_stage() of valid orders as of refreshed_at';
COMMENT ON COLUMN segments_internal.customer_facts.value_band IS 'value_band of aov against the mean aov of all buyers';
COMMENT ON COLUMN segments_internal.customer_facts.first_order_delay_days IS 'Days from lead_at to the first valid order';
COMMENT ON COLUMN segments_internal.customer_facts.second_order_delay_days IS 'Days from the first to the second valid order';
COMMENT ON COLUMN segments_internal.customer_facts.orders_7d IS 'Valid orders in the 7 days before refreshed_at (also _14d, _30d, _90d)';
COMMENT ON COLUMN segments_internal.customer_facts.product_views_14d IS 'product_view events in the last 14 days (also _7d, _30d)';
COMMENT ON COLUMN segments_internal.customer_facts.last_abandoned_cart_at IS
  'Latest cart_add (within 30 days) that was the last add before no order/checkout followed within 15 minutes';
COMMENT ON COLUMN segments_internal.customer_facts.abandoned_carts_7d IS 'Abandoned carts (see last_abandoned_cart_at) in the last 7 days (also _14d)';
COMMENT ON COLUMN segments_internal.customer_facts.last_campaign_engagement_at IS 'Latest email_open or email_click event';
COMMENT ON COLUMN segments_internal.customer_facts.last_engaged_at IS 'Latest email open/click, session, or subscription last_seen_at';
COMMENT ON COLUMN segments_internal.customer_facts.subscription_status IS 'Status of the latest subscription';
COMMENT ON COLUMN segments_internal.customer_facts.has_active_subscription IS 'Has a paid (non-trial) subscription with status active';
COMMENT ON COLUMN segments_internal.customer_facts.on_trial IS 'Has a trial subscription that is trialing or active';
COMMENT ON COLUMN segments_internal.customer_facts.trial_started_at IS 'Start of the latest trial';
COMMENT ON COLUMN segments_internal.customer_facts.engagement_rating IS 'Engagement rating (1..5) of the latest subscription that has one';
COMMENT ON COLUMN segments_internal.customer_facts.deals_90d IS 'Deals created in the last 90 days';
COMMENT ON COLUMN segments_internal.customer_facts.lost_deals_90d IS 'Deals lost (state lost, updated or created) in the last 90 days';
COMMENT ON COLUMN segments_internal.customer_facts.deal_updates_30d IS 'Most updates of one deal in the last 30 days (updates_30d, else 1 if updated_at is recent)';
COMMENT ON COLUMN segments_internal.customer_facts.horizon_at IS
  'Earliest time after refreshed_at at which a stored window, life-cycle, abandoned-cart or not-yet-visible (future-dated) fact of this row changes with no new data (NULL: never); an incremental refresh recomputes the row once it has passed';
COMMENT ON COLUMN segments_internal.customer_facts.btyd_frequency IS
  'BTYD summary (rfm_summary in weeks, as of refreshed_at): repeat purchase days, i.e. distinct days with a valid order after the first; NULL without any';
COMMENT ON COLUMN segments_internal.customer_facts.btyd_recency IS
  'BTYD summary: weeks from the first to the last purchase day (0 with one purchase day)';
COMMENT ON COLUMN segments_internal.customer_facts.btyd_monetary IS
  'BTYD summary: mean spend of the repeat purchase days (the first day excluded; 0 with one purchase day)';
COMMENT ON COLUMN segments_internal.customer_facts.btyd_first_day IS
  'BTYD summary: first purchase day (local day in the time zone of the facts refresh); T = (segments.facts_status.cutoff_day - btyd_first_day) / 7 weeks';
-- Read only through the view segments.customers (column grants there: access/grants.sql).
REVOKE ALL ON segments_internal.customer_facts FROM PUBLIC;
-- An incremental refresh finds the rows whose horizon has passed without a scan.
CREATE INDEX ON segments_internal.customer_facts (horizon_at);

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
  changed_since_fit bigint NOT NULL DEFAULT 0
);
COMMENT ON TABLE segments.facts_status IS 'The last segments.refresh_facts(): as-of time, duration, row counts';
COMMENT ON COLUMN segments.facts_status.full_refreshed_at IS
  'As-of time of the last full facts refresh (it refits the predictive models); incremental refreshes keep it';
COMMENT ON COLUMN segments.facts_status.incremental IS 'Whether the last facts refresh was incremental';
COMMENT ON COLUMN segments.facts_status.bgnbd IS
  'BG/NBD model fitted by the last full facts refresh over every buyer; segments.customers scores p_alive, expected_orders_90d and expected_next_order_at with it when read';
COMMENT ON COLUMN segments.facts_status.gammagamma IS
  'Gamma-Gamma spend model fitted by the last full facts refresh; segments.customers.predicted_clv uses it with bgnbd';
COMMENT ON COLUMN segments.facts_status.cutoff_day IS
  'Local day of refreshed_at in the time zone of the refresh: the cut-off day of the BTYD summaries (T of a customer = cutoff_day - btyd_first_day, in weeks)';
COMMENT ON COLUMN segments.facts_status.changed_since_fit IS
  'Customers recomputed because their source rows changed, summed over the incremental refreshes since the last fit (full refresh); the automatic refresh refits once it exceeds pg_segments.facts_refit_share of the buyers the models were fitted over';
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
COMMENT ON COLUMN segments.segments.rule IS 'Boolean SQL expression over segments.customers (or NULL when query is set)';
COMMENT ON COLUMN segments.segments.query IS 'SQL query returning one column of customer ids (or NULL when rule is set)';
COMMENT ON COLUMN segments.segments.owner IS 'The role the rule runs as (the role that created the segment)';
COMMENT ON COLUMN segments.segments.status IS
  'building (never refreshed), active, inactive (paused by deactivate), failed (last refresh failed; last good membership kept)';
COMMENT ON COLUMN segments.segments.timezone IS 'Time zone in which refresh_interval is added (NULL: the server''s)';
COMMENT ON COLUMN segments.segments.refresh_requested_at IS 'Set by segments.refresh_now(): the worker refreshes at once';
COMMENT ON COLUMN segments.segments.consecutive_failures IS 'Failed refreshes since the last success (drives the retry back-off)';
COMMENT ON COLUMN segments.segments.required_sources IS 'Source kinds the segment needs (checked at create)';
COMMENT ON COLUMN segments.segments.incremental IS
  'true: the rule reads only facts columns of one customer (no clock, no subquery, no volatile or user function), so a refresh evaluates it only for customers whose facts changed; false: refreshed in full; NULL: not classified yet (the next refresh does)';
COMMENT ON COLUMN segments.segments.facts_mark IS
  'Facts stamp (segments_internal.facts_stamp()) the membership reflects; the next incremental refresh looks at customers stamped later. NULL: the next refresh is full';
COMMENT ON COLUMN segments.segments.member_count IS 'Members after the last refresh (the history size an incremental refresh starts from)';
COMMENT ON COLUMN segments.segments.member_revenue IS 'Sum of the members'' revenue marks after the last refresh';
COMMENT ON COLUMN segments.segments.member_orders IS 'Sum of the members'' order marks after the last refresh';
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
);
COMMENT ON TABLE segments.membership IS 'Current members of each segment (written only by refreshes)';
COMMENT ON COLUMN segments.membership.revenue_mark IS
  'The member''s revenue at the last refresh: the next refresh attributes the growth as added revenue';
COMMENT ON COLUMN segments.membership.orders_mark IS
  'The member''s orders at the last refresh (so an incremental refresh keeps the history''s orders total exact)';
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
COMMENT ON COLUMN segments.runs.evaluated IS
  'Customers whose facts changed and the rule was evaluated for (incremental refresh); NULL: evaluated for everyone (full refresh)';
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
COMMENT ON COLUMN segments.history.added_revenue IS
  'Revenue the members before this refresh generated since the previous refresh (RetentionX added revenue)';
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

-- One row per refresh transaction while it evaluates its incremental segments: which segments and
-- which customers. The owners' pass views (segment_rules.o_<owner oid>) read it; row-level
-- security shows a transaction only its own row, and the row is deleted before commit.
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
-- The owners' pass views (owned by the segment owners, editors) read it; only the engine writes it.
GRANT SELECT ON segments_internal.pass TO segments_editor;
