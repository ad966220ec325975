-- Insights (docs/insights.md): As-of membership and overlap.

CREATE OR REPLACE FUNCTION segments.members_at(segment text, at timestamptz)
RETURNS TABLE(customer_id text, joined_at timestamptz)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE sid bigint := segments_internal._insights_segment_id(segment);
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

CREATE OR REPLACE FUNCTION segments.overlap(segment_names text[] DEFAULT NULL)
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
