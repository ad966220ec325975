-- pg_segments: e-commerce customer segmentation inside PostgreSQL.
-- Built from src/sql/*.sql by the Makefile; edit those files, not the generated script.
\echo Use "CREATE EXTENSION pg_segments" to load this file. \quit
-- Analytics: clv, order_latency, lifecycle_stage, value_band (docs/functions.md).

CREATE TYPE @extschema@.lifecycle AS ENUM ('just_ordered', 'active', 'slipping_away', 'lost');
COMMENT ON TYPE @extschema@.lifecycle IS
  'Clerk.io customer life cycle, best first: just_ordered, active, slipping_away, lost';
CREATE TYPE @extschema@.value_band AS ENUM ('low', 'medium', 'high', 'very_high');
COMMENT ON TYPE @extschema@.value_band IS
  'Ometria customer value band: value against the mean (low < 0.75 <= medium <= 1.25 < high <= 2.5 < very_high)';

-- clv(numeric): sum of amounts; PostgreSQL's sum(numeric) machinery with NaN/infinity refused.
CREATE FUNCTION @extschema@.clv_accum(internal, numeric) RETURNS internal
  AS 'MODULE_PATHNAME', 'pgs_clv_accum' LANGUAGE C CALLED ON NULL INPUT PARALLEL SAFE;

CREATE AGGREGATE @extschema@.clv(numeric) (
  SFUNC = @extschema@.clv_accum, STYPE = internal, SSPACE = 128,
  FINALFUNC = pg_catalog.numeric_sum,
  COMBINEFUNC = pg_catalog.numeric_avg_combine,
  SERIALFUNC = pg_catalog.numeric_avg_serialize,
  DESERIALFUNC = pg_catalog.numeric_avg_deserialize,
  MSFUNC = @extschema@.clv_accum, MINVFUNC = pg_catalog.numeric_accum_inv,
  MSTYPE = internal, MSSPACE = 128, MFINALFUNC = pg_catalog.numeric_sum,
  PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.clv(numeric) IS
  'Historic customer lifetime value: total of the order amounts (refunds negative); NULL over no rows';

-- order_latency(timestamptz): mean days between consecutive orders.
CREATE FUNCTION @extschema@.order_latency_accum(internal, timestamptz) RETURNS internal
  AS 'MODULE_PATHNAME', 'pgs_order_latency_accum' LANGUAGE C CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION @extschema@.order_latency_combine(internal, internal) RETURNS internal
  AS 'MODULE_PATHNAME', 'pgs_order_latency_combine' LANGUAGE C CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION @extschema@.order_latency_serialize(internal) RETURNS bytea
  AS 'MODULE_PATHNAME', 'pgs_order_latency_serialize' LANGUAGE C STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.order_latency_deserialize(bytea, internal) RETURNS internal
  AS 'MODULE_PATHNAME', 'pgs_order_latency_deserialize' LANGUAGE C STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.order_latency_final(internal) RETURNS double precision
  AS 'MODULE_PATHNAME', 'pgs_order_latency_final' LANGUAGE C CALLED ON NULL INPUT PARALLEL SAFE;

CREATE AGGREGATE @extschema@.order_latency(timestamptz) (
  SFUNC = @extschema@.order_latency_accum, STYPE = internal, SSPACE = 24,
  FINALFUNC = @extschema@.order_latency_final, FINALFUNC_MODIFY = READ_ONLY,
  COMBINEFUNC = @extschema@.order_latency_combine,
  SERIALFUNC = @extschema@.order_latency_serialize,
  DESERIALFUNC = @extschema@.order_latency_deserialize,
  PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.order_latency(timestamptz) IS
  'Mean days between consecutive orders (fractional); NULL with fewer than two orders';

-- lifecycle_stage(ordered_at, as_of [, typical_latency]). SSPACE: the state plus a customer's few
-- order times; without it the planner assumes 8 kB per group and makes hash aggregation spill.
CREATE FUNCTION @extschema@.lifecycle_accum(internal, timestamptz, timestamptz) RETURNS internal
  AS 'MODULE_PATHNAME', 'pgs_lifecycle_accum' LANGUAGE C CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION @extschema@.lifecycle_accum(internal, timestamptz, timestamptz, interval) RETURNS internal
  AS 'MODULE_PATHNAME', 'pgs_lifecycle_accum' LANGUAGE C CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION @extschema@.lifecycle_combine(internal, internal) RETURNS internal
  AS 'MODULE_PATHNAME', 'pgs_lifecycle_combine' LANGUAGE C CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION @extschema@.lifecycle_serialize(internal) RETURNS bytea
  AS 'MODULE_PATHNAME', 'pgs_lifecycle_serialize' LANGUAGE C STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.lifecycle_deserialize(bytea, internal) RETURNS internal
  AS 'MODULE_PATHNAME', 'pgs_lifecycle_deserialize' LANGUAGE C STRICT PARALLEL SAFE;
-- STABLE: the thresholds come from settings.
CREATE FUNCTION @extschema@.lifecycle_final(internal) RETURNS @extschema@.lifecycle
  AS 'MODULE_PATHNAME', 'pgs_lifecycle_final' LANGUAGE C CALLED ON NULL INPUT STABLE PARALLEL SAFE;

CREATE AGGREGATE @extschema@.lifecycle_stage(ordered_at timestamptz, as_of timestamptz) (
  SFUNC = @extschema@.lifecycle_accum, STYPE = internal, SSPACE = 128,
  FINALFUNC = @extschema@.lifecycle_final, FINALFUNC_MODIFY = READ_ONLY,
  COMBINEFUNC = @extschema@.lifecycle_combine,
  SERIALFUNC = @extschema@.lifecycle_serialize,
  DESERIALFUNC = @extschema@.lifecycle_deserialize,
  PARALLEL = SAFE);
CREATE AGGREGATE @extschema@.lifecycle_stage(ordered_at timestamptz, as_of timestamptz, typical_latency interval) (
  SFUNC = @extschema@.lifecycle_accum, STYPE = internal, SSPACE = 128,
  FINALFUNC = @extschema@.lifecycle_final, FINALFUNC_MODIFY = READ_ONLY,
  COMBINEFUNC = @extschema@.lifecycle_combine,
  SERIALFUNC = @extschema@.lifecycle_serialize,
  DESERIALFUNC = @extschema@.lifecycle_deserialize,
  PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.lifecycle_stage(timestamptz, timestamptz) IS
  'Clerk.io life-cycle stage on as_of, judged against the customer''s own order cadence';
COMMENT ON AGGREGATE @extschema@.lifecycle_stage(timestamptz, timestamptz, interval) IS
  'Clerk.io life-cycle stage on as_of; one-order customers judged against typical_latency';

-- value_band: window function over the partition mean, and a scalar with an explicit reference.
CREATE FUNCTION @extschema@.value_band(aov numeric) RETURNS @extschema@.value_band
  AS 'MODULE_PATHNAME', 'pgs_value_band_window' LANGUAGE C WINDOW IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.value_band(numeric) IS
  'Window function: value band of the row''s value against the mean of its partition';
CREATE FUNCTION @extschema@.value_band(aov numeric, reference numeric) RETURNS @extschema@.value_band
  AS 'MODULE_PATHNAME', 'pgs_value_band' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.value_band(numeric, numeric) IS
  'Value band of aov against a reference (usually the mean AOV of all customers)';
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
-- Segment engine, part 1: schemas and source mapping (docs/segments.md).
-- The shop's own tables are never copied: segments.map_source() (re)creates one view per source
-- kind, segments.source_<kind>, with fixed column names and types.

CREATE SCHEMA segments;
COMMENT ON SCHEMA segments IS
  'pg_segments engine: source mapping, customer facts, segments, membership, change log, history, runs';
GRANT USAGE ON SCHEMA segments TO PUBLIC;

-- One materialized view per segment holds the rule's latest result; REFRESH MATERIALIZED VIEW runs
-- it as the view's owner (the segment owner) in a security-restricted operation.
CREATE SCHEMA segment_rules;
COMMENT ON SCHEMA segment_rules IS
  'pg_segments internal: one materialized view per segment (the rule, owned by the segment owner)';
GRANT USAGE, CREATE ON SCHEMA segment_rules TO PUBLIC;

-- One view per segment: its members joined with their facts (for BI tools and ORMs).
CREATE SCHEMA segment_members;
COMMENT ON SCHEMA segment_members IS
  'pg_segments: one view per segment, named like the segment: members joined with segments.customers';
GRANT USAGE ON SCHEMA segment_members TO PUBLIC;

-- The normalized columns of each source kind.
CREATE FUNCTION segments.source_columns(kind text DEFAULT NULL)
RETURNS TABLE (kind text, column_name text, data_type regtype, required boolean, default_value text, ord int)
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
  SELECT v.kind, v.column_name, v.data_type::regtype, v.required, v.default_value, v.ord
  FROM (VALUES
    ('orders', 'customer_id', 'text', true, NULL, 1),
    ('orders', 'order_id', 'text', false, NULL, 2),
    ('orders', 'ordered_at', 'timestamptz', true, NULL, 3),
    ('orders', 'amount', 'numeric', true, NULL, 4),
    ('orders', 'valid', 'boolean', false, 'true', 5),
    ('contacts', 'customer_id', 'text', true, NULL, 1),
    ('contacts', 'email', 'text', false, NULL, 2),
    ('contacts', 'opted_in', 'boolean', false, NULL, 3),
    ('contacts', 'created_at', 'timestamptz', false, NULL, 4),
    ('contacts', 'first_name', 'text', false, NULL, 5),
    ('contacts', 'last_name', 'text', false, NULL, 6),
    ('contacts', 'shipping_address', 'text', false, NULL, 7),
    ('contacts', 'billing_address', 'text', false, NULL, 8),
    ('events', 'customer_id', 'text', true, NULL, 1),
    ('events', 'kind', 'text', true, NULL, 2),
    ('events', 'at', 'timestamptz', true, NULL, 3),
    ('subscriptions', 'customer_id', 'text', true, NULL, 1),
    ('subscriptions', 'started_at', 'timestamptz', true, NULL, 2),
    ('subscriptions', 'is_trial', 'boolean', false, 'false', 3),
    ('subscriptions', 'status', 'text', true, NULL, 4),
    ('subscriptions', 'engagement_rating', 'integer', false, NULL, 5),
    ('subscriptions', 'last_seen_at', 'timestamptz', false, NULL, 6),
    ('deals', 'customer_id', 'text', true, NULL, 1),
    ('deals', 'deal_id', 'text', false, NULL, 2),
    ('deals', 'created_at', 'timestamptz', true, NULL, 3),
    ('deals', 'updated_at', 'timestamptz', false, NULL, 4),
    ('deals', 'state', 'text', true, NULL, 5),
    ('deals', 'updates_30d', 'integer', false, NULL, 6)
  ) AS v(kind, column_name, data_type, required, default_value, ord)
  WHERE source_columns.kind IS NULL OR v.kind = source_columns.kind
  ORDER BY v.kind, v.ord
$$;
COMMENT ON FUNCTION segments.source_columns(text) IS
  'The normalized columns of each source kind (orders, contacts, events, subscriptions, deals)';

CREATE TABLE segments.source_map (
  kind text PRIMARY KEY CHECK (kind IN ('orders', 'contacts', 'events', 'subscriptions', 'deals')),
  source regclass NOT NULL,
  columns jsonb NOT NULL,
  mapped_by name NOT NULL DEFAULT current_user,
  mapped_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE segments.source_map IS
  'Which user table feeds each source kind, and how its columns map (written by segments.map_source)';
SELECT pg_catalog.pg_extension_config_dump('segments.source_map', '');
GRANT SELECT ON segments.source_map TO PUBLIC;

-- Is the text one SQL fragment (no top-level semicolon, no unterminated quote or comment)?
-- Rules, queries and mapping expressions are spliced into one statement only after this check;
-- the server then parses the statement and reports any other error with its own message.
CREATE FUNCTION segments._check_fragment(sql text, what text) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  i int := 1; n int := length(sql); ch text; nxt text; depth int; tag text; j int;
BEGIN
  IF sql IS NULL OR btrim(sql, E' \t\r\n;') = '' THEN
    RAISE EXCEPTION '% is empty', what USING ERRCODE = '22023',
      HINT = 'Give an SQL expression or query.';
  END IF;
  sql := rtrim(sql, E' \t\r\n;');
  n := length(sql);
  WHILE i <= n LOOP
    ch := substr(sql, i, 1); nxt := substr(sql, i + 1, 1);
    IF ch = '''' OR ch = '"' THEN
      j := i + 1;
      LOOP
        IF j > n THEN
          RAISE EXCEPTION '% has an unterminated quoted string or identifier', what
            USING ERRCODE = '42601', HINT = 'Close every '' and " you open.';
        END IF;
        IF substr(sql, j, 1) = '\' AND ch = '''' AND i > 1 AND lower(substr(sql, i - 1, 1)) = 'e' THEN
          j := j + 2; CONTINUE;
        END IF;
        IF substr(sql, j, 1) = ch THEN
          IF substr(sql, j + 1, 1) = ch THEN j := j + 2; CONTINUE; END IF;
          EXIT;
        END IF;
        j := j + 1;
      END LOOP;
      i := j + 1;
    ELSIF ch = '-' AND nxt = '-' THEN
      j := strpos(substr(sql, i), E'\n');
      IF j = 0 THEN i := n + 1; ELSE i := i + j; END IF;
    ELSIF ch = '/' AND nxt = '*' THEN
      depth := 1; j := i + 2;
      WHILE depth > 0 LOOP
        IF j > n THEN
          RAISE EXCEPTION '% has an unterminated /* comment', what USING ERRCODE = '42601';
        END IF;
        IF substr(sql, j, 2) = '/*' THEN depth := depth + 1; j := j + 2;
        ELSIF substr(sql, j, 2) = '*/' THEN depth := depth - 1; j := j + 2;
        ELSE j := j + 1; END IF;
      END LOOP;
      i := j;
    ELSIF ch = '$' AND (i = 1 OR substr(sql, i - 1, 1) !~ '[[:alnum:]_$]')
          AND substring(substr(sql, i) FROM '^\$[A-Za-z_]?[A-Za-z_0-9]*\$') IS NOT NULL THEN
      tag := substring(substr(sql, i) FROM '^\$[A-Za-z_]?[A-Za-z_0-9]*\$');
      j := strpos(substr(sql, i + length(tag)), tag);
      IF j = 0 THEN
        RAISE EXCEPTION '% has an unterminated dollar-quoted string', what USING ERRCODE = '42601';
      END IF;
      i := i + length(tag) + j - 1 + length(tag);
    ELSIF ch = ';' THEN
      RAISE EXCEPTION '% must be a single SQL expression or query, without ";"', what
        USING ERRCODE = '42601', HINT = 'Remove the semicolon; combine conditions with AND / OR.';
    ELSE
      i := i + 1;
    END IF;
  END LOOP;
  RETURN sql;
END $$;

-- The view body of an unmapped kind: its columns, no rows.
CREATE FUNCTION segments._empty_source_sql(kind text) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT 'SELECT ' || string_agg(format('NULL::%s AS %I', c.data_type, c.column_name), ', ' ORDER BY c.ord)
         || ' WHERE false'
  FROM segments.source_columns(kind) c
$$;

-- (Re)creates segments.source_<kind> from a select list; security_invoker so that whoever reads the
-- view needs SELECT on the mapped table (a segment cannot read what its owner cannot).
CREATE FUNCTION segments._install_source_view(kind text, body text, note text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  EXECUTE format('CREATE OR REPLACE VIEW segments.%I WITH (security_invoker = true) AS %s',
                 'source_' || kind, body);
  EXECUTE format('COMMENT ON VIEW segments.%I IS %L', 'source_' || kind, note);
END $$;

CREATE FUNCTION segments.map_source(kind text, source regclass, columns jsonb) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  col record; key text; val text; expr text; typ regtype; sel text[] := '{}';
  src text := source::text; cols text; st text; msg text; hnt text;
  view_owner oid;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM segments.source_columns(kind)) THEN
    RAISE EXCEPTION 'unknown source kind "%"', kind USING ERRCODE = '22023',
      HINT = 'Source kinds: orders, contacts, events, subscriptions, deals.';
  END IF;
  SELECT c.relowner INTO view_owner FROM pg_class c
  WHERE c.oid = format('segments.%I', 'source_' || kind)::regclass;
  IF NOT pg_has_role(view_owner, 'USAGE') THEN
    RAISE EXCEPTION 'permission denied to map source %', kind USING ERRCODE = '42501',
      HINT = 'Mapping sources is an administrator task: ask the owner of extension pg_segments.';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = source AND c.relkind IN ('r', 'p', 'v', 'm', 'f')) THEN
    RAISE EXCEPTION '% is not a table or view', src USING ERRCODE = '42809';
  END IF;
  IF columns IS NULL OR jsonb_typeof(columns) <> 'object' THEN
    RAISE EXCEPTION 'columns must be a JSON object' USING ERRCODE = '22023',
      HINT = format('Example: {"customer_id": "customer_id", ...}; %s columns: %s', kind,
                    (SELECT string_agg(column_name, ', ') FROM segments.source_columns(kind)));
  END IF;
  FOR key, val IN SELECT j.key, j.value #>> '{}' FROM jsonb_each(columns) j WHERE jsonb_typeof(j.value) <> 'null' LOOP
    IF NOT EXISTS (SELECT 1 FROM segments.source_columns(kind) c WHERE c.column_name = key) THEN
      RAISE EXCEPTION 'source kind % has no column "%"', kind, key USING ERRCODE = '42703',
        HINT = format('%s columns: %s', kind, (SELECT string_agg(column_name, ', ') FROM segments.source_columns(kind)));
    END IF;
    IF jsonb_typeof(columns -> key) <> 'string' THEN
      RAISE EXCEPTION 'mapping of %.% must be a string (a column name or an SQL expression)', kind, key
        USING ERRCODE = '22023';
    END IF;
  END LOOP;
  SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO cols
  FROM pg_attribute a WHERE a.attrelid = source AND a.attnum > 0 AND NOT a.attisdropped;

  FOR col IN SELECT * FROM segments.source_columns(kind) LOOP
    val := columns ->> col.column_name;
    IF val IS NULL THEN
      IF col.required THEN
        RAISE EXCEPTION 'mapping of source % needs column "%"', kind, col.column_name
          USING ERRCODE = '22023',
          HINT = format('Map it to a column of %s (%s) or an expression, e.g. {"%s": "..."}',
                        src, cols, col.column_name);
      END IF;
      expr := coalesce(col.default_value, 'NULL');
    ELSIF EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = source AND a.attname = val
                  AND a.attnum > 0 AND NOT a.attisdropped) THEN
      expr := quote_ident(val);
    ELSIF val ~ '^[A-Za-z_][A-Za-z_0-9$]*$' THEN
      RAISE EXCEPTION 'column "%" of % does not exist (mapping %.%)', val, src, kind, col.column_name
        USING ERRCODE = '42703', HINT = format('Columns of %s: %s', src, cols);
    ELSE
      expr := '(' || segments._check_fragment(val, format('mapping %s.%s', kind, col.column_name)) || E'\n)';
    END IF;
    -- Compile it against the table (no rows read) and check the type.
    BEGIN
      EXECUTE format('SELECT pg_typeof(s.x) FROM (VALUES (1)) v LEFT JOIN (SELECT %s AS x FROM %s LIMIT 0) s ON true',
                     expr, src) INTO typ;
    EXCEPTION WHEN OTHERS THEN
      GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, hnt = PG_EXCEPTION_HINT;
      RAISE EXCEPTION 'mapping %.% = %: %', kind, col.column_name, val, msg USING ERRCODE = st,
        HINT = coalesce(nullif(hnt, ''), format('Columns of %s: %s', src, cols));
    END;
    IF val IS NOT NULL AND NOT (
         typ = col.data_type OR typ = 'unknown'::regtype
      OR (col.data_type = 'text'::regtype)  -- anything has a text form
      OR (col.data_type = 'numeric'::regtype AND typ IN ('smallint', 'integer', 'bigint', 'real', 'double precision', 'money'))
      OR (col.data_type = 'integer'::regtype AND typ IN ('smallint', 'bigint'))
      OR (col.data_type = 'timestamptz'::regtype AND typ IN ('timestamp', 'date'))) THEN
      RAISE EXCEPTION '%.% = % has type %, but % needs %', kind, col.column_name, val, typ,
        col.column_name, col.data_type USING ERRCODE = '42804',
        HINT = format('Map an expression instead, e.g. "%s::%s" or a comparison for a boolean.', val, col.data_type);
    END IF;
    sel := sel || format('%s::%s AS %I', expr, col.data_type, col.column_name);
  END LOOP;

  PERFORM segments._install_source_view(kind,
    format(E'SELECT %s\nFROM %s', array_to_string(sel, E',\n       '), src),
    format('%s source, mapped to %s by %s', kind, src, current_user));
  INSERT INTO segments.source_map AS m (kind, source, columns)
  VALUES (kind, source, columns)
  ON CONFLICT ON CONSTRAINT source_map_pkey DO UPDATE
    SET source = excluded.source, columns = excluded.columns, mapped_by = current_user, mapped_at = now();
END $$;
COMMENT ON FUNCTION segments.map_source(text, regclass, jsonb) IS
  'Maps a user table (and its columns or SQL expressions) to a source kind; (re)creates segments.source_<kind>';

CREATE FUNCTION segments.unmap_source(kind text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM segments.source_columns(kind)) THEN
    RAISE EXCEPTION 'unknown source kind "%"', kind USING ERRCODE = '22023',
      HINT = 'Source kinds: orders, contacts, events, subscriptions, deals.';
  END IF;
  PERFORM segments._install_source_view(kind, segments._empty_source_sql(kind), kind || ' source, not mapped (no rows)');
  DELETE FROM segments.source_map m WHERE m.kind = unmap_source.kind;
END $$;
COMMENT ON FUNCTION segments.unmap_source(text) IS
  'Forgets the mapping of a source kind; segments.source_<kind> becomes empty';

-- After pg_dump/restore the source_map rows come back but the views are the extension's empty
-- ones: this rebuilds them (segments.refresh_facts() calls it when needed).
CREATE FUNCTION segments.restore_sources() RETURNS int
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE m record; n int := 0;
BEGIN
  FOR m IN SELECT * FROM segments.source_map ORDER BY kind LOOP
    PERFORM segments.map_source(m.kind, m.source, m.columns);
    n := n + 1;
  END LOOP;
  RETURN n;
END $$;
COMMENT ON FUNCTION segments.restore_sources() IS
  'Rebuilds the segments.source_<kind> views from segments.source_map (after a restore); returns how many';

DO $$
DECLARE k text;
BEGIN
  FOREACH k IN ARRAY ARRAY['orders', 'contacts', 'events', 'subscriptions', 'deals'] LOOP
    PERFORM segments._install_source_view(k, segments._empty_source_sql(k), k || ' source, not mapped (no rows)');
    EXECUTE format('GRANT SELECT ON segments.%I TO PUBLIC', 'source_' || k);
  END LOOP;
