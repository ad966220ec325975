-- Analytics aggregates: clv, order_latency, lifecycle_stage (docs/functions.md).

-- clv(numeric): sum of amounts, exactly sum(numeric)'s answer (value and scale), NaN/infinity
-- refused. The state is an int64 at a fixed scale (int128, then an exact numeric beside it, for what
-- does not fit; src/pg/clv.cpp): 16 bytes per group. Sliding window frames use PostgreSQL's numeric sum
-- state (clv_accum), whose inverse transition they need.
CREATE OR REPLACE FUNCTION @extschema@.clv_accum(internal, numeric) RETURNS internal
  AS 'MODULE_PATHNAME', 'pgs_clv_accum' LANGUAGE C CALLED ON NULL INPUT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.clv_fixed_accum(internal, numeric) RETURNS internal
  AS 'MODULE_PATHNAME', 'pgs_clv_fixed_accum' LANGUAGE C CALLED ON NULL INPUT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.clv_fixed_combine(internal, internal) RETURNS internal
  AS 'MODULE_PATHNAME', 'pgs_clv_fixed_combine' LANGUAGE C CALLED ON NULL INPUT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.clv_fixed_serialize(internal) RETURNS bytea
  AS 'MODULE_PATHNAME', 'pgs_clv_fixed_serialize' LANGUAGE C STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.clv_fixed_deserialize(bytea, internal) RETURNS internal
  AS 'MODULE_PATHNAME', 'pgs_clv_fixed_deserialize' LANGUAGE C STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.clv_fixed_final(internal) RETURNS numeric
  AS 'MODULE_PATHNAME', 'pgs_clv_fixed_final' LANGUAGE C CALLED ON NULL INPUT PARALLEL SAFE;

CREATE OR REPLACE AGGREGATE @extschema@.clv(numeric) (
  SFUNC = @extschema@.clv_fixed_accum, STYPE = internal, SSPACE = 16,
  FINALFUNC = @extschema@.clv_fixed_final, FINALFUNC_MODIFY = READ_ONLY,
  COMBINEFUNC = @extschema@.clv_fixed_combine,
  SERIALFUNC = @extschema@.clv_fixed_serialize,
  DESERIALFUNC = @extschema@.clv_fixed_deserialize,
  MSFUNC = @extschema@.clv_accum, MINVFUNC = pg_catalog.numeric_accum_inv,
  MSTYPE = internal, MSSPACE = 128, MFINALFUNC = pg_catalog.numeric_sum,
  PARALLEL = SAFE);
COMMENT ON FUNCTION @extschema@.clv_fixed_accum(internal, numeric) IS
  'Support function of clv (transition: adds an amount to the int128 fixed-scale state); not callable on its own';
COMMENT ON FUNCTION @extschema@.clv_fixed_combine(internal, internal) IS
  'Support function of clv (combines two partial states of a parallel plan); not callable on its own';
COMMENT ON FUNCTION @extschema@.clv_fixed_serialize(internal) IS
  'Support function of clv (state to bytes, between parallel processes); not callable on its own';
COMMENT ON FUNCTION @extschema@.clv_fixed_deserialize(bytea, internal) IS
  'Support function of clv (bytes to state); not callable on its own';
COMMENT ON FUNCTION @extschema@.clv_fixed_final(internal) IS
  'Support function of clv (the exact numeric total); not callable on its own';
COMMENT ON FUNCTION @extschema@.clv_accum(internal, numeric) IS
  'Support function of clv for sliding window frames (PostgreSQL''s numeric sum state, NaN/infinity refused); not callable on its own';
COMMENT ON AGGREGATE @extschema@.clv(numeric) IS
  'Historic customer lifetime value: total of the order amounts (refunds negative); NULL over no rows';

-- order_latency(timestamptz): mean days between consecutive orders.
CREATE OR REPLACE FUNCTION @extschema@.order_latency_accum(internal, timestamptz) RETURNS internal
  AS 'MODULE_PATHNAME', 'pgs_order_latency_accum' LANGUAGE C CALLED ON NULL INPUT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.order_latency_combine(internal, internal) RETURNS internal
  AS 'MODULE_PATHNAME', 'pgs_order_latency_combine' LANGUAGE C CALLED ON NULL INPUT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.order_latency_serialize(internal) RETURNS bytea
  AS 'MODULE_PATHNAME', 'pgs_order_latency_serialize' LANGUAGE C STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.order_latency_deserialize(bytea, internal) RETURNS internal
  AS 'MODULE_PATHNAME', 'pgs_order_latency_deserialize' LANGUAGE C STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.order_latency_final(internal) RETURNS double precision
  AS 'MODULE_PATHNAME', 'pgs_order_latency_final' LANGUAGE C CALLED ON NULL INPUT PARALLEL SAFE;

