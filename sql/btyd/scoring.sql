-- Scoring with a fitted model (docs/predictive.md): scalar functions of the model and one customer's
-- summary. BG/BB summaries are (frequency, recency, periods n) and its horizons count periods.

CREATE OR REPLACE FUNCTION @extschema@.p_alive(model @extschema@.bgnbd_model, frequency double precision, recency double precision, t double precision) RETURNS double precision
  AS 'MODULE_PATHNAME', 'pgs_bgnbd_p_alive' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.p_alive(@extschema@.bgnbd_model, double precision, double precision, double precision) IS
  'Probability that the customer is still active at T (BG/NBD)';
CREATE OR REPLACE FUNCTION @extschema@.p_alive(model @extschema@.mbgnbd_model, frequency double precision, recency double precision, t double precision) RETURNS double precision
  AS 'MODULE_PATHNAME', 'pgs_mbgnbd_p_alive' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.p_alive(@extschema@.mbgnbd_model, double precision, double precision, double precision) IS
  'Probability that the customer is still active at T (MBG/NBD)';
CREATE OR REPLACE FUNCTION @extschema@.p_alive(model @extschema@.paretonbd_model, frequency double precision, recency double precision, t double precision) RETURNS double precision
  AS 'MODULE_PATHNAME', 'pgs_paretonbd_p_alive' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.p_alive(@extschema@.paretonbd_model, double precision, double precision, double precision) IS
  'Probability that the customer is still active at T (Pareto/NBD)';
CREATE OR REPLACE FUNCTION @extschema@.p_alive(model @extschema@.bgbb_model, frequency double precision, recency double precision, periods double precision) RETURNS double precision
  AS 'MODULE_PATHNAME', 'pgs_bgbb_p_alive' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.p_alive(@extschema@.bgbb_model, double precision, double precision, double precision) IS
  'Probability that the customer is still active in the next period (n + 1), FHS 2010 eq. 11 (BG/BB)';
CREATE OR REPLACE FUNCTION @extschema@.expected_purchases(model @extschema@.bgnbd_model, frequency double precision, recency double precision, t double precision, horizon double precision) RETURNS double precision
  AS 'MODULE_PATHNAME', 'pgs_bgnbd_expected_purchases' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.expected_purchases(@extschema@.bgnbd_model, double precision, double precision, double precision, double precision) IS
  'Expected number of repeat purchases in the next horizon periods after T (BG/NBD)';
CREATE OR REPLACE FUNCTION @extschema@.expected_purchases(model @extschema@.mbgnbd_model, frequency double precision, recency double precision, t double precision, horizon double precision) RETURNS double precision
  AS 'MODULE_PATHNAME', 'pgs_mbgnbd_expected_purchases' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.expected_purchases(@extschema@.mbgnbd_model, double precision, double precision, double precision, double precision) IS
  'Expected number of repeat purchases in the next horizon periods after T (MBG/NBD)';
CREATE OR REPLACE FUNCTION @extschema@.expected_purchases(model @extschema@.paretonbd_model, frequency double precision, recency double precision, t double precision, horizon double precision) RETURNS double precision
  AS 'MODULE_PATHNAME', 'pgs_paretonbd_expected_purchases' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.expected_purchases(@extschema@.paretonbd_model, double precision, double precision, double precision, double precision) IS
  'Expected number of repeat purchases in the next horizon periods after T (Pareto/NBD)';
CREATE OR REPLACE FUNCTION @extschema@.expected_purchases(model @extschema@.bgbb_model, frequency double precision, recency double precision, periods double precision, horizon double precision) RETURNS double precision
  AS 'MODULE_PATHNAME', 'pgs_bgbb_expected_purchases' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.expected_purchases(@extschema@.bgbb_model, double precision, double precision, double precision, double precision) IS
  'Expected number of purchases in the next horizon periods after period n (BG/BB)';
CREATE OR REPLACE FUNCTION @extschema@.expected_purchases_new(model @extschema@.bgnbd_model, t double precision) RETURNS double precision
  AS 'MODULE_PATHNAME', 'pgs_bgnbd_expected_purchases_new' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.expected_purchases_new(@extschema@.bgnbd_model, double precision) IS
  'Expected repeat purchases of a new customer in the first t periods after the first purchase, unconditional E[X(t)] (BG/NBD)';
CREATE OR REPLACE FUNCTION @extschema@.expected_purchases_new(model @extschema@.mbgnbd_model, t double precision) RETURNS double precision
  AS 'MODULE_PATHNAME', 'pgs_mbgnbd_expected_purchases_new' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.expected_purchases_new(@extschema@.mbgnbd_model, double precision) IS
  'Expected repeat purchases of a new customer in the first t periods after the first purchase, unconditional E[X(t)] (MBG/NBD)';
CREATE OR REPLACE FUNCTION @extschema@.expected_purchases_new(model @extschema@.paretonbd_model, t double precision) RETURNS double precision
  AS 'MODULE_PATHNAME', 'pgs_paretonbd_expected_purchases_new' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.expected_purchases_new(@extschema@.paretonbd_model, double precision) IS
  'Expected repeat purchases of a new customer in the first t periods after the first purchase, unconditional E[X(t)] (Pareto/NBD)';
