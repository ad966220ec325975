-- BTYD model fits (docs/predictive.md).

-- Fits: aggregates over summaries returning a model.
CREATE OR REPLACE FUNCTION @extschema@.bgnbd_accum(internal, double precision, double precision, double precision) RETURNS internal
  AS 'MODULE_PATHNAME', 'pgs_bgnbd_accum' LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.paretonbd_accum(internal, double precision, double precision, double precision) RETURNS internal
  AS 'MODULE_PATHNAME', 'pgs_paretonbd_accum' LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
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
CREATE OR REPLACE FUNCTION @extschema@.gammagamma_final(internal) RETURNS @extschema@.gammagamma_model
  AS 'MODULE_PATHNAME', 'pgs_gammagamma_final' LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;

CREATE OR REPLACE AGGREGATE @extschema@.bgnbd_fit(frequency double precision, recency double precision, t double precision) (
  SFUNC = @extschema@.bgnbd_accum, STYPE = internal,
  FINALFUNC = @extschema@.bgnbd_final, FINALFUNC_MODIFY = READ_ONLY,
  COMBINEFUNC = @extschema@.btyd_fit_combine,
  SERIALFUNC = @extschema@.btyd_fit_serialize, DESERIALFUNC = @extschema@.btyd_fit_deserialize,
  PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.bgnbd_fit(double precision, double precision, double precision) IS
  'Maximum-likelihood BG/NBD model over customer summaries (frequency, recency, T)';
CREATE OR REPLACE AGGREGATE @extschema@.paretonbd_fit(frequency double precision, recency double precision, t double precision) (
  SFUNC = @extschema@.paretonbd_accum, STYPE = internal,
  FINALFUNC = @extschema@.paretonbd_final, FINALFUNC_MODIFY = READ_ONLY,
  COMBINEFUNC = @extschema@.btyd_fit_combine,
  SERIALFUNC = @extschema@.btyd_fit_serialize, DESERIALFUNC = @extschema@.btyd_fit_deserialize,
  PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.paretonbd_fit(double precision, double precision, double precision) IS
  'Maximum-likelihood Pareto/NBD model over customer summaries (frequency, recency, T)';
CREATE OR REPLACE AGGREGATE @extschema@.gammagamma_fit(frequency double precision, monetary double precision) (
  SFUNC = @extschema@.gammagamma_accum, STYPE = internal,
  FINALFUNC = @extschema@.gammagamma_final, FINALFUNC_MODIFY = READ_ONLY,
  COMBINEFUNC = @extschema@.btyd_fit_combine,
  SERIALFUNC = @extschema@.btyd_fit_serialize, DESERIALFUNC = @extschema@.btyd_fit_deserialize,
  PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.gammagamma_fit(double precision, double precision) IS
  'Maximum-likelihood Gamma-Gamma spend model over (frequency, monetary) of the repeat buyers (rows with frequency 0 are skipped)';
