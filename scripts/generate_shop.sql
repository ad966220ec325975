-- Realistic shop data for pg_segments: a psql script that writes schema `shop` (ordinary tables).
--
--   psql -v orders=1000000 [-v customers=100000] [-v seed=42] [-v end_date=2025-12-31]
--        [-v events=on] [-v history_days=1095] -f scripts/generate_shop.sql
--
-- Everything is set-based SQL (generate_series, INSERT ... SELECT); indexes are built after the load.
-- Deterministic: every random draw is a hash of (seed, row key, draw number), so the same arguments
-- give the same rows whatever the plan or the order of evaluation (end_date defaults to today, so
-- the data always ends "now"; pass it to fix the dates too).
--
-- The story (docs/demo-and-bench.md has the details):
-- * contacts sign up over `history_days` (more recently more: a growing shop); 62% opt in to email;
--   85% go on to buy, the rest stay leads;
-- * buying follows BG/NBD ("buy till you die", Fader, Hardie & Lee 2005): each buyer has their own
--   Poisson purchase rate lambda ~ Gamma(r, alpha) and, after every purchase, drops out for good with
--   their own probability p ~ Beta(a, b); alpha is calibrated so that the expected number of orders
--   is the one asked for;
-- * seasonality: repeat purchases are thinned outside November/December (an inhomogeneous Poisson
--   process), so the holiday months carry visibly more orders;
-- * each buyer's order values come from Gamma-Gamma (Fader, Hardie & Lee 2005b): order value
--   ~ Gamma(6, nu), the customer's nu ~ Gamma(4, 37.5), mean order about 75;
-- * 2% of orders fail at payment, 3% are cancelled (both: status, not valid); 4% of paid orders are
--   refunded later, fully or partly, as a separate row with a negative total (status 'refund');
-- * events: each order is a session with a product view, a cart add and (when paid) a checkout;
--   extra browsing sessions carry views and abandoned cart adds, some back-in-stock requests; opted-in
--   contacts open and click emails;
-- * 25% of contacts have a subscription (trials, statuses, engagement 1-5, last seen); 8% have CRM
--   deals (open/won/lost, created/updated, updates in the last 30 days).
-- Gamma variates use the Wilson-Hilferty approximation (shape < 1 via the Gamma(k+1)*U^(1/k) boost).

\set ON_ERROR_STOP on
\if :{?orders}
\else
  \set orders 1000000
\endif
\if :{?customers}
\else
  SELECT greatest(1, :orders / 10) AS customers \gset
\endif
\if :{?seed}
\else
  \set seed 42
\endif
\if :{?end_date}
\else
  SELECT current_date AS end_date \gset
\endif
\if :{?events}
\else
  \set events on
\endif
\if :{?events_days}
\else
  \set events_days 90
\endif
\if :{?history_days}
\else
  \set history_days 1095
\endif
\if :{?quiet}
\else
  \set quiet off
\endif

SET client_min_messages = warning;
SET synchronize_seqscans = off;
SET TimeZone = 'UTC';
SET work_mem = '256MB';
SET jit = off;
SET maintenance_work_mem = '512MB';
SET max_parallel_maintenance_workers = 2;

SELECT (:orders < 1 OR :orders > 100000000 OR :customers < 1 OR :customers > :orders) AS bad_args \gset
\if :bad_args
  DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = '22023',
    MESSAGE = 'generate_shop: orders must be 1 to 100000000 and customers 1 to orders',
    HINT = 'e.g. psql -v orders=1000000 -v customers=100000 -f scripts/generate_shop.sql'; END $$;
\endif

\if :quiet
\else
  \echo generate_shop: :orders orders, :customers customers, seed :seed, ending :end_date
\endif

-- Draw streams: stream = seed * 100 + draw number.
SELECT (:seed)::bigint * 100 AS s \gset

BEGIN;
DROP SCHEMA IF EXISTS shop CASCADE;
CREATE SCHEMA shop;
COMMENT ON SCHEMA shop IS 'A generated web shop (scripts/generate_shop.sql): contacts, orders, events, subscriptions, CRM deals';

