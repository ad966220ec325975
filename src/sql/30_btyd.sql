-- Predictive CLV: RFM summaries, BG/NBD, Pareto/NBD and Gamma-Gamma fitted and scored in SQL
-- (docs/predictive.md).

CREATE TYPE @extschema@.rfm AS (frequency integer, recency double precision, t double precision,
                                monetary double precision);
COMMENT ON TYPE @extschema@.rfm IS
  'BTYD summary of one customer: frequency = repeat purchase days, recency = age at the last purchase, t = age T at the cut-off (both in the unit asked for), monetary = mean spend of the repeat purchase days';

CREATE TYPE @extschema@.bgnbd_model AS (r double precision, alpha double precision, a double precision,
  b double precision, log_likelihood double precision, customers bigint, converged boolean, iterations integer);
COMMENT ON TYPE @extschema@.bgnbd_model IS
  'Fitted BG/NBD model (Fader, Hardie & Lee 2005): purchase rates Gamma(r, alpha), drop-out probabilities Beta(a, b); with the maximised log-likelihood, customers fitted and convergence';
CREATE TYPE @extschema@.paretonbd_model AS (r double precision, alpha double precision, s double precision,
  beta double precision, log_likelihood double precision, customers bigint, converged boolean, iterations integer);
COMMENT ON TYPE @extschema@.paretonbd_model IS
  'Fitted Pareto/NBD model: purchase rates Gamma(r, alpha), drop-out rates Gamma(s, beta); with the maximised log-likelihood, customers fitted and convergence';
CREATE TYPE @extschema@.gammagamma_model AS (p double precision, q double precision, gamma double precision,
  log_likelihood double precision, customers bigint, converged boolean, iterations integer);
COMMENT ON TYPE @extschema@.gammagamma_model IS
  'Fitted Gamma-Gamma spend model: mean spend per transaction, fitted on repeat buyers; with the maximised log-likelihood, customers fitted and convergence';

-- rfm_summary(ordered_at, amount, cutoff [, unit]). SSPACE: the state (40 bytes) and a first array of
-- 8 orders, so that the planner sizes hash aggregation by customer right.
CREATE FUNCTION @extschema@.rfm_accum(internal, timestamptz, numeric, timestamptz) RETURNS internal
  AS 'MODULE_PATHNAME', 'pgs_rfm_accum' LANGUAGE C CALLED ON NULL INPUT STABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.rfm_accum(internal, timestamptz, numeric, timestamptz, text) RETURNS internal
  AS 'MODULE_PATHNAME', 'pgs_rfm_accum' LANGUAGE C CALLED ON NULL INPUT STABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.rfm_combine(internal, internal) RETURNS internal
  AS 'MODULE_PATHNAME', 'pgs_rfm_combine' LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.rfm_serialize(internal) RETURNS bytea
  AS 'MODULE_PATHNAME', 'pgs_rfm_serialize' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.rfm_deserialize(bytea, internal) RETURNS internal
  AS 'MODULE_PATHNAME', 'pgs_rfm_deserialize' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.rfm_final(internal) RETURNS @extschema@.rfm
  AS 'MODULE_PATHNAME', 'pgs_rfm_final' LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE @extschema@.rfm_summary(ordered_at timestamptz, amount numeric, cutoff timestamptz) (
  SFUNC = @extschema@.rfm_accum, STYPE = internal, SSPACE = 200,
  FINALFUNC = @extschema@.rfm_final, FINALFUNC_MODIFY = READ_ONLY,
  COMBINEFUNC = @extschema@.rfm_combine,
  SERIALFUNC = @extschema@.rfm_serialize, DESERIALFUNC = @extschema@.rfm_deserialize,
  PARALLEL = SAFE);
