-- Predictive CLV: RFM summaries, BG/NBD, Pareto/NBD and Gamma-Gamma fitted and scored in SQL
-- (docs/predictive.md).

CREATE TYPE @extschema@.rfm AS (frequency integer, recency double precision, t double precision,
                                monetary double precision);
COMMENT ON TYPE @extschema@.rfm IS
  'BTYD summary of one customer: frequency = repeat purchase days, recency = age at the last purchase, t = age T at the cut-off (both in the unit asked for), monetary = mean spend of the repeat purchase days';

-- The model composites. The fields after `iterations` came in 0.2 (sql/updates/0.1--0.2/issue-13.sql
-- adds them, in this order, to a 0.1 database).
CREATE TYPE @extschema@.bgnbd_model AS (r double precision, alpha double precision, a double precision,
  b double precision, log_likelihood double precision, customers bigint, converged boolean, iterations integer, status text, unit text,
  std_errors double precision[], aic double precision, bic double precision);
COMMENT ON TYPE @extschema@.bgnbd_model IS
  'Fitted BG/NBD model (Fader, Hardie & Lee 2005): purchase rates Gamma(r, alpha), drop-out probabilities Beta(a, b); with the maximised log-likelihood, customers fitted and convergence';
CREATE TYPE @extschema@.paretonbd_model AS (r double precision, alpha double precision, s double precision,
  beta double precision, log_likelihood double precision, customers bigint, converged boolean, iterations integer, status text, unit text,
  std_errors double precision[], aic double precision, bic double precision);
COMMENT ON TYPE @extschema@.paretonbd_model IS
  'Fitted Pareto/NBD model: purchase rates Gamma(r, alpha), drop-out rates Gamma(s, beta); with the maximised log-likelihood, customers fitted and convergence';
CREATE TYPE @extschema@.gammagamma_model AS (p double precision, q double precision, gamma double precision,
  log_likelihood double precision, customers bigint, converged boolean, iterations integer, status text,
  std_errors double precision[], aic double precision, bic double precision);
COMMENT ON TYPE @extschema@.gammagamma_model IS
  'Fitted Gamma-Gamma spend model: mean spend per transaction, fitted on repeat buyers; with the maximised log-likelihood, customers fitted and convergence';
CREATE TYPE @extschema@.mbgnbd_model AS (r double precision, alpha double precision, a double precision,
  b double precision, log_likelihood double precision, customers bigint, converged boolean, iterations integer, status text, unit text,
  std_errors double precision[], aic double precision, bic double precision);
COMMENT ON TYPE @extschema@.mbgnbd_model IS
  'Fitted MBG/NBD model (Batislam, Denizel & Filiztekin 2007): the BG/NBD where a customer may also drop out right after the first purchase; same parameters r, alpha, a, b';
CREATE TYPE @extschema@.bgbb_model AS (alpha double precision, beta double precision, gamma double precision,
  delta double precision, log_likelihood double precision, customers bigint, converged boolean, iterations integer, status text, unit text,
  std_errors double precision[], aic double precision, bic double precision);
COMMENT ON TYPE @extschema@.bgbb_model IS
  'Fitted BG/BB model (Fader, Hardie & Shang 2010) for discrete transaction opportunities: purchase probability per period Beta(alpha, beta), drop-out probability per period Beta(gamma, delta)';

-- The unit of rfm_summary as an enum: carries no collation, so postgres_fdw can push calls down.
CREATE TYPE @extschema@.time_unit AS ENUM ('days', 'weeks');
COMMENT ON TYPE @extschema@.time_unit IS
  'Period of a BTYD summary: days or weeks (an enum, so that calls with it can be pushed down to shards)';
