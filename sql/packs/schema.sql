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
