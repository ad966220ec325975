-- Issue 13 (predictive models), run once when a 0.1 database is upgraded to 0.2: the model
-- composites gain status, unit, standard errors and AIC/BIC, appended in the order
-- sql/btyd/types.sql declares them for a fresh install; MBG/NBD and BG/BB models are new types.
-- Models stored by 0.1 read the new fields as NULL (scoring then assumes 'weeks', as 0.1 did).
ALTER TYPE @extschema@.bgnbd_model ADD ATTRIBUTE status text, ADD ATTRIBUTE unit text,
  ADD ATTRIBUTE std_errors double precision[], ADD ATTRIBUTE aic double precision, ADD ATTRIBUTE bic double precision;
ALTER TYPE @extschema@.paretonbd_model ADD ATTRIBUTE status text, ADD ATTRIBUTE unit text,
  ADD ATTRIBUTE std_errors double precision[], ADD ATTRIBUTE aic double precision, ADD ATTRIBUTE bic double precision;
ALTER TYPE @extschema@.gammagamma_model ADD ATTRIBUTE status text,
  ADD ATTRIBUTE std_errors double precision[], ADD ATTRIBUTE aic double precision, ADD ATTRIBUTE bic double precision;
CREATE TYPE @extschema@.mbgnbd_model AS (r double precision, alpha double precision, a double precision,
  b double precision, log_likelihood double precision, customers bigint, converged boolean, iterations integer, status text, unit text,
  std_errors double precision[], aic double precision, bic double precision);
CREATE TYPE @extschema@.bgbb_model AS (alpha double precision, beta double precision, gamma double precision,
  delta double precision, log_likelihood double precision, customers bigint, converged boolean, iterations integer, status text, unit text,
  std_errors double precision[], aic double precision, bic double precision);

