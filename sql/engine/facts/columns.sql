-- What each stored facts column means (segments_internal.customer_facts, sql/engine/schema.sql).
-- Replaceable, so a column added by a later release is described here once (its ALTER TABLE goes
-- in sql/updates/): facts/customers.sql, next, copies these to the view segments.customers.
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