-- u(key, stream): a uniform number in (0, 1), a pure function of its arguments.
CREATE FUNCTION pg_temp.u(k bigint, stream bigint) RETURNS float8
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT ((pg_catalog.hashint8extended(k, stream) & 9007199254740991)::float8 + 0.5) / 9007199254740992.0 $$;
-- A standard normal variate from two uniforms (Box-Muller).
CREATE FUNCTION pg_temp.normal(u1 float8, u2 float8) RETURNS float8
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT sqrt(-2 * ln(u1)) * cos(2 * pi() * u2) $$;
-- Gamma(shape, 1) from a standard normal z and a uniform u (Wilson-Hilferty; boost for shape < 1).
CREATE FUNCTION pg_temp.gamma(shape float8, z float8, u float8) RETURNS float8
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  -- (each of z and u appears once, so the planner inlines the call)
  AS $$ SELECT (shape + (shape < 1)::int)
               * greatest(1 - 1 / (9 * (shape + (shape < 1)::int)) + z / (3 * sqrt(shape + (shape < 1)::int)), 0.02) ^ 3
               * CASE WHEN shape < 1 THEN u ^ (1 / shape) ELSE 1 END $$;
-- Share of repeat purchases kept in a month (seasonality by thinning).
CREATE FUNCTION pg_temp.season(month float8) RETURNS float8
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT CASE month WHEN 11 THEN 1.0 WHEN 12 THEN 0.9 WHEN 1 THEN 0.45 WHEN 2 THEN 0.5
                          WHEN 7 THEN 0.55 WHEN 8 THEN 0.55 ELSE 0.6 END $$;

-- Model constants (BG/NBD r, a, b; the rate scale alpha is calibrated below).
SELECT 0.75::float8 AS bg_r, 1.2::float8 AS bg_a, 20.0::float8 AS bg_b \gset
SELECT extract(epoch FROM (:'end_date'::date)::timestamptz)::float8 AS end_epoch,
       extract(epoch FROM (:'end_date'::date)::timestamptz)::float8 - 86400.0 * :history_days AS start_epoch \gset

-- Contacts.
CREATE TABLE shop.customers (
  customer_id bigint NOT NULL,
  email text NOT NULL,
  first_name text,
  last_name text,
  shipping_address text,
  billing_address text,
  country text,
  accepts_marketing boolean NOT NULL,
  created_at timestamptz NOT NULL);

INSERT INTO shop.customers
SELECT id, lower(fn || '.' || ln || id || '@example.' || (ARRAY['com','org','net'])[1 + id % 3]), fn, ln,
       ship, CASE WHEN pg_temp.u(id, :s + 9) < 0.85 THEN ship
                  ELSE (1 + floor(pg_temp.u(id, :s + 10) * 400))::int || ' '
                       || (ARRAY['Market St','Station Rd','Harbour Way','Elm Ave','Mill Lane','Bridge St'])[1 + floor(pg_temp.u(id, :s + 11) * 6)::int]
                       || ', ' || city END,
       country, pg_temp.u(id, :s + 4) < 0.62,
       to_timestamp(:start_epoch + 86400.0 * :history_days * sqrt(pg_temp.u(id, :s + 1)))