END $$;

CREATE VIEW segments.sources AS
  SELECT k.kind, m.kind IS NOT NULL AS mapped, m.source, m.columns, m.mapped_by, m.mapped_at,
         format('segments.%I', 'source_' || k.kind) AS view_name
  FROM (VALUES ('orders', 1), ('contacts', 2), ('events', 3), ('subscriptions', 4), ('deals', 5)) k(kind, ord)
  LEFT JOIN segments.source_map m ON m.kind = k.kind
  ORDER BY k.ord;
COMMENT ON VIEW segments.sources IS
  'One row per source kind: whether it is mapped, to which table, with which column mapping';
GRANT SELECT ON segments.sources TO PUBLIC;
-- Segment engine, part 2: customer facts (docs/segments.md#customer-facts).
-- segments.customers is materialized by segments.refresh_facts() from the source views with the
-- extension's own aggregates; segments.compute_facts(as_of) is the same query, live.

CREATE TABLE segments.customers (
  customer_id text PRIMARY KEY,
  email text,
  first_name text,
  last_name text,
  opted_in boolean,
  lead_at timestamptz,
  first_order_at timestamptz,
  second_order_at timestamptz,
  last_order_at timestamptz,
  orders int NOT NULL DEFAULT 0,
  attempted_orders int NOT NULL DEFAULT 0,
  revenue numeric NOT NULL DEFAULT 0,
  aov numeric,
  order_latency_days float8,
  days_since_last_order float8,
  lifecycle @extschema@.lifecycle,
  value_band @extschema@.value_band,
  first_order_delay_days float8,
  second_order_delay_days float8,
  refreshed_at timestamptz NOT NULL,
  -- beyond the contract: what the ready-made segments need
  shipping_address text,
  billing_address text,
  last_attempted_order_at timestamptz,
  orders_7d int NOT NULL DEFAULT 0,
  orders_14d int NOT NULL DEFAULT 0,
  orders_30d int NOT NULL DEFAULT 0,
  orders_90d int NOT NULL DEFAULT 0,
  revenue_30d numeric NOT NULL DEFAULT 0,
  product_views_7d int NOT NULL DEFAULT 0,
  product_views_14d int NOT NULL DEFAULT 0,
  product_views_30d int NOT NULL DEFAULT 0,
  cart_adds_7d int NOT NULL DEFAULT 0,
  cart_adds_14d int NOT NULL DEFAULT 0,
  last_product_view_at timestamptz,
  last_cart_add_at timestamptz,
  last_abandoned_cart_at timestamptz,
  abandoned_carts_7d int NOT NULL DEFAULT 0,
  abandoned_carts_14d int NOT NULL DEFAULT 0,
  last_checkout_at timestamptz,
  back_in_stock_requests int NOT NULL DEFAULT 0,
  last_back_in_stock_at timestamptz,
  last_email_open_at timestamptz,
  last_email_click_at timestamptz,
  last_campaign_engagement_at timestamptz,
  last_session_at timestamptz,
  sessions_30d int NOT NULL DEFAULT 0,
  last_engaged_at timestamptz,
  subscription_status text,
  has_active_subscription boolean NOT NULL DEFAULT false,
  on_trial boolean NOT NULL DEFAULT false,
  trial_started_at timestamptz,
  subscribed_at timestamptz,
  engagement_rating int,
  last_seen_at timestamptz,
  deals int NOT NULL DEFAULT 0,
  deals_90d int NOT NULL DEFAULT 0,
  open_deals int NOT NULL DEFAULT 0,
  won_deals int NOT NULL DEFAULT 0,
  lost_deals int NOT NULL DEFAULT 0,
  lost_deals_90d int NOT NULL DEFAULT 0,
  last_deal_at timestamptz,
  last_deal_update_at timestamptz,
  deal_updates_30d int,
  -- predictive CLV (docs/predictive.md): BG/NBD + Gamma-Gamma fitted over all customers at each refresh
  p_alive float8,
  expected_orders_90d float8,
  predicted_clv numeric,
  expected_next_order_at timestamptz
);
COMMENT ON TABLE segments.customers IS
  'Customer facts, one row per customer found in any source, as of the last segments.refresh_facts()';
COMMENT ON COLUMN segments.customers.customer_id IS 'The customer''s id in the mapped sources';
COMMENT ON COLUMN segments.customers.email IS 'From the contacts source';
COMMENT ON COLUMN segments.customers.opted_in IS 'Opted in to marketing (contacts source)';
COMMENT ON COLUMN segments.customers.lead_at IS 'Lead date: earliest contacts.created_at';
COMMENT ON COLUMN segments.customers.first_order_at IS 'First valid order';
COMMENT ON COLUMN segments.customers.second_order_at IS 'Second valid order';
COMMENT ON COLUMN segments.customers.last_order_at IS 'Latest valid order';
COMMENT ON COLUMN segments.customers.orders IS
  'Valid orders; a refund (valid row with a negative amount) is not an order, it reduces revenue';
COMMENT ON COLUMN segments.customers.attempted_orders IS 'All orders, valid or not (cancelled, failed); refunds excluded';
COMMENT ON COLUMN segments.customers.revenue IS 'clv() of valid orders; 0 without any';
COMMENT ON COLUMN segments.customers.aov IS 'Average order value: revenue / orders';
COMMENT ON COLUMN segments.customers.order_latency_days IS 'order_latency() of valid orders: mean days between orders';
COMMENT ON COLUMN segments.customers.days_since_last_order IS 'Days from the last valid order to refreshed_at';
COMMENT ON COLUMN segments.customers.lifecycle IS 'lifecycle_stage() of valid orders as of refreshed_at';
COMMENT ON COLUMN segments.customers.value_band IS 'value_band of aov against the mean aov of all buyers';
COMMENT ON COLUMN segments.customers.first_order_delay_days IS 'Days from lead_at to the first valid order';
COMMENT ON COLUMN segments.customers.second_order_delay_days IS 'Days from the first to the second valid order';
COMMENT ON COLUMN segments.customers.refreshed_at IS 'The as-of time of the facts refresh that computed this row';
COMMENT ON COLUMN segments.customers.orders_7d IS 'Valid orders in the 7 days before refreshed_at (also _14d, _30d, _90d)';
COMMENT ON COLUMN segments.customers.product_views_14d IS 'product_view events in the last 14 days (also _7d, _30d)';
COMMENT ON COLUMN segments.customers.last_abandoned_cart_at IS
  'Latest cart_add (within 30 days) that was the last add before no order/checkout followed within 15 minutes';
COMMENT ON COLUMN segments.customers.abandoned_carts_7d IS 'Abandoned carts (see last_abandoned_cart_at) in the last 7 days (also _14d)';
COMMENT ON COLUMN segments.customers.last_campaign_engagement_at IS 'Latest email_open or email_click event';
COMMENT ON COLUMN segments.customers.last_engaged_at IS 'Latest email open/click, session, or subscription last_seen_at';
COMMENT ON COLUMN segments.customers.subscription_status IS 'Status of the latest subscription';
COMMENT ON COLUMN segments.customers.has_active_subscription IS 'Has a paid (non-trial) subscription with status active';
COMMENT ON COLUMN segments.customers.on_trial IS 'Has a trial subscription that is trialing or active';
COMMENT ON COLUMN segments.customers.trial_started_at IS 'Start of the latest trial';
COMMENT ON COLUMN segments.customers.engagement_rating IS 'Engagement rating (1..5) of the latest subscription that has one';
COMMENT ON COLUMN segments.customers.deals_90d IS 'Deals created in the last 90 days';
COMMENT ON COLUMN segments.customers.lost_deals_90d IS 'Deals lost (state lost, updated or created) in the last 90 days';
COMMENT ON COLUMN segments.customers.p_alive IS
  'Probability the customer is still active (BG/NBD fitted over all customers at the facts refresh)';
COMMENT ON COLUMN segments.customers.expected_orders_90d IS 'Expected valid orders in the next 90 days (BG/NBD)';
COMMENT ON COLUMN segments.customers.predicted_clv IS
  'Predicted value of the next 12 months, discounted 1% a month (BG/NBD x Gamma-Gamma spend)';
COMMENT ON COLUMN segments.customers.expected_next_order_at IS
  'Last order + the median wait of a still-active customer (BG/NBD); in the past = overdue';
COMMENT ON COLUMN segments.customers.deal_updates_30d IS 'Most updates of one deal in the last 30 days (updates_30d, else 1 if updated_at is recent)';
GRANT SELECT ON segments.customers TO PUBLIC;

CREATE TABLE segments.facts_status (
  id int PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  refreshed_at timestamptz NOT NULL,
  started_at timestamptz NOT NULL,
  duration interval NOT NULL,
  customers bigint NOT NULL,
  inserted bigint NOT NULL,
  updated bigint NOT NULL,
  deleted bigint NOT NULL
);
COMMENT ON TABLE segments.facts_status IS 'The last segments.refresh_facts(): as-of time, duration, row counts';
GRANT SELECT ON segments.facts_status TO PUBLIC;

-- The facts query, live, as of a given time (one row per customer in any mapped source).
CREATE FUNCTION segments.compute_facts(as_of timestamptz DEFAULT now(), only_customers text[] DEFAULT NULL)
RETURNS SETOF segments.customers
LANGUAGE sql STABLE AS $$
WITH
o AS (
  SELECT x.customer_id,
    count(*) FILTER (WHERE x.purchase)::int AS orders,
    count(*) FILTER (WHERE coalesce(x.amount, 0) >= 0)::int AS attempted_orders,
    coalesce(@extschema@.clv(x.amount) FILTER (WHERE x.valid), 0) AS revenue,
    min(x.ordered_at) FILTER (WHERE x.purchase) AS first_order_at,
    min(x.ordered_at) FILTER (WHERE x.purchase AND x.nth = 2) AS second_order_at,
    max(x.ordered_at) FILTER (WHERE x.purchase) AS last_order_at,
    max(x.ordered_at) FILTER (WHERE coalesce(x.amount, 0) >= 0) AS last_attempted_order_at,
    @extschema@.order_latency(x.ordered_at) FILTER (WHERE x.purchase) AS order_latency_days,
    @extschema@.lifecycle_stage(x.ordered_at, as_of) FILTER (WHERE x.purchase) AS lifecycle,
    count(*) FILTER (WHERE x.purchase AND x.ordered_at > as_of - interval '7 days')::int AS orders_7d,
    count(*) FILTER (WHERE x.purchase AND x.ordered_at > as_of - interval '14 days')::int AS orders_14d,
    count(*) FILTER (WHERE x.purchase AND x.ordered_at > as_of - interval '30 days')::int AS orders_30d,
    count(*) FILTER (WHERE x.purchase AND x.ordered_at > as_of - interval '90 days')::int AS orders_90d,
    coalesce(sum(x.amount) FILTER (WHERE x.valid AND x.ordered_at > as_of - interval '30 days'), 0) AS revenue_30d,
    @extschema@.rfm_summary(x.ordered_at, x.amount, as_of, 'weeks') FILTER (WHERE x.purchase) AS rfm
  FROM (
    SELECT so.customer_id COLLATE "C" AS customer_id, so.ordered_at, so.amount, coalesce(so.valid, false) AS valid,
           coalesce(so.valid, false) AND coalesce(so.amount, 0) >= 0 AS purchase,
           count(*) FILTER (WHERE coalesce(so.valid, false) AND coalesce(so.amount, 0) >= 0)
             OVER (PARTITION BY so.customer_id COLLATE "C" ORDER BY so.ordered_at ROWS UNBOUNDED PRECEDING) AS nth
    FROM segments.source_orders so
    WHERE so.customer_id IS NOT NULL AND so.ordered_at <= as_of
      AND (only_customers IS NULL OR so.customer_id = ANY (only_customers))
  ) x
  GROUP BY x.customer_id
),
-- The buy-till-you-die models, fitted once over every buyer's RFM summary (in weeks).
models AS (
  SELECT @extschema@.bgnbd_fit((o.rfm).frequency, (o.rfm).recency, (o.rfm).t) AS bg,
         -- Gamma-Gamma models positive spend: repeat buyers whose repeat purchases average 0 or less
         -- (free orders) are left out of its fit and get no predicted CLV.
         @extschema@.gammagamma_fit((o.rfm).frequency, (o.rfm).monetary)
           FILTER (WHERE (o.rfm).frequency = 0 OR (o.rfm).monetary > 0) AS gg
  FROM o WHERE o.rfm IS NOT NULL AND only_customers IS NULL  -- fitted over everyone, never a subset
),
ct AS (
  SELECT DISTINCT ON (c.customer_id COLLATE "C") c.customer_id COLLATE "C" AS customer_id, c.email, c.first_name,
         c.last_name, c.opted_in, min(c.created_at) OVER (PARTITION BY c.customer_id COLLATE "C") AS lead_at,
         c.shipping_address, c.billing_address
  FROM segments.source_contacts c
  WHERE c.customer_id IS NOT NULL AND (only_customers IS NULL OR c.customer_id = ANY (only_customers))
  ORDER BY c.customer_id COLLATE "C", c.created_at DESC NULLS LAST
),
ev AS (
  SELECT e.customer_id COLLATE "C" AS customer_id,
    count(*) FILTER (WHERE e.kind = 'product_view' AND e.at > as_of - interval '7 days')::int AS product_views_7d,
    count(*) FILTER (WHERE e.kind = 'product_view' AND e.at > as_of - interval '14 days')::int AS product_views_14d,
    count(*) FILTER (WHERE e.kind = 'product_view' AND e.at > as_of - interval '30 days')::int AS product_views_30d,
    count(*) FILTER (WHERE e.kind = 'cart_add' AND e.at > as_of - interval '7 days')::int AS cart_adds_7d,
    count(*) FILTER (WHERE e.kind = 'cart_add' AND e.at > as_of - interval '14 days')::int AS cart_adds_14d,
    max(e.at) FILTER (WHERE e.kind = 'product_view') AS last_product_view_at,
    max(e.at) FILTER (WHERE e.kind = 'cart_add') AS last_cart_add_at,
    max(e.at) FILTER (WHERE e.kind = 'checkout') AS last_checkout_at,
    count(*) FILTER (WHERE e.kind = 'back_in_stock')::int AS back_in_stock_requests,
    max(e.at) FILTER (WHERE e.kind = 'back_in_stock') AS last_back_in_stock_at,
    max(e.at) FILTER (WHERE e.kind = 'email_open') AS last_email_open_at,
    max(e.at) FILTER (WHERE e.kind = 'email_click') AS last_email_click_at,
    max(e.at) FILTER (WHERE e.kind = 'session') AS last_session_at,
    count(*) FILTER (WHERE e.kind = 'session' AND e.at > as_of - interval '30 days')::int AS sessions_30d
  FROM segments.source_events e
  WHERE e.customer_id IS NOT NULL AND e.at <= as_of AND (only_customers IS NULL OR e.customer_id = ANY (only_customers))
  GROUP BY 1
),
-- Abandoned carts: a cart_add that is the last add before the next completion (valid order or
-- checkout event), with no completion within 15 minutes of it (and 15 minutes have passed).
cart AS (
  SELECT y.customer_id,
    max(y.at) AS last_abandoned_cart_at,
    count(*) FILTER (WHERE y.at > as_of - interval '7 days')::int AS abandoned_carts_7d,
    count(*) FILTER (WHERE y.at > as_of - interval '14 days')::int AS abandoned_carts_14d
  FROM (
    SELECT z.customer_id, z.at, z.is_add,
      min(z.at) FILTER (WHERE NOT z.is_add) OVER w AS next_done,
      min(z.at) FILTER (WHERE z.is_add) OVER w AS next_add
    FROM (
      SELECT e.customer_id COLLATE "C" AS customer_id, e.at, e.kind = 'cart_add' AS is_add
      FROM segments.source_events e
      WHERE e.kind IN ('cart_add', 'checkout') AND e.customer_id IS NOT NULL
        AND (only_customers IS NULL OR e.customer_id = ANY (only_customers))
        AND e.at > as_of - interval '30 days' AND e.at <= as_of
      UNION ALL
      SELECT so.customer_id COLLATE "C", so.ordered_at, false
      FROM segments.source_orders so
      WHERE coalesce(so.valid, false) AND coalesce(so.amount, 0) >= 0 AND so.customer_id IS NOT NULL
        AND (only_customers IS NULL OR so.customer_id = ANY (only_customers))
        AND so.ordered_at > as_of - interval '30 days' AND so.ordered_at <= as_of
    ) z
    WINDOW w AS (PARTITION BY z.customer_id ORDER BY z.at, z.is_add ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING)
  ) y
  WHERE y.is_add
    AND (y.next_add IS NULL OR (y.next_done IS NOT NULL AND y.next_done <= y.next_add))
    AND CASE WHEN y.next_done IS NULL THEN y.at <= as_of - interval '15 minutes'
             ELSE y.next_done > y.at + interval '15 minutes' END
  GROUP BY y.customer_id
),
sub AS (
  SELECT s.customer_id COLLATE "C" AS customer_id,
    (array_agg(s.status ORDER BY s.started_at DESC))[1] AS subscription_status,
    coalesce(bool_or(s.status = 'active' AND NOT coalesce(s.is_trial, false)), false) AS has_active_subscription,
    coalesce(bool_or(s.status = 'trialing' OR (coalesce(s.is_trial, false) AND s.status = 'active')), false) AS on_trial,
    max(s.started_at) FILTER (WHERE coalesce(s.is_trial, false) OR s.status = 'trialing') AS trial_started_at,
    min(s.started_at) FILTER (WHERE NOT coalesce(s.is_trial, false) AND s.status <> 'trialing') AS subscribed_at,
    (array_agg(s.engagement_rating ORDER BY s.started_at DESC) FILTER (WHERE s.engagement_rating IS NOT NULL))[1] AS engagement_rating,
    max(s.last_seen_at) AS last_seen_at
  FROM segments.source_subscriptions s
  WHERE s.customer_id IS NOT NULL AND s.started_at <= as_of
    AND (only_customers IS NULL OR s.customer_id = ANY (only_customers))
  GROUP BY 1
),
dl AS (
  SELECT d.customer_id COLLATE "C" AS customer_id,
    count(*)::int AS deals,
    count(*) FILTER (WHERE d.created_at > as_of - interval '90 days')::int AS deals_90d,
    count(*) FILTER (WHERE d.state = 'open')::int AS open_deals,
    count(*) FILTER (WHERE d.state = 'won')::int AS won_deals,
    count(*) FILTER (WHERE d.state = 'lost')::int AS lost_deals,
    count(*) FILTER (WHERE d.state = 'lost' AND coalesce(d.updated_at, d.created_at) > as_of - interval '90 days')::int AS lost_deals_90d,
    max(d.created_at) AS last_deal_at,
    max(coalesce(d.updated_at, d.created_at)) AS last_deal_update_at,
    max(coalesce(d.updates_30d, (coalesce(d.updated_at, d.created_at) > as_of - interval '30 days')::int))::int AS deal_updates_30d
  FROM segments.source_deals d
  WHERE d.customer_id IS NOT NULL AND d.created_at <= as_of
    AND (only_customers IS NULL OR d.customer_id = ANY (only_customers))
  GROUP BY 1
),
ids AS (
  SELECT o.customer_id FROM o UNION SELECT ct.customer_id FROM ct UNION SELECT ev.customer_id FROM ev
  UNION SELECT sub.customer_id FROM sub UNION SELECT dl.customer_id FROM dl
),
f AS (
  SELECT ids.customer_id AS id, ct.email, ct.first_name, ct.last_name, ct.opted_in, ct.lead_at,
    o.first_order_at, o.second_order_at, o.last_order_at,
    coalesce(o.orders, 0) AS orders, coalesce(o.attempted_orders, 0) AS attempted_orders,
    coalesce(o.revenue, 0) AS revenue,
    o.revenue / nullif(o.orders, 0) AS aov,
    o.order_latency_days,
    extract(epoch FROM as_of - o.last_order_at)::float8 / 86400 AS days_since_last_order,
    o.lifecycle,
    extract(epoch FROM o.first_order_at - ct.lead_at)::float8 / 86400 AS first_order_delay_days,
    extract(epoch FROM o.second_order_at - o.first_order_at)::float8 / 86400 AS second_order_delay_days,
    ct.shipping_address, ct.billing_address, o.last_attempted_order_at,
    coalesce(o.orders_7d, 0) AS orders_7d, coalesce(o.orders_14d, 0) AS orders_14d,
    coalesce(o.orders_30d, 0) AS orders_30d, coalesce(o.orders_90d, 0) AS orders_90d,
    coalesce(o.revenue_30d, 0) AS revenue_30d, o.rfm,
    ev.*, cart.*, sub.*, dl.*
  FROM ids
  LEFT JOIN o ON o.customer_id = ids.customer_id
  LEFT JOIN ct ON ct.customer_id = ids.customer_id
  LEFT JOIN ev ON ev.customer_id = ids.customer_id
  LEFT JOIN cart ON cart.customer_id = ids.customer_id
  LEFT JOIN sub ON sub.customer_id = ids.customer_id
  LEFT JOIN dl ON dl.customer_id = ids.customer_id
)
SELECT f.id COLLATE "default", f.email, f.first_name, f.last_name, f.opted_in, f.lead_at,
  f.first_order_at, f.second_order_at, f.last_order_at, f.orders, f.attempted_orders, f.revenue, f.aov,
  f.order_latency_days, f.days_since_last_order, f.lifecycle,
  CASE WHEN f.orders > 0 AND m.mean_aov > 0 THEN @extschema@.value_band(f.aov, m.mean_aov) END,
  f.first_order_delay_days, f.second_order_delay_days, as_of,
  f.shipping_address, f.billing_address, f.last_attempted_order_at,
  f.orders_7d, f.orders_14d, f.orders_30d, f.orders_90d, f.revenue_30d,
  coalesce(f.product_views_7d, 0), coalesce(f.product_views_14d, 0), coalesce(f.product_views_30d, 0),
  coalesce(f.cart_adds_7d, 0), coalesce(f.cart_adds_14d, 0),
  f.last_product_view_at, f.last_cart_add_at, f.last_abandoned_cart_at,
  coalesce(f.abandoned_carts_7d, 0), coalesce(f.abandoned_carts_14d, 0), f.last_checkout_at,
  coalesce(f.back_in_stock_requests, 0), f.last_back_in_stock_at,
  f.last_email_open_at, f.last_email_click_at, greatest(f.last_email_open_at, f.last_email_click_at),
  f.last_session_at, coalesce(f.sessions_30d, 0),
  greatest(f.last_email_open_at, f.last_email_click_at, f.last_session_at, f.last_seen_at),
  f.subscription_status, coalesce(f.has_active_subscription, false), coalesce(f.on_trial, false),
  f.trial_started_at, f.subscribed_at, f.engagement_rating, f.last_seen_at,
  coalesce(f.deals, 0), coalesce(f.deals_90d, 0), coalesce(f.open_deals, 0), coalesce(f.won_deals, 0),
  coalesce(f.lost_deals, 0), coalesce(f.lost_deals_90d, 0), f.last_deal_at, f.last_deal_update_at,
  f.deal_updates_30d,
  CASE WHEN (md.bg).converged THEN @extschema@.p_alive(md.bg, (f.rfm).frequency, (f.rfm).recency, (f.rfm).t) END,
  CASE WHEN (md.bg).converged
       THEN @extschema@.expected_purchases(md.bg, (f.rfm).frequency, (f.rfm).recency, (f.rfm).t, 90 / 7.0) END,
  -- Gamma-Gamma has a mean spend only when q > 1; a tiny or odd shop may not identify it.
  CASE WHEN (md.bg).converged AND (md.gg).converged AND (md.gg).q > 1
            AND ((f.rfm).frequency = 0 OR (f.rfm).monetary > 0)
       THEN round(@extschema@.predicted_clv(md.bg, md.gg, (f.rfm).frequency, (f.rfm).recency, (f.rfm).t,
                                            (f.rfm).monetary)::numeric, 2) END,
  CASE WHEN (md.bg).converged
       THEN @extschema@.expected_next_order_at(md.bg, (f.rfm).frequency, (f.rfm).recency, f.last_order_at) END
FROM f CROSS JOIN (SELECT avg(f2.aov) FILTER (WHERE f2.orders > 0) AS mean_aov FROM f f2) m
LEFT JOIN models md ON true
$$;
COMMENT ON FUNCTION segments.compute_facts(timestamptz, text[]) IS
  'The customer facts query, live, as of a time (what segments.refresh_facts materializes); optionally only some customers (value bands then against their mean)';

-- A setting of this extension, with a default when unset (loads the library so its settings exist).
CREATE FUNCTION segments._setting(name text, fallback text) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM @extschema@.value_band(1::numeric, 1::numeric);  -- loads the library: defines the settings
  RETURN coalesce(nullif(current_setting(name, true), ''), fallback);
END $$;

-- Materializes the facts: one statement that deletes customers gone from the sources and upserts
-- the rest, so readers keep reading the previous facts until commit. Runs as the extension owner
-- (source mappings are an administrator's); serialized by an advisory lock.
-- Customers whose source rows changed since the last refresh (logged by segments.track_changes).
CREATE TABLE segments.changed_customers (
  customer_id text PRIMARY KEY,
  changed_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE segments.changed_customers IS
  'Customers whose source rows changed since the last facts refresh (triggers of segments.track_changes)';
GRANT SELECT ON segments.changed_customers TO PUBLIC;

-- The SQL of a mapping's customer_id: the quoted column, or the validated expression.
CREATE FUNCTION segments._customer_expr(source regclass, columns jsonb) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = source AND a.attnum > 0
                           AND NOT a.attisdropped AND a.attname = columns ->> 'customer_id')
              THEN quote_ident(columns ->> 'customer_id')
              ELSE '(' || segments._check_fragment(columns ->> 'customer_id', 'mapping customer_id') || E'\n)' END
$$;

-- Statement trigger on a mapped table: logs the customer ids of the changed rows (old and new).
-- Runs as the extension owner so any role writing the shop's tables can log.
CREATE FUNCTION segments._track_changes() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE m record; e text; t text;
BEGIN
  FOR m IN SELECT DISTINCT ON (segments._customer_expr(source, columns)) source, columns
           FROM segments.source_map WHERE source = TG_RELID LOOP
    e := segments._customer_expr(m.source, m.columns);
    FOREACH t IN ARRAY CASE TG_OP WHEN 'INSERT' THEN ARRAY['pgs_new'] WHEN 'DELETE' THEN ARRAY['pgs_old']
                                  ELSE ARRAY['pgs_new', 'pgs_old'] END LOOP
      EXECUTE format('INSERT INTO segments.changed_customers AS c (customer_id)
                      SELECT DISTINCT (%1$s)::text FROM %2$I WHERE (%1$s) IS NOT NULL
                      ON CONFLICT (customer_id) DO UPDATE SET changed_at = now()', e, t);
    END LOOP;
  END LOOP;
  RETURN NULL;
END $$;

-- Installs (or with false removes) the change-logging triggers on every mapped table.
CREATE FUNCTION segments.track_changes(enable boolean DEFAULT true) RETURNS int
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE r regclass; t name; n int := 0;
BEGIN
  FOR r IN SELECT DISTINCT m.source FROM segments.source_map m
           JOIN pg_class c ON c.oid = m.source WHERE c.relkind IN ('r', 'p') LOOP
    FOR t IN SELECT tgname FROM pg_trigger WHERE tgrelid = r AND tgname LIKE 'pg\_segments\_track\_%' LOOP
      EXECUTE format('DROP TRIGGER %I ON %s', t, r);
    END LOOP;
    IF enable THEN
      EXECUTE format('CREATE TRIGGER pg_segments_track_insert AFTER INSERT ON %s REFERENCING NEW TABLE AS pgs_new '
                     'FOR EACH STATEMENT EXECUTE FUNCTION segments._track_changes()', r);
      EXECUTE format('CREATE TRIGGER pg_segments_track_update AFTER UPDATE ON %s REFERENCING OLD TABLE AS pgs_old '
                     'NEW TABLE AS pgs_new FOR EACH STATEMENT EXECUTE FUNCTION segments._track_changes()', r);
      EXECUTE format('CREATE TRIGGER pg_segments_track_delete AFTER DELETE ON %s REFERENCING OLD TABLE AS pgs_old '
                     'FOR EACH STATEMENT EXECUTE FUNCTION segments._track_changes()', r);
    END IF;
    n := n + 1;
  END LOOP;
  RETURN n;
END $$;
COMMENT ON FUNCTION segments.track_changes(boolean) IS
  'Installs (true) or removes (false) triggers on the mapped tables that log changed customers for refresh_facts(incremental => true)';

CREATE FUNCTION segments.refresh_facts(as_of timestamptz DEFAULT now(), incremental boolean DEFAULT false)
RETURNS segments.facts_status
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  started timestamptz := clock_timestamp();
  cols text; sets text; n_total bigint; n_ins bigint; n_upd bigint; n_del bigint;
  r segments.facts_status;
BEGIN
  PERFORM pg_advisory_xact_lock(1885824371, 2);
  -- After a restore the mapped views are the extension's empty ones: rebuild them.
  IF EXISTS (SELECT 1 FROM segments.source_map m
             WHERE obj_description(format('segments.%I', 'source_' || m.kind)::regclass, 'pg_class') LIKE '%not mapped%') THEN
    PERFORM segments.restore_sources();
  END IF;
  IF incremental THEN
    RETURN segments._refresh_changed_facts(as_of, started);
  END IF;
  SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum),
         string_agg(format('%1$I = excluded.%1$I', attname), ', ' ORDER BY attnum) FILTER (WHERE attname <> 'customer_id')
    INTO cols, sets
  FROM pg_attribute WHERE attrelid = 'segments.customers'::regclass AND attnum > 0 AND NOT attisdropped;
  EXECUTE format($q$
    WITH new AS MATERIALIZED (SELECT * FROM segments.compute_facts($1)),
    del AS (DELETE FROM segments.customers c
            USING (SELECT customer_id FROM segments.customers EXCEPT SELECT customer_id FROM new) gone
            WHERE c.customer_id = gone.customer_id RETURNING 1),
    ups AS (INSERT INTO segments.customers AS c (%1$s) SELECT %1$s FROM new
            ON CONFLICT (customer_id) DO UPDATE SET %2$s
            RETURNING (xmax = 0) AS inserted)
    SELECT (SELECT count(*) FROM new), (SELECT count(*) FROM ups WHERE inserted),
           (SELECT count(*) FROM ups WHERE NOT inserted), (SELECT count(*) FROM del)$q$, cols, sets)
  INTO n_total, n_ins, n_upd, n_del USING as_of;
  INSERT INTO segments.facts_status AS s (id, refreshed_at, started_at, duration, customers, inserted, updated, deleted)
  VALUES (1, as_of, started, clock_timestamp() - started, n_total, n_ins, n_upd, n_del)
  ON CONFLICT (id) DO UPDATE SET refreshed_at = excluded.refreshed_at, started_at = excluded.started_at,
    duration = excluded.duration, customers = excluded.customers, inserted = excluded.inserted,
    updated = excluded.updated, deleted = excluded.deleted
  RETURNING * INTO r;
  RETURN r;
END $$;
COMMENT ON FUNCTION segments.refresh_facts(timestamptz, boolean) IS
  'Recomputes segments.customers as of a time (default now()) as a diff, or only the logged changed customers (incremental); returns counts and duration';

-- Incremental: recompute only the customers logged in segments.changed_customers, then every
-- customer's value band against the new mean. Others keep their facts as of their refreshed_at.
CREATE FUNCTION segments._refresh_changed_facts(as_of timestamptz, started timestamptz)
RETURNS segments.facts_status
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  ids text[]; cols text; sets text; n_total bigint; n_ins bigint; n_upd bigint; n_del bigint;
  r segments.facts_status;
BEGIN
  ids := ARRAY(SELECT customer_id FROM segments.changed_customers ORDER BY customer_id);
  DELETE FROM segments.changed_customers c WHERE c.customer_id = ANY (ids);
  -- The predictive columns come from models fitted over all customers: only a full refresh moves
  -- them (a changed customer keeps its previous predictions; a new one has none yet).
  SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum),
         string_agg(format('%1$I = excluded.%1$I', attname), ', ' ORDER BY attnum)
           FILTER (WHERE attname <> ALL (ARRAY['customer_id', 'p_alive', 'expected_orders_90d', 'predicted_clv',
                                                'expected_next_order_at']))
    INTO cols, sets
  FROM pg_attribute WHERE attrelid = 'segments.customers'::regclass AND attnum > 0 AND NOT attisdropped;
  EXECUTE format($q$
    WITH new AS MATERIALIZED (SELECT * FROM segments.compute_facts($1, $2)),
    del AS (DELETE FROM segments.customers c
            WHERE c.customer_id = ANY ($2) AND c.customer_id NOT IN (SELECT customer_id FROM new) RETURNING 1),
    ups AS (INSERT INTO segments.customers AS c (%1$s) SELECT %1$s FROM new
            ON CONFLICT (customer_id) DO UPDATE SET %2$s
            RETURNING (xmax = 0) AS inserted)
    SELECT (SELECT count(*) FROM new), (SELECT count(*) FROM ups WHERE inserted),
           (SELECT count(*) FROM ups WHERE NOT inserted), (SELECT count(*) FROM del)$q$, cols, sets)
  INTO n_total, n_ins, n_upd, n_del USING as_of, ids;
  UPDATE segments.customers c SET value_band = x.band
  FROM (SELECT k.customer_id,
               CASE WHEN k.orders > 0 AND m.mean_aov > 0 THEN @extschema@.value_band(k.aov, m.mean_aov) END AS band
        FROM segments.customers k,
             (SELECT avg(aov) FILTER (WHERE orders > 0) AS mean_aov FROM segments.customers) m) x
  WHERE x.customer_id = c.customer_id AND c.value_band IS DISTINCT FROM x.band;
  r := ROW(1, as_of, started, clock_timestamp() - started, n_total, n_ins, n_upd, n_del);
  RETURN r;
END $$;

-- Facts computed longer than pg_segments.facts_max_age ago (wall clock, whatever their as-of time)
-- are refreshed, as of now(), before a segment refresh.
CREATE FUNCTION segments._ensure_facts() RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE max_age interval := segments._setting('pg_segments.facts_max_age', '10min')::interval;
        last timestamptz;
BEGIN
  IF max_age < interval '0' THEN
    RETURN false;
  END IF;
  SELECT started_at INTO last FROM segments.facts_status;
  IF last IS NOT NULL AND last >= now() - max_age THEN
    RETURN false;
  END IF;
  PERFORM pg_advisory_xact_lock(1885824371, 2);
  -- Another session may have refreshed them while we waited.
  SELECT started_at INTO last FROM segments.facts_status;
  IF last IS NOT NULL AND last >= now() - max_age THEN
    RETURN false;
  END IF;
  PERFORM segments.refresh_facts(now());
  RETURN true;
END $$;
-- Segment engine, part 3: the segment catalog and its management functions (docs/segments.md).
--
-- Privileges: every engine function runs with the caller's rights. Catalog rows carry their owner
-- (the role that created the segment); row-level security lets a role see and change only the
-- segments of roles it has the privileges of (superusers and the extension owner see all).
-- A segment's rule lives in a materialized view segment_rules.s_<id> owned by the segment owner:
-- REFRESH MATERIALIZED VIEW runs it as that owner in a security-restricted operation, so a rule
-- can never read what its owner cannot, whoever triggers the refresh.

CREATE TABLE segments.segments (
  id bigserial PRIMARY KEY,
  name text NOT NULL UNIQUE,
  description text,
  rule text,
  query text,
  owner regrole NOT NULL DEFAULT current_user::regrole,
  status text NOT NULL DEFAULT 'building' CHECK (status IN ('building', 'active', 'inactive', 'failed')),
  refresh_interval interval NOT NULL DEFAULT '1 day' CHECK (refresh_interval > interval '0'),
  timezone text,
  next_refresh_at timestamptz DEFAULT now(),
  last_refresh_at timestamptz,
  refresh_requested_at timestamptz,
  last_error text,
  last_error_sqlstate text,
  last_error_at timestamptz,
  consecutive_failures int NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  pack text,
  required_sources text[],
  CHECK ((rule IS NULL) <> (query IS NULL)),
  CHECK (length(name) BETWEEN 1 AND 63)
);
COMMENT ON TABLE segments.segments IS
  'Segment catalog: name, rule or query, owner, status (building, active, inactive, failed), schedule, last error';
COMMENT ON COLUMN segments.segments.rule IS 'Boolean SQL expression over segments.customers (or NULL when query is set)';
COMMENT ON COLUMN segments.segments.query IS 'SQL query returning one column of customer ids (or NULL when rule is set)';
COMMENT ON COLUMN segments.segments.owner IS 'The role the rule runs as (the role that created the segment)';
COMMENT ON COLUMN segments.segments.status IS
  'building (never refreshed), active, inactive (paused by deactivate), failed (last refresh failed; last good membership kept)';
COMMENT ON COLUMN segments.segments.timezone IS 'Time zone in which refresh_interval is added (NULL: the server''s)';
COMMENT ON COLUMN segments.segments.refresh_requested_at IS 'Set by segments.refresh_now(): the worker refreshes at once';
COMMENT ON COLUMN segments.segments.consecutive_failures IS 'Failed refreshes since the last success (drives the retry back-off)';
COMMENT ON COLUMN segments.segments.required_sources IS 'Source kinds the segment needs (checked at create)';
SELECT pg_catalog.pg_extension_config_dump('segments.segments', '');
SELECT pg_catalog.pg_extension_config_dump('segments.segments_id_seq', '');

-- membership and changes carry no foreign key (1.3M rows of a first pack build pay 3x for the
-- checks); only refreshes write them, row-level security admits only existing segments' ids, and
-- drop_segment deletes a segment's rows.
CREATE TABLE segments.membership (
  segment_id bigint NOT NULL,
  customer_id text NOT NULL,
  joined_at timestamptz NOT NULL,
  revenue_mark numeric NOT NULL DEFAULT 0,
  PRIMARY KEY (segment_id, customer_id)
);
COMMENT ON TABLE segments.membership IS 'Current members of each segment (written only by refreshes)';
COMMENT ON COLUMN segments.membership.revenue_mark IS
  'The member''s revenue at the last refresh: the next refresh attributes the growth as added revenue';
SELECT pg_catalog.pg_extension_config_dump('segments.membership', '');

CREATE TABLE segments.changes (
  id bigserial PRIMARY KEY,
  segment_id bigint NOT NULL,
  segment text NOT NULL,
  customer_id text NOT NULL,
  change text NOT NULL CHECK (change IN ('joined', 'left')),
  at timestamptz NOT NULL,
  run_id bigint
);
CREATE INDEX ON segments.changes (segment_id, id);
COMMENT ON TABLE segments.changes IS
  'Append-only log of joins and leaves; ids increase in commit order, so a consumer can resume after the last id it saw';
SELECT pg_catalog.pg_extension_config_dump('segments.changes', '');
SELECT pg_catalog.pg_extension_config_dump('segments.changes_id_seq', '');

CREATE TABLE segments.runs (
  id bigserial PRIMARY KEY,
  segment_id bigint NOT NULL REFERENCES segments.segments ON DELETE CASCADE,
  trigger text NOT NULL CHECK (trigger IN ('worker', 'manual', 'refresh_now', 'create', 'cron')),
  started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  finished_at timestamptz,
  status text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'succeeded', 'failed', 'skipped')),
  joined int,
  "left" int,
  size bigint,
  sqlstate text,
  message text,
  backend_pid int DEFAULT pg_backend_pid(),
  facts_refreshed boolean
);
CREATE INDEX ON segments.runs (segment_id, id);
CREATE INDEX ON segments.runs (status) WHERE status = 'running';
COMMENT ON TABLE segments.runs IS
  'One row per segment refresh: trigger, times, status (running, succeeded, failed, skipped), joined/left, error';
