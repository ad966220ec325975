-- Customer facts from the orders source (docs/segments.md#customer-facts): one row per customer,
-- columns named like segments.customers (compute_facts joins the sources by column name).
-- Windows are exact durations (N days = N x 24 hours), whatever the session's TimeZone.
-- *_horizon: the earliest time after as_of at which a column here changes with no new data
-- (a window's oldest row leaves it, a future-dated row becomes visible, the life cycle moves).

-- order_facts_of(ordered_at, amount, valid, as_of): every order facts column from one transition
-- call per order row (src/pg/order_facts.cpp), with combine functions so the orders part runs in a
-- parallel plan. It replaced 17 aggregates with FILTERs over a fenced subquery (the fence kept
-- the flags from being re-evaluated per FILTER, and the plan serial): docs/demo-and-bench.md.
-- SSPACE: the state is 384 bytes with up to four purchases (their times inline), rfm's days
-- beyond six and the times beyond four in chunks of their own.
CREATE OR REPLACE FUNCTION segments_internal.order_facts_accum(internal, timestamptz, numeric, boolean, timestamptz)
  RETURNS internal AS 'MODULE_PATHNAME', 'pgs_order_facts_accum' LANGUAGE C CALLED ON NULL INPUT STABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION segments_internal.order_facts_combine(internal, internal) RETURNS internal
  AS 'MODULE_PATHNAME', 'pgs_order_facts_combine' LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION segments_internal.order_facts_serialize(internal) RETURNS bytea
  AS 'MODULE_PATHNAME', 'pgs_order_facts_serialize' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION segments_internal.order_facts_deserialize(bytea, internal) RETURNS internal
  AS 'MODULE_PATHNAME', 'pgs_order_facts_deserialize' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
-- STABLE: the life-cycle thresholds come from settings.
CREATE OR REPLACE FUNCTION segments_internal.order_facts_final(internal) RETURNS segments_internal.order_facts_row
  AS 'MODULE_PATHNAME', 'pgs_order_facts_final' LANGUAGE C CALLED ON NULL INPUT STABLE PARALLEL SAFE;
CREATE OR REPLACE AGGREGATE segments_internal.order_facts_of(ordered_at timestamptz, amount numeric, valid boolean,
    as_of timestamptz) (
  SFUNC = segments_internal.order_facts_accum, STYPE = internal, SSPACE = 400,
  FINALFUNC = segments_internal.order_facts_final, FINALFUNC_MODIFY = READ_ONLY,
  COMBINEFUNC = segments_internal.order_facts_combine,
  SERIALFUNC = segments_internal.order_facts_serialize,
  DESERIALFUNC = segments_internal.order_facts_deserialize,
  PARALLEL = SAFE);
COMMENT ON AGGREGATE segments_internal.order_facts_of(timestamptz, numeric, boolean, timestamptz) IS
  'Internal: one customer''s order facts on as_of (orders, revenue, first/second/last order, latency, life cycle, window counts, rfm, horizon) from its order rows in one pass; e.g. SELECT customer_id, (segments_internal.order_facts_of(ordered_at, amount, valid, now())).* FROM segments.source_orders GROUP BY 1';
COMMENT ON TYPE segments_internal.order_facts_row IS
  'Internal: what segments_internal.order_facts_of returns, one customer''s order facts (columns as in segments.customers)';

CREATE OR REPLACE FUNCTION segments_internal.order_facts(as_of timestamptz, only_customers text[] DEFAULT NULL)
RETURNS TABLE (customer_id text, orders int, attempted_orders int, revenue numeric, first_order_at timestamptz,
               second_order_at timestamptz, last_order_at timestamptz, last_attempted_order_at timestamptz,
               order_latency_days float8, lifecycle @extschema@.lifecycle, orders_7d int, orders_14d int,
               orders_30d int, orders_90d int, revenue_30d numeric, rfm @extschema@.rfm, attempted_orders_14d int,
               order_horizon timestamptz)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT f.customer_id, (f.o).orders, (f.o).attempted_orders, (f.o).revenue, (f.o).first_order_at,
    (f.o).second_order_at, (f.o).last_order_at, (f.o).last_attempted_order_at, (f.o).order_latency_days,
    (f.o).lifecycle, (f.o).orders_7d, (f.o).orders_14d, (f.o).orders_30d, (f.o).orders_90d, (f.o).revenue_30d,
    (f.o).rfm, (f.o).attempted_orders_14d, (f.o).order_horizon
  FROM (
    SELECT so.customer_id COLLATE "C" AS customer_id,
           segments_internal.order_facts_of(so.ordered_at, so.amount, so.valid, as_of) AS o
    FROM segments.source_orders so
    WHERE so.customer_id IS NOT NULL AND so.ordered_at IS NOT NULL
      AND (only_customers IS NULL OR so.customer_id = ANY (only_customers))
    GROUP BY 1
  ) f
$$;
COMMENT ON FUNCTION segments_internal.order_facts(timestamptz, text[]) IS
  'Internal: the orders part of the customer facts as of a time (columns named like segments.customers)';
