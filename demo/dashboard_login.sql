-- demo/run and the dashboard harness: the login the dashboard (bi/) reads through. It gets
-- segments_reader, plus SELECT on the shop's orders table (the cohort and new/returning/lapsed
-- views read the orders source, like every insight, with the caller's rights) and nothing else:
-- no personal data (docs/bi.md). No password: the demo server trusts local connections only; a
-- real shop sets one (ALTER ROLE segments_dashboard PASSWORD ...).
DO $$
DECLARE orders regclass := (SELECT m.source FROM segments.source_map m WHERE m.kind = 'orders');
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'segments_dashboard') THEN
    CREATE ROLE segments_dashboard LOGIN;
  END IF;
  GRANT segments_reader TO segments_dashboard;
  IF orders IS NOT NULL THEN
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO segments_dashboard',
                   (SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = orders));
    EXECUTE format('GRANT SELECT ON %s TO segments_dashboard', orders);
  END IF;
END $$;
