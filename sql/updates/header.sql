-- pg_segments upgrade script, built by the Makefile: the run-once part of this release
-- (sql/updates/<from>--<to>/*.sql, in name order), then every replaceable file of sql/order.txt
-- re-run (CREATE OR REPLACE). Edit those files, not the generated script.
\echo Use "ALTER EXTENSION pg_segments UPDATE" to load this file. \quit