CREATE AGGREGATE @extschema@.rfm_summary(ordered_at timestamptz, amount numeric, cutoff timestamptz, unit text) (
  SFUNC = @extschema@.rfm_accum, STYPE = internal, SSPACE = 200,
  FINALFUNC = @extschema@.rfm_final, FINALFUNC_MODIFY = READ_ONLY,
  COMBINEFUNC = @extschema@.rfm_combine,
  SERIALFUNC = @extschema@.rfm_serialize, DESERIALFUNC = @extschema@.rfm_deserialize,
  PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.rfm_summary(timestamptz, numeric, timestamptz) IS
  'BTYD summary (frequency, recency, T, monetary) of one customer''s orders up to the cut-off day, in weeks (days / 7)';
COMMENT ON AGGREGATE @extschema@.rfm_summary(timestamptz, numeric, timestamptz, text) IS
  'BTYD summary (frequency, recency, T, monetary) of one customer''s orders up to the cut-off day, in ''days'' or ''weeks''';

-- Fits: aggregates over summaries returning a model.
CREATE FUNCTION @extschema@.bgnbd_accum(internal, double precision, double precision, double precision) RETURNS internal
  AS 'MODULE_PATHNAME', 'pgs_bgnbd_accum' LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.paretonbd_accum(internal, double precision, double precision, double precision) RETURNS internal
  AS 'MODULE_PATHNAME', 'pgs_paretonbd_accum' LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.gammagamma_accum(internal, double precision, double precision) RETURNS internal
  AS 'MODULE_PATHNAME', 'pgs_gammagamma_accum' LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.btyd_fit_combine(internal, internal) RETURNS internal
  AS 'MODULE_PATHNAME', 'pgs_btyd_fit_combine' LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.btyd_fit_serialize(internal) RETURNS bytea
  AS 'MODULE_PATHNAME', 'pgs_btyd_fit_serialize' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.btyd_fit_deserialize(bytea, internal) RETURNS internal
  AS 'MODULE_PATHNAME', 'pgs_btyd_fit_deserialize' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.bgnbd_final(internal) RETURNS @extschema@.bgnbd_model
  AS 'MODULE_PATHNAME', 'pgs_bgnbd_final' LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.paretonbd_final(internal) RETURNS @extschema@.paretonbd_model
  AS 'MODULE_PATHNAME', 'pgs_paretonbd_final' LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.gammagamma_final(internal) RETURNS @extschema@.gammagamma_model
  AS 'MODULE_PATHNAME', 'pgs_gammagamma_final' LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE @extschema@.bgnbd_fit(frequency double precision, recency double precision, t double precision) (
  SFUNC = @extschema@.bgnbd_accum, STYPE = internal,
  FINALFUNC = @extschema@.bgnbd_final, FINALFUNC_MODIFY = READ_ONLY,
  COMBINEFUNC = @extschema@.btyd_fit_combine,
  SERIALFUNC = @extschema@.btyd_fit_serialize, DESERIALFUNC = @extschema@.btyd_fit_deserialize,
  PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.bgnbd_fit(double precision, double precision, double precision) IS
  'Maximum-likelihood BG/NBD model over customer summaries (frequency, recency, T)';
CREATE AGGREGATE @extschema@.paretonbd_fit(frequency double precision, recency double precision, t double precision) (
  SFUNC = @extschema@.paretonbd_accum, STYPE = internal,
  FINALFUNC = @extschema@.paretonbd_final, FINALFUNC_MODIFY = READ_ONLY,
  COMBINEFUNC = @extschema@.btyd_fit_combine,
  SERIALFUNC = @extschema@.btyd_fit_serialize, DESERIALFUNC = @extschema@.btyd_fit_deserialize,
  PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.paretonbd_fit(double precision, double precision, double precision) IS
  'Maximum-likelihood Pareto/NBD model over customer summaries (frequency, recency, T)';
CREATE AGGREGATE @extschema@.gammagamma_fit(frequency double precision, monetary double precision) (
  SFUNC = @extschema@.gammagamma_accum, STYPE = internal,
  FINALFUNC = @extschema@.gammagamma_final, FINALFUNC_MODIFY = READ_ONLY,
  COMBINEFUNC = @extschema@.btyd_fit_combine,
  SERIALFUNC = @extschema@.btyd_fit_serialize, DESERIALFUNC = @extschema@.btyd_fit_deserialize,
  PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.gammagamma_fit(double precision, double precision) IS
  'Maximum-likelihood Gamma-Gamma spend model over (frequency, monetary) of the repeat buyers (rows with frequency 0 are skipped)';

-- Scoring.
CREATE FUNCTION @extschema@.p_alive(model @extschema@.bgnbd_model, frequency double precision,
    recency double precision, t double precision) RETURNS double precision
  AS 'MODULE_PATHNAME', 'pgs_bgnbd_p_alive' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.p_alive(model @extschema@.paretonbd_model, frequency double precision,
    recency double precision, t double precision) RETURNS double precision
  AS 'MODULE_PATHNAME', 'pgs_paretonbd_p_alive' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.p_alive(@extschema@.bgnbd_model, double precision, double precision, double precision) IS
  'Probability that the customer is still active at T (BG/NBD)';
COMMENT ON FUNCTION @extschema@.p_alive(@extschema@.paretonbd_model, double precision, double precision, double precision) IS
  'Probability that the customer is still active at T (Pareto/NBD)';

CREATE FUNCTION @extschema@.expected_purchases(model @extschema@.bgnbd_model, frequency double precision,
    recency double precision, t double precision, horizon double precision) RETURNS double precision
  AS 'MODULE_PATHNAME', 'pgs_bgnbd_expected_purchases' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.expected_purchases(model @extschema@.paretonbd_model, frequency double precision,
    recency double precision, t double precision, horizon double precision) RETURNS double precision
  AS 'MODULE_PATHNAME', 'pgs_paretonbd_expected_purchases' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.expected_purchases(@extschema@.bgnbd_model, double precision, double precision, double precision, double precision) IS
  'Expected number of repeat purchases in the next horizon periods after T (BG/NBD)';
COMMENT ON FUNCTION @extschema@.expected_purchases(@extschema@.paretonbd_model, double precision, double precision, double precision, double precision) IS
  'Expected number of repeat purchases in the next horizon periods after T (Pareto/NBD)';

CREATE FUNCTION @extschema@.expected_spend(model @extschema@.gammagamma_model, frequency double precision,
    monetary double precision) RETURNS double precision
  AS 'MODULE_PATHNAME', 'pgs_gammagamma_expected_spend' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.expected_spend(@extschema@.gammagamma_model, double precision, double precision) IS
  'Expected mean spend per future transaction given the customer''s repeat purchases (Gamma-Gamma)';

CREATE FUNCTION @extschema@.predicted_clv(model @extschema@.bgnbd_model, spend_model @extschema@.gammagamma_model,
    frequency double precision, recency double precision, t double precision, monetary double precision,
    months integer DEFAULT 12, monthly_discount double precision DEFAULT 0.01, unit text DEFAULT 'weeks')
  RETURNS double precision
  AS 'MODULE_PATHNAME', 'pgs_bgnbd_clv' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.predicted_clv(model @extschema@.paretonbd_model, spend_model @extschema@.gammagamma_model,
    frequency double precision, recency double precision, t double precision, monetary double precision,
    months integer DEFAULT 12, monthly_discount double precision DEFAULT 0.01, unit text DEFAULT 'weeks')
  RETURNS double precision
  AS 'MODULE_PATHNAME', 'pgs_paretonbd_clv' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.predicted_clv(@extschema@.bgnbd_model, @extschema@.gammagamma_model, double precision, double precision, double precision, double precision, integer, double precision, text) IS
  'Discounted value of the next months months: expected spend x expected purchases per month (BG/NBD), discounted monthly';
COMMENT ON FUNCTION @extschema@.predicted_clv(@extschema@.paretonbd_model, @extschema@.gammagamma_model, double precision, double precision, double precision, double precision, integer, double precision, text) IS
  'Discounted value of the next months months: expected spend x expected purchases per month (Pareto/NBD), discounted monthly';

CREATE FUNCTION @extschema@.time_to_next_order(model @extschema@.bgnbd_model, frequency double precision,
    recency double precision) RETURNS double precision
  AS 'MODULE_PATHNAME', 'pgs_bgnbd_time_to_next_order' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.time_to_next_order(model @extschema@.paretonbd_model, frequency double precision,
    recency double precision) RETURNS double precision
  AS 'MODULE_PATHNAME', 'pgs_paretonbd_time_to_next_order' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.time_to_next_order(@extschema@.bgnbd_model, double precision, double precision) IS
  'Median periods from the last order to the next one for a still-active customer, as predicted at the last order';
COMMENT ON FUNCTION @extschema@.time_to_next_order(@extschema@.paretonbd_model, double precision, double precision) IS
  'Median periods from the last order to the next one for a still-active customer, as predicted at the last order';

CREATE FUNCTION @extschema@.expected_next_order_at(model @extschema@.bgnbd_model, frequency double precision,
    recency double precision, last_order_at timestamptz, unit text DEFAULT 'weeks') RETURNS timestamptz
  AS 'MODULE_PATHNAME', 'pgs_bgnbd_next_order_at' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.expected_next_order_at(model @extschema@.paretonbd_model, frequency double precision,
    recency double precision, last_order_at timestamptz, unit text DEFAULT 'weeks') RETURNS timestamptz
  AS 'MODULE_PATHNAME', 'pgs_paretonbd_next_order_at' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.expected_next_order_at(@extschema@.bgnbd_model, double precision, double precision, timestamptz, text) IS
  'last_order_at + time_to_next_order: when a still-active customer is expected to order next (infinity if never within the timestamp range)';
COMMENT ON FUNCTION @extschema@.expected_next_order_at(@extschema@.paretonbd_model, double precision, double precision, timestamptz, text) IS
  'last_order_at + time_to_next_order: when a still-active customer is expected to order next (infinity if never within the timestamp range)';