FROM generate_series(1, :customers::bigint) id,
LATERAL (SELECT
  (ARRAY['Emma','Liam','Olivia','Noah','Ava','Elijah','Sophia','James','Mia','Lucas','Amelia','Mateo',
         'Isabella','Leo','Harper','Ethan','Ella','Oliver','Nora','Henry','Zoe','Samuel','Lena','Felix',
         'Chloe','Jonas','Aisha','Omar','Yuki','Ravi','Ines','Tomas','Freya','Ingrid','Marco','Sofia',
         'Hugo','Clara','Mila','Arjun'])[1 + floor(pg_temp.u(id, :s + 2) * 40)::int] AS fn,
  (ARRAY['Smith','Johnson','Garcia','Muller','Rossi','Kowalski','Nguyen','Kim','Silva','Dubois',
         'Jensen','Novak','Haddad','Tanaka','Patel','Okafor','Larsen','Moreau','Costa','Schmidt',
         'Brown','Wilson','Lopez','Meyer','Fischer','Romano','Ivanova','Sato','Khan','Hansen'])[1 + floor(pg_temp.u(id, :s + 3) * 30)::int] AS ln,
  (1 + floor(pg_temp.u(id, :s + 5) * 400))::int || ' '
    || (ARRAY['High St','Church Rd','Park Ave','Oak St','Maple Dr','Kingsway','Queen St','Lake Rd',
              'Hill St','River Rd','Garden Ln','Sunset Blvd'])[1 + floor(pg_temp.u(id, :s + 6) * 12)::int] AS street_part,
  (ARRAY['London','Leeds','Dublin','Berlin','Hamburg','Paris','Lyon','Amsterdam','Madrid','Milan',
         'Copenhagen','Vienna','New York','Austin','Toronto','Sydney'])[1 + floor(pg_temp.u(id, :s + 7) * 16)::int] AS city
) n,
LATERAL (SELECT street_part || ', ' || city AS ship,
                CASE WHEN city IN ('London','Leeds') THEN 'GB' WHEN city = 'Dublin' THEN 'IE'
                     WHEN city IN ('Berlin','Hamburg') THEN 'DE' WHEN city IN ('Paris','Lyon') THEN 'FR'
                     WHEN city = 'Amsterdam' THEN 'NL' WHEN city = 'Madrid' THEN 'ES' WHEN city = 'Milan' THEN 'IT'
                     WHEN city = 'Copenhagen' THEN 'DK' WHEN city = 'Vienna' THEN 'AT'
                     WHEN city IN ('New York','Austin') THEN 'US' WHEN city = 'Toronto' THEN 'CA' ELSE 'AU' END AS country) a;

-- Buyers and their BG/NBD / Gamma-Gamma parameters (staging, dropped at the end).
CREATE UNLOGGED TABLE shop.stage_buyers AS
SELECT customer_id, first_epoch, (:end_epoch - first_epoch) / 86400.0 AS w,
       lam0, p, nu, x
FROM (
  SELECT c.customer_id,
         extract(epoch FROM c.created_at)::float8
           + CASE WHEN pg_temp.u(c.customer_id, :s + 21) < 0.5 THEN 0
                  ELSE -ln(pg_temp.u(c.customer_id, :s + 22)) * 20 * 86400 END AS first_epoch,
         pg_temp.gamma(:bg_r, pg_temp.normal(pg_temp.u(c.customer_id, :s + 23), pg_temp.u(c.customer_id, :s + 24)),
                       pg_temp.u(c.customer_id, :s + 25)) AS lam0,
         ga / (ga + gb) AS p,
         pg_temp.gamma(4, pg_temp.normal(pg_temp.u(c.customer_id, :s + 26), pg_temp.u(c.customer_id, :s + 27)), 0.5) / 37.5 AS nu,
         pg_temp.u(c.customer_id, :s + 28) AS ux
  FROM shop.customers c,
  LATERAL (SELECT
    pg_temp.gamma(:bg_a, pg_temp.normal(pg_temp.u(c.customer_id, :s + 29), pg_temp.u(c.customer_id, :s + 30)),
                  pg_temp.u(c.customer_id, :s + 31)) AS ga,
    pg_temp.gamma(:bg_b, pg_temp.normal(pg_temp.u(c.customer_id, :s + 32), pg_temp.u(c.customer_id, :s + 33)),
                  pg_temp.u(c.customer_id, :s + 34)) AS gb) g
  WHERE pg_temp.u(c.customer_id, :s + 20) < 0.85
) b,
LATERAL (SELECT least(1 + floor(ln(b.ux) / ln(1 - least(greatest(b.p, 1e-6), 0.999999))), 1e9) AS x) gx
WHERE first_epoch < :end_epoch;