CREATE OR REPLACE FUNCTION @extschema@.expected_purchases_new(model @extschema@.bgbb_model, t double precision) RETURNS double precision
  AS 'MODULE_PATHNAME', 'pgs_bgbb_expected_purchases_new' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.expected_purchases_new(@extschema@.bgbb_model, double precision) IS
  'Expected purchases of a new customer in the first t transaction opportunities, unconditional E[X(n)] (BG/BB)';
CREATE OR REPLACE FUNCTION @extschema@.probability_of_purchases(model @extschema@.bgnbd_model, t double precision, n double precision) RETURNS double precision
  AS 'MODULE_PATHNAME', 'pgs_bgnbd_probability_of_purchases' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.probability_of_purchases(@extschema@.bgnbd_model, double precision, double precision) IS
  'P(X(t) = n): probability that a new customer makes exactly n repeat purchases in the first t periods (BG/NBD)';
CREATE OR REPLACE FUNCTION @extschema@.probability_of_purchases(model @extschema@.mbgnbd_model, t double precision, n double precision) RETURNS double precision
  AS 'MODULE_PATHNAME', 'pgs_mbgnbd_probability_of_purchases' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.probability_of_purchases(@extschema@.mbgnbd_model, double precision, double precision) IS
  'P(X(t) = n): probability that a new customer makes exactly n repeat purchases in the first t periods (MBG/NBD)';
CREATE OR REPLACE FUNCTION @extschema@.probability_of_purchases(model @extschema@.paretonbd_model, t double precision, n double precision) RETURNS double precision
  AS 'MODULE_PATHNAME', 'pgs_paretonbd_probability_of_purchases' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.probability_of_purchases(@extschema@.paretonbd_model, double precision, double precision) IS
  'P(X(t) = n): probability that a new customer makes exactly n repeat purchases in the first t periods (Pareto/NBD)';
CREATE OR REPLACE FUNCTION @extschema@.probability_of_purchases(model @extschema@.bgbb_model, t double precision, n double precision) RETURNS double precision
  AS 'MODULE_PATHNAME', 'pgs_bgbb_probability_of_purchases' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.probability_of_purchases(@extschema@.bgbb_model, double precision, double precision) IS
  'P(X(t) = n): probability that a new customer makes exactly n purchases in the first t transaction opportunities (BG/BB)';
CREATE OR REPLACE FUNCTION @extschema@.customer_log_likelihood(model @extschema@.bgnbd_model, frequency double precision, recency double precision, t double precision) RETURNS double precision
  AS 'MODULE_PATHNAME', 'pgs_bgnbd_log_likelihood' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.customer_log_likelihood(@extschema@.bgnbd_model, double precision, double precision, double precision) IS
  'Log-likelihood of one customer''s summary under the model (BG/NBD); summed over customers it is the fit''s log_likelihood';
CREATE OR REPLACE FUNCTION @extschema@.customer_log_likelihood(model @extschema@.mbgnbd_model, frequency double precision, recency double precision, t double precision) RETURNS double precision
  AS 'MODULE_PATHNAME', 'pgs_mbgnbd_log_likelihood' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.customer_log_likelihood(@extschema@.mbgnbd_model, double precision, double precision, double precision) IS
  'Log-likelihood of one customer''s summary under the model (MBG/NBD); summed over customers it is the fit''s log_likelihood';
CREATE OR REPLACE FUNCTION @extschema@.customer_log_likelihood(model @extschema@.paretonbd_model, frequency double precision, recency double precision, t double precision) RETURNS double precision
  AS 'MODULE_PATHNAME', 'pgs_paretonbd_log_likelihood' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.customer_log_likelihood(@extschema@.paretonbd_model, double precision, double precision, double precision) IS
  'Log-likelihood of one customer''s summary under the model (Pareto/NBD); summed over customers it is the fit''s log_likelihood';
CREATE OR REPLACE FUNCTION @extschema@.customer_log_likelihood(model @extschema@.bgbb_model, frequency double precision, recency double precision, periods double precision) RETURNS double precision
  AS 'MODULE_PATHNAME', 'pgs_bgbb_log_likelihood' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.customer_log_likelihood(@extschema@.bgbb_model, double precision, double precision, double precision) IS
  'Log-likelihood of one customer''s summary under the model (BG/BB); summed over customers it is the fit''s log_likelihood';

CREATE OR REPLACE FUNCTION @extschema@.expected_spend(model @extschema@.gammagamma_model, frequency double precision,
    monetary double precision) RETURNS double precision
  AS 'MODULE_PATHNAME', 'pgs_gammagamma_expected_spend' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.expected_spend(@extschema@.gammagamma_model, double precision, double precision) IS
  'Expected mean spend per future transaction given the customer''s repeat purchases (Gamma-Gamma)';

