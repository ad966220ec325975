-- The last test: gives the server its own pg_segments.scheduler_enabled back (worker_pause).
ALTER SYSTEM RESET pg_segments.scheduler_enabled;
SELECT pg_reload_conf();
