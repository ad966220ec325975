-- Column comments for the engine's tables and views: what a BI tool's "sync schema" shows as each
-- column's description (Metabase, Superset, DBeaver read pg_description). Replaceable: re-run by
-- every upgrade. test/regress/sql/insights_bi.sql fails when a column in schemas segments or
-- segment_members has none.

-- segments.customers: the facts (columns not commented in facts/columns.sql)
COMMENT ON COLUMN segments.customers.first_name IS 'From the contacts source';
COMMENT ON COLUMN segments.customers.last_name IS 'From the contacts source';
COMMENT ON COLUMN segments.customers.shipping_address IS 'From the contacts source';
COMMENT ON COLUMN segments.customers.billing_address IS 'From the contacts source';
COMMENT ON COLUMN segments.customers.last_attempted_order_at IS 'Latest order of any status (valid, cancelled or failed); refunds excluded';
COMMENT ON COLUMN segments.customers.orders_14d IS 'Valid orders in the 14 days before refreshed_at';
COMMENT ON COLUMN segments.customers.orders_30d IS 'Valid orders in the 30 days before refreshed_at';
COMMENT ON COLUMN segments.customers.orders_90d IS 'Valid orders in the 90 days before refreshed_at';
COMMENT ON COLUMN segments.customers.revenue_30d IS 'Revenue (valid orders and refunds) in the 30 days before refreshed_at';
COMMENT ON COLUMN segments.customers.product_views_7d IS 'product_view events in the 7 days before refreshed_at';
COMMENT ON COLUMN segments.customers.product_views_30d IS 'product_view events in the 30 days before refreshed_at';
COMMENT ON COLUMN segments.customers.cart_adds_7d IS 'cart_add events in the 7 days before refreshed_at';
COMMENT ON COLUMN segments.customers.cart_adds_14d IS 'cart_add events in the 14 days before refreshed_at';
COMMENT ON COLUMN segments.customers.last_product_view_at IS 'Latest product_view event';
COMMENT ON COLUMN segments.customers.last_cart_add_at IS 'Latest cart_add event';
COMMENT ON COLUMN segments.customers.last_checkout_at IS 'Latest checkout event';
COMMENT ON COLUMN segments.customers.abandoned_carts_14d IS 'Abandoned carts (see last_abandoned_cart_at) in the 14 days before refreshed_at';
COMMENT ON COLUMN segments.customers.back_in_stock_requests IS 'back_in_stock events (all time)';
COMMENT ON COLUMN segments.customers.last_back_in_stock_at IS 'Latest back_in_stock event';
COMMENT ON COLUMN segments.customers.last_email_open_at IS 'Latest email_open event';
COMMENT ON COLUMN segments.customers.last_email_click_at IS 'Latest email_click event';
COMMENT ON COLUMN segments.customers.last_session_at IS 'Latest session event';
COMMENT ON COLUMN segments.customers.sessions_30d IS 'session events in the 30 days before refreshed_at';
COMMENT ON COLUMN segments.customers.subscribed_at IS 'Start of the latest paid (non-trial) subscription';
COMMENT ON COLUMN segments.customers.last_seen_at IS 'Latest last_seen_at of the customer''s subscriptions';
COMMENT ON COLUMN segments.customers.deals IS 'CRM deals (all time)';
COMMENT ON COLUMN segments.customers.open_deals IS 'Deals in state open';
COMMENT ON COLUMN segments.customers.won_deals IS 'Deals in state won';
COMMENT ON COLUMN segments.customers.lost_deals IS 'Deals in state lost';
COMMENT ON COLUMN segments.customers.last_deal_at IS 'Creation time of the latest deal';
COMMENT ON COLUMN segments.customers.last_deal_update_at IS 'Latest update (updated_at, else created_at) of any deal';

COMMENT ON COLUMN segments.facts_status.id IS 'Always 1: the table has one row once facts were computed (none after pg_restore)';
COMMENT ON COLUMN segments.facts_status.refreshed_at IS 'As-of time of the last facts refresh (segments.customers.refreshed_at)';
COMMENT ON COLUMN segments.facts_status.started_at IS 'Wall-clock start of the last facts refresh (pg_segments.facts_max_age counts from it)';
COMMENT ON COLUMN segments.facts_status.duration IS 'How long the last facts refresh took';
COMMENT ON COLUMN segments.facts_status.customers IS 'Rows of segments.customers after it';
COMMENT ON COLUMN segments.facts_status.inserted IS 'Customers new in that refresh';
COMMENT ON COLUMN segments.facts_status.updated IS 'Customers recomputed in that refresh';
COMMENT ON COLUMN segments.facts_status.deleted IS 'Customers gone from the sources, removed in that refresh';
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

