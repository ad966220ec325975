-- BTYD customer summaries (docs/predictive.md).

-- rfm_summary(ordered_at, amount, cutoff [, unit]). SSPACE: the state is 128 bytes for a customer
-- with up to six purchase days, plus a sorted array of the days beyond (src/pg/btyd_rfm.cpp):
-- measured 231 bytes per customer at 12.5 orders (10M bench orders), so the planner sizes hash
-- aggregation right.
CREATE OR REPLACE FUNCTION @extschema@.rfm_accum(internal, timestamptz, numeric, timestamptz) RETURNS internal
  AS 'MODULE_PATHNAME', 'pgs_rfm_accum' LANGUAGE C CALLED ON NULL INPUT STABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.rfm_accum(internal, timestamptz, numeric, timestamptz, text) RETURNS internal
  AS 'MODULE_PATHNAME', 'pgs_rfm_accum' LANGUAGE C CALLED ON NULL INPUT STABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.rfm_combine(internal, internal) RETURNS internal
  AS 'MODULE_PATHNAME', 'pgs_rfm_combine' LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.rfm_serialize(internal) RETURNS bytea
  AS 'MODULE_PATHNAME', 'pgs_rfm_serialize' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.rfm_deserialize(bytea, internal) RETURNS internal
  AS 'MODULE_PATHNAME', 'pgs_rfm_deserialize' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.rfm_final(internal) RETURNS @extschema@.rfm
  AS 'MODULE_PATHNAME', 'pgs_rfm_final' LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;

CREATE OR REPLACE AGGREGATE @extschema@.rfm_summary(ordered_at timestamptz, amount numeric, cutoff timestamptz) (
  SFUNC = @extschema@.rfm_accum, STYPE = internal, SSPACE = 232,
  FINALFUNC = @extschema@.rfm_final, FINALFUNC_MODIFY = READ_ONLY,
  COMBINEFUNC = @extschema@.rfm_combine,
  SERIALFUNC = @extschema@.rfm_serialize, DESERIALFUNC = @extschema@.rfm_deserialize,
  PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE @extschema@.rfm_summary(ordered_at timestamptz, amount numeric, cutoff timestamptz, unit text) (
  SFUNC = @extschema@.rfm_accum, STYPE = internal, SSPACE = 232,
  FINALFUNC = @extschema@.rfm_final, FINALFUNC_MODIFY = READ_ONLY,
  COMBINEFUNC = @extschema@.rfm_combine,
  SERIALFUNC = @extschema@.rfm_serialize, DESERIALFUNC = @extschema@.rfm_deserialize,
  PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.rfm_summary(timestamptz, numeric, timestamptz) IS
  'BTYD summary (frequency, recency, T, monetary) of one customer''s orders up to the cut-off day, in weeks (days / 7)';
COMMENT ON AGGREGATE @extschema@.rfm_summary(timestamptz, numeric, timestamptz, text) IS
  'BTYD summary (frequency, recency, T, monetary) of one customer''s orders up to the cut-off day, in ''days'' or ''weeks''';

-- rfm_summary with a unit that carries no collation: postgres_fdw ships an aggregate call only when
-- every constant in it is free of collation, and a text 'weeks' is not (docs/scale-out.md#pushdown).
CREATE OR REPLACE FUNCTION @extschema@.rfm_accum(internal, timestamptz, numeric, timestamptz, @extschema@.time_unit)
  RETURNS internal
  AS 'MODULE_PATHNAME', 'pgs_rfm_accum' LANGUAGE C CALLED ON NULL INPUT STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.rfm_accum(internal, timestamptz, numeric, timestamptz, @extschema@.time_unit) IS
  'Support function of rfm_summary(timestamptz, numeric, timestamptz, time_unit): adds one order';
CREATE OR REPLACE AGGREGATE @extschema@.rfm_summary(ordered_at timestamptz, amount numeric, cutoff timestamptz,
    unit @extschema@.time_unit) (
  SFUNC = @extschema@.rfm_accum, STYPE = internal, SSPACE = 232,
  FINALFUNC = @extschema@.rfm_final, FINALFUNC_MODIFY = READ_ONLY,
  COMBINEFUNC = @extschema@.rfm_combine,
  SERIALFUNC = @extschema@.rfm_serialize, DESERIALFUNC = @extschema@.rfm_deserialize,
  PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.rfm_summary(timestamptz, numeric, timestamptz, @extschema@.time_unit) IS
  'rfm_summary with the unit as time_unit (''weeks''::time_unit): the same summary, and postgres_fdw can push it down';