-- The seasonal share of each day of the history, as an array indexed by day.
SELECT '{' || string_agg(pg_temp.season(date_part('month', d))::text, ',' ORDER BY d) || '}' AS season_days
FROM generate_series(to_timestamp(:start_epoch), to_timestamp(:end_epoch), interval '1 day') d \gset

-- The mean seasonal share, weighted towards recent days as orders are (a growing shop).
SELECT sum(v * i) / sum(i) AS season_mean FROM unnest(:'season_days'::float8[]) WITH ORDINALITY AS t(v, i) \gset

-- Calibrate the rate scale so the expected number of orders (first + repeats kept by the
-- seasonality) is the one asked for; rates are capped at one order every two days. Expected
-- repeats of a BG/NBD customer over w days: (1 - p) / p * (1 - exp(-lambda p w)). Bisection on
-- log(scale), over a sample of at most 20,000 buyers.
SELECT count(*) AS n_buyers FROM shop.stage_buyers \gset
DO $$
BEGIN
  IF (SELECT count(*) FROM shop.stage_buyers) = 0 THEN
    RAISE EXCEPTION 'generate_shop: no buyers; ask for more customers or a longer history';
  END IF;
END $$;
CREATE TEMP TABLE calib AS
  SELECT w, lam0, p FROM shop.stage_buyers WHERE customer_id % greatest(1, :n_buyers / 20000) = 0;
SELECT set_config('generate_shop.calib_target',
                  ((:orders::float8 / :n_buyers) * (SELECT count(*) FROM calib))::text, true) AS calib_target,
       set_config('generate_shop.season_mean', :'season_mean', true) AS season_mean_set \gset
CREATE TEMP TABLE scale (scale float8);
DO $$
DECLARE
  target float8 := current_setting('generate_shop.calib_target')::float8;
  season float8 := current_setting('generate_shop.season_mean')::float8;
  lo float8 := ln(1e-6);
  hi float8 := ln(1e3);
  mid float8;
  e float8;
BEGIN
  FOR i IN 1..40 LOOP
    mid := (lo + hi) / 2;
    SELECT sum(1 + season * (1 - p) / p * (1 - exp(-least(least(exp(mid) * lam0, 0.5) * p * w, 700))))
      INTO e FROM calib;
    IF e < target THEN lo := mid; ELSE hi := mid; END IF;
  END LOOP;
  INSERT INTO scale VALUES (exp((lo + hi) / 2));
END $$;
SELECT scale FROM scale \gset

-- Orders. A buyer makes the first purchase at first_epoch, then repeats at rate lambda until the
-- purchase after which they drop out (x purchases in all). Given the time S of the last of n repeats
-- (S ~ Gamma(n, lambda)), the n - 1 before it are uniform on [0, S]: so no running sums are needed.
-- Customers still alive at the end are cut at n = lambda w + 3 sqrt(lambda w) + 2 repeats, which
-- the Poisson count over w days exceeds with probability about 0.1%.
CREATE TABLE shop.orders (
  order_id bigint GENERATED ALWAYS AS IDENTITY,
  customer_id bigint NOT NULL,
  created_at timestamptz NOT NULL,
  status text NOT NULL,
  total numeric(12,2) NOT NULL,
  items int NOT NULL,
  refund_of bigint);

CREATE UNLOGGED TABLE shop.stage_repeats AS
SELECT customer_id, first_epoch, nu, n,
       CASE WHEN n = 0 THEN 0
            WHEN n = 1 THEN -ln(pg_temp.u(customer_id, :s + 35))
            ELSE pg_temp.gamma(n, pg_temp.normal(pg_temp.u(customer_id, :s + 36), pg_temp.u(customer_id, :s + 37)), 0.5)
       END / lam * 86400 AS span
