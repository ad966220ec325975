-- Analytics window functions: value_band, lifecycle_lost_at, lifecycle_stage_before
-- (docs/functions.md, docs/insights.md).

-- value_band: window function over the partition mean, and a scalar with an explicit reference.
CREATE OR REPLACE FUNCTION @extschema@.value_band(aov numeric) RETURNS @extschema@.value_band
  AS 'MODULE_PATHNAME', 'pgs_value_band_window' LANGUAGE C WINDOW IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.value_band(numeric) IS
  'Window function: value band of the row''s value against the mean of its partition';
CREATE OR REPLACE FUNCTION @extschema@.value_band(aov numeric, reference numeric) RETURNS @extschema@.value_band
  AS 'MODULE_PATHNAME', 'pgs_value_band' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.value_band(numeric, numeric) IS
  'Value band of aov against a reference (usually the mean AOV of all customers)';

CREATE OR REPLACE FUNCTION @extschema@.lifecycle_lost_at(ordered_at timestamptz) RETURNS timestamptz
  AS 'MODULE_PATHNAME', 'pgs_lifecycle_lost_at' LANGUAGE C WINDOW STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.lifecycle_lost_at(timestamptz) IS
  'Window function over (PARTITION BY customer ORDER BY ordered_at): the moment after which the customer counts as lost if this row''s order is their last (from this and the earlier rows)';

CREATE OR REPLACE FUNCTION @extschema@.lifecycle_stage_before(ordered_at timestamptz) RETURNS @extschema@.lifecycle
  AS 'MODULE_PATHNAME', 'pgs_lifecycle_stage_before' LANGUAGE C WINDOW STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.lifecycle_stage_before(timestamptz) IS
  'Window function over (PARTITION BY customer ORDER BY ordered_at): the life-cycle stage just before each order, from the earlier rows, judged at the order''s time (NULL for the first)';