SELECT pg_catalog.pg_extension_config_dump('segments.runs', '');
SELECT pg_catalog.pg_extension_config_dump('segments.runs_id_seq', '');

CREATE TABLE segments.history (
  segment_id bigint NOT NULL REFERENCES segments.segments ON DELETE CASCADE,
  run_id bigint NOT NULL,
  at timestamptz NOT NULL,
  size bigint NOT NULL,
  joined int NOT NULL,
  "left" int NOT NULL,
  revenue numeric NOT NULL,
  orders bigint NOT NULL,
  added_revenue numeric NOT NULL,
  facts_at timestamptz,
  PRIMARY KEY (segment_id, run_id)
);
COMMENT ON TABLE segments.history IS
  'Segment development: one row per successful refresh (size, joined, left, members'' revenue and orders, added revenue)';
COMMENT ON COLUMN segments.history.added_revenue IS
  'Revenue the members before this refresh generated since the previous refresh (RetentionX added revenue)';
SELECT pg_catalog.pg_extension_config_dump('segments.history', '');

-- Row-level security: a role works with the segments of roles whose privileges it has.
ALTER TABLE segments.segments ENABLE ROW LEVEL SECURITY;
CREATE POLICY owner_rows ON segments.segments
  USING (pg_catalog.pg_has_role(owner, 'USAGE')) WITH CHECK (pg_catalog.pg_has_role(owner, 'USAGE'));
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['membership', 'changes', 'runs', 'history'] LOOP
    EXECUTE format('ALTER TABLE segments.%I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY owner_rows ON segments.%I USING (segment_id IN (SELECT id FROM segments.segments))', t);
  END LOOP;
END $$;
GRANT SELECT, INSERT, UPDATE, DELETE ON segments.segments, segments.membership, segments.runs TO PUBLIC;
GRANT SELECT, INSERT, DELETE ON segments.changes, segments.history TO PUBLIC;
GRANT USAGE ON SEQUENCE segments.segments_id_seq, segments.changes_id_seq, segments.runs_id_seq TO PUBLIC;

-- The segment row, by name, with a clear error when there is none (or it is not yours).
CREATE FUNCTION segments._get(name text) RETURNS segments.segments
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE s segments.segments;
BEGIN
  SELECT * INTO s FROM segments.segments g WHERE g.name = _get.name;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'segment "%" does not exist', name USING ERRCODE = '42704',
      HINT = 'SELECT name FROM segments.segments lists the segments you can see.';
  END IF;
  RETURN s;
END $$;

CREATE FUNCTION segments._rule_relation(id bigint) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT format('segment_rules.%I', 's_' || id) $$;

-- The query a segment's rule materializes (a customer_id text column), from a validated fragment.
CREATE FUNCTION segments._membership_sql(rule text, query text) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF (rule IS NULL) = (query IS NULL) THEN
    RAISE EXCEPTION 'give exactly one of rule or query' USING ERRCODE = '22023',
      HINT = 'rule: a boolean expression over segments.customers, e.g. ''orders > 1''; query: SQL returning customer ids.';
  END IF;
  IF rule IS NOT NULL THEN
    RETURN format(E'SELECT c.customer_id FROM segments.customers AS c WHERE (\n%s\n)',
                  segments._check_fragment(rule, 'rule'));
  END IF;
  RETURN format(E'SELECT * FROM (\n%s\n) AS q', segments._check_fragment(query, 'query'));
END $$;

-- Compiles the rule or query as the calling role (syntax, columns, boolean, privileges) and
-- (re)creates the rule's materialized view, empty, owned by the segment owner.
CREATE FUNCTION segments._build_rule_relation(id bigint, rule text, query text, owner regrole) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  body text := segments._membership_sql(rule, query);
  rel text := segments._rule_relation(id);
  natts int; col name; typ regtype;
  st text; msg text; hnt text; det text;
BEGIN
  BEGIN
    -- EXPLAIN checks privileges too, without reading a row.
    EXECUTE 'EXPLAIN (COSTS OFF) ' || body;
    IF query IS NOT NULL THEN
      EXECUTE format('CREATE TEMP VIEW pgs_query_shape AS %s', body);
      SELECT count(*), min(attname), min(atttypid::regtype::text)::regtype INTO natts, col, typ
      FROM pg_attribute WHERE attrelid = 'pg_temp.pgs_query_shape'::regclass AND attnum > 0 AND NOT attisdropped;
      DROP VIEW pg_temp.pgs_query_shape;
      IF natts <> 1 THEN
        RAISE EXCEPTION 'a segment query must return exactly one column (customer ids); this one returns %', natts
          USING ERRCODE = '42601', HINT = 'SELECT customer_id FROM ... ';
      END IF;
      body := format(E'SELECT q.%I::text AS customer_id FROM (\n%s\n) AS q', col, segments._check_fragment(query, 'query'));
    END IF;
  EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, hnt = PG_EXCEPTION_HINT, det = PG_EXCEPTION_DETAIL;
    RAISE EXCEPTION 'invalid segment %: %', CASE WHEN rule IS NOT NULL THEN 'rule' ELSE 'query' END, msg
      USING ERRCODE = st, DETAIL = coalesce(nullif(det, ''), coalesce(rule, query)),
            HINT = coalesce(nullif(hnt, ''), CASE WHEN rule IS NOT NULL
              THEN 'A rule is a boolean SQL expression over the columns of segments.customers, e.g. orders > 1 AND revenue >= 100.'
              ELSE 'A query returns one column of customer ids and may read segments.customers and segments.source_* views.' END);
  END;
  IF to_regclass(rel) IS NOT NULL THEN
    EXECUTE format('DROP MATERIALIZED VIEW %s', rel);
  END IF;
  EXECUTE format('CREATE MATERIALIZED VIEW %s AS %s WITH NO DATA', rel, body);
  IF (SELECT relowner FROM pg_class WHERE oid = rel::regclass) <> owner THEN
    EXECUTE format('ALTER MATERIALIZED VIEW %s OWNER TO %I', rel, owner::text);
  END IF;
  EXECUTE format('COMMENT ON MATERIALIZED VIEW %s IS %L', rel,
                 format('pg_segments: rule of segment %s (internal; read segment_members or segments.members)', id));
