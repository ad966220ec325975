-- pg_segments: e-commerce customer segmentation inside PostgreSQL.
-- Built from src/sql/*.sql by the Makefile; edit those files, not the generated script.
\echo Use "CREATE EXTENSION pg_segments" to load this file. \quit