FROM (SELECT customer_id, first_epoch, nu, lam,
             least(x - 1, ceil(lam * w + 3 * sqrt(lam * w) + 2), 4000)::int AS n
      FROM (SELECT *, least(lam0 * :scale, 0.5) AS lam FROM shop.stage_buyers) b) r;

INSERT INTO shop.orders (customer_id, created_at, status, total, items)
SELECT customer_id, to_timestamp(at),
       CASE WHEN us < 0.02 THEN 'payment_failed' WHEN us < 0.05 THEN 'cancelled' ELSE 'paid' END,
       (floor(pg_temp.gamma(6, pg_temp.normal(pg_temp.u(k, :s + 42), pg_temp.u(k, :s + 43)), 0.5) / nu * 100)::bigint + 99) * 0.01,
       1 + floor(-ln(pg_temp.u(k, :s + 44)) * 1.3)::int
FROM (
  SELECT r.customer_id, r.nu, g.k, g.j, pg_temp.u(g.k, :s + 41) AS us,
         r.first_epoch + CASE WHEN g.j = 0 THEN 0 WHEN g.j = r.n THEN r.span
                              ELSE r.span * pg_temp.u(g.k, :s + 40) END AS at
  FROM shop.stage_repeats r,
  LATERAL (SELECT j, r.customer_id * 4096 + j AS k FROM generate_series(0, r.n) j) g
) o
WHERE at < :end_epoch
  AND (j = 0 OR pg_temp.u(k, :s + 45) < (:'season_days'::float8[])[floor((at - :start_epoch) / 86400)::int + 1])
ORDER BY at, customer_id;  -- a shop writes its orders as they come: order ids and the heap follow time

-- Refunds: 4% of paid orders, a few days to a month later, full (70%) or partial.
INSERT INTO shop.orders (customer_id, created_at, status, total, items, refund_of)
SELECT customer_id, created_at + (3 + 27 * pg_temp.u(order_id, :s + 51)) * interval '1 day', 'refund',
       -CASE WHEN pg_temp.u(order_id, :s + 52) < 0.7 THEN total
             ELSE round(total * (0.2 + 0.6 * pg_temp.u(order_id, :s + 53))::numeric, 2) END,
       0, order_id
FROM shop.orders
WHERE status = 'paid' AND pg_temp.u(order_id, :s + 50) < 0.04
  AND created_at + (3 + 27 * pg_temp.u(order_id, :s + 51)) * interval '1 day' < to_timestamp(:end_epoch);

-- Events (a tracking stream, one table): sessions, product views, cart adds, checkouts,
-- back-in-stock requests, email opens and clicks. Like most tracking stores it keeps only the
-- last :events_days days (default 90), which is all that behavioural segments look at.
CREATE TABLE shop.events (
  customer_id bigint NOT NULL,
  event text NOT NULL,
  occurred_at timestamptz NOT NULL,
  product_id int);

\if :events
SELECT :end_epoch - 86400.0 * :events_days AS events_epoch \gset
-- The path to each order: session, view, cart add, and a checkout when the payment went through.
INSERT INTO shop.events
SELECT o.customer_id, e.event, o.created_at - e.before * interval '1 minute',
       CASE WHEN e.event IN ('product_view', 'cart_add') THEN 1 + (o.order_id * 7919) % 5000 END
FROM shop.orders o,
LATERAL (VALUES ('session', 12), ('product_view', 9), ('cart_add', 4), ('checkout', 0)) e(event, before)
WHERE o.created_at >= to_timestamp(:events_epoch) AND o.status <> 'refund'
  AND (e.event <> 'checkout' OR o.status = 'paid');