END $$;

-- (Re)creates segment_members."<name>": members joined with their facts. A fixed-shape view (no
-- user SQL), so it is made as the extension owner; security_invoker so readers need their own rights.
CREATE FUNCTION segments._build_member_view(id bigint, old_name text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE nm text; cols text;
BEGIN
  SELECT s.name INTO nm FROM segments.segments s WHERE s.id = _build_member_view.id;
  IF old_name IS NOT NULL AND to_regclass(format('segment_members.%I', old_name)) IS NOT NULL THEN
    EXECUTE format('DROP VIEW segment_members.%I', old_name);
  END IF;
  IF nm IS NULL THEN
    RETURN;
  END IF;
  SELECT string_agg(format('c.%I', attname), ', ' ORDER BY attnum) INTO cols
  FROM pg_attribute WHERE attrelid = 'segments.customers'::regclass AND attnum > 0 AND NOT attisdropped
    AND attname <> 'customer_id';
  EXECUTE format('CREATE OR REPLACE VIEW segment_members.%I WITH (security_invoker = true) AS '
                 'SELECT m.customer_id, m.joined_at, %s FROM segments.membership m '
                 'JOIN segments.customers c ON c.customer_id = m.customer_id WHERE m.segment_id = %s',
                 nm, cols, id);
  EXECUTE format('COMMENT ON VIEW segment_members.%I IS %L', nm,
                 format('Members of segment %s with their facts (pg_segments)', nm));
  EXECUTE format('GRANT SELECT ON segment_members.%I TO PUBLIC', nm);
END $$;

CREATE FUNCTION segments._drop_member_view(name text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  -- Only for names no segment has any more.
  IF NOT EXISTS (SELECT 1 FROM segments.segments s WHERE s.name = _drop_member_view.name)
     AND to_regclass(format('segment_members.%I', name)) IS NOT NULL THEN
    EXECUTE format('DROP VIEW IF EXISTS segment_members.%I', name);
  END IF;
END $$;

CREATE FUNCTION segments._check_name(name text) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF name IS NULL OR btrim(name) = '' OR octet_length(name) > 63 OR name <> btrim(name) OR name ~ '[[:cntrl:]]' THEN
    RAISE EXCEPTION 'invalid segment name "%"', name USING ERRCODE = '42602',
      HINT = 'A segment name is 1 to 63 bytes, without control characters or leading/trailing spaces.';
  END IF;
END $$;

CREATE FUNCTION segments._check_schedule(refresh_interval interval, timezone text) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF refresh_interval IS NULL OR refresh_interval <= interval '0' THEN
    RAISE EXCEPTION 'refresh_interval must be positive, not %', refresh_interval USING ERRCODE = '22023',
      HINT = 'e.g. interval ''1 day'' or ''15 minutes''.';
  END IF;
  IF timezone IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_timezone_names WHERE name = timezone)
     AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_timezone_abbrevs WHERE abbrev = timezone) THEN
    RAISE EXCEPTION 'unknown time zone "%"', timezone USING ERRCODE = '22023',
      HINT = 'SELECT name FROM pg_timezone_names lists them, e.g. Europe/Berlin.';
  END IF;
END $$;

CREATE FUNCTION segments._check_sources(required text[]) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE missing text[];
BEGIN
  SELECT array_agg(k ORDER BY k) INTO missing
  FROM unnest(required) k WHERE NOT EXISTS (SELECT 1 FROM segments.source_map m WHERE m.kind = k);
  IF missing IS NOT NULL THEN
    RAISE EXCEPTION 'segment needs unmapped source%: %', CASE WHEN cardinality(missing) > 1 THEN 's' ELSE '' END,
      array_to_string(missing, ', ') USING ERRCODE = '55000',
      HINT = format('Map it first: SELECT segments.map_source(%L, ''your_schema.your_table'', ''{...}'');', missing[1]);
  END IF;
END $$;

CREATE FUNCTION segments.create_segment(
  name text, rule text DEFAULT NULL, query text DEFAULT NULL, description text DEFAULT NULL,
  refresh_interval interval DEFAULT '1 day', timezone text DEFAULT NULL, pack text DEFAULT NULL,
  required_sources text[] DEFAULT NULL, build boolean DEFAULT true)
RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE new_id bigint;
BEGIN
  PERFORM segments._check_name(name);
  PERFORM segments._check_schedule(refresh_interval, timezone);
  PERFORM segments._check_sources(required_sources);
  PERFORM segments._membership_sql(rule, query);  -- exactly one, each a single fragment
  IF EXISTS (SELECT 1 FROM segments.segments s WHERE s.name = create_segment.name) THEN
    RAISE EXCEPTION 'segment "%" already exists', name USING ERRCODE = '42710',
      HINT = 'Choose another name, or change it with segments.alter_segment().';
  END IF;
  INSERT INTO segments.segments AS s (name, description, rule, query, refresh_interval, timezone, pack, required_sources)
  VALUES (name, description, rule, query, refresh_interval, timezone, pack, required_sources)
  RETURNING s.id INTO new_id;
  PERFORM segments._build_rule_relation(new_id, rule, query, current_user::regrole);
  PERFORM segments._build_member_view(new_id);
  IF build THEN
    PERFORM segments._refresh(new_id, 'create', true);
  END IF;
  RETURN new_id;
END $$;
COMMENT ON FUNCTION segments.create_segment(text, text, text, text, interval, text, text, text[], boolean) IS
  'Creates a segment from a rule (boolean expression over segments.customers) or a query (customer ids); builds it unless build => false';

CREATE FUNCTION segments.alter_segment(
  name text, rule text DEFAULT NULL, query text DEFAULT NULL, description text DEFAULT NULL,
  refresh_interval interval DEFAULT NULL, timezone text DEFAULT NULL, new_name text DEFAULT NULL,
  build boolean DEFAULT true)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE s segments.segments := segments._get(name);
BEGIN
  PERFORM 1 FROM segments.segments g WHERE g.id = s.id FOR UPDATE;
  IF new_name IS NOT NULL AND new_name <> s.name THEN
    PERFORM segments._check_name(new_name);
    IF EXISTS (SELECT 1 FROM segments.segments g WHERE g.name = new_name) THEN
      RAISE EXCEPTION 'segment "%" already exists', new_name USING ERRCODE = '42710';
    END IF;
  END IF;
  PERFORM segments._check_schedule(coalesce(refresh_interval, s.refresh_interval), coalesce(timezone, s.timezone));
  IF rule IS NOT NULL OR query IS NOT NULL THEN
    PERFORM segments._build_rule_relation(s.id, rule, query, s.owner);
  END IF;
  UPDATE segments.segments g SET
    name = coalesce(new_name, g.name),
    description = coalesce(alter_segment.description, g.description),
    rule = CASE WHEN alter_segment.rule IS NOT NULL OR alter_segment.query IS NOT NULL THEN alter_segment.rule ELSE g.rule END,
    query = CASE WHEN alter_segment.rule IS NOT NULL OR alter_segment.query IS NOT NULL THEN alter_segment.query ELSE g.query END,
    refresh_interval = coalesce(alter_segment.refresh_interval, g.refresh_interval),
    timezone = coalesce(alter_segment.timezone, g.timezone),
    -- a new schedule takes effect now: the next slot counts from the last refresh
    next_refresh_at = CASE WHEN alter_segment.refresh_interval IS NULL AND alter_segment.timezone IS NULL
                           THEN g.next_refresh_at
                           ELSE segments._next_refresh(coalesce(g.last_refresh_at, now()),
                                                       coalesce(alter_segment.refresh_interval, g.refresh_interval),
                                                       coalesce(alter_segment.timezone, g.timezone)) END,
    updated_at = now()
  WHERE g.id = s.id;
  IF new_name IS NOT NULL AND new_name <> s.name THEN
    PERFORM segments._build_member_view(s.id, s.name);
  END IF;
  IF build AND (rule IS NOT NULL OR query IS NOT NULL) THEN
    PERFORM segments._refresh(s.id, 'manual', true);
  END IF;
END $$;
COMMENT ON FUNCTION segments.alter_segment(text, text, text, text, interval, text, text, boolean) IS
  'Changes a segment''s rule or query (validated, then rebuilt), description, schedule or name; NULL keeps a value';

CREATE FUNCTION segments.duplicate_segment(name text, new_name text, build boolean DEFAULT true) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE s segments.segments := segments._get(name);
BEGIN
  RETURN segments.create_segment(new_name, s.rule, s.query,
    coalesce(s.description, '') || CASE WHEN s.description IS NULL THEN 'copy of ' ELSE ' (copy of ' END
      || s.name || CASE WHEN s.description IS NULL THEN '' ELSE ')' END,
    s.refresh_interval, s.timezone, NULL, s.required_sources, build);
END $$;
COMMENT ON FUNCTION segments.duplicate_segment(text, text, boolean) IS
  'Creates a copy of a segment (same rule and schedule, owned by you) under a new name';

CREATE FUNCTION segments.drop_segment(name text, if_exists boolean DEFAULT false) RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE s segments.segments;
BEGIN
  IF if_exists AND NOT EXISTS (SELECT 1 FROM segments.segments g WHERE g.name = drop_segment.name) THEN
    RETURN false;
  END IF;
  s := segments._get(name);
  PERFORM 1 FROM segments.segments g WHERE g.id = s.id FOR UPDATE;
  DELETE FROM segments.membership m WHERE m.segment_id = s.id;
  DELETE FROM segments.changes c WHERE c.segment_id = s.id;
  DELETE FROM segments.segments g WHERE g.id = s.id;
  IF to_regclass(segments._rule_relation(s.id)) IS NOT NULL THEN
    EXECUTE format('DROP MATERIALIZED VIEW %s', segments._rule_relation(s.id));
  END IF;
  PERFORM segments._drop_member_view(s.name);
  RETURN true;
END $$;
COMMENT ON FUNCTION segments.drop_segment(text, boolean) IS
  'Drops a segment with its membership, changes, history and runs';

