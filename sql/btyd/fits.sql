-- BTYD model fits (docs/predictive.md).

-- Fits: aggregates over summaries returning a model.
CREATE OR REPLACE FUNCTION @extschema@.bgnbd_accum(internal, double precision, double precision, double precision) RETURNS internal
  AS 'MODULE_PATHNAME', 'pgs_bgnbd_accum' LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.paretonbd_accum(internal, double precision, double precision, double precision) RETURNS internal
  AS 'MODULE_PATHNAME', 'pgs_paretonbd_accum' LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.bgnbd_accum(internal, double precision, double precision, double precision, text) RETURNS internal
  AS 'MODULE_PATHNAME', 'pgs_bgnbd_accum' LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.paretonbd_accum(internal, double precision, double precision, double precision, text) RETURNS internal
  AS 'MODULE_PATHNAME', 'pgs_paretonbd_accum' LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.mbgnbd_accum(internal, double precision, double precision, double precision) RETURNS internal
  AS 'MODULE_PATHNAME', 'pgs_mbgnbd_accum' LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.mbgnbd_accum(internal, double precision, double precision, double precision, text) RETURNS internal
  AS 'MODULE_PATHNAME', 'pgs_mbgnbd_accum' LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.bgbb_accum(internal, double precision, double precision, double precision) RETURNS internal
  AS 'MODULE_PATHNAME', 'pgs_bgbb_accum' LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.gammagamma_accum(internal, double precision, double precision) RETURNS internal
  AS 'MODULE_PATHNAME', 'pgs_gammagamma_accum' LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.btyd_fit_combine(internal, internal) RETURNS internal
  AS 'MODULE_PATHNAME', 'pgs_btyd_fit_combine' LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.btyd_fit_serialize(internal) RETURNS bytea
  AS 'MODULE_PATHNAME', 'pgs_btyd_fit_serialize' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.btyd_fit_deserialize(bytea, internal) RETURNS internal
  AS 'MODULE_PATHNAME', 'pgs_btyd_fit_deserialize' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.bgnbd_final(internal) RETURNS @extschema@.bgnbd_model
  AS 'MODULE_PATHNAME', 'pgs_bgnbd_final' LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.paretonbd_final(internal) RETURNS @extschema@.paretonbd_model
  AS 'MODULE_PATHNAME', 'pgs_paretonbd_final' LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.mbgnbd_final(internal) RETURNS @extschema@.mbgnbd_model
  AS 'MODULE_PATHNAME', 'pgs_mbgnbd_final' LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.bgbb_final(internal) RETURNS @extschema@.bgbb_model
  AS 'MODULE_PATHNAME', 'pgs_bgbb_final' LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.gammagamma_final(internal) RETURNS @extschema@.gammagamma_model
  AS 'MODULE_PATHNAME', 'pgs_gammagamma_final' LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;