-- Browsing without buying: each contact's sessions in the period ~ geometric with a mean of
-- 0.3 + their recent orders; each session views a product (sometimes two), 40% add to the cart
-- and leave it (abandoned), 3% ask to be told when an item is back in stock.
INSERT INTO shop.events
SELECT s.customer_id, e.event, to_timestamp(s.at + e.after * 60), s.product_id
FROM (
  SELECT c.customer_id, k.k,
         c.c0 + (:end_epoch - c.c0) * pg_temp.u(k.k, :s + 61) AS at,
         1 + floor(5000 * pg_temp.u(k.k, :s + 62) ^ 2)::int AS product_id
  FROM (SELECT c.customer_id, greatest(extract(epoch FROM c.created_at)::float8, :events_epoch) AS c0,
               floor(-ln(pg_temp.u(c.customer_id, :s + 60)) * (0.3 + coalesce(n.n, 0)))::int AS sessions
        FROM shop.customers c
        LEFT JOIN (SELECT customer_id, count(*) AS n FROM shop.orders
                   WHERE created_at >= to_timestamp(:events_epoch) GROUP BY customer_id) n USING (customer_id)) c,
  LATERAL (SELECT c.customer_id * 4096 + j AS k FROM generate_series(1, least(c.sessions, 4000)) j) k
) s,
LATERAL (VALUES ('session', 0, 1.0), ('product_view', 1, 1.0), ('product_view', 3, 0.5),
                ('cart_add', 5, 0.4), ('back_in_stock', 6, 0.03)) e(event, after, share)
WHERE e.share = 1.0 OR pg_temp.u(s.k, :s + 63 + e.after) < e.share;

-- Email engagement of opted-in contacts: opens ~ geometric with mean 2, a third of them clicked.
INSERT INTO shop.events
SELECT o.customer_id, e.event, to_timestamp(o.at + e.after * 60), NULL
FROM (
  SELECT c.customer_id, k.k, c.c0 + (:end_epoch - c.c0) * pg_temp.u(k.k, :s + 71) AS at
  FROM (SELECT customer_id, greatest(extract(epoch FROM created_at)::float8, :events_epoch) AS c0,
               floor(-ln(pg_temp.u(customer_id, :s + 70)) * 2)::int AS opens
        FROM shop.customers WHERE accepts_marketing) c,
  LATERAL (SELECT c.customer_id * 4096 + 2048 + j AS k FROM generate_series(1, least(c.opens, 2000)) j) k
) o,
LATERAL (VALUES ('email_open', 0), ('email_click', 2)) e(event, after)
WHERE e.event = 'email_open' OR pg_temp.u(o.k, :s + 72) < 0.33;
\endif

-- Subscriptions (a payments provider): a quarter of the contacts.
CREATE TABLE shop.subscriptions (
  subscription_id bigint GENERATED ALWAYS AS IDENTITY,
  customer_id bigint NOT NULL,
  plan text NOT NULL,
  started_at timestamptz NOT NULL,
  trial boolean NOT NULL,
  status text NOT NULL,
  engagement_rating int NOT NULL CHECK (engagement_rating BETWEEN 1 AND 5),
  last_seen_at timestamptz);

INSERT INTO shop.subscriptions (customer_id, plan, started_at, trial, status, engagement_rating, last_seen_at)
SELECT customer_id, plan, to_timestamp(started), trial,
       CASE WHEN trial AND age_days <= 14 THEN 'trialing'
            WHEN trial AND uc >= 0.45 THEN 'expired'
            WHEN uc < 0.25 THEN 'cancelled'
            ELSE 'active' END,
       rating,
       to_timestamp(least(:end_epoch - 60,
                          greatest(started, :end_epoch - 86400.0 * -ln(pg_temp.u(customer_id, :s + 85)) * (32 - 6 * rating))))
FROM (
  SELECT customer_id, started, (:end_epoch - started) / 86400.0 AS age_days,
         (ARRAY['monthly box','quarterly box','annual club'])[1 + floor(pg_temp.u(customer_id, :s + 81) * 3)::int] AS plan,
         pg_temp.u(customer_id, :s + 82) < 0.7 AS trial,
         pg_temp.u(customer_id, :s + 83) AS uc,
         least(5, 1 + floor(5 * pg_temp.u(customer_id, :s + 84) ^ 0.8))::int AS rating
  FROM (SELECT customer_id,
               extract(epoch FROM created_at)::float8 + 86400.0 * -ln(pg_temp.u(customer_id, :s + 86)) * 30 AS started
        FROM shop.customers WHERE pg_temp.u(customer_id, :s + 80) < 0.25) c
  WHERE started < :end_epoch
) s;

