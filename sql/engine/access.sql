-- Segment engine: who may act on which segment (docs/security.md), finding a segment by name, and
-- the settings. Used by every engine part after this one.

-- A pg_segments.* setting, as text. A C function: calling it loads the library, which defines every
-- setting with its default (src/pg/settings.cpp), so the engine never repeats a default.
CREATE OR REPLACE FUNCTION segments_internal._setting(name text) RETURNS text
    AS 'MODULE_PATHNAME', 'pgs_setting' LANGUAGE C STABLE STRICT PARALLEL SAFE;

-- The segment row, by name, with a clear error when there is none (or it is not yours).
CREATE OR REPLACE FUNCTION segments_internal._get(name text) RETURNS segments.segments
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

-- Who may do what (docs/security.md): 'create' needs segments_editor; 'edit' a segment needs
-- segments_editor and the privileges of its owner, or segments_admin; 'admin' needs segments_admin.
-- The engine's SECURITY DEFINER functions call this first with the role that called them.
CREATE OR REPLACE FUNCTION segments_internal._authorize(caller regrole, action text, owner regrole DEFAULT NULL, what text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF pg_has_role(caller, 'segments_admin', 'USAGE') THEN
    RETURN;
  END IF;
  IF action = 'admin' THEN
    RAISE EXCEPTION 'permission denied to %: it needs role segments_admin', coalesce(what, 'do this')
      USING ERRCODE = '42501', HINT = format('A superuser can run: GRANT segments_admin TO %s;', caller);
  END IF;
  IF NOT pg_has_role(caller, 'segments_editor', 'USAGE') THEN
    RAISE EXCEPTION 'permission denied to %: it needs role segments_editor', coalesce(what, 'change segments')
      USING ERRCODE = '42501', HINT = format('A superuser can run: GRANT segments_editor TO %s;', caller);
  END IF;
  IF action = 'edit' AND NOT pg_has_role(caller, owner, 'USAGE') THEN
    RAISE EXCEPTION 'permission denied to %: the segment belongs to %', coalesce(what, 'change this segment'), owner
      USING ERRCODE = '42501',
      HINT = format('Editors change only their own segments. Ask %s, or a member of segments_admin.', owner);
  END IF;
END $$;

-- The segment row by name for a caller, inside the engine (which reads past row-level security):
-- 42704 when there is none or the caller may not see it, 42501 when the caller may see but not change it.
CREATE OR REPLACE FUNCTION segments_internal._segment_for(caller regrole, name text, what text) RETURNS segments.segments
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE s segments.segments;
BEGIN
  SELECT * INTO s FROM segments.segments g WHERE g.name = _segment_for.name;
  IF NOT FOUND OR NOT (pg_has_role(caller, 'segments_reader', 'USAGE') OR pg_has_role(caller, s.owner, 'USAGE')) THEN
    RAISE EXCEPTION 'segment "%" does not exist', name USING ERRCODE = '42704',
      HINT = 'SELECT name FROM segments.segments lists the segments you can see.';
  END IF;
  PERFORM segments_internal._authorize(caller, 'edit', s.owner, format('%s segment "%s"', what, s.name));
  RETURN s;
END $$;
