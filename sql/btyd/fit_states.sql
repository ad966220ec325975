-- Mergeable BTYD fit states (docs/scale-out.md#mergeable-states): fit one model over customers
-- spread across databases. Each database aggregates its customers' summaries into a state (the
-- fit's count map of distinct summaries, as bytea); one database merges the states into the model,
-- the same model a fit over all customers gives.
CREATE OR REPLACE FUNCTION @extschema@.btyd_summary_state_final(internal) RETURNS bytea
  AS 'MODULE_PATHNAME', 'pgs_btyd_summary_state_final' LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.btyd_spend_state_final(internal) RETURNS bytea
  AS 'MODULE_PATHNAME', 'pgs_btyd_spend_state_final' LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.btyd_period_state_final(internal) RETURNS bytea
  AS 'MODULE_PATHNAME', 'pgs_btyd_period_state_final' LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.btyd_period_state_merge(internal, bytea) RETURNS internal
  AS 'MODULE_PATHNAME', 'pgs_btyd_period_state_merge' LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.btyd_summary_state_merge(internal, bytea) RETURNS internal
  AS 'MODULE_PATHNAME', 'pgs_btyd_summary_state_merge' LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.btyd_spend_state_merge(internal, bytea) RETURNS internal
  AS 'MODULE_PATHNAME', 'pgs_btyd_spend_state_merge' LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.btyd_summary_state_final(internal) IS
  'Support function of bgnbd_fit_state/mbgnbd_fit_state/paretonbd_fit_state: the count map as a checked bytea state';
COMMENT ON FUNCTION @extschema@.btyd_period_state_final(internal) IS
  'Support function of bgbb_fit_state: the count map of (frequency, recency, periods) as a checked bytea state';
COMMENT ON FUNCTION @extschema@.btyd_period_state_merge(internal, bytea) IS
  'Support function of bgbb_fit_merge: checks a state and merges it in';
COMMENT ON FUNCTION @extschema@.btyd_spend_state_final(internal) IS
  'Support function of gammagamma_fit_state: the count map as a checked bytea state';
COMMENT ON FUNCTION @extschema@.btyd_summary_state_merge(internal, bytea) IS
  'Support function of bgnbd_fit_merge/mbgnbd_fit_merge/paretonbd_fit_merge: checks a state and merges it in';
COMMENT ON FUNCTION @extschema@.btyd_spend_state_merge(internal, bytea) IS
  'Support function of gammagamma_fit_merge: checks a state and merges it in';

-- States: the fit aggregates' transition and combine functions, with the state itself as result.
CREATE OR REPLACE AGGREGATE @extschema@.bgnbd_fit_state(frequency double precision, recency double precision,
    t double precision) (
  SFUNC = @extschema@.bgnbd_accum, STYPE = internal,
  FINALFUNC = @extschema@.btyd_summary_state_final, FINALFUNC_MODIFY = READ_ONLY,
  COMBINEFUNC = @extschema@.btyd_fit_combine,
  SERIALFUNC = @extschema@.btyd_fit_serialize, DESERIALFUNC = @extschema@.btyd_fit_deserialize,
  PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.bgnbd_fit_state(double precision, double precision, double precision) IS
  'Mergeable BG/NBD fit state (bytea) of these customer summaries (frequency, recency, T); bgnbd_fit_merge() fits the model from several';
CREATE OR REPLACE AGGREGATE @extschema@.paretonbd_fit_state(frequency double precision, recency double precision,
    t double precision) (
  SFUNC = @extschema@.paretonbd_accum, STYPE = internal,
  FINALFUNC = @extschema@.btyd_summary_state_final, FINALFUNC_MODIFY = READ_ONLY,
  COMBINEFUNC = @extschema@.btyd_fit_combine,
  SERIALFUNC = @extschema@.btyd_fit_serialize, DESERIALFUNC = @extschema@.btyd_fit_deserialize,
  PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.paretonbd_fit_state(double precision, double precision, double precision) IS
  'Mergeable Pareto/NBD fit state (bytea) of these customer summaries (frequency, recency, T); paretonbd_fit_merge() fits the model from several';
CREATE OR REPLACE AGGREGATE @extschema@.mbgnbd_fit_state(frequency double precision, recency double precision,
    t double precision) (
  SFUNC = @extschema@.mbgnbd_accum, STYPE = internal,
  FINALFUNC = @extschema@.btyd_summary_state_final, FINALFUNC_MODIFY = READ_ONLY,
  COMBINEFUNC = @extschema@.btyd_fit_combine,
  SERIALFUNC = @extschema@.btyd_fit_serialize, DESERIALFUNC = @extschema@.btyd_fit_deserialize,
  PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.mbgnbd_fit_state(double precision, double precision, double precision) IS
  'Mergeable MBG/NBD fit state (bytea) of these customer summaries (frequency, recency, T), the same as bgnbd_fit_state(); mbgnbd_fit_merge() fits the model from several';
CREATE OR REPLACE AGGREGATE @extschema@.bgbb_fit_state(frequency double precision, recency double precision,
    n double precision) (
  SFUNC = @extschema@.bgbb_accum, STYPE = internal,
  FINALFUNC = @extschema@.btyd_period_state_final, FINALFUNC_MODIFY = READ_ONLY,
  COMBINEFUNC = @extschema@.btyd_fit_combine,
  SERIALFUNC = @extschema@.btyd_fit_serialize, DESERIALFUNC = @extschema@.btyd_fit_deserialize,
  PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.bgbb_fit_state(double precision, double precision, double precision) IS
  'Mergeable BG/BB fit state (bytea) of these discrete summaries (frequency, recency, periods n); bgbb_fit_merge() fits the model from several';
CREATE OR REPLACE AGGREGATE @extschema@.gammagamma_fit_state(frequency double precision, monetary double precision) (
  SFUNC = @extschema@.gammagamma_accum, STYPE = internal,
  FINALFUNC = @extschema@.btyd_spend_state_final, FINALFUNC_MODIFY = READ_ONLY,
  COMBINEFUNC = @extschema@.btyd_fit_combine,
  SERIALFUNC = @extschema@.btyd_fit_serialize, DESERIALFUNC = @extschema@.btyd_fit_deserialize,
  PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.gammagamma_fit_state(double precision, double precision) IS
  'Mergeable Gamma-Gamma fit state (bytea) of these (frequency, monetary) rows; gammagamma_fit_merge() fits the model from several';

-- Merges: states in, the model out.
CREATE OR REPLACE AGGREGATE @extschema@.bgnbd_fit_merge(state bytea) (
  SFUNC = @extschema@.btyd_summary_state_merge, STYPE = internal,
  FINALFUNC = @extschema@.bgnbd_final, FINALFUNC_MODIFY = READ_ONLY,
  COMBINEFUNC = @extschema@.btyd_fit_combine,
  SERIALFUNC = @extschema@.btyd_fit_serialize, DESERIALFUNC = @extschema@.btyd_fit_deserialize,
  PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.bgnbd_fit_merge(bytea) IS
  'BG/NBD model fitted from bgnbd_fit_state() (or paretonbd_fit_state()) states: equal to bgnbd_fit() over all their customers';
CREATE OR REPLACE AGGREGATE @extschema@.paretonbd_fit_merge(state bytea) (
  SFUNC = @extschema@.btyd_summary_state_merge, STYPE = internal,
  FINALFUNC = @extschema@.paretonbd_final, FINALFUNC_MODIFY = READ_ONLY,
  COMBINEFUNC = @extschema@.btyd_fit_combine,
  SERIALFUNC = @extschema@.btyd_fit_serialize, DESERIALFUNC = @extschema@.btyd_fit_deserialize,
  PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.paretonbd_fit_merge(bytea) IS
  'Pareto/NBD model fitted from paretonbd_fit_state() (or bgnbd_fit_state()) states: equal to paretonbd_fit() over all their customers';
CREATE OR REPLACE AGGREGATE @extschema@.mbgnbd_fit_merge(state bytea) (
  SFUNC = @extschema@.btyd_summary_state_merge, STYPE = internal,
  FINALFUNC = @extschema@.mbgnbd_final, FINALFUNC_MODIFY = READ_ONLY,
  COMBINEFUNC = @extschema@.btyd_fit_combine,
  SERIALFUNC = @extschema@.btyd_fit_serialize, DESERIALFUNC = @extschema@.btyd_fit_deserialize,
  PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.mbgnbd_fit_merge(bytea) IS
  'MBG/NBD model fitted from mbgnbd_fit_state() (or bgnbd_fit_state(), paretonbd_fit_state()) states: equal to mbgnbd_fit() over all their customers';
CREATE OR REPLACE AGGREGATE @extschema@.bgbb_fit_merge(state bytea) (
  SFUNC = @extschema@.btyd_period_state_merge, STYPE = internal,
  FINALFUNC = @extschema@.bgbb_final, FINALFUNC_MODIFY = READ_ONLY,
  COMBINEFUNC = @extschema@.btyd_fit_combine,
  SERIALFUNC = @extschema@.btyd_fit_serialize, DESERIALFUNC = @extschema@.btyd_fit_deserialize,
  PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.bgbb_fit_merge(bytea) IS
  'BG/BB model fitted from bgbb_fit_state() states: equal to bgbb_fit() over all their customers';
CREATE OR REPLACE AGGREGATE @extschema@.gammagamma_fit_merge(state bytea) (
  SFUNC = @extschema@.btyd_spend_state_merge, STYPE = internal,
  FINALFUNC = @extschema@.gammagamma_final, FINALFUNC_MODIFY = READ_ONLY,
  COMBINEFUNC = @extschema@.btyd_fit_combine,
  SERIALFUNC = @extschema@.btyd_fit_serialize, DESERIALFUNC = @extschema@.btyd_fit_deserialize,
  PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.gammagamma_fit_merge(bytea) IS
  'Gamma-Gamma model fitted from gammagamma_fit_state() states: equal to gammagamma_fit() over all their rows';
