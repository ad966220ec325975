-- 0.1 -> 0.2, run once (issue 14: real clients). The replaceable definitions (views, functions,
-- comments) are re-run from the area files afterwards; this is only what CREATE OR REPLACE cannot do.

-- segments.overview: owner becomes text (was regrole, which ORMs and BI drivers cannot map), and
-- facts_as_of / facts_stale are new; CREATE OR REPLACE VIEW cannot change a column's type.
DROP VIEW IF EXISTS segments.overview;
