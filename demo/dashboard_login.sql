-- demo/run and the dashboard harness: the login the dashboard (bi/) reads through. It gets
-- pg_segments_reader and nothing else (docs/bi.md); no password: the demo server trusts local
-- connections only. A real shop sets one (ALTER ROLE segments_dashboard PASSWORD ...).
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'segments_dashboard') THEN
    CREATE ROLE segments_dashboard LOGIN;
  END IF;
  GRANT pg_segments_reader TO segments_dashboard;
END $$;