CREATE OR REPLACE AGGREGATE @extschema@.order_latency(timestamptz) (
  SFUNC = @extschema@.order_latency_accum, STYPE = internal, SSPACE = 24,
  FINALFUNC = @extschema@.order_latency_final, FINALFUNC_MODIFY = READ_ONLY,
  COMBINEFUNC = @extschema@.order_latency_combine,
  SERIALFUNC = @extschema@.order_latency_serialize,
  DESERIALFUNC = @extschema@.order_latency_deserialize,
  PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.order_latency(timestamptz) IS
  'Mean days between consecutive orders (fractional); NULL with fewer than two orders';

-- lifecycle_stage(ordered_at, as_of [, typical_latency]). SSPACE: the state is 64 bytes with the
-- first four order times inline, then a chunk of the times (8 bytes each, room doubled as it grows):
-- measured 221 bytes per customer at 12.5 orders (10M bench orders, hash aggregation), so the
-- planner sizes hash aggregation right.
CREATE OR REPLACE FUNCTION @extschema@.lifecycle_accum(internal, timestamptz, timestamptz) RETURNS internal
  AS 'MODULE_PATHNAME', 'pgs_lifecycle_accum' LANGUAGE C CALLED ON NULL INPUT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.lifecycle_accum(internal, timestamptz, timestamptz, interval) RETURNS internal
  AS 'MODULE_PATHNAME', 'pgs_lifecycle_accum' LANGUAGE C CALLED ON NULL INPUT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.lifecycle_combine(internal, internal) RETURNS internal
  AS 'MODULE_PATHNAME', 'pgs_lifecycle_combine' LANGUAGE C CALLED ON NULL INPUT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.lifecycle_serialize(internal) RETURNS bytea
  AS 'MODULE_PATHNAME', 'pgs_lifecycle_serialize' LANGUAGE C STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.lifecycle_deserialize(bytea, internal) RETURNS internal
  AS 'MODULE_PATHNAME', 'pgs_lifecycle_deserialize' LANGUAGE C STRICT PARALLEL SAFE;
-- STABLE: the thresholds come from settings.
CREATE OR REPLACE FUNCTION @extschema@.lifecycle_final(internal) RETURNS @extschema@.lifecycle
  AS 'MODULE_PATHNAME', 'pgs_lifecycle_final' LANGUAGE C CALLED ON NULL INPUT STABLE PARALLEL SAFE;

CREATE OR REPLACE AGGREGATE @extschema@.lifecycle_stage(ordered_at timestamptz, as_of timestamptz) (
  SFUNC = @extschema@.lifecycle_accum, STYPE = internal, SSPACE = 224,
  FINALFUNC = @extschema@.lifecycle_final, FINALFUNC_MODIFY = READ_ONLY,
  COMBINEFUNC = @extschema@.lifecycle_combine,
  SERIALFUNC = @extschema@.lifecycle_serialize,
  DESERIALFUNC = @extschema@.lifecycle_deserialize,
  PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE @extschema@.lifecycle_stage(ordered_at timestamptz, as_of timestamptz, typical_latency interval) (
  SFUNC = @extschema@.lifecycle_accum, STYPE = internal, SSPACE = 224,
  FINALFUNC = @extschema@.lifecycle_final, FINALFUNC_MODIFY = READ_ONLY,
  COMBINEFUNC = @extschema@.lifecycle_combine,
  SERIALFUNC = @extschema@.lifecycle_serialize,
  DESERIALFUNC = @extschema@.lifecycle_deserialize,
  PARALLEL = SAFE);
-- lifecycle_changes_at(ordered_at, as_of): the same state (shared with lifecycle_stage in one
-- query), another final function; the facts' life-cycle horizon.
CREATE OR REPLACE FUNCTION @extschema@.lifecycle_changes_at_final(internal) RETURNS timestamptz
  AS 'MODULE_PATHNAME', 'pgs_lifecycle_changes_at_final' LANGUAGE C CALLED ON NULL INPUT STABLE PARALLEL SAFE;
CREATE OR REPLACE AGGREGATE @extschema@.lifecycle_changes_at(ordered_at timestamptz, as_of timestamptz) (
  SFUNC = @extschema@.lifecycle_accum, STYPE = internal, SSPACE = 224,
  FINALFUNC = @extschema@.lifecycle_changes_at_final, FINALFUNC_MODIFY = READ_ONLY,
  COMBINEFUNC = @extschema@.lifecycle_combine,
  SERIALFUNC = @extschema@.lifecycle_serialize,
  DESERIALFUNC = @extschema@.lifecycle_deserialize,
  PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.lifecycle_changes_at(timestamptz, timestamptz) IS
  'When lifecycle_stage(ordered_at, as_of) next changes if no order follows (NULL: lost, or no orders); e.g. SELECT customer, lifecycle_changes_at(ordered_at, now()) FROM orders GROUP BY 1';
-- second_order_at(ordered_at, as_of): the same state again; the facts' second order without a
-- window function (which would sort every order row).
CREATE OR REPLACE FUNCTION @extschema@.second_order_at_final(internal) RETURNS timestamptz
  AS 'MODULE_PATHNAME', 'pgs_second_order_at_final' LANGUAGE C CALLED ON NULL INPUT STABLE PARALLEL SAFE;
CREATE OR REPLACE AGGREGATE @extschema@.second_order_at(ordered_at timestamptz, as_of timestamptz) (
  SFUNC = @extschema@.lifecycle_accum, STYPE = internal, SSPACE = 224,
  FINALFUNC = @extschema@.second_order_at_final, FINALFUNC_MODIFY = READ_ONLY,
  COMBINEFUNC = @extschema@.lifecycle_combine,
  SERIALFUNC = @extschema@.lifecycle_serialize,
  DESERIALFUNC = @extschema@.lifecycle_deserialize,
  PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.second_order_at(timestamptz, timestamptz) IS
  'The second earliest ordered_at at or before as_of (NULL with fewer than two orders); e.g. SELECT customer, second_order_at(ordered_at, now()) FROM orders GROUP BY 1';
COMMENT ON AGGREGATE @extschema@.lifecycle_stage(timestamptz, timestamptz) IS
  'Clerk.io life-cycle stage on as_of, judged against the customer''s own order cadence';
COMMENT ON AGGREGATE @extschema@.lifecycle_stage(timestamptz, timestamptz, interval) IS
  'Clerk.io life-cycle stage on as_of; one-order customers judged against typical_latency';
