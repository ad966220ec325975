-- demo/run cdnow: load the CDNOW purchases (demo/data/) into schema cdnow and map them.
-- Run from the repository root (the \copy path is relative to it).
\set ON_ERROR_STOP on
DROP SCHEMA IF EXISTS cdnow CASCADE;
CREATE SCHEMA cdnow;
CREATE TEMP TABLE raw (line text);
\copy raw FROM 'demo/data/CDNOW_master.txt' WITH (FORMAT text, DELIMITER E'\x01')
CREATE TABLE cdnow.orders (
  order_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  customer_id int NOT NULL,
  ordered_on date NOT NULL,
  cds int NOT NULL,
  dollars numeric(10,2) NOT NULL);
COMMENT ON TABLE cdnow.orders IS
  'CDNOW purchases 1997-01-01..1998-06-30 of the 1997 Q1 cohort (Fader, Hardie & Lee 2005; via lifetimes, MIT)';
INSERT INTO cdnow.orders (customer_id, ordered_on, cds, dollars)
SELECT f[1]::int, to_date(f[2], 'YYYYMMDD'), f[3]::int, f[4]::numeric
FROM (SELECT regexp_split_to_array(btrim(line, E' \r\t'), '\s+') AS f FROM raw) r
WHERE f[1] ~ '^\d+$'
ORDER BY 2, 1;
CREATE INDEX ON cdnow.orders (customer_id, ordered_on);
ANALYZE cdnow.orders;

CREATE EXTENSION IF NOT EXISTS pg_segments;
SELECT segments.map_source('orders', 'cdnow.orders',
  '{"customer_id": "customer_id", "order_id": "order_id", "ordered_at": "ordered_on", "amount": "dollars"}');
-- The data ends in 1998: facts are computed as of 1998-07-01 by hand, never refreshed to now().
ALTER DATABASE cdnow SET pg_segments.facts_max_age = -1;