COMMENT ON COLUMN segments.facts_status.aov_sum IS
  'Exact sum of the stored AOVs of the buyers (customers with orders); the value bands are cut at aov_sum / buyers. Kept by difference by incremental refreshes; NULL: not known yet (the next incremental refresh sums the rows)';
COMMENT ON COLUMN segments.facts_status.buyers IS 'Customers with orders in segments.customers (the count of aov_sum)';

COMMENT ON COLUMN segments.changed_customers.customer_id IS 'Customer whose source rows changed (text, as in segments.customers)';
COMMENT ON COLUMN segments.changed_customers.changed_at IS 'When the change was logged';

COMMENT ON COLUMN segments.source_map.kind IS 'Source kind: orders, contacts, events, subscriptions or deals';
COMMENT ON COLUMN segments.source_map.source IS 'The shop''s table or view mapped to it';
COMMENT ON COLUMN segments.source_map.columns IS 'The mapping: normalized column name -> the shop''s column or SQL expression';
COMMENT ON COLUMN segments.source_map.mapped_by IS 'Role that mapped it';
COMMENT ON COLUMN segments.source_map.mapped_at IS 'When it was mapped';
COMMENT ON COLUMN segments.sources.kind IS 'Source kind: orders, contacts, events, subscriptions or deals';
COMMENT ON COLUMN segments.sources.mapped IS 'Whether segments.map_source mapped this kind';
COMMENT ON COLUMN segments.sources.source IS 'The shop''s table or view mapped to it (NULL: not mapped)';
COMMENT ON COLUMN segments.sources.columns IS 'The mapping: normalized column name -> the shop''s column or SQL expression';
COMMENT ON COLUMN segments.sources.mapped_by IS 'Role that mapped it';
COMMENT ON COLUMN segments.sources.mapped_at IS 'When it was mapped';
COMMENT ON COLUMN segments.sources.view_name IS 'The normalized view to read it through, segments.source_<kind>';

COMMENT ON COLUMN segments.source_orders.customer_id IS 'Customer id as text (cast from the shop''s own type; join back with customer_id::bigint or the shop column ::text)';
COMMENT ON COLUMN segments.source_orders.order_id IS 'The shop''s order id as text (ties between orders at the same time are broken by it)';
COMMENT ON COLUMN segments.source_orders.ordered_at IS 'When the order was placed';
COMMENT ON COLUMN segments.source_orders.amount IS 'Order total (negative for a refund)';
COMMENT ON COLUMN segments.source_orders.valid IS 'Counts as a purchase or refund (false: cancelled, failed payment)';
COMMENT ON COLUMN segments.purchases.customer_id IS 'Customer id as text (as in segments.source_orders)';
COMMENT ON COLUMN segments.purchases.order_id IS 'The shop''s order id as text';
COMMENT ON COLUMN segments.purchases.ordered_at IS 'When the order was placed';
COMMENT ON COLUMN segments.purchases.amount IS 'Order total, never negative (refunds are not purchases)';
COMMENT ON COLUMN segments.source_contacts.customer_id IS 'Customer id as text';
COMMENT ON COLUMN segments.source_contacts.email IS 'E-mail address';
COMMENT ON COLUMN segments.source_contacts.opted_in IS 'Accepts marketing e-mail';
COMMENT ON COLUMN segments.source_contacts.created_at IS 'When the contact was created (lead date)';
COMMENT ON COLUMN segments.source_contacts.first_name IS 'First name';
COMMENT ON COLUMN segments.source_contacts.last_name IS 'Last name';
COMMENT ON COLUMN segments.source_contacts.shipping_address IS 'Shipping address, one text';
COMMENT ON COLUMN segments.source_contacts.billing_address IS 'Billing address, one text';
COMMENT ON COLUMN segments.source_events.customer_id IS 'Customer id as text';
COMMENT ON COLUMN segments.source_events.kind IS 'Event kind: product_view, cart_add, checkout, session, email_open, email_click, back_in_stock';
COMMENT ON COLUMN segments.source_events.at IS 'When the event happened';
COMMENT ON COLUMN segments.source_subscriptions.customer_id IS 'Customer id as text';
COMMENT ON COLUMN segments.source_subscriptions.started_at IS 'Subscription start';
COMMENT ON COLUMN segments.source_subscriptions.is_trial IS 'A trial subscription';
COMMENT ON COLUMN segments.source_subscriptions.status IS 'Subscription status (e.g. active, trialing, cancelled)';
COMMENT ON COLUMN segments.source_subscriptions.engagement_rating IS 'Engagement rating 1..5';
COMMENT ON COLUMN segments.source_subscriptions.last_seen_at IS 'Last time the subscriber was seen';
COMMENT ON COLUMN segments.source_deals.customer_id IS 'Customer id as text';
COMMENT ON COLUMN segments.source_deals.deal_id IS 'The CRM''s deal id as text';
COMMENT ON COLUMN segments.source_deals.created_at IS 'When the deal was created';
COMMENT ON COLUMN segments.source_deals.updated_at IS 'Last update of the deal';
COMMENT ON COLUMN segments.source_deals.state IS 'Deal state: open, won or lost';
COMMENT ON COLUMN segments.source_deals.updates_30d IS 'Updates of the deal in the last 30 days';

