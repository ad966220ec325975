-- Customer insights (docs/insights.md): Ometria's breakdown, dimension matrix, new/returning/lapsed
-- and customer events; RFM scores and groups; cohorts; as-of membership; segment overlap.
-- Everything reads the engine's interfaces only: segments.customers, segments.source_*,
-- segments.segments, segments.members, segments.changes, segments.create_segment.

-- Small helpers shared by the insight functions.

-- The id of a segment by name; a clear error when there is none.
CREATE OR REPLACE FUNCTION segments_internal._insights_segment_id(segment text) RETURNS bigint
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
COMMENT ON FUNCTION segments_internal._insights_segment_id(text) IS
  'Internal: id of the named segment, or error 42704';

-- A date range must be finite and non-empty.
CREATE OR REPLACE FUNCTION segments_internal._insights_check_range(from_at timestamptz, to_at timestamptz, what text)
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
COMMENT ON FUNCTION segments_internal._insights_check_range(timestamptz, timestamptz, text) IS
  'Internal: raises 22023 unless from < to, both finite';