CREATE OR REPLACE AGGREGATE @extschema@.bgnbd_fit(frequency double precision, recency double precision, t double precision) (
  SFUNC = @extschema@.bgnbd_accum, STYPE = internal,
  FINALFUNC = @extschema@.bgnbd_final, FINALFUNC_MODIFY = READ_ONLY,
  COMBINEFUNC = @extschema@.btyd_fit_combine,
  SERIALFUNC = @extschema@.btyd_fit_serialize, DESERIALFUNC = @extschema@.btyd_fit_deserialize,
  PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.bgnbd_fit(double precision, double precision, double precision) IS
  'Maximum-likelihood BG/NBD model over customer summaries (frequency, recency, T) in weeks (the unit recorded in the model)';
CREATE OR REPLACE AGGREGATE @extschema@.paretonbd_fit(frequency double precision, recency double precision, t double precision) (
  SFUNC = @extschema@.paretonbd_accum, STYPE = internal,
  FINALFUNC = @extschema@.paretonbd_final, FINALFUNC_MODIFY = READ_ONLY,
  COMBINEFUNC = @extschema@.btyd_fit_combine,
  SERIALFUNC = @extschema@.btyd_fit_serialize, DESERIALFUNC = @extschema@.btyd_fit_deserialize,
  PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.paretonbd_fit(double precision, double precision, double precision) IS
  'Maximum-likelihood Pareto/NBD model over customer summaries (frequency, recency, T) in weeks (the unit recorded in the model)';
CREATE OR REPLACE AGGREGATE @extschema@.gammagamma_fit(frequency double precision, monetary double precision) (
  SFUNC = @extschema@.gammagamma_accum, STYPE = internal,
  FINALFUNC = @extschema@.gammagamma_final, FINALFUNC_MODIFY = READ_ONLY,
  COMBINEFUNC = @extschema@.btyd_fit_combine,
  SERIALFUNC = @extschema@.btyd_fit_serialize, DESERIALFUNC = @extschema@.btyd_fit_deserialize,
  PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.gammagamma_fit(double precision, double precision) IS
  'Maximum-likelihood Gamma-Gamma spend model over (frequency, monetary) of the repeat buyers (rows with frequency 0 are skipped)';

CREATE OR REPLACE AGGREGATE @extschema@.bgnbd_fit(frequency double precision, recency double precision, t double precision, unit text) (
  SFUNC = @extschema@.bgnbd_accum, STYPE = internal,
  FINALFUNC = @extschema@.bgnbd_final, FINALFUNC_MODIFY = READ_ONLY,
  COMBINEFUNC = @extschema@.btyd_fit_combine,
  SERIALFUNC = @extschema@.btyd_fit_serialize, DESERIALFUNC = @extschema@.btyd_fit_deserialize,
  PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.bgnbd_fit(double precision, double precision, double precision, text) IS
  'Maximum-likelihood BG/NBD model over customer summaries (frequency, recency, T) in the given unit (''days'' or ''weeks''), recorded in the model';
CREATE OR REPLACE AGGREGATE @extschema@.paretonbd_fit(frequency double precision, recency double precision, t double precision, unit text) (
  SFUNC = @extschema@.paretonbd_accum, STYPE = internal,
  FINALFUNC = @extschema@.paretonbd_final, FINALFUNC_MODIFY = READ_ONLY,
  COMBINEFUNC = @extschema@.btyd_fit_combine,
  SERIALFUNC = @extschema@.btyd_fit_serialize, DESERIALFUNC = @extschema@.btyd_fit_deserialize,
  PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.paretonbd_fit(double precision, double precision, double precision, text) IS
  'Maximum-likelihood Pareto/NBD model over customer summaries (frequency, recency, T) in the given unit (''days'' or ''weeks''), recorded in the model';
CREATE OR REPLACE AGGREGATE @extschema@.mbgnbd_fit(frequency double precision, recency double precision, t double precision) (
  SFUNC = @extschema@.mbgnbd_accum, STYPE = internal,
  FINALFUNC = @extschema@.mbgnbd_final, FINALFUNC_MODIFY = READ_ONLY,
  COMBINEFUNC = @extschema@.btyd_fit_combine,
  SERIALFUNC = @extschema@.btyd_fit_serialize, DESERIALFUNC = @extschema@.btyd_fit_deserialize,
  PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.mbgnbd_fit(double precision, double precision, double precision) IS
  'Maximum-likelihood MBG/NBD model over customer summaries (frequency, recency, T) in weeks';
CREATE OR REPLACE AGGREGATE @extschema@.mbgnbd_fit(frequency double precision, recency double precision, t double precision, unit text) (
  SFUNC = @extschema@.mbgnbd_accum, STYPE = internal,
  FINALFUNC = @extschema@.mbgnbd_final, FINALFUNC_MODIFY = READ_ONLY,
  COMBINEFUNC = @extschema@.btyd_fit_combine,
  SERIALFUNC = @extschema@.btyd_fit_serialize, DESERIALFUNC = @extschema@.btyd_fit_deserialize,
  PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.mbgnbd_fit(double precision, double precision, double precision, text) IS
  'Maximum-likelihood MBG/NBD model over customer summaries (frequency, recency, T) in the given unit (''days'' or ''weeks'')';
CREATE OR REPLACE AGGREGATE @extschema@.bgbb_fit(frequency double precision, recency double precision, periods double precision) (
  SFUNC = @extschema@.bgbb_accum, STYPE = internal,
  FINALFUNC = @extschema@.bgbb_final, FINALFUNC_MODIFY = READ_ONLY,
  COMBINEFUNC = @extschema@.btyd_fit_combine,
  SERIALFUNC = @extschema@.btyd_fit_serialize, DESERIALFUNC = @extschema@.btyd_fit_deserialize,
  PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.bgbb_fit(double precision, double precision, double precision) IS
  'Maximum-likelihood BG/BB model over discrete summaries: frequency = periods with a purchase among periods 1..n, recency = the last such period, periods = n';

-- What each field means, for BI tools that show column comments.
COMMENT ON COLUMN @extschema@.bgnbd_model.log_likelihood IS 'the maximised log-likelihood of the fitted customers';
COMMENT ON COLUMN @extschema@.bgnbd_model.customers IS 'number of customers fitted';
COMMENT ON COLUMN @extschema@.bgnbd_model.converged IS 'true only when the maximum is interior and identified: small gradient, positive-definite Hessian, no parameter at or running to a bound, every standard error of log(parameter) at most 3; scores are trustworthy only then';
COMMENT ON COLUMN @extschema@.bgnbd_model.iterations IS 'optimiser iterations over all starting points';
COMMENT ON COLUMN @extschema@.bgnbd_model.status IS '''converged'', or why not (e.g. a parameter ran to the search bound, the Hessian is not positive definite); ''hand-made'' for a model made with the constructor function';
COMMENT ON COLUMN @extschema@.bgnbd_model.unit IS 'the time unit of the summaries it was fitted on (weeks or days; periods for BG/BB); scoring functions taking a unit use it and refuse another';
COMMENT ON COLUMN @extschema@.bgnbd_model.std_errors IS 'standard errors of the parameters (in declaration order) from the observed information, the inverse Hessian of -log-likelihood; NULL elements where not computable';
COMMENT ON COLUMN @extschema@.bgnbd_model.aic IS 'Akaike information criterion 2k - 2 log_likelihood (k parameters): lower is better between models fitted on the same customers';
COMMENT ON COLUMN @extschema@.bgnbd_model.bic IS 'Bayesian information criterion k ln(customers) - 2 log_likelihood: lower is better between models fitted on the same customers';
COMMENT ON COLUMN @extschema@.paretonbd_model.log_likelihood IS 'the maximised log-likelihood of the fitted customers';
COMMENT ON COLUMN @extschema@.paretonbd_model.customers IS 'number of customers fitted';
COMMENT ON COLUMN @extschema@.paretonbd_model.converged IS 'true only when the maximum is interior and identified: small gradient, positive-definite Hessian, no parameter at or running to a bound, every standard error of log(parameter) at most 3; scores are trustworthy only then';
COMMENT ON COLUMN @extschema@.paretonbd_model.iterations IS 'optimiser iterations over all starting points';
COMMENT ON COLUMN @extschema@.paretonbd_model.status IS '''converged'', or why not (e.g. a parameter ran to the search bound, the Hessian is not positive definite); ''hand-made'' for a model made with the constructor function';
COMMENT ON COLUMN @extschema@.paretonbd_model.unit IS 'the time unit of the summaries it was fitted on (weeks or days; periods for BG/BB); scoring functions taking a unit use it and refuse another';
COMMENT ON COLUMN @extschema@.paretonbd_model.std_errors IS 'standard errors of the parameters (in declaration order) from the observed information, the inverse Hessian of -log-likelihood; NULL elements where not computable';
COMMENT ON COLUMN @extschema@.paretonbd_model.aic IS 'Akaike information criterion 2k - 2 log_likelihood (k parameters): lower is better between models fitted on the same customers';
COMMENT ON COLUMN @extschema@.paretonbd_model.bic IS 'Bayesian information criterion k ln(customers) - 2 log_likelihood: lower is better between models fitted on the same customers';
COMMENT ON COLUMN @extschema@.mbgnbd_model.log_likelihood IS 'the maximised log-likelihood of the fitted customers';
COMMENT ON COLUMN @extschema@.mbgnbd_model.customers IS 'number of customers fitted';
COMMENT ON COLUMN @extschema@.mbgnbd_model.converged IS 'true only when the maximum is interior and identified: small gradient, positive-definite Hessian, no parameter at or running to a bound, every standard error of log(parameter) at most 3; scores are trustworthy only then';
COMMENT ON COLUMN @extschema@.mbgnbd_model.iterations IS 'optimiser iterations over all starting points';
COMMENT ON COLUMN @extschema@.mbgnbd_model.status IS '''converged'', or why not (e.g. a parameter ran to the search bound, the Hessian is not positive definite); ''hand-made'' for a model made with the constructor function';
COMMENT ON COLUMN @extschema@.mbgnbd_model.unit IS 'the time unit of the summaries it was fitted on (weeks or days; periods for BG/BB); scoring functions taking a unit use it and refuse another';
COMMENT ON COLUMN @extschema@.mbgnbd_model.std_errors IS 'standard errors of the parameters (in declaration order) from the observed information, the inverse Hessian of -log-likelihood; NULL elements where not computable';
COMMENT ON COLUMN @extschema@.mbgnbd_model.aic IS 'Akaike information criterion 2k - 2 log_likelihood (k parameters): lower is better between models fitted on the same customers';
COMMENT ON COLUMN @extschema@.mbgnbd_model.bic IS 'Bayesian information criterion k ln(customers) - 2 log_likelihood: lower is better between models fitted on the same customers';
COMMENT ON COLUMN @extschema@.bgbb_model.log_likelihood IS 'the maximised log-likelihood of the fitted customers';
COMMENT ON COLUMN @extschema@.bgbb_model.customers IS 'number of customers fitted';
COMMENT ON COLUMN @extschema@.bgbb_model.converged IS 'true only when the maximum is interior and identified: small gradient, positive-definite Hessian, no parameter at or running to a bound, every standard error of log(parameter) at most 3; scores are trustworthy only then';
COMMENT ON COLUMN @extschema@.bgbb_model.iterations IS 'optimiser iterations over all starting points';
COMMENT ON COLUMN @extschema@.bgbb_model.status IS '''converged'', or why not (e.g. a parameter ran to the search bound, the Hessian is not positive definite); ''hand-made'' for a model made with the constructor function';
COMMENT ON COLUMN @extschema@.bgbb_model.unit IS 'the time unit of the summaries it was fitted on (weeks or days; periods for BG/BB); scoring functions taking a unit use it and refuse another';
COMMENT ON COLUMN @extschema@.bgbb_model.std_errors IS 'standard errors of the parameters (in declaration order) from the observed information, the inverse Hessian of -log-likelihood; NULL elements where not computable';
COMMENT ON COLUMN @extschema@.bgbb_model.aic IS 'Akaike information criterion 2k - 2 log_likelihood (k parameters): lower is better between models fitted on the same customers';
COMMENT ON COLUMN @extschema@.bgbb_model.bic IS 'Bayesian information criterion k ln(customers) - 2 log_likelihood: lower is better between models fitted on the same customers';
COMMENT ON COLUMN @extschema@.gammagamma_model.log_likelihood IS 'the maximised log-likelihood of the fitted customers';
COMMENT ON COLUMN @extschema@.gammagamma_model.customers IS 'number of customers fitted';
COMMENT ON COLUMN @extschema@.gammagamma_model.converged IS 'true only when the maximum is interior and identified: small gradient, positive-definite Hessian, no parameter at or running to a bound, every standard error of log(parameter) at most 3; scores are trustworthy only then';
COMMENT ON COLUMN @extschema@.gammagamma_model.iterations IS 'optimiser iterations over all starting points';
COMMENT ON COLUMN @extschema@.gammagamma_model.status IS '''converged'', or why not (e.g. a parameter ran to the search bound, the Hessian is not positive definite); ''hand-made'' for a model made with the constructor function';
COMMENT ON COLUMN @extschema@.gammagamma_model.std_errors IS 'standard errors of the parameters (in declaration order) from the observed information, the inverse Hessian of -log-likelihood; NULL elements where not computable';
COMMENT ON COLUMN @extschema@.gammagamma_model.aic IS 'Akaike information criterion 2k - 2 log_likelihood (k parameters): lower is better between models fitted on the same customers';
COMMENT ON COLUMN @extschema@.gammagamma_model.bic IS 'Bayesian information criterion k ln(customers) - 2 log_likelihood: lower is better between models fitted on the same customers';