COMMENT ON COLUMN segments.segments.id IS 'Segment id (surrogate key; the natural key is name)';
COMMENT ON COLUMN segments.segments.name IS 'Segment name, unique; also the name of its view segment_members."<name>"';
COMMENT ON COLUMN segments.segments.description IS 'Free text';
COMMENT ON COLUMN segments.segments.refresh_interval IS 'How often the worker (or CALL segments.refresh_due()) refreshes it';
COMMENT ON COLUMN segments.segments.next_refresh_at IS 'Next scheduled refresh';
COMMENT ON COLUMN segments.segments.last_refresh_at IS 'Last successful refresh';
COMMENT ON COLUMN segments.segments.last_error IS 'Error message of the last failed refresh (NULL after a success)';
COMMENT ON COLUMN segments.segments.last_error_sqlstate IS 'SQLSTATE of that error';
COMMENT ON COLUMN segments.segments.last_error_at IS 'When that refresh failed';
COMMENT ON COLUMN segments.segments.created_at IS 'When the segment was created';
COMMENT ON COLUMN segments.segments.updated_at IS 'Last change of its definition';
COMMENT ON COLUMN segments.segments.pack IS 'Ready-made pack it was installed from (NULL: user-defined)';
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

COMMENT ON COLUMN segments.membership.segment_id IS 'segments.segments.id; key (segment_id, customer_id)';
COMMENT ON COLUMN segments.membership.customer_id IS 'Member''s customer id (text, as in segments.customers)';
COMMENT ON COLUMN segments.membership.joined_at IS 'Start of the refresh that added the customer (current stay)';
COMMENT ON COLUMN segments.membership.revenue_mark IS
  'The member''s revenue at the last refresh: the next refresh attributes the growth as added revenue';
COMMENT ON COLUMN segments.membership.orders_mark IS
  'The member''s orders at the last refresh (so an incremental refresh keeps the history''s orders total exact)';

COMMENT ON COLUMN segments.changes.id IS 'Change id: increases in commit order; a sync job keeps the last one it applied as its cursor';
COMMENT ON COLUMN segments.changes.segment_id IS 'segments.segments.id';
COMMENT ON COLUMN segments.changes.segment IS 'Segment name at the time of the change';
COMMENT ON COLUMN segments.changes.customer_id IS 'Customer who joined or left (text, as in segments.customers)';
COMMENT ON COLUMN segments.changes.change IS 'joined or left';
COMMENT ON COLUMN segments.changes.at IS 'Start of the refresh that made the change';
COMMENT ON COLUMN segments.changes.run_id IS 'segments.runs.id of that refresh';

COMMENT ON COLUMN segments.runs.id IS 'Run id';
COMMENT ON COLUMN segments.runs.segment_id IS 'segments.segments.id';
COMMENT ON COLUMN segments.runs.trigger IS 'What started it: worker, manual, refresh_now, create or cron';
COMMENT ON COLUMN segments.runs.started_at IS 'When it started';
COMMENT ON COLUMN segments.runs.finished_at IS 'When it finished (NULL while running)';
COMMENT ON COLUMN segments.runs.status IS 'running, succeeded, failed or skipped (another refresh of the segment held it)';
COMMENT ON COLUMN segments.runs.joined IS 'Customers who joined';
COMMENT ON COLUMN segments.runs."left" IS 'Customers who left';
COMMENT ON COLUMN segments.runs.size IS 'Members after the run';
COMMENT ON COLUMN segments.runs.sqlstate IS 'SQLSTATE of the error of a failed run';
COMMENT ON COLUMN segments.runs.message IS 'Error message of a failed run, or why it was skipped';
COMMENT ON COLUMN segments.runs.backend_pid IS 'Process id of the session running it (pg_stat_activity.pid)';
COMMENT ON COLUMN segments.runs.facts_refreshed IS 'Whether the run refreshed the facts first (they were older than pg_segments.facts_max_age)';
COMMENT ON COLUMN segments.runs.evaluated IS
  'Customers whose facts changed and the rule was evaluated for (incremental refresh); NULL: evaluated for everyone (full refresh)';

