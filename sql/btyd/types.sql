-- Predictive CLV: RFM summaries, BG/NBD, Pareto/NBD and Gamma-Gamma fitted and scored in SQL
-- (docs/predictive.md). Their comments: sql/comments.sql.

CREATE TYPE @extschema@.rfm AS (frequency integer, recency double precision, t double precision,
                                monetary double precision);

-- The model composites. The fields after `iterations` came in 0.2 (sql/updates/0.1--0.2/issue-13.sql
-- adds them, in this order, to a 0.1 database).
CREATE TYPE @extschema@.bgnbd_model AS (r double precision, alpha double precision, a double precision,
  b double precision, log_likelihood double precision, customers bigint, converged boolean, iterations integer, status text, unit text,
  std_errors double precision[], aic double precision, bic double precision);
CREATE TYPE @extschema@.paretonbd_model AS (r double precision, alpha double precision, s double precision,
  beta double precision, log_likelihood double precision, customers bigint, converged boolean, iterations integer, status text, unit text,
  std_errors double precision[], aic double precision, bic double precision);
CREATE TYPE @extschema@.gammagamma_model AS (p double precision, q double precision, gamma double precision,
  log_likelihood double precision, customers bigint, converged boolean, iterations integer, status text,
  std_errors double precision[], aic double precision, bic double precision);
CREATE TYPE @extschema@.mbgnbd_model AS (r double precision, alpha double precision, a double precision,
  b double precision, log_likelihood double precision, customers bigint, converged boolean, iterations integer, status text, unit text,
  std_errors double precision[], aic double precision, bic double precision);
CREATE TYPE @extschema@.bgbb_model AS (alpha double precision, beta double precision, gamma double precision,
  delta double precision, log_likelihood double precision, customers bigint, converged boolean, iterations integer, status text, unit text,
  std_errors double precision[], aic double precision, bic double precision);

-- The unit of rfm_summary as an enum: carries no collation, so postgres_fdw can push calls down.
CREATE TYPE @extschema@.time_unit AS ENUM ('days', 'weeks');
