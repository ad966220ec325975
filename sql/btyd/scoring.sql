-- BTYD scoring (docs/predictive.md).

-- Scoring.
CREATE OR REPLACE FUNCTION @extschema@.p_alive(model @extschema@.bgnbd_model, frequency double precision,
    recency double precision, t double precision) RETURNS double precision
  AS 'MODULE_PATHNAME', 'pgs_bgnbd_p_alive' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.p_alive(model @extschema@.paretonbd_model, frequency double precision,
    recency double precision, t double precision) RETURNS double precision
  AS 'MODULE_PATHNAME', 'pgs_paretonbd_p_alive' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.p_alive(@extschema@.bgnbd_model, double precision, double precision, double precision) IS
  'Probability that the customer is still active at T (BG/NBD)';
COMMENT ON FUNCTION @extschema@.p_alive(@extschema@.paretonbd_model, double precision, double precision, double precision) IS
  'Probability that the customer is still active at T (Pareto/NBD)';

CREATE OR REPLACE FUNCTION @extschema@.expected_purchases(model @extschema@.bgnbd_model, frequency double precision,
    recency double precision, t double precision, horizon double precision) RETURNS double precision
  AS 'MODULE_PATHNAME', 'pgs_bgnbd_expected_purchases' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.expected_purchases(model @extschema@.paretonbd_model, frequency double precision,
    recency double precision, t double precision, horizon double precision) RETURNS double precision
  AS 'MODULE_PATHNAME', 'pgs_paretonbd_expected_purchases' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.expected_purchases(@extschema@.bgnbd_model, double precision, double precision, double precision, double precision) IS
  'Expected number of repeat purchases in the next horizon periods after T (BG/NBD)';
COMMENT ON FUNCTION @extschema@.expected_purchases(@extschema@.paretonbd_model, double precision, double precision, double precision, double precision) IS
  'Expected number of repeat purchases in the next horizon periods after T (Pareto/NBD)';

CREATE OR REPLACE FUNCTION @extschema@.expected_spend(model @extschema@.gammagamma_model, frequency double precision,
    monetary double precision) RETURNS double precision
  AS 'MODULE_PATHNAME', 'pgs_gammagamma_expected_spend' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.expected_spend(@extschema@.gammagamma_model, double precision, double precision) IS
  'Expected mean spend per future transaction given the customer''s repeat purchases (Gamma-Gamma)';

CREATE OR REPLACE FUNCTION @extschema@.predicted_clv(model @extschema@.bgnbd_model, spend_model @extschema@.gammagamma_model,
    frequency double precision, recency double precision, t double precision, monetary double precision,
    months integer DEFAULT 12, monthly_discount double precision DEFAULT 0.01, unit text DEFAULT 'weeks')
  RETURNS double precision
  AS 'MODULE_PATHNAME', 'pgs_bgnbd_clv' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.predicted_clv(model @extschema@.paretonbd_model, spend_model @extschema@.gammagamma_model,
    frequency double precision, recency double precision, t double precision, monetary double precision,
    months integer DEFAULT 12, monthly_discount double precision DEFAULT 0.01, unit text DEFAULT 'weeks')
  RETURNS double precision
  AS 'MODULE_PATHNAME', 'pgs_paretonbd_clv' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.predicted_clv(@extschema@.bgnbd_model, @extschema@.gammagamma_model, double precision, double precision, double precision, double precision, integer, double precision, text) IS
  'Discounted value of the next months months: expected spend x expected purchases per month (BG/NBD), discounted monthly';
COMMENT ON FUNCTION @extschema@.predicted_clv(@extschema@.paretonbd_model, @extschema@.gammagamma_model, double precision, double precision, double precision, double precision, integer, double precision, text) IS
  'Discounted value of the next months months: expected spend x expected purchases per month (Pareto/NBD), discounted monthly';

CREATE OR REPLACE FUNCTION @extschema@.time_to_next_order(model @extschema@.bgnbd_model, frequency double precision,
    recency double precision) RETURNS double precision
  AS 'MODULE_PATHNAME', 'pgs_bgnbd_time_to_next_order' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.time_to_next_order(model @extschema@.paretonbd_model, frequency double precision,
    recency double precision) RETURNS double precision
  AS 'MODULE_PATHNAME', 'pgs_paretonbd_time_to_next_order' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.time_to_next_order(@extschema@.bgnbd_model, double precision, double precision) IS
  'Median periods from the last order to the next one for a still-active customer, as predicted at the last order';
COMMENT ON FUNCTION @extschema@.time_to_next_order(@extschema@.paretonbd_model, double precision, double precision) IS
  'Median periods from the last order to the next one for a still-active customer, as predicted at the last order';

CREATE OR REPLACE FUNCTION @extschema@.expected_next_order_at(model @extschema@.bgnbd_model, frequency double precision,
    recency double precision, last_order_at timestamptz, unit text DEFAULT 'weeks') RETURNS timestamptz
  AS 'MODULE_PATHNAME', 'pgs_bgnbd_next_order_at' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.expected_next_order_at(model @extschema@.paretonbd_model, frequency double precision,
    recency double precision, last_order_at timestamptz, unit text DEFAULT 'weeks') RETURNS timestamptz
  AS 'MODULE_PATHNAME', 'pgs_paretonbd_next_order_at' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.expected_next_order_at(@extschema@.bgnbd_model, double precision, double precision, timestamptz, text) IS
  'last_order_at + time_to_next_order: when a still-active customer is expected to order next (infinity if never within the timestamp range)';
COMMENT ON FUNCTION @extschema@.expected_next_order_at(@extschema@.paretonbd_model, double precision, double precision, timestamptz, text) IS
  'last_order_at + time_to_next_order: when a still-active customer is expected to order next (infinity if never within the timestamp range)';