-- CRM deals (a sales pipeline): 8% of contacts, one to three deals each in the last year.
CREATE TABLE shop.deals (
  deal_id bigint GENERATED ALWAYS AS IDENTITY,
  customer_id bigint NOT NULL,
  title text NOT NULL,
  value numeric(12,2) NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  stage text NOT NULL,
  updates_last_30d int NOT NULL);

INSERT INTO shop.deals (customer_id, title, value, created_at, updated_at, stage, updates_last_30d)
SELECT customer_id, 'Wholesale order #' || k, round((500 + 9500 * pg_temp.u(k, :s + 93) ^ 2)::numeric, -1),
       to_timestamp(created), to_timestamp(updated),
       stage,
       CASE WHEN :end_epoch - updated <= 30 * 86400 THEN 1 + floor(5 * pg_temp.u(k, :s + 94))::int ELSE 0 END
FROM (
  SELECT customer_id, k, created, created + (:end_epoch - created) * pg_temp.u(k, :s + 92) ^ 2 AS updated,
         CASE WHEN :end_epoch - created < 60 * 86400
              THEN CASE WHEN us < 0.7 THEN 'open' WHEN us < 0.9 THEN 'won' ELSE 'lost' END
              ELSE CASE WHEN us < 0.45 THEN 'won' WHEN us < 0.85 THEN 'lost' ELSE 'open' END END AS stage
  FROM (SELECT c.customer_id, c.customer_id * 4096 + 3000 + j AS k,
               :end_epoch - 365 * 86400.0 * pg_temp.u(c.customer_id * 4096 + 3000 + j, :s + 91) AS created,
               pg_temp.u(c.customer_id * 4096 + 3000 + j, :s + 95) AS us
        FROM shop.customers c, generate_series(1, 1 + floor(3 * pg_temp.u(c.customer_id, :s + 96))::int) j
        WHERE pg_temp.u(c.customer_id, :s + 90) < 0.08) d
) d;

DROP TABLE shop.stage_buyers, shop.stage_repeats;

-- Keys and indexes, built after the load.
ALTER TABLE shop.customers ADD PRIMARY KEY (customer_id);
ALTER TABLE shop.orders ADD PRIMARY KEY (order_id);
CREATE INDEX ON shop.orders (customer_id, created_at);
CREATE INDEX ON shop.events (customer_id, occurred_at);
CREATE INDEX ON shop.subscriptions (customer_id);
CREATE INDEX ON shop.deals (customer_id);

COMMENT ON TABLE shop.customers IS 'Generated shop: contacts (leads and buyers); created_at is the sign-up (lead) date';
COMMENT ON TABLE shop.orders IS 'Generated shop: orders (status paid, cancelled, payment_failed) and refunds (status refund, negative total, refund_of)';
COMMENT ON TABLE shop.events IS 'Generated shop: tracking events (session, product_view, cart_add, checkout, back_in_stock, email_open, email_click)';
COMMENT ON TABLE shop.subscriptions IS 'Generated shop: subscriptions with trials, status, engagement rating 1-5 and last seen';
COMMENT ON TABLE shop.deals IS 'Generated shop: CRM deals, stage open/won/lost';
COMMIT;

ANALYZE shop.customers, shop.orders, shop.events, shop.subscriptions, shop.deals;

\if :quiet
\else
SELECT (SELECT count(*) FROM shop.customers) AS customers,
       (SELECT count(*) FROM shop.orders WHERE status <> 'refund') AS orders,
       (SELECT count(*) FROM shop.orders WHERE status = 'refund') AS refunds,
       (SELECT count(*) FROM shop.events) AS events,
       (SELECT count(*) FROM shop.subscriptions) AS subscriptions,
       (SELECT count(*) FROM shop.deals) AS deals;
\endif
