-- Schedules keep their cadence: a refresh before the slot (manual or refresh_now) leaves the next
-- slot alone; a late one moves to the first slot after now; a changed interval takes effect at once.
CREATE EXTENSION IF NOT EXISTS pg_segments;
SET timezone = 'UTC';
CREATE SCHEMA sched_shop;
CREATE TABLE sched_shop.orders(customer int, at timestamptz, amount numeric);
INSERT INTO sched_shop.orders VALUES (1, now() - interval '3 days', 10), (2, now() - interval '40 days', 20);
SELECT segments.map_source('orders', 'sched_shop.orders', '{"customer_id": "customer", "ordered_at": "at", "amount": "amount"}');
SELECT segments.create_segment('sched_buyers', rule => 'orders > 0', refresh_interval => '1 day') > 0 AS created;
CREATE TEMP TABLE slot AS SELECT next_refresh_at AS first_slot FROM segments.segments WHERE name = 'sched_buyers';
SELECT next_refresh_at - last_refresh_at = interval '1 day' AS one_day_after_build FROM segments.segments WHERE name = 'sched_buyers';

-- Two early refreshes: the slot does not move.
SELECT status FROM segments.refresh('sched_buyers');
SELECT status FROM segments.refresh('sched_buyers');
SELECT s.next_refresh_at = slot.first_slot AS slot_unchanged FROM segments.segments s, slot WHERE s.name = 'sched_buyers';

-- An hour late: the next slot is the missed one plus a day (cadence kept, not "now + 1 day").
UPDATE segments.segments SET next_refresh_at = now() - interval '1 hour' WHERE name = 'sched_buyers';
UPDATE slot SET first_slot = (SELECT next_refresh_at FROM segments.segments WHERE name = 'sched_buyers');
SELECT status FROM segments.refresh('sched_buyers');
SELECT s.next_refresh_at - slot.first_slot AS moved_by FROM segments.segments s, slot WHERE s.name = 'sched_buyers';

-- Three and a half days late: the first slot after now, on the same cadence.
UPDATE segments.segments SET next_refresh_at = now() - interval '3 days 12 hours' WHERE name = 'sched_buyers';
UPDATE slot SET first_slot = (SELECT next_refresh_at FROM segments.segments WHERE name = 'sched_buyers');
SELECT status FROM segments.refresh('sched_buyers');
SELECT s.next_refresh_at - slot.first_slot AS moved_by, s.next_refresh_at > now() AS in_future
FROM segments.segments s, slot WHERE s.name = 'sched_buyers';

-- A shorter interval takes effect at once: the next slot counts from the last refresh.
SELECT segments.alter_segment('sched_buyers', refresh_interval => '1 hour');
SELECT next_refresh_at - last_refresh_at AS next_in FROM segments.segments WHERE name = 'sched_buyers';
-- Changing only the description keeps the slot.
UPDATE slot SET first_slot = (SELECT next_refresh_at FROM segments.segments WHERE name = 'sched_buyers');
SELECT segments.alter_segment('sched_buyers', description => 'anyone who bought');
SELECT s.next_refresh_at = slot.first_slot AS slot_unchanged FROM segments.segments s, slot WHERE s.name = 'sched_buyers';

SELECT segments.drop_segment('sched_buyers');
SELECT segments.unmap_source('orders');
DROP SCHEMA sched_shop CASCADE;
