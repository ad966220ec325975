-- The ready-made segments' definitions (docs/packs.md): replaced as a whole at every install or
-- upgrade (static content of the extension, not user data). Time windows are exact durations
-- (N days = N x 24 hours, as in the facts), so membership never depends on the session TimeZone.
-- Where the facts have the columns, a pack is a rule over them (windows the facts keep exact
-- with their horizon, no clock): refreshed incrementally (docs/segments.md#incremental-refresh).

DELETE FROM segments.pack_segments;

-- Engagement in the crm pack: a session, an email open or an email click.
INSERT INTO segments.pack_segments (pack, position, name, title, source_text, meaning, rule, query, required_sources) VALUES
-- ecommerce ------------------------------------------------------------------------------------
('ecommerce', 1, 'ecommerce_customers', 'Customers',
 'Customers that have spent any amount of money in your store.',
 'At least one valid order and revenue (sum of valid order amounts, refunds negative) above 0.',
 'orders >= 1 AND revenue > 0', NULL, '{orders}'),
('ecommerce', 2, 'ecommerce_single_order_customers', 'Single order customers',
 'Customers who have ordered once.',
 'Exactly one valid order (cancelled or failed orders do not count).',
 'orders = 1', NULL, '{orders}'),
('ecommerce', 3, 'ecommerce_abandoned_browsers', 'Abandoned browsers',
 'Contacts who have viewed a product more than 1 time in the last 14 days and have not placed an order or abandoned a cart in that same period.',
 'At least 2 product_view events in the 14 days before the facts refresh; no order of any status (attempted_orders_14d) and no checkout event in those 14 days; no abandoned cart (see Abandoned carts) in them.',
 'product_views_14d >= 2 AND attempted_orders_14d = 0 AND checkouts_14d = 0 AND abandoned_carts_14d = 0', NULL, '{orders,events}'),
('ecommerce', 4, 'ecommerce_abandoned_carts', 'Abandoned carts',
 'Contacts appear in this audience when they have abandoned a cart in the last 7 days and not completed an order in the last 7 days. An abandon cart is defined as having not completed an order within 15 minutes after the last product is added to the cart.',
 'An abandoned cart (the facts'' one definition: the last cart_add before the next completion, not followed by a completion - valid order or checkout event - within 15 minutes) in the 7 days before the facts refresh, and no completed order (valid order or checkout event) in those 7 days.',
 'abandoned_carts_7d > 0 AND orders_7d = 0 AND checkouts_7d = 0', NULL, '{orders,events}'),
('ecommerce', 5, 'ecommerce_virgin_customers', 'Virgin customers',
 'Contacts who opted into marketing but have never completed an order.',
 'Opted in to marketing (contacts) and no valid order ever (cancelled or failed orders only still count as never completed).',
 'opted_in IS TRUE AND coalesce(orders, 0) = 0', NULL, '{orders,contacts}'),
('ecommerce', 6, 'ecommerce_waiting_on_stock', 'Waiting on stock',
 'Where a browser or customer has requested to be notified when an item that is out of stock is back in stock.',
 'At least one back_in_stock request event, at any time up to the facts refresh (the text sets no time limit).',
 'back_in_stock_requests > 0', NULL, '{events}'),
('ecommerce', 7, 'ecommerce_slipping_customers', 'Slipping customers',
 'Customers who have ordered in the last 90 days but haven''t ordered again in the last 30 days.',
 'A valid order in the 90 days before the facts refresh, none in the last 30 days.',
 'orders_90d > 0 AND orders_30d = 0', NULL, '{orders}'),
('ecommerce', 8, 'ecommerce_repeat_customers', 'Repeat customers',
 'Where a customer has ordered more than once.',
 'At least 2 valid orders.',
 'orders >= 2', NULL, '{orders}'),
('ecommerce', 9, 'ecommerce_vip_customers', 'VIP customers',
 'Customers who have spent more than a total of $1000.',
 'Revenue (sum of valid order amounts) strictly above the VIP threshold (install_pack parameter vip_threshold, default 1000).',
 'revenue > {vip_threshold}', NULL, '{orders}'),
-- payments -------------------------------------------------------------------------------------
('payments', 1, 'payments_on_trial', 'On a trial',
 'People who started a trial less than 30 days ago.',
 'A trial subscription (is_trial) started less than 30 days ago, whatever its status now.',
 NULL, $q$SELECT s.customer_id FROM segments.source_subscriptions s
 WHERE s.is_trial AND s.started_at > now() - interval '720 hours'$q$, '{subscriptions}'),
('payments', 2, 'payments_engaged_trials', 'Engaged trials',
 'People who are currently on a trial and their engagement rating is greater than 3 stars.',
 'A trial subscription with status trialing (currently on a trial) and an engagement rating of 4 or 5 stars.',
 NULL, $q$SELECT s.customer_id FROM segments.source_subscriptions s
 WHERE s.is_trial AND s.status = 'trialing' AND s.engagement_rating > 3$q$, '{subscriptions}'),
('payments', 3, 'payments_customers', 'Customers',
 'Customers who have an active subscription.',
 'At least one subscription with status active.',
 NULL, $q$SELECT s.customer_id FROM segments.source_subscriptions s WHERE s.status = 'active'$q$,
 '{subscriptions}'),
('payments', 4, 'payments_power_users', 'Power users',
 'People appear in this audience when they are a member of the Customers audience and their engagement rating is 5 stars.',
 'An active subscription whose engagement rating is 5 stars.',
 NULL, $q$SELECT s.customer_id FROM segments.source_subscriptions s
 WHERE s.status = 'active' AND s.engagement_rating = 5$q$, '{subscriptions}'),
('payments', 5, 'payments_slipping_trials', 'Slipping trials',
 'People appear in this audience when they are a member of the On a trial audience and started a trial more than 2 days ago, but their engagement is low (measured by engagement rating or last seen).',
 'A trial subscription started more than 2 and less than 30 days ago whose engagement is low: rating of 1 or 2 stars, or last seen more than 7 days ago (an unknown rating or last-seen never counts as low).',
 NULL, $q$SELECT s.customer_id FROM segments.source_subscriptions s
 WHERE s.is_trial AND s.started_at > now() - interval '720 hours' AND s.started_at < now() - interval '48 hours'
   AND (s.engagement_rating <= 2 OR s.last_seen_at < now() - interval '168 hours')$q$, '{subscriptions}'),
('payments', 6, 'payments_slipping_customers', 'Slipping customers',
 'Customers who have an active subscription (are members of the Customers audience) but haven''t engaged in more than 30 days.',
 'At least one active subscription, and the latest last-seen time over all the person''s subscriptions is more than 30 days ago (unknown last seen: not included).',
 NULL, $q$SELECT s.customer_id FROM segments.source_subscriptions s
 GROUP BY s.customer_id
 HAVING bool_or(s.status = 'active') AND max(s.last_seen_at) < now() - interval '720 hours'$q$,
 '{subscriptions}'),
('payments', 7, 'payments_expired_trials', 'Expired trials',
 'People who started a trial more than 30 days ago but have not subscribed to the product or service.',
 'A trial subscription started 30 days ago or earlier, and no paid subscription: none that is not a trial, none with status active.',
 NULL, $q$SELECT s.customer_id FROM segments.source_subscriptions s
 WHERE s.is_trial AND s.started_at <= now() - interval '720 hours'
EXCEPT SELECT p.customer_id FROM segments.source_subscriptions p
 WHERE NOT p.is_trial OR p.status = 'active'$q$, '{subscriptions}'),
-- crm ------------------------------------------------------------------------------------------
('crm', 1, 'crm_slipping_subscribers', 'Slipping subscribers',
 'People who have subscribed to receive email marketing messages but have not engaged with a campaign for more than 30 days.',
 'Opted in to marketing, a contact for more than 30 days (or lead date unknown), and no email_open or email_click event in the last 30 days.',
 NULL, $q$SELECT c.customer_id FROM segments.source_contacts c
 WHERE c.opted_in AND c.customer_id IS NOT NULL
   AND (c.created_at IS NULL OR c.created_at <= now() - interval '720 hours')
EXCEPT SELECT e.customer_id FROM segments.source_events e
 WHERE e.kind IN ('email_open', 'email_click') AND e.at > now() - interval '720 hours'$q$,
 '{contacts,events}'),
('crm', 2, 'crm_new_deals', 'New deals',
 'People appear in this audience when they are associated with at least 1 deal in the last 90 days.',
 'At least one deal created in the 90 days before the facts refresh (a new deal).',
 'deals_90d > 0', NULL, '{deals}'),
('crm', 3, 'crm_engaged_deals', 'Engaged deals',
 'People appear in this audience when they are associated with at least 1 new deal, and no lost deals, in the last 90 days. People in this audience also have at least 1 user session logged in the last 30 days or their associated deal has been updated more than twice in the last 30 days.',
 'A deal created in the last 90 days; no lost deal last updated (else created) in the last 90 days; and a session event in the last 30 days or a new deal with at least 3 updates in the last 30 days (updates_30d; unknown counts as 0).',
 NULL, $q$SELECT d.customer_id FROM segments.source_deals d
 WHERE d.created_at > now() - interval '2160 hours'
   AND (d.updates_30d > 2
        OR d.customer_id IN (SELECT e.customer_id FROM segments.source_events e
                             WHERE e.kind = 'session' AND e.at > now() - interval '720 hours'))
EXCEPT SELECT l.customer_id FROM segments.source_deals l
 WHERE l.state = 'lost' AND coalesce(l.updated_at, l.created_at) > now() - interval '2160 hours'$q$,
 '{deals,events}'),
('crm', 4, 'crm_slipping_deals', 'Slipping deals',
 'People appear in this audience when they are associated with at least 1 new deal, and no lost deals, in the last 90 days. People in this audience also have no won deals, and the deal has not been updated in the last 30 days or last engagement was more than 30 days ago.',
 'A deal created in the last 90 days; no lost deal last updated (else created) in the last 90 days; no won deal ever; and either none of the new deals was updated in the last 30 days, or the last engagement (session, email open or click) was more than 30 days ago (never engaged: this branch does not apply).',
 NULL, $q$SELECT d.customer_id FROM segments.source_deals d
 LEFT JOIN (SELECT e.customer_id, max(e.at) AS last_engaged_at FROM segments.source_events e
            WHERE e.kind IN ('session', 'email_open', 'email_click') GROUP BY e.customer_id) g
   ON g.customer_id = d.customer_id
 WHERE d.created_at > now() - interval '2160 hours'
 GROUP BY d.customer_id
 HAVING max(coalesce(d.updated_at, d.created_at)) <= now() - interval '720 hours'
     OR max(g.last_engaged_at) <= now() - interval '720 hours'
EXCEPT SELECT l.customer_id FROM segments.source_deals l
 WHERE l.state = 'lost' AND coalesce(l.updated_at, l.created_at) > now() - interval '2160 hours'
EXCEPT SELECT w.customer_id FROM segments.source_deals w WHERE w.state = 'won'$q$,
 '{deals,events}'),
('crm', 5, 'crm_customers', 'Customers',
 'People/organizations associated with at least one won deal.',
 'At least one won deal.',
 'won_deals > 0', NULL, '{deals}'),
('crm', 6, 'crm_repeat_customers', 'Repeat customers',
 'People/organizations associated with at least 2 won deals.',
 'At least 2 won deals (one source row per deal).',
 'won_deals >= 2', NULL, '{deals}'),
('crm', 7, 'crm_slipping_customers', 'Slipping customers',
 'People appear in this audience when they are a member of the Customers audience but have not engaged in more than 30 days.',
 'At least one won deal, and no engagement (session, email open or click) in the 30 days before the facts refresh.',
 'won_deals > 0 AND sessions_30d = 0 AND campaign_engagements_30d = 0', NULL, '{deals,events}'),
-- lifecycle ------------------------------------------------------------------------------------
('lifecycle', 1, 'lifecycle_just_ordered', 'Just ordered',
 'Clerk.io: these customers placed an order within the last 30 days.',
 'Life-cycle stage just_ordered (lifecycle_stage over valid orders; window pg_segments.lifecycle_just_ordered_days).',
 $r$lifecycle = 'just_ordered'$r$, NULL, '{orders}'),
('lifecycle', 2, 'lifecycle_active', 'Active',
 'Clerk.io: these customers regularly come back to the webshop, judged by how often they normally purchase.',
 'Life-cycle stage active: silent for less than their own usual gap between orders.',
 $r$lifecycle = 'active'$r$, NULL, '{orders}'),
('lifecycle', 3, 'lifecycle_slipping_away', 'Slipping away',
 'Clerk.io: these customers are purchasing less often than they have previously done.',
 'Life-cycle stage slipping_away: silent for longer than usual, not yet lost.',
 $r$lifecycle = 'slipping_away'$r$, NULL, '{orders}'),
('lifecycle', 4, 'lifecycle_lost', 'Lost',
 'Clerk.io: it has been so long since these customers purchased that they are very unlikely to return.',
 'Life-cycle stage lost.',
 $r$lifecycle = 'lost'$r$, NULL, '{orders}'),
('lifecycle', 5, 'lifecycle_value_low', 'Low value',
 'Ometria: value band low.',
 'Value band low: average order value below 0.75 x the mean over all customers with orders.',
 $r$value_band = 'low'$r$, NULL, '{orders}'),
('lifecycle', 6, 'lifecycle_value_medium', 'Medium value',
 'Ometria: value band medium.',
 'Value band medium: average order value 0.75 to 1.25 x the mean.',
 $r$value_band = 'medium'$r$, NULL, '{orders}'),
('lifecycle', 7, 'lifecycle_value_high', 'High value',
 'Ometria: value band high.',
 'Value band high: average order value above 1.25 and at most 2.5 x the mean.',
 $r$value_band = 'high'$r$, NULL, '{orders}'),
('lifecycle', 8, 'lifecycle_value_very_high', 'Very high value',
 'Ometria: value band very high.',
 'Value band very_high: average order value above 2.5 x the mean.',
 $r$value_band = 'very_high'$r$, NULL, '{orders}');