COMMENT ON COLUMN segments.history.segment_id IS 'segments.segments.id; key (segment_id, run_id)';
COMMENT ON COLUMN segments.history.run_id IS 'segments.runs.id of the refresh';
COMMENT ON COLUMN segments.history.at IS 'Start of the refresh';
COMMENT ON COLUMN segments.history.size IS 'Members after the refresh';
COMMENT ON COLUMN segments.history.joined IS 'Customers who joined in it';
COMMENT ON COLUMN segments.history."left" IS 'Customers who left in it';
COMMENT ON COLUMN segments.history.revenue IS 'Lifetime revenue of the members after it';
COMMENT ON COLUMN segments.history.orders IS 'Valid orders of the members after it';
COMMENT ON COLUMN segments.history.facts_at IS 'As-of time of the facts it used (segments.facts_status.refreshed_at)';
COMMENT ON COLUMN segments.history.added_revenue IS
  'Revenue the members before this refresh generated since the previous refresh (RetentionX added revenue)';

COMMENT ON COLUMN segments.shards.server IS 'The postgres_fdw foreign server of the shard (with a user mapping)';
COMMENT ON COLUMN segments.shards.position IS
  'The shard''s hash remainder: segments.shard_table() gives it the customers with hash(customer_id) % shards = position';
COMMENT ON COLUMN segments.shards.added_at IS 'When segments.add_shard declared it';
COMMENT ON COLUMN segments.shards.added_by IS 'The role that declared it (segments.add_shard''s caller)';

COMMENT ON COLUMN segments.members.segment IS 'Segment name; natural key (segment, customer_id)';
COMMENT ON COLUMN segments.members.customer_id IS 'Member''s customer id (text: join the shop''s table on shop_id::text = customer_id)';
COMMENT ON COLUMN segments.members.joined_at IS 'Start of the refresh that added the customer (current stay)';
COMMENT ON COLUMN segments.members.segment_id IS 'segments.segments.id';

COMMENT ON COLUMN segments.overview.id IS 'segments.segments.id';
COMMENT ON COLUMN segments.overview.segment IS 'Segment name (natural key)';
COMMENT ON COLUMN segments.overview.status IS 'building, active, inactive or failed';
COMMENT ON COLUMN segments.overview.description IS 'Free text';
COMMENT ON COLUMN segments.overview.owner IS 'Role the rule runs as (its name, as text)';
COMMENT ON COLUMN segments.overview.pack IS 'Ready-made pack it came from (NULL: user-defined)';
COMMENT ON COLUMN segments.overview.customers IS 'Members now';
COMMENT ON COLUMN segments.overview.revenue IS 'Lifetime revenue of the members (from the facts)';
COMMENT ON COLUMN segments.overview.orders IS 'Valid orders of the members';
COMMENT ON COLUMN segments.overview.aov IS 'Average order value: revenue / orders';
COMMENT ON COLUMN segments.overview.avg_clv IS 'Average lifetime revenue per member';
COMMENT ON COLUMN segments.overview.avg_order_latency_days IS 'Members'' mean days between orders';
COMMENT ON COLUMN segments.overview.added_revenue IS 'Revenue members generated while in the segment, summed over its history (RetentionX added revenue)';
COMMENT ON COLUMN segments.overview.last_refresh_at IS 'Last successful refresh';
COMMENT ON COLUMN segments.overview.next_refresh_at IS 'Next scheduled refresh';
COMMENT ON COLUMN segments.overview.refresh_interval IS 'Refresh schedule';
COMMENT ON COLUMN segments.overview.timezone IS 'Time zone of the schedule (NULL: the server''s)';
COMMENT ON COLUMN segments.overview.last_error IS 'Error of the last failed refresh';
COMMENT ON COLUMN segments.overview.last_error_at IS 'When it failed';
COMMENT ON COLUMN segments.overview.created_at IS 'When the segment was created';
COMMENT ON COLUMN segments.overview.facts_as_of IS 'As-of time of the customer facts behind revenue, orders, aov (NULL: none computed yet)';
COMMENT ON COLUMN segments.overview.facts_stale IS 'True when facts are missing for members (after pg_restore, before the first refresh_facts or refresh): revenue and orders are then incomplete';

-- Member views made before these comments existed (an upgraded database) get them too.
SELECT segments_internal._comment_member_view(s.name) FROM segments.segments s
WHERE to_regclass(format('segment_members.%I', s.name)) IS NOT NULL;