CREATE OR REPLACE FUNCTION @extschema@.predicted_clv(model @extschema@.bgnbd_model, spend_model @extschema@.gammagamma_model,
    frequency double precision, recency double precision, t double precision, monetary double precision,
    months integer DEFAULT 12, monthly_discount double precision DEFAULT 0.01, unit text DEFAULT NULL)
  RETURNS double precision
  AS 'MODULE_PATHNAME', 'pgs_bgnbd_clv' LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.predicted_clv(@extschema@.bgnbd_model, @extschema@.gammagamma_model, double precision, double precision, double precision, double precision, integer, double precision, text) IS
  'Discounted value of the next months months: expected spend x expected purchases per month (BG/NBD), discounted monthly; unit NULL = the model''s';
CREATE OR REPLACE FUNCTION @extschema@.predicted_clv(model @extschema@.mbgnbd_model, spend_model @extschema@.gammagamma_model,
    frequency double precision, recency double precision, t double precision, monetary double precision,
    months integer DEFAULT 12, monthly_discount double precision DEFAULT 0.01, unit text DEFAULT NULL)
  RETURNS double precision
  AS 'MODULE_PATHNAME', 'pgs_mbgnbd_clv' LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.predicted_clv(@extschema@.mbgnbd_model, @extschema@.gammagamma_model, double precision, double precision, double precision, double precision, integer, double precision, text) IS
  'Discounted value of the next months months: expected spend x expected purchases per month (MBG/NBD), discounted monthly; unit NULL = the model''s';
CREATE OR REPLACE FUNCTION @extschema@.predicted_clv(model @extschema@.paretonbd_model, spend_model @extschema@.gammagamma_model,
    frequency double precision, recency double precision, t double precision, monetary double precision,
    months integer DEFAULT 12, monthly_discount double precision DEFAULT 0.01, unit text DEFAULT NULL)
  RETURNS double precision
  AS 'MODULE_PATHNAME', 'pgs_paretonbd_clv' LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.predicted_clv(@extschema@.paretonbd_model, @extschema@.gammagamma_model, double precision, double precision, double precision, double precision, integer, double precision, text) IS
  'Discounted value of the next months months: expected spend x expected purchases per month (Pareto/NBD), discounted monthly; unit NULL = the model''s';
CREATE OR REPLACE FUNCTION @extschema@.time_to_next_order(model @extschema@.bgnbd_model, frequency double precision,
    recency double precision) RETURNS double precision
  AS 'MODULE_PATHNAME', 'pgs_bgnbd_time_to_next_order' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.time_to_next_order(@extschema@.bgnbd_model, double precision, double precision) IS
  'Median periods from the last order to the next one for a still-active customer, as predicted at the last order';
CREATE OR REPLACE FUNCTION @extschema@.time_to_next_order(model @extschema@.mbgnbd_model, frequency double precision,
    recency double precision) RETURNS double precision
  AS 'MODULE_PATHNAME', 'pgs_bgnbd_time_to_next_order' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.time_to_next_order(@extschema@.mbgnbd_model, double precision, double precision) IS
  'Median periods from the last order to the next one for a still-active customer, as predicted at the last order';
CREATE OR REPLACE FUNCTION @extschema@.time_to_next_order(model @extschema@.paretonbd_model, frequency double precision,
    recency double precision) RETURNS double precision
  AS 'MODULE_PATHNAME', 'pgs_paretonbd_time_to_next_order' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.time_to_next_order(@extschema@.paretonbd_model, double precision, double precision) IS
  'Median periods from the last order to the next one for a still-active customer, as predicted at the last order';
CREATE OR REPLACE FUNCTION @extschema@.expected_next_order_at(model @extschema@.bgnbd_model, frequency double precision,
    recency double precision, last_order_at timestamptz, unit text DEFAULT NULL) RETURNS timestamptz
  AS 'MODULE_PATHNAME', 'pgs_bgnbd_next_order_at' LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.expected_next_order_at(@extschema@.bgnbd_model, double precision, double precision, timestamptz, text) IS
  'last_order_at + time_to_next_order: when a still-active customer is expected to order next (infinity if never within the timestamp range); unit NULL = the model''s';
CREATE OR REPLACE FUNCTION @extschema@.expected_next_order_at(model @extschema@.mbgnbd_model, frequency double precision,
    recency double precision, last_order_at timestamptz, unit text DEFAULT NULL) RETURNS timestamptz
  AS 'MODULE_PATHNAME', 'pgs_bgnbd_next_order_at' LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.expected_next_order_at(@extschema@.mbgnbd_model, double precision, double precision, timestamptz, text) IS
  'last_order_at + time_to_next_order: when a still-active customer is expected to order next (infinity if never within the timestamp range); unit NULL = the model''s';
CREATE OR REPLACE FUNCTION @extschema@.expected_next_order_at(model @extschema@.paretonbd_model, frequency double precision,
    recency double precision, last_order_at timestamptz, unit text DEFAULT NULL) RETURNS timestamptz
  AS 'MODULE_PATHNAME', 'pgs_paretonbd_next_order_at' LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.expected_next_order_at(@extschema@.paretonbd_model, double precision, double precision, timestamptz, text) IS
  'last_order_at + time_to_next_order: when a still-active customer is expected to order next (infinity if never within the timestamp range); unit NULL = the model''s';