CREATE FUNCTION segments.deactivate_segment(name text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE s segments.segments := segments._get(name);
BEGIN
  UPDATE segments.segments g SET status = 'inactive', updated_at = now() WHERE g.id = s.id;
END $$;
COMMENT ON FUNCTION segments.deactivate_segment(text) IS
  'Pauses a segment: it keeps its members but is no longer refreshed on schedule';

CREATE FUNCTION segments.activate_segment(name text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE s segments.segments := segments._get(name);
BEGIN
  UPDATE segments.segments g SET
    status = CASE WHEN g.last_refresh_at IS NULL THEN 'building'
                  WHEN g.status = 'inactive' THEN (CASE WHEN g.consecutive_failures > 0 THEN 'failed' ELSE 'active' END)
                  ELSE g.status END,
    next_refresh_at = least(g.next_refresh_at, now()), updated_at = now()
  WHERE g.id = s.id;
END $$;
COMMENT ON FUNCTION segments.activate_segment(text) IS
  'Resumes a deactivated segment; it is refreshed at the next opportunity';
-- Segment engine, part 4: refresh as a diff, runs, and what the background worker calls
-- (docs/segments.md#refresh).
--
-- A refresh, in one transaction: lock the segment row (refreshes of one segment never interleave),
-- refresh the facts if older than pg_segments.facts_max_age, REFRESH the rule's materialized view
-- (as the segment owner), then under the change-log lock: attribute added revenue, delete leavers,
-- insert joiners, append both to segments.changes, add a history row. Readers keep seeing the old
-- membership until commit. The change-log lock is held from the first change id to commit, so ids
-- become visible in increasing order and a consumer reading "id > last seen" never misses one.

-- Next scheduled time: the interval added in the segment's time zone (so "1 day" keeps the wall
-- clock across daylight-saving changes), from the previous schedule while that is not overdue.
CREATE FUNCTION segments._next_refresh(prev timestamptz, every interval, tz text, now_ timestamptz DEFAULT now())
RETURNS timestamptz
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
-- The schedule keeps its cadence in the segment's time zone: the next slot is prev + k * every,
-- the first one after now. A refresh before the slot (manual, refresh_now) leaves the slot alone.
DECLARE zone text := coalesce(tz, current_setting('TimeZone')); nxt timestamptz := prev;
BEGIN
  IF prev IS NOT NULL AND prev > now_ THEN
    RETURN prev;
  END IF;
  IF prev IS NOT NULL THEN
    FOR i IN 1..1000 LOOP
      nxt := ((nxt AT TIME ZONE zone) + every) AT TIME ZONE zone;
      IF nxt > now_ THEN
        RETURN nxt;
      END IF;
    END LOOP;
  END IF;
  RETURN ((now_ AT TIME ZONE zone) + every) AT TIME ZONE zone;
END $$;

CREATE FUNCTION segments.start_run(segment_id bigint, trigger text) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE run bigint;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM segments.segments s WHERE s.id = start_run.segment_id) THEN
    RAISE EXCEPTION 'segment % does not exist', segment_id USING ERRCODE = '42704';
  END IF;
  IF trigger IS NULL OR trigger NOT IN ('worker', 'manual', 'refresh_now', 'create', 'cron') THEN
    RAISE EXCEPTION 'unknown run trigger "%"', trigger USING ERRCODE = '22023',
      HINT = 'Triggers: worker, manual, refresh_now, create, cron.';
  END IF;
  INSERT INTO segments.runs AS r (segment_id, trigger) VALUES (start_run.segment_id, start_run.trigger)
  RETURNING r.id INTO run;
  UPDATE segments.segments s SET refresh_requested_at = NULL
  WHERE s.id = start_run.segment_id AND s.refresh_requested_at IS NOT NULL;
  RETURN run;
END $$;
COMMENT ON FUNCTION segments.start_run(bigint, text) IS
  'Records a running refresh of a segment (trigger: worker, manual, refresh_now, create, cron); returns the run id';

-- The refresh itself. wait => false: when another refresh of the segment holds it, the run is
-- recorded as skipped instead of waiting. Raises on failure (the caller's transaction rolls back).
CREATE FUNCTION segments._execute(run_id bigint, wait boolean) RETURNS segments.runs
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  r segments.runs; s segments.segments;
  rel text; facts boolean; n_left int; n_joined int; n_marked int; added numeric; sz bigint; rev numeric; ords bigint;
  facts_at timestamptz;
BEGIN
  SELECT * INTO r FROM segments.runs x WHERE x.id = run_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'run % does not exist', run_id USING ERRCODE = '42704';
  END IF;
  IF r.status <> 'running' THEN
    RAISE EXCEPTION 'run % is % (not running)', run_id, r.status USING ERRCODE = '55000',
      HINT = 'Start a new run with segments.start_run().';
  END IF;
  IF wait THEN
    SELECT * INTO s FROM segments.segments x WHERE x.id = r.segment_id FOR NO KEY UPDATE;
  ELSE
    SELECT * INTO s FROM segments.segments x WHERE x.id = r.segment_id FOR NO KEY UPDATE SKIP LOCKED;
    IF NOT FOUND AND EXISTS (SELECT 1 FROM segments.segments x WHERE x.id = r.segment_id) THEN
      UPDATE segments.runs x SET status = 'skipped', finished_at = clock_timestamp(),
        message = 'another refresh of this segment was in progress'
      WHERE x.id = run_id RETURNING * INTO r;
      RETURN r;
    END IF;
  END IF;
  IF s.id IS NULL THEN
    RAISE EXCEPTION 'segment % of run % does not exist', r.segment_id, run_id USING ERRCODE = '42704';
  END IF;

  facts := segments._ensure_facts();
  SELECT f.refreshed_at INTO facts_at FROM segments.facts_status f;
  rel := segments._rule_relation(s.id);
  -- Runs the rule as the segment owner (the materialized view's owner), security-restricted.
  EXECUTE format('REFRESH MATERIALIZED VIEW %s', rel);

  -- One pass: old members (m) full-joined with the new result (n) and their facts (c) gives the
  -- leavers, the joiners, the members whose revenue grew (added revenue), and the new size.
  PERFORM pg_advisory_xact_lock(1885824371, 1);
  EXECUTE format($q$
    WITH j AS MATERIALIZED (
      SELECT coalesce(m.customer_id, n.customer_id) AS customer_id,
             m.customer_id IS NOT NULL AS was, n.customer_id IS NOT NULL AS now_in,
             m.revenue_mark, c.revenue, c.orders
      FROM (SELECT x.customer_id, x.revenue_mark FROM segments.membership x WHERE x.segment_id = $1) m
      FULL JOIN (SELECT DISTINCT r.customer_id FROM %s r WHERE r.customer_id IS NOT NULL) n
        ON n.customer_id = m.customer_id
      LEFT JOIN segments.customers c ON c.customer_id = coalesce(m.customer_id, n.customer_id)),
    gone AS (
      DELETE FROM segments.membership x USING j
      WHERE x.segment_id = $1 AND x.customer_id = j.customer_id AND j.was AND NOT j.now_in
      RETURNING x.customer_id),
    came AS (
      INSERT INTO segments.membership (segment_id, customer_id, joined_at, revenue_mark)
      SELECT $1, j.customer_id, now(), coalesce(j.revenue, 0) FROM j WHERE j.now_in AND NOT j.was
      RETURNING customer_id),
    marked AS (
      UPDATE segments.membership x SET revenue_mark = j.revenue FROM j
      WHERE x.segment_id = $1 AND x.customer_id = j.customer_id AND j.was AND j.now_in
        AND j.revenue IS NOT NULL AND j.revenue <> j.revenue_mark
      RETURNING 1),
    logged AS (
      INSERT INTO segments.changes (segment_id, segment, customer_id, change, at, run_id)
      SELECT $1, $2, d.customer_id, d.change, now(), $3
      FROM (SELECT g.customer_id, 'left' AS change FROM gone g
            UNION ALL SELECT k.customer_id, 'joined' FROM came k) d
      ORDER BY d.customer_id, d.change
      RETURNING change)
    SELECT (SELECT count(*) FILTER (WHERE change = 'joined') FROM logged),
           (SELECT count(*) FILTER (WHERE change = 'left') FROM logged),
           (SELECT count(*) FROM marked),
           coalesce(sum(j.revenue - j.revenue_mark) FILTER (WHERE j.was), 0),
           count(*) FILTER (WHERE j.now_in),
           coalesce(sum(j.revenue) FILTER (WHERE j.now_in), 0),
           coalesce(sum(j.orders) FILTER (WHERE j.now_in), 0)
    FROM j$q$, rel)
  INTO n_joined, n_left, n_marked, added, sz, rev, ords USING s.id, s.name, run_id;

  INSERT INTO segments.history (segment_id, run_id, at, size, joined, "left", revenue, orders, added_revenue, facts_at)
  VALUES (s.id, run_id, now(), sz, n_joined, n_left, rev, ords, added, facts_at);

  UPDATE segments.segments x SET
    status = CASE WHEN x.status = 'inactive' THEN 'inactive' ELSE 'active' END,
    last_refresh_at = now(),
    next_refresh_at = segments._next_refresh(x.next_refresh_at, x.refresh_interval, x.timezone),
    last_error = NULL, last_error_sqlstate = NULL, consecutive_failures = 0
  WHERE x.id = s.id;

  UPDATE segments.runs x SET status = 'succeeded', finished_at = clock_timestamp(),
    joined = n_joined, "left" = n_left, size = sz, facts_refreshed = facts
  WHERE x.id = run_id RETURNING * INTO r;
  RETURN r;
END $$;

CREATE FUNCTION segments.execute_run(run_id bigint) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM segments._execute(run_id, true);
END $$;
COMMENT ON FUNCTION segments.execute_run(bigint) IS
  'Performs a started run: facts if stale, then the segment as a diff; raises on failure (membership unchanged)';

CREATE FUNCTION segments.fail_run(run_id bigint, sqlstate text, message text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE seg bigint;
BEGIN
  UPDATE segments.runs r SET status = 'failed', finished_at = clock_timestamp(),
    sqlstate = fail_run.sqlstate, message = fail_run.message
  WHERE r.id = run_id RETURNING r.segment_id INTO seg;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'run % does not exist', run_id USING ERRCODE = '42704';
  END IF;
  -- Retry after 1, 2, 4, ... minutes, at most 6 hours, never later than the normal schedule.
  UPDATE segments.segments s SET
    status = CASE WHEN s.status = 'inactive' THEN 'inactive' ELSE 'failed' END,
    last_error = fail_run.message, last_error_sqlstate = fail_run.sqlstate, last_error_at = now(),
    consecutive_failures = s.consecutive_failures + 1,
    next_refresh_at = now() + least(interval '1 minute' * power(2, least(s.consecutive_failures, 20)),
                                    interval '6 hours', s.refresh_interval)
  WHERE s.id = seg;
END $$;
COMMENT ON FUNCTION segments.fail_run(bigint, text, text) IS
  'Marks a run failed with its error; the segment becomes failed and is retried with a growing back-off';

CREATE FUNCTION segments.recover_runs() RETURNS int
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE n int;
BEGIN
  UPDATE segments.runs r SET status = 'failed', finished_at = clock_timestamp(), sqlstate = '57P01',
    message = 'interrupted: the session running it ended (crash or shutdown)'
  WHERE r.status = 'running'
    AND (r.backend_pid IS NULL OR r.backend_pid = pg_backend_pid()
         OR NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = r.backend_pid));
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $$;
COMMENT ON FUNCTION segments.recover_runs() IS
  'Marks runs left running by a session that no longer exists as failed; returns how many';

CREATE FUNCTION segments.due_segments() RETURNS SETOF bigint
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT s.id FROM segments.segments s
  WHERE (s.refresh_requested_at IS NOT NULL
         OR (s.status <> 'inactive' AND s.next_refresh_at <= now()))
    AND NOT EXISTS (SELECT 1 FROM segments.runs r WHERE r.segment_id = s.id AND r.status = 'running')
  ORDER BY (s.refresh_requested_at IS NULL), coalesce(s.refresh_requested_at, s.next_refresh_at), s.id
$$;
COMMENT ON FUNCTION segments.due_segments() IS
  'Segments to refresh now: refresh_now requests first, then active ones past next_refresh_at, most overdue first';

CREATE FUNCTION segments.prune_runs() RETURNS int
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE keep interval := segments._setting('pg_segments.run_retention', '30 days')::interval; n int;
BEGIN
  DELETE FROM segments.runs r WHERE r.status <> 'running' AND r.finished_at < now() - keep;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $$;
COMMENT ON FUNCTION segments.prune_runs() IS
  'Deletes finished runs older than pg_segments.run_retention; returns how many';

-- One refresh in the caller's transaction: run bookkeeping, and on failure (when catch) the run and
-- segment are marked failed while the membership stays the last good one.
CREATE FUNCTION segments._refresh(id bigint, trigger text, catch boolean, wait boolean DEFAULT true)
RETURNS segments.runs
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE run bigint := segments.start_run(id, trigger); r segments.runs; st text; msg text;
BEGIN
  IF NOT catch THEN
    RETURN segments._execute(run, wait);
  END IF;
  BEGIN
    r := segments._execute(run, wait);
  EXCEPTION WHEN query_canceled OR admin_shutdown THEN
    RAISE;
  WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
    PERFORM segments.fail_run(run, st, msg);
    RAISE WARNING 'segment % failed to refresh: % (SQLSTATE %)', (SELECT s.name FROM segments.segments s WHERE s.id = _refresh.id), msg, st
      USING HINT = 'Its last good membership is kept; see segments.segments.last_error and segments.runs.';
    SELECT * INTO r FROM segments.runs x WHERE x.id = run;
  END;
  RETURN r;
END $$;

CREATE FUNCTION segments.refresh(name text, wait boolean DEFAULT true) RETURNS segments.runs
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  RETURN segments._refresh((segments._get(name)).id, 'manual', true, wait);
END $$;
COMMENT ON FUNCTION segments.refresh(text, boolean) IS
  'Refreshes one segment now, in this transaction; returns its run (status failed, with the error, if the rule failed)';

CREATE FUNCTION segments.refresh_all() RETURNS SETOF segments.runs
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE sid bigint;
BEGIN
  FOR sid IN SELECT s.id FROM segments.segments s WHERE s.status <> 'inactive' ORDER BY s.id LOOP
    RETURN NEXT segments._refresh(sid, 'manual', true);
  END LOOP;
END $$;
COMMENT ON FUNCTION segments.refresh_all() IS
  'Refreshes every segment that is not inactive, in this one transaction; returns the runs';

-- For pg_cron or an external cron job: every due segment in its own transaction.
CREATE PROCEDURE segments.refresh_due()
LANGUAGE plpgsql AS $$
DECLARE ids bigint[]; sid bigint; run bigint; st text; msg text;
BEGIN
  PERFORM segments.recover_runs();
  COMMIT;
  ids := ARRAY(SELECT segments.due_segments());
  FOREACH sid IN ARRAY ids LOOP
    run := segments.start_run(sid, 'cron');
    COMMIT;
    BEGIN
      PERFORM segments.execute_run(run);
    EXCEPTION WHEN query_canceled OR admin_shutdown THEN
      RAISE;
    WHEN OTHERS THEN
      GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
      PERFORM segments.fail_run(run, st, msg);
    END;
    COMMIT;
  END LOOP;
  PERFORM segments.prune_runs();
  COMMIT;
END $$;
COMMENT ON PROCEDURE segments.refresh_due() IS
  'CALL from cron: refreshes each due segment in its own transaction (failures recorded, others go on)';

CREATE FUNCTION segments.refresh_now(name text) RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE s segments.segments := segments._get(name); woke boolean := false;
BEGIN
  UPDATE segments.segments g SET refresh_requested_at = now() WHERE g.id = s.id;
  IF to_regprocedure('segments.wake_worker()') IS NOT NULL THEN
    BEGIN
      EXECUTE 'SELECT segments.wake_worker()' INTO woke;
      woke := coalesce(woke, true);
    EXCEPTION WHEN OTHERS THEN
      woke := false;
    END;
  END IF;
  IF NOT woke THEN
    RAISE NOTICE 'refresh of "%" requested; no background worker answered', name
      USING HINT = 'It runs at the next CALL segments.refresh_due(), or call segments.refresh(name) now.';
  END IF;
  RETURN woke;
END $$;
COMMENT ON FUNCTION segments.refresh_now(text) IS
  'Asks the background worker to refresh a segment at once (returns whether a worker was woken)';
-- Segment engine, part 5: what BI tools and sync jobs read (docs/segments.md#reading-segments).

CREATE VIEW segments.members WITH (security_invoker = true) AS
  SELECT s.name AS segment, m.customer_id, m.joined_at, m.segment_id
  FROM segments.membership m JOIN segments.segments s ON s.id = m.segment_id;
COMMENT ON VIEW segments.members IS 'Members of every segment: segment name, customer_id, joined_at';
GRANT SELECT ON segments.members TO PUBLIC;

CREATE VIEW segments.overview WITH (security_invoker = true) AS
  SELECT s.id, s.name AS segment, s.status, s.description, s.owner, s.pack,
    coalesce(k.customers, 0) AS customers,
    coalesce(k.revenue, 0) AS revenue,
    coalesce(k.orders, 0) AS orders,
    round(k.revenue / nullif(k.orders, 0), 2) AS aov,
    round(k.revenue / nullif(k.customers, 0), 2) AS avg_clv,
    k.avg_order_latency_days,
    coalesce(h.added_revenue, 0) AS added_revenue,
    s.last_refresh_at, s.next_refresh_at, s.refresh_interval, s.timezone,
    s.last_error, s.last_error_at, s.created_at
  FROM segments.segments s
  LEFT JOIN LATERAL (
    SELECT count(*) AS customers, sum(c.revenue) AS revenue, sum(c.orders) AS orders,
           avg(c.order_latency_days) AS avg_order_latency_days
    FROM segments.membership m JOIN segments.customers c ON c.customer_id = m.customer_id
    WHERE m.segment_id = s.id) k ON true
  LEFT JOIN LATERAL (
    SELECT sum(hh.added_revenue) AS added_revenue FROM segments.history hh WHERE hh.segment_id = s.id) h ON true;
COMMENT ON VIEW segments.overview IS
  'One row per segment: customers, lifetime revenue, orders, AOV, average CLV and order latency (days), added revenue, status, refresh times';
GRANT SELECT ON segments.overview TO PUBLIC;

-- Members' email addresses for an email service provider; optional columns are NULL unless asked
-- for (segments.export_csv gives exactly the chosen columns).
CREATE FUNCTION segments.export(name text, include_names boolean DEFAULT false,
  include_shipping boolean DEFAULT false, include_billing boolean DEFAULT false,
  opted_in_only boolean DEFAULT false)
RETURNS TABLE (email text, first_name text, last_name text, shipping_address text, billing_address text)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE s segments.segments := segments._get(name);
BEGIN
  RETURN QUERY
    SELECT c.email,
      CASE WHEN include_names THEN c.first_name END,
      CASE WHEN include_names THEN c.last_name END,
      CASE WHEN include_shipping THEN c.shipping_address END,
      CASE WHEN include_billing THEN c.billing_address END
    FROM segments.membership m JOIN segments.customers c ON c.customer_id = m.customer_id
    WHERE m.segment_id = s.id AND c.email IS NOT NULL AND (NOT opted_in_only OR c.opted_in)
    ORDER BY c.email, m.customer_id;
END $$;
COMMENT ON FUNCTION segments.export(text, boolean, boolean, boolean, boolean) IS
  'Members'' emails (optionally names, shipping and billing address) for COPY (SELECT * FROM segments.export(...)) TO STDOUT WITH CSV HEADER';

CREATE FUNCTION segments.export_csv(name text, include_names boolean DEFAULT false,
  include_shipping boolean DEFAULT false, include_billing boolean DEFAULT false,
  opted_in_only boolean DEFAULT false)
RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE cols text[] := ARRAY['email'] ||
    CASE WHEN include_names THEN ARRAY['first_name', 'last_name'] ELSE '{}' END ||
    CASE WHEN include_shipping THEN ARRAY['shipping_address'] ELSE '{}' END ||
    CASE WHEN include_billing THEN ARRAY['billing_address'] ELSE '{}' END;
  body text;
BEGIN
  -- CSV quoting as COPY does it: quote a field holding a comma, quote, CR or LF; double quotes.
  SELECT string_agg(line, E'\n' ORDER BY n) INTO body FROM (
    SELECT array_to_string(ARRAY(
      SELECT CASE WHEN v IS NULL THEN ''
                  WHEN v ~ '[",\r\n]' OR v = '' OR (v = '\.' AND NOT (include_names OR include_shipping OR include_billing))
                  THEN '"' || replace(v, '"', '""') || '"'
                  ELSE v END
      FROM unnest(ARRAY[e.email, e.first_name, e.last_name, e.shipping_address, e.billing_address]) WITH ORDINALITY u(v, i)
      WHERE (i = 1) OR (i IN (2, 3) AND include_names) OR (i = 4 AND include_shipping) OR (i = 5 AND include_billing)
      ORDER BY i), ',') AS line, e.n
    FROM segments.export(name, include_names, include_shipping, include_billing, opted_in_only)
         WITH ORDINALITY AS e(email, first_name, last_name, shipping_address, billing_address, n)) x;
  RETURN array_to_string(cols, ',') || E'\n' || coalesce(body || E'\n', '');
END $$;
COMMENT ON FUNCTION segments.export_csv(text, boolean, boolean, boolean, boolean) IS
  'The export as one CSV document with a header and exactly the chosen columns';
-- Ready-made segments (docs/packs.md): Ortto's 23 default audiences (ecommerce, payments, crm) and
-- a life-cycle / value-band pack, installed with one call through segments.create_segment.

-- The definitions: static content of the extension (not user data, so not dumped).
CREATE TABLE segments.pack_segments (
  name             text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]*$'),
  pack             text NOT NULL,
  position         int NOT NULL,
  title            text NOT NULL,
  source_text      text NOT NULL,
  meaning          text NOT NULL,
  rule             text,
  query            text,
  required_sources text[] NOT NULL,
  UNIQUE (pack, position),
  CHECK ((rule IS NULL) <> (query IS NULL))
);
COMMENT ON TABLE segments.pack_segments IS
  'Definitions of the ready-made segments installed by segments.install_pack: Ortto''s wording, the exact meaning chosen, and the rule or query ({vip_threshold} is replaced at install)';
COMMENT ON COLUMN segments.pack_segments.name IS 'Segment name given to segments.create_segment';
COMMENT ON COLUMN segments.pack_segments.pack IS 'Pack: ecommerce, payments, crm or lifecycle';
COMMENT ON COLUMN segments.pack_segments.title IS 'Display name (Ortto''s audience name)';
COMMENT ON COLUMN segments.pack_segments.source_text IS 'The definition as the source product words it';
COMMENT ON COLUMN segments.pack_segments.meaning IS 'Plain-English rule as implemented, with every threshold';
COMMENT ON COLUMN segments.pack_segments.rule IS 'Boolean expression over segments.customers (or NULL when query is used)';
COMMENT ON COLUMN segments.pack_segments.query IS 'Query returning customer ids over segments.customers and segments.source_* (or NULL when rule is used)';
COMMENT ON COLUMN segments.pack_segments.required_sources IS 'Source kinds (segments.map_source) the segment needs to mean anything';

-- Engagement in the crm pack: a session, an email open or an email click.
INSERT INTO segments.pack_segments (pack, position, name, title, source_text, meaning, rule, query, required_sources) VALUES
-- ecommerce ------------------------------------------------------------------------------------
('ecommerce', 1, 'ecommerce_customers', 'Customers',
 'Customers that have spent any amount of money in your store.',
 'At least one valid order and revenue (sum of valid order amounts, refunds negative) above 0.',
 'orders >= 1 AND revenue > 0', NULL, '{orders}'),
('ecommerce', 2, 'ecommerce_single_order_customers', 'Single order customers',
 'Customers who have ordered once.',
 'Exactly one valid order (cancelled or failed orders do not count).',
 'orders = 1', NULL, '{orders}'),
('ecommerce', 3, 'ecommerce_abandoned_browsers', 'Abandoned browsers',
 'Contacts who have viewed a product more than 1 time in the last 14 days and have not placed an order or abandoned a cart in that same period.',
 'At least 2 product_view events in the last 14 days; no order of any status and no checkout event in the last 14 days; no abandoned cart (see Abandoned carts) whose last product was added in the last 14 days.',
 NULL, $q$SELECT v.customer_id FROM segments.source_events v
 WHERE v.kind = 'product_view' AND v.at > now() - interval '14 days' AND v.customer_id IS NOT NULL
 GROUP BY v.customer_id HAVING count(*) > 1
EXCEPT SELECT o.customer_id FROM segments.source_orders o WHERE o.ordered_at > now() - interval '14 days'
EXCEPT SELECT e.customer_id FROM segments.source_events e WHERE e.kind = 'checkout' AND e.at > now() - interval '14 days'
EXCEPT SELECT a.customer_id FROM segments.source_events a
 WHERE a.kind = 'cart_add' AND a.at > now() - interval '14 days' AND a.at <= now() - interval '15 minutes'
   AND NOT EXISTS (SELECT 1 FROM segments.source_events b WHERE b.customer_id = a.customer_id
         AND ((b.kind = 'cart_add' AND b.at > a.at) OR (b.kind = 'checkout' AND b.at >= a.at))
         AND b.at <= a.at + interval '15 minutes' AND b.at > now() - interval '14 days')
   AND NOT EXISTS (SELECT 1 FROM segments.source_orders o WHERE o.customer_id = a.customer_id AND o.valid
         AND o.ordered_at >= a.at AND o.ordered_at <= a.at + interval '15 minutes'
         AND o.ordered_at > now() - interval '14 days')$q$,
 '{orders,events}'),
('ecommerce', 4, 'ecommerce_abandoned_carts', 'Abandoned carts',
 'Contacts appear in this audience when they have abandoned a cart in the last 7 days and not completed an order in the last 7 days. An abandon cart is defined as having not completed an order within 15 minutes after the last product is added to the cart.',
 'A cart_add event in the last 7 days and more than 15 minutes ago, followed within 15 minutes by neither another cart_add (which would make it not the last product) nor a completed order (valid order or checkout event); and no completed order in the last 7 days.',
 NULL, $q$SELECT a.customer_id FROM segments.source_events a
 WHERE a.kind = 'cart_add' AND a.at > now() - interval '7 days' AND a.at <= now() - interval '15 minutes'
   AND a.customer_id IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM segments.source_events b WHERE b.customer_id = a.customer_id
         AND ((b.kind = 'cart_add' AND b.at > a.at) OR (b.kind = 'checkout' AND b.at >= a.at))
         AND b.at <= a.at + interval '15 minutes' AND b.at > now() - interval '7 days')
   AND NOT EXISTS (SELECT 1 FROM segments.source_orders o WHERE o.customer_id = a.customer_id AND o.valid
         AND o.ordered_at >= a.at AND o.ordered_at <= a.at + interval '15 minutes'
         AND o.ordered_at > now() - interval '7 days')
EXCEPT SELECT o.customer_id FROM segments.source_orders o WHERE o.valid AND o.ordered_at > now() - interval '7 days'
EXCEPT SELECT e.customer_id FROM segments.source_events e WHERE e.kind = 'checkout' AND e.at > now() - interval '7 days'$q$,
 '{orders,events}'),
('ecommerce', 5, 'ecommerce_virgin_customers', 'Virgin customers',
 'Contacts who opted into marketing but have never completed an order.',
 'Opted in to marketing (contacts) and no valid order ever (cancelled or failed orders only still count as never completed).',
 'opted_in IS TRUE AND coalesce(orders, 0) = 0', NULL, '{orders,contacts}'),
('ecommerce', 6, 'ecommerce_waiting_on_stock', 'Waiting on stock',
 'Where a browser or customer has requested to be notified when an item that is out of stock is back in stock.',
 'At least one back_in_stock request event, at any time (the text sets no time limit).',
 NULL, $q$SELECT DISTINCT e.customer_id FROM segments.source_events e
 WHERE e.kind = 'back_in_stock' AND e.customer_id IS NOT NULL$q$, '{events}'),
('ecommerce', 7, 'ecommerce_slipping_customers', 'Slipping customers',
 'Customers who have ordered in the last 90 days but haven''t ordered again in the last 30 days.',
 'Last valid order more than 30 and at most 90 days before the facts refresh.',
 'days_since_last_order > 30 AND days_since_last_order <= 90', NULL, '{orders}'),
('ecommerce', 8, 'ecommerce_repeat_customers', 'Repeat customers',
 'Where a customer has ordered more than once.',
 'At least 2 valid orders.',
 'orders >= 2', NULL, '{orders}'),
('ecommerce', 9, 'ecommerce_vip_customers', 'VIP customers',
 'Customers who have spent more than a total of $1000.',
 'Revenue (sum of valid order amounts) strictly above the VIP threshold (install_pack parameter vip_threshold, default 1000).',
 'revenue > {vip_threshold}', NULL, '{orders}'),
-- payments -------------------------------------------------------------------------------------
('payments', 1, 'payments_on_trial', 'On a trial',
 'People who started a trial less than 30 days ago.',
 'A trial subscription (is_trial) started less than 30 days ago, whatever its status now.',
 NULL, $q$SELECT s.customer_id FROM segments.source_subscriptions s
 WHERE s.is_trial AND s.started_at > now() - interval '30 days'$q$, '{subscriptions}'),
('payments', 2, 'payments_engaged_trials', 'Engaged trials',
 'People who are currently on a trial and their engagement rating is greater than 3 stars.',
 'A trial subscription with status trialing (currently on a trial) and an engagement rating of 4 or 5 stars.',
 NULL, $q$SELECT s.customer_id FROM segments.source_subscriptions s
 WHERE s.is_trial AND s.status = 'trialing' AND s.engagement_rating > 3$q$, '{subscriptions}'),
('payments', 3, 'payments_customers', 'Customers',
 'Customers who have an active subscription.',
 'At least one subscription with status active.',
 NULL, $q$SELECT s.customer_id FROM segments.source_subscriptions s WHERE s.status = 'active'$q$,
 '{subscriptions}'),
('payments', 4, 'payments_power_users', 'Power users',
 'People appear in this audience when they are a member of the Customers audience and their engagement rating is 5 stars.',
 'An active subscription whose engagement rating is 5 stars.',
 NULL, $q$SELECT s.customer_id FROM segments.source_subscriptions s
 WHERE s.status = 'active' AND s.engagement_rating = 5$q$, '{subscriptions}'),
('payments', 5, 'payments_slipping_trials', 'Slipping trials',
 'People appear in this audience when they are a member of the On a trial audience and started a trial more than 2 days ago, but their engagement is low (measured by engagement rating or last seen).',
 'A trial subscription started more than 2 and less than 30 days ago whose engagement is low: rating of 1 or 2 stars, or last seen more than 7 days ago (an unknown rating or last-seen never counts as low).',
 NULL, $q$SELECT s.customer_id FROM segments.source_subscriptions s
 WHERE s.is_trial AND s.started_at > now() - interval '30 days' AND s.started_at < now() - interval '2 days'
   AND (s.engagement_rating <= 2 OR s.last_seen_at < now() - interval '7 days')$q$, '{subscriptions}'),
('payments', 6, 'payments_slipping_customers', 'Slipping customers',
 'Customers who have an active subscription (are members of the Customers audience) but haven''t engaged in more than 30 days.',
 'At least one active subscription, and the latest last-seen time over all the person''s subscriptions is more than 30 days ago (unknown last seen: not included).',
 NULL, $q$SELECT s.customer_id FROM segments.source_subscriptions s
 GROUP BY s.customer_id
 HAVING bool_or(s.status = 'active') AND max(s.last_seen_at) < now() - interval '30 days'$q$,
 '{subscriptions}'),
('payments', 7, 'payments_expired_trials', 'Expired trials',
 'People who started a trial more than 30 days ago but have not subscribed to the product or service.',
 'A trial subscription started 30 days ago or earlier, and no paid subscription: none that is not a trial, none with status active.',
 NULL, $q$SELECT s.customer_id FROM segments.source_subscriptions s
 WHERE s.is_trial AND s.started_at <= now() - interval '30 days'
EXCEPT SELECT p.customer_id FROM segments.source_subscriptions p
 WHERE NOT p.is_trial OR p.status = 'active'$q$, '{subscriptions}'),
-- crm ------------------------------------------------------------------------------------------
('crm', 1, 'crm_slipping_subscribers', 'Slipping subscribers',
 'People who have subscribed to receive email marketing messages but have not engaged with a campaign for more than 30 days.',
 'Opted in to marketing, a contact for more than 30 days (or lead date unknown), and no email_open or email_click event in the last 30 days.',
 NULL, $q$SELECT c.customer_id FROM segments.source_contacts c
 WHERE c.opted_in AND c.customer_id IS NOT NULL
   AND (c.created_at IS NULL OR c.created_at <= now() - interval '30 days')
EXCEPT SELECT e.customer_id FROM segments.source_events e
 WHERE e.kind IN ('email_open', 'email_click') AND e.at > now() - interval '30 days'$q$,
 '{contacts,events}'),
('crm', 2, 'crm_new_deals', 'New deals',
 'People appear in this audience when they are associated with at least 1 deal in the last 90 days.',
 'At least one deal created in the last 90 days (a new deal).',
 NULL, $q$SELECT d.customer_id FROM segments.source_deals d
 WHERE d.created_at > now() - interval '90 days'$q$, '{deals}'),
('crm', 3, 'crm_engaged_deals', 'Engaged deals',
 'People appear in this audience when they are associated with at least 1 new deal, and no lost deals, in the last 90 days. People in this audience also have at least 1 user session logged in the last 30 days or their associated deal has been updated more than twice in the last 30 days.',
 'A deal created in the last 90 days; no lost deal last updated (else created) in the last 90 days; and a session event in the last 30 days or a new deal with at least 3 updates in the last 30 days (updates_30d; unknown counts as 0).',
 NULL, $q$SELECT d.customer_id FROM segments.source_deals d
 WHERE d.created_at > now() - interval '90 days'
   AND (d.updates_30d > 2
        OR d.customer_id IN (SELECT e.customer_id FROM segments.source_events e
                             WHERE e.kind = 'session' AND e.at > now() - interval '30 days'))
EXCEPT SELECT l.customer_id FROM segments.source_deals l
 WHERE l.state = 'lost' AND coalesce(l.updated_at, l.created_at) > now() - interval '90 days'$q$,
 '{deals,events}'),
('crm', 4, 'crm_slipping_deals', 'Slipping deals',
 'People appear in this audience when they are associated with at least 1 new deal, and no lost deals, in the last 90 days. People in this audience also have no won deals, and the deal has not been updated in the last 30 days or last engagement was more than 30 days ago.',
 'A deal created in the last 90 days; no lost deal last updated (else created) in the last 90 days; no won deal ever; and either none of the new deals was updated in the last 30 days, or the last engagement (session, email open or click) was more than 30 days ago (never engaged: this branch does not apply).',
 NULL, $q$SELECT d.customer_id FROM segments.source_deals d
 LEFT JOIN (SELECT e.customer_id, max(e.at) AS last_engaged_at FROM segments.source_events e
            WHERE e.kind IN ('session', 'email_open', 'email_click') GROUP BY e.customer_id) g
   ON g.customer_id = d.customer_id
 WHERE d.created_at > now() - interval '90 days'
 GROUP BY d.customer_id
 HAVING max(coalesce(d.updated_at, d.created_at)) <= now() - interval '30 days'
     OR max(g.last_engaged_at) <= now() - interval '30 days'
EXCEPT SELECT l.customer_id FROM segments.source_deals l
 WHERE l.state = 'lost' AND coalesce(l.updated_at, l.created_at) > now() - interval '90 days'
EXCEPT SELECT w.customer_id FROM segments.source_deals w WHERE w.state = 'won'$q$,
 '{deals,events}'),
('crm', 5, 'crm_customers', 'Customers',
 'People/organizations associated with at least one won deal.',
 'At least one won deal.',
 NULL, $q$SELECT d.customer_id FROM segments.source_deals d WHERE d.state = 'won'$q$, '{deals}'),
('crm', 6, 'crm_repeat_customers', 'Repeat customers',
 'People/organizations associated with at least 2 won deals.',
 'At least 2 won deals (one source row per deal).',
 NULL, $q$SELECT d.customer_id FROM segments.source_deals d WHERE d.state = 'won'
 GROUP BY d.customer_id HAVING count(*) >= 2$q$, '{deals}'),
('crm', 7, 'crm_slipping_customers', 'Slipping customers',
 'People appear in this audience when they are a member of the Customers audience but have not engaged in more than 30 days.',
 'At least one won deal, and no engagement (session, email open or click) in the last 30 days.',
 NULL, $q$SELECT d.customer_id FROM segments.source_deals d WHERE d.state = 'won'
EXCEPT SELECT e.customer_id FROM segments.source_events e
 WHERE e.kind IN ('session', 'email_open', 'email_click') AND e.at > now() - interval '30 days'$q$,
 '{deals,events}'),
-- lifecycle ------------------------------------------------------------------------------------
('lifecycle', 1, 'lifecycle_just_ordered', 'Just ordered',
 'Clerk.io: these customers placed an order within the last 30 days.',
 'Life-cycle stage just_ordered (lifecycle_stage over valid orders; window pg_segments.lifecycle_just_ordered_days).',
 $r$lifecycle = 'just_ordered'$r$, NULL, '{orders}'),
('lifecycle', 2, 'lifecycle_active', 'Active',
 'Clerk.io: these customers regularly come back to the webshop, judged by how often they normally purchase.',
 'Life-cycle stage active: silent for less than their own usual gap between orders.',
 $r$lifecycle = 'active'$r$, NULL, '{orders}'),
('lifecycle', 3, 'lifecycle_slipping_away', 'Slipping away',
 'Clerk.io: these customers are purchasing less often than they have previously done.',
 'Life-cycle stage slipping_away: silent for longer than usual, not yet lost.',
 $r$lifecycle = 'slipping_away'$r$, NULL, '{orders}'),
('lifecycle', 4, 'lifecycle_lost', 'Lost',
 'Clerk.io: it has been so long since these customers purchased that they are very unlikely to return.',
 'Life-cycle stage lost.',
 $r$lifecycle = 'lost'$r$, NULL, '{orders}'),
('lifecycle', 5, 'lifecycle_value_low', 'Low value',
 'Ometria: value band low.',
 'Value band low: average order value below 0.75 x the mean over all customers with orders.',
 $r$value_band = 'low'$r$, NULL, '{orders}'),
('lifecycle', 6, 'lifecycle_value_medium', 'Medium value',
 'Ometria: value band medium.',
 'Value band medium: average order value 0.75 to 1.25 x the mean.',
 $r$value_band = 'medium'$r$, NULL, '{orders}'),
('lifecycle', 7, 'lifecycle_value_high', 'High value',
 'Ometria: value band high.',
 'Value band high: average order value above 1.25 and at most 2.5 x the mean.',
 $r$value_band = 'high'$r$, NULL, '{orders}'),
('lifecycle', 8, 'lifecycle_value_very_high', 'Very high value',
 'Ometria: value band very high.',
 'Value band very_high: average order value above 2.5 x the mean.',
 $r$value_band = 'very_high'$r$, NULL, '{orders}');

-- The catalog a BI user reads: every ready-made segment, what it means, what it needs, whether it
-- is installed.
CREATE VIEW segments.pack_catalog AS
SELECT p.pack, p.position, p.name AS segment, p.title, p.meaning, p.source_text,
       CASE WHEN p.rule IS NOT NULL THEN 'rule' ELSE 'query' END AS kind,
       coalesce(p.rule, p.query) AS definition,
       p.required_sources,
       ARRAY(SELECT k FROM unnest(p.required_sources) k
             WHERE k NOT IN (SELECT m.kind FROM segments.sources m WHERE m.mapped)
             ORDER BY k) AS missing_sources,
       s.id IS NOT NULL AS installed
FROM segments.pack_segments p
LEFT JOIN segments.segments s ON s.name = p.name AND s.pack = p.pack;
COMMENT ON VIEW segments.pack_catalog IS
  'Ready-made segments by pack: plain-English meaning, the source product''s wording, the rule or query, required and still unmapped sources, and whether installed';
COMMENT ON COLUMN segments.pack_catalog.pack IS 'Pack name, the argument of segments.install_pack';
COMMENT ON COLUMN segments.pack_catalog.position IS 'Order within the pack';
COMMENT ON COLUMN segments.pack_catalog.segment IS 'Name of the segment once installed';
COMMENT ON COLUMN segments.pack_catalog.title IS 'Display name (Ortto''s audience name)';
COMMENT ON COLUMN segments.pack_catalog.meaning IS 'Plain-English rule as implemented, with every threshold';
COMMENT ON COLUMN segments.pack_catalog.source_text IS 'The definition as the source product words it';
COMMENT ON COLUMN segments.pack_catalog.kind IS 'rule (expression over segments.customers) or query (returns customer ids)';
COMMENT ON COLUMN segments.pack_catalog.definition IS 'The rule or query; {vip_threshold} is replaced by the install_pack argument';
COMMENT ON COLUMN segments.pack_catalog.required_sources IS 'Source kinds the segment needs';
COMMENT ON COLUMN segments.pack_catalog.missing_sources IS 'Required source kinds not mapped yet (segments.map_source); empty when the segment can work';
COMMENT ON COLUMN segments.pack_catalog.installed IS 'Whether the segment exists (installed from this pack)';

-- One row per pack: what it is, how much of it is installed, what it still needs.
CREATE VIEW segments.packs AS
SELECT c.pack,
       CASE c.pack
         WHEN 'ecommerce' THEN 'Ortto''s nine eCommerce audiences (BigCommerce, PrestaShop, Shopify, WooCommerce)'
         WHEN 'payments' THEN 'Ortto''s seven payments audiences (Chargebee, Recurly, Stripe)'
         WHEN 'crm' THEN 'Ortto''s seven CRM audiences (Pipedrive)'
         WHEN 'lifecycle' THEN 'Clerk.io life-cycle stages and Ometria value bands'
       END AS description,
       count(*)::int AS segments,
       count(*) FILTER (WHERE c.installed)::int AS installed,
       count(*) FILTER (WHERE cardinality(c.missing_sources) = 0)::int AS ready,
       ARRAY(SELECT DISTINCT k FROM segments.pack_catalog c2, unnest(c2.missing_sources) k
             WHERE c2.pack = c.pack ORDER BY k) AS missing_sources
FROM segments.pack_catalog c
GROUP BY c.pack
ORDER BY min(CASE c.pack WHEN 'ecommerce' THEN 1 WHEN 'payments' THEN 2 WHEN 'crm' THEN 3 ELSE 4 END);
COMMENT ON VIEW segments.packs IS
  'Ready-made packs: description, number of segments, how many are installed, how many can work with the mapped sources, which sources are missing';
COMMENT ON COLUMN segments.packs.pack IS 'Pack name, the argument of segments.install_pack';
COMMENT ON COLUMN segments.packs.description IS 'Where the pack comes from';
COMMENT ON COLUMN segments.packs.segments IS 'Segments in the pack';
COMMENT ON COLUMN segments.packs.installed IS 'Segments of the pack installed now';
COMMENT ON COLUMN segments.packs.ready IS 'Segments whose required sources are all mapped';
COMMENT ON COLUMN segments.packs.missing_sources IS 'Source kinds to map (segments.map_source) for the whole pack to work';
GRANT SELECT ON segments.packs TO PUBLIC;

-- install_pack: creates (or updates) every segment of a pack whose sources are mapped, through
-- segments.create_segment; reports one row per segment of the pack.
CREATE FUNCTION segments.install_pack(pack text, vip_threshold numeric DEFAULT 1000,
                                      refresh_interval interval DEFAULT '1 day', build boolean DEFAULT true)
RETURNS TABLE (segment text, status text, segment_id bigint, missing_sources text[], error text)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
#variable_conflict use_variable
DECLARE
  d record;
  cur record;
  v_rule text;
  skipped text[] := '{}';
  created int := 0;
  packs text;
  -- Without the background worker, the engine warns once per new segment; a pack says it once.
  unscheduled boolean := false;
  saved_level text := current_setting('client_min_messages');
BEGIN
  IF pack IS NULL OR NOT EXISTS (SELECT 1 FROM segments.pack_segments p WHERE p.pack = install_pack.pack) THEN
    SELECT string_agg(DISTINCT p.pack, ', ') INTO packs FROM segments.pack_segments p;
    RAISE EXCEPTION 'unknown pack: %', coalesce(quote_literal(pack), 'NULL')
      USING ERRCODE = 'invalid_parameter_value',
            HINT = format('Available packs: %s (see segments.pack_catalog).', packs);
  END IF;
  IF vip_threshold IS NULL OR vip_threshold < 0 OR vip_threshold = 'NaN'::numeric THEN
    RAISE EXCEPTION 'vip_threshold must be a non-negative amount, got %', coalesce(vip_threshold::text, 'NULL')
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'VIP customers are those whose revenue is above this amount; the default is 1000.';
  END IF;
  IF refresh_interval IS NULL OR refresh_interval <= interval '0' THEN
    RAISE EXCEPTION 'refresh_interval must be positive, got %', coalesce(refresh_interval::text, 'NULL')
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'For example ''1 day'' or ''1 hour''.';
  END IF;

  IF to_regprocedure('segments.worker_preloaded()') IS NOT NULL THEN
    EXECUTE 'SELECT NOT segments.worker_preloaded()' INTO unscheduled;
  END IF;

  FOR d IN SELECT p.* FROM segments.pack_segments p WHERE p.pack = install_pack.pack ORDER BY p.position LOOP
    segment := d.name;
    error := NULL;
    v_rule := replace(d.rule, '{vip_threshold}', vip_threshold::text);
    missing_sources := ARRAY(SELECT k FROM unnest(d.required_sources) k
                             WHERE k NOT IN (SELECT m.kind FROM segments.sources m WHERE m.mapped)
                             ORDER BY k);
    SELECT s.* INTO cur FROM segments.segments s WHERE s.name = d.name;
    IF FOUND AND cur.pack IS DISTINCT FROM d.pack THEN
      RAISE EXCEPTION 'segment % already exists and was not installed from pack %', d.name, d.pack
        USING ERRCODE = 'duplicate_object',
              HINT = 'Rename or drop that segment, then install the pack again.';
    END IF;
    IF NOT FOUND THEN
      IF cardinality(missing_sources) > 0 THEN
        status := 'skipped';
        segment_id := NULL;
        skipped := skipped || d.name;
      ELSE
        IF unscheduled THEN
          PERFORM set_config('client_min_messages', 'error', true);
        END IF;
        BEGIN
          segment_id := segments.create_segment(name => d.name, rule => v_rule, query => d.query,
                          description => d.meaning, refresh_interval => install_pack.refresh_interval,
                          pack => d.pack, required_sources => d.required_sources, build => build);
        EXCEPTION WHEN unique_violation THEN
          -- the name is taken by a segment this role cannot see (row-level security)
          RAISE EXCEPTION 'segment % already exists, owned by a role whose segments you cannot see', d.name
            USING ERRCODE = 'duplicate_object',
                  HINT = 'Ask that role (or a superuser) to install or drop the pack, or to grant you its role.';
        END;
        PERFORM set_config('client_min_messages', saved_level, true);
        status := 'created';
        created := created + 1;
      END IF;
    ELSE
      segment_id := cur.id;
      IF cur.rule IS NOT DISTINCT FROM v_rule AND cur.query IS NOT DISTINCT FROM d.query
         AND cur.refresh_interval = install_pack.refresh_interval
         AND cur.description IS NOT DISTINCT FROM d.meaning THEN
        status := 'unchanged';
      ELSIF cur.rule IS NOT DISTINCT FROM v_rule AND cur.query IS NOT DISTINCT FROM d.query THEN
        -- schedule or wording only: no rebuild
        PERFORM segments.alter_segment(d.name, description => d.meaning,
                                       refresh_interval => install_pack.refresh_interval);
        status := 'updated';
      ELSE
        PERFORM segments.alter_segment(d.name, rule => v_rule, query => d.query, description => d.meaning,
                                       refresh_interval => install_pack.refresh_interval, build => build);
        status := 'updated';
      END IF;
    END IF;
    -- A build that failed (the engine keeps the segment, status failed): say why.
    IF segment_id IS NOT NULL THEN
      SELECT s.last_error INTO error FROM segments.segments s WHERE s.id = segment_id AND s.status = 'failed';
    END IF;
    RETURN NEXT;
  END LOOP;

  IF unscheduled AND created > 0 THEN
    RAISE WARNING 'pack %: % new segment(s) will not refresh automatically: pg_segments is not in shared_preload_libraries',
      pack, created
      USING HINT = 'Add pg_segments to shared_preload_libraries and restart the server, or refresh from cron with CALL segments.refresh_due().';
  END IF;
  IF cardinality(skipped) > 0 THEN
    RAISE WARNING 'pack %: % segment(s) not installed, their sources are not mapped: %',
      pack, cardinality(skipped), array_to_string(skipped, ', ')
      USING HINT = 'Map the sources listed in missing_sources with segments.map_source, then call segments.install_pack again.';
  END IF;
END
$fn$;
COMMENT ON FUNCTION segments.install_pack(text, numeric, interval, boolean) IS
  'Installs a ready-made pack (ecommerce, payments, crm, lifecycle); idempotent; skips segments whose sources are unmapped and says which';

GRANT SELECT ON segments.pack_segments, segments.pack_catalog TO PUBLIC;

-- uninstall_pack: drops the segments installed from a pack (with their membership, changes and
-- history); a user's own segments are never touched.
CREATE FUNCTION segments.uninstall_pack(pack text) RETURNS SETOF text
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE nm text; packs text;
BEGIN
  IF pack IS NULL OR NOT EXISTS (SELECT 1 FROM segments.pack_segments p WHERE p.pack = uninstall_pack.pack) THEN
    SELECT string_agg(DISTINCT p.pack, ', ') INTO packs FROM segments.pack_segments p;
    RAISE EXCEPTION 'unknown pack: %', coalesce(quote_literal(pack), 'NULL')
      USING ERRCODE = 'invalid_parameter_value',
            HINT = format('Available packs: %s (see segments.pack_catalog).', packs);
  END IF;
  FOR nm IN SELECT s.name FROM segments.segments s
            JOIN segments.pack_segments p ON p.name = s.name AND p.pack = s.pack
            WHERE s.pack = uninstall_pack.pack ORDER BY p.position LOOP
    PERFORM segments.drop_segment(nm);
    RETURN NEXT nm;
  END LOOP;
END
$fn$;
COMMENT ON FUNCTION segments.uninstall_pack(text) IS
  'Drops the segments installed from a pack (membership, changes and history included); returns their names';

-- ============================================================================================
-- Background worker (docs/worker.md): wake-ups, status, and whether scheduled refresh works here.
-- The launcher and schedulers themselves are C (src/worker/); they call the engine's
-- recover_runs / due_segments / start_run / execute_run / fail_run / prune_runs.
-- ============================================================================================
CREATE SCHEMA IF NOT EXISTS segments;

CREATE FUNCTION segments.wake_worker() RETURNS boolean
    AS 'MODULE_PATHNAME', 'pgs_wake_worker' LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION segments.wake_worker() IS
    'Wakes this database''s scheduler when the current transaction commits; false when no scheduler runs here.';

CREATE FUNCTION segments.worker_preloaded() RETURNS boolean
    AS 'MODULE_PATHNAME', 'pgs_worker_preloaded' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION segments.worker_preloaded() IS
    'True when pg_segments is in shared_preload_libraries, so the background worker can run.';

CREATE FUNCTION segments.worker_serves(database name DEFAULT current_database()) RETURNS boolean
    AS 'MODULE_PATHNAME', 'pgs_worker_serves' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION segments.worker_serves(name) IS
    'True when the background worker refreshes segments of this database: preloaded, enabled, and listed in pg_segments.databases.';

CREATE FUNCTION segments.worker_status_rows(
    OUT kind text, OUT database text, OUT datid oid, OUT pid integer, OUT state text,
    OUT started_at timestamptz, OUT last_tick timestamptz, OUT runs_succeeded bigint,
    OUT runs_failed bigint, OUT last_error text, OUT last_error_at timestamptz,
    OUT refreshing_segment bigint)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'pgs_worker_status_rows' LANGUAGE C VOLATILE STRICT PARALLEL SAFE ROWS 4;
COMMENT ON FUNCTION segments.worker_status_rows() IS
    'Rows of the segments.worker_status view, read from shared memory.';

CREATE VIEW segments.worker_status AS
    SELECT kind, database, datid, pid, state, started_at, last_tick, runs_succeeded, runs_failed,
           last_error, last_error_at, refreshing_segment
      FROM segments.worker_status_rows();
GRANT SELECT ON segments.worker_status TO PUBLIC;
COMMENT ON VIEW segments.worker_status IS
    'The background worker as it runs now: the launcher and one scheduler per served database (empty when pg_segments is not preloaded).';
COMMENT ON COLUMN segments.worker_status.kind IS 'launcher, or scheduler (one per served database)';
COMMENT ON COLUMN segments.worker_status.database IS 'database the scheduler serves (NULL for the launcher)';
COMMENT ON COLUMN segments.worker_status.datid IS 'OID of that database';
COMMENT ON COLUMN segments.worker_status.pid IS 'process id (pg_stat_activity.pid); NULL while stopped';
COMMENT ON COLUMN segments.worker_status.state IS 'idle, refreshing, no extension (database without pg_segments), disabled, starting, stopped';
COMMENT ON COLUMN segments.worker_status.started_at IS 'when this process started';
COMMENT ON COLUMN segments.worker_status.last_tick IS 'end of the scheduler''s last look for due segments';
COMMENT ON COLUMN segments.worker_status.runs_succeeded IS 'refreshes that succeeded since the server started';
COMMENT ON COLUMN segments.worker_status.runs_failed IS 'refreshes that failed since the server started';
COMMENT ON COLUMN segments.worker_status.last_error IS 'last error the scheduler met (which call, segment id, SQLSTATE, message); shown to members of pg_read_all_stats only';
COMMENT ON COLUMN segments.worker_status.last_error_at IS 'when last_error happened';
COMMENT ON COLUMN segments.worker_status.refreshing_segment IS 'id of the segment being refreshed now (state refreshing)';

-- Creating a segment where nothing will refresh it on schedule works, but says so (pg_cron's and
-- TimescaleDB's users' top complaint is jobs that silently never run). Not for
-- pg_segments.scheduler_enabled = off: switching the worker off is deliberate and visible.
CREATE FUNCTION segments._warn_unscheduled() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF NOT segments.worker_preloaded() THEN
    RAISE WARNING 'segment "%" will not refresh automatically: pg_segments is not in shared_preload_libraries', NEW.name
      USING HINT = 'Add pg_segments to shared_preload_libraries and restart the server, or refresh from cron with CALL segments.refresh_due().';
  ELSIF current_setting('pg_segments.scheduler_enabled')::boolean AND NOT segments.worker_serves() THEN
    RAISE WARNING 'segment "%" will not refresh automatically: pg_segments.databases does not list database "%"', NEW.name, current_database()
      USING HINT = 'Add the database to pg_segments.databases and reload the configuration, or refresh from cron with CALL segments.refresh_due().';
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER warn_unscheduled AFTER INSERT ON segments.segments
  FOR EACH ROW EXECUTE FUNCTION segments._warn_unscheduled();
-- Customer insights (docs/insights.md): Ometria's breakdown, dimension matrix, new/returning/lapsed
-- and customer events; RFM scores and groups; cohorts; as-of membership; segment overlap.
-- Everything reads the engine's interfaces only: segments.customers, segments.source_*,
-- segments.segments, segments.members, segments.changes, segments.create_segment.

CREATE SCHEMA IF NOT EXISTS segments;

-- ---------------------------------------------------------------------------------------------
-- Small helpers
-- ---------------------------------------------------------------------------------------------

-- The id of a segment by name; a clear error when there is none.
CREATE FUNCTION segments._insights_segment_id(segment text) RETURNS bigint
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE sid bigint;
BEGIN
  IF segment IS NULL THEN
    RAISE EXCEPTION 'segment name must not be NULL' USING ERRCODE = '22004',
      HINT = 'Pass the name of a segment listed in segments.segments.';
  END IF;
  SELECT s.id INTO sid FROM segments.segments s WHERE s.name = segment;
  IF sid IS NULL THEN
    RAISE EXCEPTION 'segment "%" does not exist', segment USING ERRCODE = '42704',
      HINT = 'segments.segments lists the segments; names are case-sensitive.';
  END IF;
  RETURN sid;
END $$;
COMMENT ON FUNCTION segments._insights_segment_id(text) IS
  'Internal: id of the named segment, or error 42704';

-- A date range must be finite and non-empty.
CREATE FUNCTION segments._insights_check_range(from_at timestamptz, to_at timestamptz, what text)
RETURNS void LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF from_at IS NULL OR to_at IS NULL OR NOT isfinite(from_at) OR NOT isfinite(to_at) THEN
    RAISE EXCEPTION '% must have finite, non-NULL bounds', what USING ERRCODE = '22023',
      HINT = 'Pass timestamps, e.g. ''2024-01-01'' and ''2024-02-01'' (the end is exclusive).';
  END IF;
  IF to_at <= from_at THEN
    RAISE EXCEPTION '% is empty: % is not before %', what, from_at, to_at USING ERRCODE = '22023',
      HINT = 'Ranges are half-open [from, to): the end must come after the start.';
  END IF;
END $$;
COMMENT ON FUNCTION segments._insights_check_range(timestamptz, timestamptz, text) IS
  'Internal: raises 22023 unless from < to, both finite';

-- ---------------------------------------------------------------------------------------------
-- Email engagement
-- ---------------------------------------------------------------------------------------------

-- SQL-standard bodies (RETURN ...) are parsed once, at creation, and are inlined into the calling
-- query: no per-row function call. STABLE, not IMMUTABLE: timestamptz - interval is only stable, and
-- an IMMUTABLE wrapper around it would not be inlined.
CREATE FUNCTION segments.email_engagement_level(opted_in boolean, last_open_at timestamptz,
                                                last_click_at timestamptz, as_of timestamptz)
RETURNS text LANGUAGE sql STABLE PARALLEL SAFE
RETURN CASE
    WHEN opted_in IS FALSE THEN 'unsubscribed'
    WHEN last_click_at > as_of - interval '30 days' THEN 'high'
    WHEN last_click_at > as_of - interval '90 days' OR last_open_at > as_of - interval '30 days' THEN 'medium'
    WHEN last_open_at > as_of - interval '90 days' THEN 'low'
    ELSE 'none' END;
COMMENT ON FUNCTION segments.email_engagement_level(boolean, timestamptz, timestamptz, timestamptz) IS
  'Email engagement bucket from the last open and click before as_of: unsubscribed (opted out), high (click in 30 days), medium (click in 90 or open in 30 days), low (open in 90 days), none';

-- ---------------------------------------------------------------------------------------------
-- Dimensions: named groupings of customers, used by breakdown, dimension_matrix and matrix rules
-- ---------------------------------------------------------------------------------------------

CREATE VIEW segments.dimensions(dimension, kind, labels, description) AS VALUES
  ('lifecycle', 'rule', ARRAY['lead', 'just_ordered', 'active', 'slipping_away', 'lost'],
   'Life-cycle stage from segments.customers; contacts without a valid order are lead'),
  ('value_band', 'rule', ARRAY['no_orders', 'low', 'medium', 'high', 'very_high'],
   'Ometria value band (customer AOV against the mean AOV); no_orders without a valid order'),
  ('frequency', 'rule', ARRAY['no_orders', 'one_time', 'repeat', 'loyal', 'very_loyal'],
   'Valid orders: 0 no_orders, 1 one_time, 2-3 repeat, 4-6 loyal, 7 or more very_loyal'),
  ('email_engagement', 'rule', ARRAY['unsubscribed', 'none', 'low', 'medium', 'high'],
   'Latest email open and click (segments.customers) against the facts'' as-of time: see segments.email_engagement_level'),
  ('rfm_group', 'query', ARRAY['champions', 'loyal', 'potential_loyalists', 'new_customers', 'promising',
     'need_attention', 'about_to_sleep', 'cant_lose', 'at_risk', 'hibernating', 'no_orders'],
   'Named RFM group from segments.rfm() (default quintiles); no_orders without a valid order'),
  ('segment', 'query', NULL::text[],
   'Segment membership (segments.members); a customer in several segments counts in each, one in none is left out');
COMMENT ON VIEW segments.dimensions IS
  'Named dimensions for segments.breakdown and segments.dimension_matrix (any column of segments.customers works too): labels in display order; kind rule = cells become a rule segment, query = a query segment';

-- SQL pieces of one dimension, over alias c (segments.customers) and join alias a:
-- label_sql (text), sort_sql (sortable), join_sql (extra FROM clause or '').
CREATE FUNCTION segments._insights_dimension(dimension text, a text,
  OUT label_sql text, OUT sort_sql text, OUT join_sql text, OUT kind text)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE labels text[];
BEGIN
  SELECT d.labels, d.kind INTO labels, kind FROM segments.dimensions d WHERE d.dimension = _insights_dimension.dimension;
  join_sql := '';
  CASE dimension
    WHEN 'lifecycle' THEN
      label_sql := 'coalesce(c.lifecycle::text, ''lead'')';
    WHEN 'value_band' THEN
      label_sql := 'coalesce(c.value_band::text, ''no_orders'')';
    WHEN 'frequency' THEN
      label_sql := 'CASE WHEN c.orders >= 7 THEN ''very_loyal'' WHEN c.orders >= 4 THEN ''loyal'' '
                   'WHEN c.orders >= 2 THEN ''repeat'' WHEN c.orders = 1 THEN ''one_time'' ELSE ''no_orders'' END';
    WHEN 'email_engagement' THEN
      label_sql := 'segments.email_engagement_level(c.opted_in, c.last_email_open_at, c.last_email_click_at, c.refreshed_at)';
    WHEN 'rfm_group' THEN
      label_sql := format('coalesce(%I.rfm_group, ''no_orders'')', a);
      join_sql := format(' LEFT JOIN segments.rfm() %1$I ON %1$I.customer_id = c.customer_id', a);
    WHEN 'segment' THEN
      label_sql := format('%I.segment', a);
      sort_sql := label_sql;
      join_sql := format(' JOIN segments.members %1$I ON %1$I.customer_id = c.customer_id', a);
    ELSE
      IF dimension IS NULL OR NOT EXISTS (
          SELECT 1 FROM pg_catalog.pg_attribute
          WHERE attrelid = 'segments.customers'::regclass AND attname = dimension AND attnum > 0 AND NOT attisdropped) THEN
        RAISE EXCEPTION 'unknown dimension "%"', dimension USING ERRCODE = '42703',
          HINT = 'Use a dimension of segments.dimensions (' ||
                 (SELECT string_agg(d.dimension, ', ') FROM segments.dimensions d) ||
                 ') or a column of segments.customers.';
      END IF;
      label_sql := format('c.%I::text', dimension);
      sort_sql := format('c.%I', dimension);
      kind := 'column';
  END CASE;
  IF sort_sql IS NULL THEN
    sort_sql := format('array_position(%L::text[], %s)', labels, label_sql);
  END IF;
END $$;
COMMENT ON FUNCTION segments._insights_dimension(text, text) IS
  'Internal: label, sort and join SQL of a dimension (validated; user text never spliced)';

-- Rule predicate (over segments.customers columns) selecting one label of a dimension.
CREATE FUNCTION segments._insights_predicate(dimension text, label text) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE labels text[]; typ text;
BEGIN
  IF label IS NULL THEN RETURN 'true'; END IF;  -- NULL: the whole row or column
  SELECT d.labels INTO labels FROM segments.dimensions d WHERE d.dimension = _insights_predicate.dimension;
  IF labels IS NOT NULL AND NOT label = ANY (labels) THEN
    RAISE EXCEPTION 'dimension % has no value "%"', dimension, label USING ERRCODE = '22023',
      HINT = 'Its values are ' || array_to_string(labels, ', ') || '.';
  END IF;
  CASE dimension
    WHEN 'lifecycle' THEN
      RETURN CASE label WHEN 'lead' THEN 'lifecycle IS NULL' ELSE format('lifecycle = %L', label) END;
    WHEN 'value_band' THEN
      RETURN CASE label WHEN 'no_orders' THEN 'value_band IS NULL' ELSE format('value_band = %L', label) END;
    WHEN 'frequency' THEN
      RETURN CASE label WHEN 'no_orders' THEN 'orders = 0' WHEN 'one_time' THEN 'orders = 1'
        WHEN 'repeat' THEN 'orders BETWEEN 2 AND 3' WHEN 'loyal' THEN 'orders BETWEEN 4 AND 6'
        ELSE 'orders >= 7' END;
    WHEN 'email_engagement' THEN
      RETURN format('segments.email_engagement_level(opted_in, last_email_open_at, last_email_click_at, refreshed_at) = %L', label);
    ELSE
      PERFORM segments._insights_dimension(dimension, 'x');  -- validates the column name
      SELECT format_type(atttypid, atttypmod) INTO typ FROM pg_catalog.pg_attribute
      WHERE attrelid = 'segments.customers'::regclass AND attname = dimension;
      BEGIN
        EXECUTE format('SELECT %L::%s', label, typ);
      EXCEPTION WHEN data_exception THEN
        RAISE EXCEPTION 'value "%" does not fit column % (%)', label, dimension, typ USING ERRCODE = '22023',
          HINT = 'Pass a value as dimension_matrix shows it.';
      END;
      RETURN format('%I = %L::%s', dimension, label, typ);
  END CASE;
END $$;
COMMENT ON FUNCTION segments._insights_predicate(text, text) IS
  'Internal: rule predicate over segments.customers for one value of a rule dimension';

-- ---------------------------------------------------------------------------------------------
-- Breakdown: Ometria's fifteen fields per group
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION segments.breakdown(group_by text DEFAULT NULL, segment text DEFAULT NULL)
RETURNS TABLE(group_value text, group_order bigint, contacts bigint, customers bigint,
              repeat_customers bigint, one_time_customers bigint, total_orders bigint,
              total_orders_attempted bigint, total_clv numeric, average_clv numeric,
              average_orders numeric, aov numeric, contact_conversion_rate numeric,
              customer_repeat_rate numeric, average_recency_days float8,
              average_first_order_delay_days float8, average_second_order_delay_days float8)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE d record; filter text := ''; sid bigint;
BEGIN
  IF group_by IS NULL THEN
    SELECT '''all''::text' AS label_sql, '1' AS sort_sql, '' AS join_sql INTO d;
  ELSE
    SELECT * INTO d FROM segments._insights_dimension(group_by, 'g');
  END IF;
  IF segment IS NOT NULL THEN
    sid := segments._insights_segment_id(segment);
    filter := ' WHERE c.customer_id IN (SELECT f.customer_id FROM segments.members f WHERE f.segment = $1)';
  END IF;
  RETURN QUERY EXECUTE format($q$
    SELECT x.grp, dense_rank() OVER (ORDER BY x.srt), x.contacts, x.customers, x.repeaters,
           x.customers - x.repeaters, x.orders, x.attempted, x.clv,
           round(x.clv / nullif(x.customers, 0), 2), round(x.orders::numeric / nullif(x.customers, 0), 2),
           round(x.clv / nullif(x.orders, 0), 2), round(x.customers::numeric / nullif(x.contacts, 0), 4),
           round(x.repeaters::numeric / nullif(x.customers, 0), 4), x.recency, x.first_delay, x.second_delay
    FROM (SELECT %1$s AS grp, %2$s AS srt, count(*) AS contacts,
                 count(*) FILTER (WHERE c.orders > 0) AS customers,
                 count(*) FILTER (WHERE c.orders > 1) AS repeaters,
                 coalesce(sum(c.orders), 0)::bigint AS orders,
                 coalesce(sum(c.attempted_orders), 0)::bigint AS attempted,
                 coalesce(sum(c.revenue) FILTER (WHERE c.orders > 0), 0) AS clv,
                 avg(c.days_since_last_order) FILTER (WHERE c.orders > 0) AS recency,
                 avg(c.first_order_delay_days) FILTER (WHERE c.orders > 0) AS first_delay,
                 avg(c.second_order_delay_days) FILTER (WHERE c.orders > 1) AS second_delay
          FROM segments.customers c%3$s%4$s
          GROUP BY 1, 2) x
    ORDER BY x.srt NULLS LAST$q$, d.label_sql, d.sort_sql, d.join_sql, filter) USING segment;
END $$;
COMMENT ON FUNCTION segments.breakdown(text, text) IS
  'Ometria''s fifteen customer-insight fields per group of a dimension or segments.customers column (NULL: one row, all), optionally within one segment';

-- ---------------------------------------------------------------------------------------------
-- Dimension matrix
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION segments.dimension_matrix(row_dimension text, column_dimension text, segment text DEFAULT NULL)
RETURNS TABLE(row_value text, column_value text, row_order bigint, column_order bigint,
              contacts bigint, customers bigint, revenue numeric,
              pct_of_total numeric, pct_of_row numeric, pct_of_column numeric)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE r record; k record; filter text := ''; sid bigint;
BEGIN
  SELECT * INTO r FROM segments._insights_dimension(row_dimension, 'r');
  SELECT * INTO k FROM segments._insights_dimension(column_dimension, 'k');
  IF segment IS NOT NULL THEN
    sid := segments._insights_segment_id(segment);
    filter := ' WHERE c.customer_id IN (SELECT f.customer_id FROM segments.members f WHERE f.segment = $1)';
  END IF;
  RETURN QUERY EXECUTE format($q$
    WITH base AS (
      SELECT %1$s AS rv, %2$s AS rs, %3$s AS kv, %4$s AS ks, count(*) AS contacts,
             count(*) FILTER (WHERE c.orders > 0) AS customers, coalesce(sum(c.revenue), 0) AS revenue
      FROM segments.customers c%5$s%6$s%7$s
      GROUP BY 1, 2, 3, 4),
    cells AS (  -- display positions: by the dimension's order, then label
      SELECT b.*, dense_rank() OVER (ORDER BY b.rs NULLS LAST, b.rv) AS ri,
             dense_rank() OVER (ORDER BY b.ks NULLS LAST, b.kv) AS ci FROM base b),
    rws AS (SELECT DISTINCT cells.ri, cells.rv FROM cells), cls AS (SELECT DISTINCT cells.ci, cells.kv FROM cells),
    grid AS (
      SELECT rws.rv, rws.ri, cls.kv, cls.ci, coalesce(cells.contacts, 0) AS contacts,
             coalesce(cells.customers, 0) AS customers, coalesce(cells.revenue, 0) AS revenue
      FROM rws CROSS JOIN cls LEFT JOIN cells ON cells.ri = rws.ri AND cells.ci = cls.ci)
    SELECT g.rv, g.kv, g.ri, g.ci, g.contacts, g.customers, g.revenue,
           round(100.0 * g.contacts / nullif(sum(g.contacts) OVER (), 0), 2),
           round(100.0 * g.contacts / nullif(sum(g.contacts) OVER (PARTITION BY g.ri), 0), 2),
           round(100.0 * g.contacts / nullif(sum(g.contacts) OVER (PARTITION BY g.ci), 0), 2)
    FROM grid g
    ORDER BY g.ri, g.ci$q$,
    r.label_sql, r.sort_sql, k.label_sql, k.sort_sql, r.join_sql, k.join_sql, filter) USING segment;
END $$;
COMMENT ON FUNCTION segments.dimension_matrix(text, text, text) IS
  'Two dimensions crossed: contacts, customers and revenue per cell (every combination of seen values, zeros included) with percentages of the total, the row and the column';

-- The rule (or, for query dimensions, the query) selecting chosen cells of a matrix.
CREATE FUNCTION segments.matrix_rule(row_dimension text, column_dimension text, cells text[],
                                     OUT rule text, OUT query text)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE r record; k record; i int; parts text[] := '{}'; qparts text[] := '{}';
BEGIN
  IF cells IS NULL OR array_ndims(cells) IS DISTINCT FROM 2 OR array_length(cells, 2) <> 2 THEN
    RAISE EXCEPTION 'cells must be a two-dimensional array of [row value, column value] pairs'
      USING ERRCODE = '22023',
      HINT = 'E.g. ARRAY[[''lost'', ''high''], [''lost'', ''very_high'']]; NULL stands for the whole row or column.';
  END IF;
  SELECT * INTO r FROM segments._insights_dimension(row_dimension, 'r');
  SELECT * INTO k FROM segments._insights_dimension(column_dimension, 'k');
  FOR i IN array_lower(cells, 1) .. array_upper(cells, 1) LOOP
    IF r.kind <> 'query' AND k.kind <> 'query' THEN
      parts := parts || format('(%s AND %s)', segments._insights_predicate(row_dimension, cells[i][1]),
                                              segments._insights_predicate(column_dimension, cells[i][2]));
    ELSE
      qparts := qparts || format('(%s AND %s)',
        CASE WHEN cells[i][1] IS NULL THEN 'true' ELSE format('%s = %L', r.label_sql, cells[i][1]) END,
        CASE WHEN cells[i][2] IS NULL THEN 'true' ELSE format('%s = %L', k.label_sql, cells[i][2]) END);
    END IF;
  END LOOP;
  IF cardinality(parts) > 0 THEN
    rule := array_to_string(parts, ' OR ');
  ELSE
    query := format('SELECT DISTINCT c.customer_id FROM segments.customers c%s%s WHERE %s',
                    r.join_sql, k.join_sql, array_to_string(qparts, ' OR '));
  END IF;
END $$;
COMMENT ON FUNCTION segments.matrix_rule(text, text, text[]) IS
  'The segment rule (over segments.customers columns) selecting the given [row, column] cells of a dimension matrix; a query instead when a dimension is rfm_group or segment';

CREATE FUNCTION segments.create_matrix_segment(name text, row_dimension text, column_dimension text,
  cells text[], description text DEFAULT NULL, refresh_interval interval DEFAULT '1 day')
RETURNS bigint LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE m record;
BEGIN
  SELECT * INTO m FROM segments.matrix_rule(row_dimension, column_dimension, cells);
  RETURN segments.create_segment(name, rule => m.rule, query => m.query,
    description => coalesce(description, format('Dimension matrix %s x %s: %s', row_dimension, column_dimension, cells::text)),
    refresh_interval => refresh_interval);
END $$;
COMMENT ON FUNCTION segments.create_matrix_segment(text, text, text, text[], text, interval) IS
  'Creates a segment (segments.create_segment) of the chosen cells of a dimension matrix; returns its id';

-- ---------------------------------------------------------------------------------------------
-- Life cycle on a past date; new vs returning vs lapsed
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION segments.lifecycle_on(as_of timestamptz)
RETURNS TABLE(customer_id text, lifecycle @extschema@.lifecycle, orders bigint, last_order_at timestamptz)
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
  SELECT o.customer_id, @extschema@.lifecycle_stage(o.ordered_at, as_of), count(*), max(o.ordered_at)
  FROM segments.source_orders o
  WHERE o.valid AND o.customer_id IS NOT NULL AND o.ordered_at <= as_of
  GROUP BY o.customer_id
$$;
COMMENT ON FUNCTION segments.lifecycle_on(timestamptz) IS
  'Each customer''s life-cycle stage on a past date, from the valid orders placed up to it';

CREATE FUNCTION @extschema@.lifecycle_lost_at(ordered_at timestamptz) RETURNS timestamptz
  AS 'MODULE_PATHNAME', 'pgs_lifecycle_lost_at' LANGUAGE C WINDOW STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.lifecycle_lost_at(timestamptz) IS
  'Window function over (PARTITION BY customer ORDER BY ordered_at): the moment after which the customer counts as lost if this row''s order is their last (from this and the earlier rows)';

CREATE FUNCTION segments.new_returning_lapsed_series(from_at timestamptz, to_at timestamptz,
                                                     step interval DEFAULT '1 month')
RETURNS TABLE(period_start timestamptz, period_end timestamptz, status text, customers bigint,
              orders bigint, revenue numeric)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE bounds timestamptz[];
BEGIN
  PERFORM segments._insights_check_range(from_at, to_at, 'new_returning_lapsed range');
  IF step IS NULL OR step <= interval '0' THEN
    RAISE EXCEPTION 'step must be a positive interval' USING ERRCODE = '22023',
      HINT = 'E.g. interval ''1 month'' or ''7 days''.';
  END IF;
  IF (SELECT count(*) FROM generate_series(from_at, to_at - interval '1 microsecond', step)) > 1000 THEN
    RAISE EXCEPTION 'more than 1000 periods' USING ERRCODE = '54000',
      HINT = 'Use a longer step or a shorter range.';
  END IF;
  -- Period i is [bounds[i], bounds[i + 1]); width_bucket finds it.
  bounds := ARRAY(SELECT generate_series(from_at, to_at - interval '1 microsecond', step)) || to_at;
  RETURN QUERY
  WITH o AS (  -- one pass over the valid orders: first order, next order, moment of lapsing; kept:
               -- the orders in the range and those whose lapse moment is in it
    SELECT * FROM (
      SELECT s.customer_id, s.ordered_at, s.amount, first_value(s.ordered_at) OVER w AS first_at,
             lead(s.ordered_at) OVER w AS next_at, @extschema@.lifecycle_lost_at(s.ordered_at) OVER w AS lost_at
      FROM segments.source_orders s
      WHERE s.valid AND s.customer_id IS NOT NULL AND s.ordered_at < to_at
      -- COLLATE "C": partitions only need grouping, and byte order is the cheapest
      WINDOW w AS (PARTITION BY s.customer_id COLLATE "C" ORDER BY s.ordered_at, s.order_id)) x
    WHERE x.ordered_at >= from_at OR (x.lost_at >= from_at AND x.lost_at < to_at)),
  active AS (  -- customers ordering in a period: new if their first order is in it
    SELECT width_bucket(o.ordered_at, bounds) AS i, o.customer_id, min(o.first_at) AS first_at,
           count(*) AS n, @extschema@.clv(o.amount) AS rev
    FROM o WHERE o.ordered_at >= from_at GROUP BY 1, 2),
  lapsed AS (  -- the last order before a period; lost during the period; next order not before its end
    SELECT x.i, x.customer_id FROM (
      SELECT width_bucket(o.lost_at, bounds) AS i, o.customer_id, o.ordered_at, o.next_at
      FROM o WHERE o.lost_at >= from_at AND o.lost_at < to_at) x
    WHERE x.ordered_at < bounds[x.i] AND (x.next_at IS NULL OR x.next_at >= bounds[x.i + 1])),
  classified AS (
    SELECT a.i, CASE WHEN a.first_at >= bounds[a.i] THEN 'new' ELSE 'returning' END AS st, a.n, a.rev FROM active a
    UNION ALL
    SELECT l.i, 'lapsed', 0, 0 FROM lapsed l)
  SELECT bounds[p.i], bounds[p.i + 1], k.st, count(c.st), coalesce(sum(c.n), 0)::bigint, coalesce(sum(c.rev), 0)
  FROM generate_series(1, cardinality(bounds) - 1) p(i)
  CROSS JOIN (VALUES (1, 'new'), (2, 'returning'), (3, 'lapsed')) k(n, st)
  LEFT JOIN classified c ON c.i = p.i AND c.st = k.st
  GROUP BY p.i, k.n, k.st ORDER BY p.i, k.n;
END $$;
COMMENT ON FUNCTION segments.new_returning_lapsed_series(timestamptz, timestamptz, interval) IS
  'segments.new_returning_lapsed for each step-long period of [from_at, to_at), in one pass, for charting';

-- One range: two lifecycle_stage aggregates per customer (one hash aggregate over the orders) cost
-- less than the window pass the series needs; both are checked against the same oracle.
CREATE FUNCTION segments.new_returning_lapsed(from_at timestamptz, to_at timestamptz)
RETURNS TABLE(status text, customers bigint, orders bigint, revenue numeric)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
  PERFORM segments._insights_check_range(from_at, to_at, 'new_returning_lapsed range');
  RETURN QUERY
  WITH per AS (
    SELECT o.customer_id, min(o.ordered_at) AS first_at,
           count(*) FILTER (WHERE o.ordered_at >= from_at) AS n_in,
           @extschema@.clv(o.amount) FILTER (WHERE o.ordered_at >= from_at) AS rev_in,
           @extschema@.lifecycle_stage(o.ordered_at, from_at) FILTER (WHERE o.ordered_at < from_at) AS stage_from,
           @extschema@.lifecycle_stage(o.ordered_at, to_at) FILTER (WHERE o.ordered_at < from_at) AS stage_to
    FROM segments.source_orders o
    WHERE o.valid AND o.customer_id IS NOT NULL AND o.ordered_at < to_at
    GROUP BY o.customer_id),
  classified AS (
    SELECT CASE WHEN p.first_at >= from_at THEN 'new'
                WHEN p.n_in > 0 THEN 'returning'
                WHEN p.stage_to = 'lost' AND p.stage_from <> 'lost' THEN 'lapsed' END AS st,
           p.n_in, p.rev_in
    FROM per p)
  SELECT k.st, count(c.st), coalesce(sum(c.n_in), 0)::bigint, coalesce(sum(c.rev_in), 0)
  FROM (VALUES (1, 'new'), (2, 'returning'), (3, 'lapsed')) k(n, st)
  LEFT JOIN classified c ON c.st = k.st
  GROUP BY k.n, k.st ORDER BY k.n;
END $$;
COMMENT ON FUNCTION segments.new_returning_lapsed(timestamptz, timestamptz) IS
  'Ometria new vs returning vs lapsed customers in [from_at, to_at), mutually exclusive: new = first valid order in range; returning = ordered in range, not new; lapsed = no order in range and became lost during it';

-- ---------------------------------------------------------------------------------------------
-- Customer events
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION @extschema@.lifecycle_stage_before(ordered_at timestamptz) RETURNS @extschema@.lifecycle
  AS 'MODULE_PATHNAME', 'pgs_lifecycle_stage_before' LANGUAGE C WINDOW STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.lifecycle_stage_before(timestamptz) IS
  'Window function over (PARTITION BY customer ORDER BY ordered_at): the life-cycle stage just before each order, from the earlier rows, judged at the order''s time (NULL for the first)';

CREATE FUNCTION segments.customer_event_orders(from_at timestamptz, to_at timestamptz)
RETURNS TABLE(customer_id text, order_id text, ordered_at timestamptz, amount numeric,
              order_number bigint, stage_before @extschema@.lifecycle)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
  PERFORM segments._insights_check_range(from_at, to_at, 'customer events range');
  RETURN QUERY
  WITH cust AS (  -- customers with a valid order in range
    SELECT DISTINCT o.customer_id FROM segments.source_orders o
    WHERE o.valid AND o.customer_id IS NOT NULL AND o.ordered_at >= from_at AND o.ordered_at < to_at),
  hist AS (  -- their valid orders up to the end of the range: number, and the stage just before
    SELECT o.customer_id, o.order_id, o.ordered_at, o.amount, row_number() OVER w AS n,
           @extschema@.lifecycle_stage_before(o.ordered_at) OVER w AS st
    FROM segments.source_orders o JOIN cust USING (customer_id)
    WHERE o.valid AND o.ordered_at < to_at
    WINDOW w AS (PARTITION BY o.customer_id COLLATE "C" ORDER BY o.ordered_at, o.order_id))
  SELECT h.customer_id, h.order_id, h.ordered_at, h.amount, h.n, h.st FROM hist h WHERE h.ordered_at >= from_at;
END $$;
COMMENT ON FUNCTION segments.customer_event_orders(timestamptz, timestamptz) IS
  'Valid orders placed in [from_at, to_at) with the order''s number in the customer''s history and the customer''s life-cycle stage just before it';

CREATE FUNCTION segments.customer_events(from_at timestamptz, to_at timestamptz,
  compare_from timestamptz DEFAULT NULL, compare_to timestamptz DEFAULT NULL)
RETURNS TABLE(metric text, metric_order int, customers bigint, orders bigint, revenue numeric,
              comparison_customers bigint, comparison_orders bigint, comparison_revenue numeric,
              change bigint, change_ratio numeric)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
  PERFORM segments._insights_check_range(from_at, to_at, 'customer events range');
  IF (compare_from IS NULL) <> (compare_to IS NULL) THEN
    RAISE EXCEPTION 'give both compare_from and compare_to, or neither' USING ERRCODE = '22023',
      HINT = 'Without them the comparison range is the equally long range just before from_at.';
  END IF;
  IF compare_from IS NULL THEN
    compare_from := from_at - (to_at - from_at);
    compare_to := from_at;
  END IF;
  PERFORM segments._insights_check_range(compare_from, compare_to, 'customer events comparison range');
  RETURN QUERY
  WITH e AS (  -- one pass over both ranges: numbers and stages do not depend on the range
    SELECT x.*, x.ordered_at >= from_at AND x.ordered_at < to_at AS in_a,
           x.ordered_at >= compare_from AND x.ordered_at < compare_to AS in_b
    FROM segments.customer_event_orders(least(from_at, compare_from), greatest(to_at, compare_to)) x),
  tagged AS (  -- one row per (metric, event order): 1 unique, 2 gained, 3 second order, 4 won back, 5 saved
    SELECT t.n, e.customer_id, e.amount, e.in_a, e.in_b
    FROM e CROSS JOIN LATERAL unnest(array_remove(ARRAY[1,
      CASE WHEN e.order_number = 1 THEN 2 END, CASE WHEN e.order_number = 2 THEN 3 END,
      CASE WHEN e.stage_before = 'lost' THEN 4 END, CASE WHEN e.stage_before = 'slipping_away' THEN 5 END], NULL)) t(n)
    WHERE e.in_a OR e.in_b),
  per AS (
    SELECT t.n, t.customer_id, count(*) FILTER (WHERE t.in_a) AS oa, sum(t.amount) FILTER (WHERE t.in_a) AS ra,
           count(*) FILTER (WHERE t.in_b) AS ob, sum(t.amount) FILTER (WHERE t.in_b) AS rb
    FROM tagged t GROUP BY t.n, t.customer_id),
  m AS (
    SELECT k.n, k.metric, count(*) FILTER (WHERE p.oa > 0) AS ca, coalesce(sum(p.oa), 0)::bigint AS oa,
           coalesce(sum(p.ra), 0) AS ra, count(*) FILTER (WHERE p.ob > 0) AS cb,
           coalesce(sum(p.ob), 0)::bigint AS ob, coalesce(sum(p.rb), 0) AS rb
    FROM (VALUES (1, 'unique_customers'), (2, 'customers_gained'), (3, 'placed_second_order'),
                 (4, 'won_back'), (5, 'saved')) k(n, metric)
    LEFT JOIN per p ON p.n = k.n
    GROUP BY k.n, k.metric)
  SELECT m.metric, m.n, m.ca, m.oa, m.ra, m.cb, m.ob, m.rb, m.ca - m.cb,
         round((m.ca - m.cb)::numeric / nullif(m.cb, 0), 4)
  FROM m ORDER BY m.n;
END $$;
COMMENT ON FUNCTION segments.customer_events(timestamptz, timestamptz, timestamptz, timestamptz) IS
  'Ometria customer events in [from_at, to_at) against a comparison range (default: the equally long range before): unique customers, customers gained, placed second order, won back (ordered while lost), saved (ordered while slipping away)';

CREATE FUNCTION segments.customer_event_products(from_at timestamptz, to_at timestamptz,
  order_lines regclass, columns jsonb DEFAULT '{}', for_metric text DEFAULT NULL)
RETURNS TABLE(metric text, metric_order int, product text, units numeric, customers bigint, revenue numeric)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  cols jsonb := jsonb_build_object('order_id', 'order_id', 'product', 'product', 'units', 'quantity',
                                   'revenue', 'revenue') || coalesce(columns, '{}');
  key text; col text;
BEGIN
  PERFORM segments._insights_check_range(from_at, to_at, 'customer events range');
  IF order_lines IS NULL THEN
    RAISE EXCEPTION 'order_lines must name a table or view of order lines' USING ERRCODE = '22004',
      HINT = 'E.g. ''shop.order_lines''::regclass.';
  END IF;
  FOR key IN SELECT jsonb_object_keys(cols) LOOP
    IF key NOT IN ('order_id', 'product', 'units', 'revenue') THEN
      RAISE EXCEPTION 'unknown order-lines column key "%"', key USING ERRCODE = '22023',
        HINT = 'Keys are order_id, product, units, revenue.';
    END IF;
    col := cols->>key;
    IF col IS NULL OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute
        WHERE attrelid = order_lines AND attname = col AND attnum > 0 AND NOT attisdropped) THEN
      RAISE EXCEPTION '% has no column "%" (for %)', order_lines, col, key USING ERRCODE = '42703',
        HINT = 'Map it with columns => ''{"' || key || '": "your_column"}''.';
    END IF;
  END LOOP;
  IF for_metric IS NOT NULL AND for_metric NOT IN ('unique_customers', 'customers_gained', 'placed_second_order', 'won_back', 'saved') THEN
    RAISE EXCEPTION 'unknown customer-event metric "%"', for_metric USING ERRCODE = '22023',
      HINT = 'Metrics are unique_customers, customers_gained, placed_second_order, won_back, saved (NULL: all).';
  END IF;
  RETURN QUERY EXECUTE format($q$
    WITH e AS (SELECT * FROM segments.customer_event_orders($1, $2)),
    tagged AS (
      SELECT m.n, m.metric, e.customer_id, e.order_id FROM e
      JOIN (VALUES (1, 'unique_customers'), (2, 'customers_gained'), (3, 'placed_second_order'),
                   (4, 'won_back'), (5, 'saved')) m(n, metric)
        ON CASE m.metric WHEN 'unique_customers' THEN true
                         WHEN 'customers_gained' THEN e.order_number = 1
                         WHEN 'placed_second_order' THEN e.order_number = 2
                         WHEN 'won_back' THEN e.stage_before = 'lost'
                         ELSE e.stage_before = 'slipping_away' END
      WHERE $3 IS NULL OR m.metric = $3)
    SELECT t.metric, t.n, l.%3$I::text, sum(l.%4$I)::numeric, count(DISTINCT t.customer_id), sum(l.%5$I)::numeric
    FROM tagged t JOIN %1$s l ON l.%2$I::text = t.order_id
    GROUP BY t.n, t.metric, l.%3$I::text
    ORDER BY t.n, 6 DESC NULLS LAST, 3$q$,
    order_lines, cols->>'order_id', cols->>'product', cols->>'units', cols->>'revenue')
  USING from_at, to_at, for_metric;
END $$;
COMMENT ON FUNCTION segments.customer_event_products(timestamptz, timestamptz, regclass, jsonb, text) IS
  'Per product (or any order-line column) and customer-event metric in [from_at, to_at): units, unique customers and revenue of the orders behind the metric, from an order-lines table joined on order_id';

-- ---------------------------------------------------------------------------------------------
-- RFM
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION segments.rfm_group(r_score int, f_score int) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE  -- not STRICT, so that it is inlined; NULL scores give NULL
    WHEN r_score IS NULL OR f_score IS NULL THEN NULL
    WHEN r_score >= 5 AND f_score >= 4 THEN 'champions'
    WHEN r_score >= 3 AND f_score >= 4 THEN 'loyal'
    WHEN r_score >= 4 AND f_score >= 2 THEN 'potential_loyalists'
    WHEN r_score >= 5 THEN 'new_customers'
    WHEN r_score = 4 THEN 'promising'
    WHEN r_score = 3 AND f_score = 3 THEN 'need_attention'
    WHEN r_score = 3 THEN 'about_to_sleep'
    WHEN f_score >= 5 THEN 'cant_lose'
    WHEN f_score >= 3 THEN 'at_risk'
    ELSE 'hibernating' END;
COMMENT ON FUNCTION segments.rfm_group(int, int) IS
  'Named RFM group from recency and frequency scores on a 1-5 scale (the usual R x F map: champions, loyal, potential_loyalists, new_customers, promising, need_attention, about_to_sleep, cant_lose, at_risk, hibernating)';

CREATE FUNCTION segments._insights_check_buckets(buckets int) RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF buckets IS NULL OR buckets < 2 OR buckets > 100 THEN
    RAISE EXCEPTION 'buckets must be between 2 and 100, not %', coalesce(buckets::text, 'NULL')
      USING ERRCODE = '22023', HINT = '5 gives the usual quintiles.';
  END IF;
END $$;
COMMENT ON FUNCTION segments._insights_check_buckets(int) IS 'Internal: validates an RFM bucket count';

CREATE FUNCTION segments.rfm_cut_points(buckets int DEFAULT 5)
RETURNS TABLE(dimension text, cut_points float8[])
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE fr float8[];
BEGIN
  PERFORM segments._insights_check_buckets(buckets);
  fr := ARRAY(SELECT i::float8 / buckets FROM generate_series(1, buckets - 1) i);
  RETURN QUERY
  SELECT x.d, x.cuts FROM (
    SELECT percentile_disc(fr) WITHIN GROUP (ORDER BY c.days_since_last_order) AS r,
           percentile_disc(fr) WITHIN GROUP (ORDER BY c.orders::float8) AS f,
           percentile_disc(fr) WITHIN GROUP (ORDER BY c.revenue::float8) AS m
    FROM segments.customers c WHERE c.orders > 0) q
  CROSS JOIN LATERAL (VALUES (1, 'recency', q.r), (2, 'frequency', q.f), (3, 'monetary', q.m)) x(n, d, cuts)
  ORDER BY x.n;
END $$;
COMMENT ON FUNCTION segments.rfm_cut_points(int) IS
  'The quantile cut points segments.rfm uses by default (recency days, valid orders, revenue over customers with a valid order)';

CREATE FUNCTION segments._insights_check_cuts(cuts float8[], buckets int, what text) RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF cuts IS NULL THEN RETURN; END IF;
  IF coalesce(cardinality(cuts), 0) <> buckets - 1 OR array_ndims(cuts) <> 1 THEN
    RAISE EXCEPTION '% cut points: % given, % needed for % buckets', what, coalesce(cardinality(cuts), 0),
      buckets - 1, buckets USING ERRCODE = '22023', HINT = 'segments.rfm_cut_points() shows the default ones.';
  END IF;
  IF EXISTS (SELECT 1 FROM unnest(cuts) WITH ORDINALITY a(v, i)
             JOIN unnest(cuts) WITH ORDINALITY b(v, i) ON b.i = a.i + 1
             WHERE a.v IS NULL OR b.v IS NULL OR b.v < a.v OR a.v = 'NaN' OR b.v = 'NaN') THEN
    RAISE EXCEPTION '% cut points must be ascending and not NULL: %', what, cuts USING ERRCODE = '22023',
      HINT = 'E.g. ARRAY[1, 2, 3, 5] for frequency.';
  END IF;
END $$;
COMMENT ON FUNCTION segments._insights_check_cuts(float8[], int, text) IS 'Internal: validates RFM cut points';

CREATE FUNCTION segments.rfm(buckets int DEFAULT 5, recency_cuts float8[] DEFAULT NULL,
  frequency_cuts float8[] DEFAULT NULL, monetary_cuts float8[] DEFAULT NULL)
RETURNS TABLE(customer_id text, recency_days float8, frequency int, monetary numeric,
              r_score int, f_score int, m_score int, rfm_score text, rfm_group text)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
  PERFORM segments._insights_check_buckets(buckets);
  PERFORM segments._insights_check_cuts(recency_cuts, buckets, 'recency');
  PERFORM segments._insights_check_cuts(frequency_cuts, buckets, 'frequency');
  PERFORM segments._insights_check_cuts(monetary_cuts, buckets, 'monetary');
  RETURN QUERY
  WITH s AS (
    -- A score is 1 + the number of cut points strictly below the value (recency: reversed). Default cut
    -- points are the quantiles (percentile_disc); with rank() = 1 + rows strictly below, that count is
    -- floor(buckets * (rank - 1) / customers), capped at buckets - 1: ties always share a score.
    SELECT c.customer_id, c.days_since_last_order AS r, c.orders AS f, c.revenue AS m,
      CASE WHEN recency_cuts IS NULL
        THEN least(buckets - 1, (buckets * (rank() OVER (ORDER BY c.days_since_last_order) - 1)) / count(*) OVER ())
        ELSE (SELECT count(*) FROM unnest(recency_cuts) x WHERE x < c.days_since_last_order) END AS r_below,
      CASE WHEN frequency_cuts IS NULL
        THEN least(buckets - 1, (buckets * (rank() OVER (ORDER BY c.orders) - 1)) / count(*) OVER ())
        ELSE (SELECT count(*) FROM unnest(frequency_cuts) x WHERE x < c.orders) END AS f_below,
      CASE WHEN monetary_cuts IS NULL
        THEN least(buckets - 1, (buckets * (rank() OVER (ORDER BY c.revenue::float8) - 1)) / count(*) OVER ())
        ELSE (SELECT count(*) FROM unnest(monetary_cuts) x WHERE x < c.revenue::float8) END AS m_below
    FROM segments.customers c WHERE c.orders > 0)
  SELECT s.customer_id, s.r, s.f, s.m, (buckets - s.r_below)::int, (1 + s.f_below)::int, (1 + s.m_below)::int,
         CASE WHEN buckets <= 9 THEN concat(buckets - s.r_below, 1 + s.f_below, 1 + s.m_below)
              ELSE concat_ws('-', buckets - s.r_below, 1 + s.f_below, 1 + s.m_below) END,
         segments.rfm_group(round(1 + (buckets - s.r_below - 1) * 4.0 / (buckets - 1))::int,
                            round(1 + s.f_below * 4.0 / (buckets - 1))::int)
  FROM s;
END $$;
COMMENT ON FUNCTION segments.rfm(int, float8[], float8[], float8[]) IS
  'RFM scores (1 = worst, buckets = best) of every customer with a valid order: recency = days since last order, frequency = valid orders, monetary = revenue; quantile cut points unless given; with the named RFM group';

-- ---------------------------------------------------------------------------------------------
-- Cohorts
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION segments.cohorts(period text DEFAULT 'month', from_at timestamptz DEFAULT NULL,
                                 to_at timestamptz DEFAULT NULL)
RETURNS TABLE(cohort date, cohort_size bigint, period_number int, period_start date,
              active_customers bigint, retention numeric, orders bigint, revenue numeric)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE step interval;
BEGIN
  IF period IS NULL OR period NOT IN ('week', 'month', 'quarter', 'year') THEN
    RAISE EXCEPTION 'unknown cohort period "%"', period USING ERRCODE = '22023',
      HINT = 'Use week, month, quarter or year.';
  END IF;
  step := CASE period WHEN 'quarter' THEN interval '3 months' ELSE ('1 ' || period)::interval END;
  RETURN QUERY
  WITH cp AS (  -- one row per customer and period with a valid order
    SELECT s.customer_id, date_trunc(period, s.ordered_at) AS p, count(*) AS n, @extschema@.clv(s.amount) AS rev
    FROM segments.source_orders s WHERE s.valid AND s.customer_id IS NOT NULL AND s.ordered_at IS NOT NULL
    GROUP BY 1, 2),
  firsts AS (SELECT cp.customer_id, min(cp.p) AS c FROM cp GROUP BY cp.customer_id),
  chosen AS (SELECT * FROM firsts f WHERE (from_at IS NULL OR f.c >= date_trunc(period, from_at))
                                      AND (to_at IS NULL OR f.c < to_at)),
  sizes AS (SELECT ch.c, count(*) AS n FROM chosen ch GROUP BY ch.c),
  activity AS (
    SELECT ch.c, cp.p, count(*) AS active, sum(cp.n)::bigint AS orders, sum(cp.rev) AS revenue
    FROM cp JOIN chosen ch USING (customer_id) GROUP BY ch.c, cp.p),
  grid AS (
    SELECT sz.c, sz.n, g.p, (row_number() OVER (PARTITION BY sz.c ORDER BY g.p) - 1)::int AS k
    FROM sizes sz CROSS JOIN LATERAL generate_series(sz.c, (SELECT max(cp.p) FROM cp), step) g(p))
  SELECT g.c::date, g.n, g.k, g.p::date, coalesce(a.active, 0), round(coalesce(a.active, 0)::numeric / g.n, 4),
         coalesce(a.orders, 0), coalesce(a.revenue, 0)
  FROM grid g LEFT JOIN activity a ON a.c = g.c AND a.p = g.p
  ORDER BY g.c, g.k;
END $$;
COMMENT ON FUNCTION segments.cohorts(text, timestamptz, timestamptz) IS
  'Retention by first-order period: for each cohort and each period since, the customers with a valid order, their share of the cohort, orders and revenue (zeros included, up to the latest order)';

-- ---------------------------------------------------------------------------------------------
-- As-of membership and overlap
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION segments.members_at(segment text, at timestamptz)
RETURNS TABLE(customer_id text, joined_at timestamptz)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE sid bigint := segments._insights_segment_id(segment);
BEGIN
  IF at IS NULL THEN
    RAISE EXCEPTION 'at must not be NULL' USING ERRCODE = '22004', HINT = 'Pass the moment to look at, e.g. ''2024-06-01''.';
  END IF;
  RETURN QUERY
  SELECT l.customer_id, l.at FROM (
    SELECT DISTINCT ON (ch.customer_id) ch.customer_id, ch.change, ch.at
    FROM segments.changes ch WHERE ch.segment_id = sid AND ch.at <= members_at.at
    ORDER BY ch.customer_id, ch.at DESC, ch.id DESC) l
  WHERE l.change = 'joined';
END $$;
COMMENT ON FUNCTION segments.members_at(text, timestamptz) IS
  'Who was in a segment at a past moment, replayed from segments.changes (joined_at: when that stay began)';

CREATE FUNCTION segments.overlap(segment_names text[] DEFAULT NULL)
RETURNS TABLE(segment_a text, segment_b text, size_a bigint, size_b bigint, in_both bigint,
              only_a bigint, only_b bigint, jaccard numeric, pct_of_a numeric)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE missing text;
BEGIN
  SELECT string_agg(n, ', ') INTO missing FROM unnest(segment_names) n
  WHERE NOT EXISTS (SELECT 1 FROM segments.segments s WHERE s.name = n);
  IF missing IS NOT NULL THEN
    RAISE EXCEPTION 'no such segment: %', missing USING ERRCODE = '42704',
      HINT = 'segments.segments lists the segments; NULL compares all of them.';
  END IF;
  RETURN QUERY
  WITH s AS (SELECT s.name FROM segments.segments s WHERE segment_names IS NULL OR s.name = ANY (segment_names)),
  m AS (SELECT mm.segment, mm.customer_id FROM segments.members mm JOIN s ON s.name = mm.segment),
  sizes AS (SELECT s.name, count(m.customer_id) AS n FROM s LEFT JOIN m ON m.segment = s.name GROUP BY s.name),
  pairs AS (SELECT a.segment AS x, b.segment AS y, count(*) AS n
            FROM m a JOIN m b ON a.customer_id = b.customer_id GROUP BY 1, 2)
  SELECT sa.name, sb.name, sa.n, sb.n, coalesce(p.n, 0), sa.n - coalesce(p.n, 0), sb.n - coalesce(p.n, 0),
         round(coalesce(p.n, 0)::numeric / nullif(sa.n + sb.n - coalesce(p.n, 0), 0), 4),
         round(100.0 * coalesce(p.n, 0) / nullif(sa.n, 0), 2)
  FROM sizes sa CROSS JOIN sizes sb LEFT JOIN pairs p ON p.x = sa.name AND p.y = sb.name
  ORDER BY sa.name, sb.name;
END $$;
COMMENT ON FUNCTION segments.overlap(text[]) IS
  'Pairwise overlap of segments (all, or the named ones): sizes, customers in both, in one only, Jaccard index, share of a also in b; every ordered pair incl. a segment with itself';
