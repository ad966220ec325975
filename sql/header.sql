-- pg_segments: e-commerce customer segmentation inside PostgreSQL.
-- Built from sql/order.txt (the files it lists, in its order) by the Makefile; edit those files,
-- not the generated script.
\echo Use "CREATE EXTENSION pg_segments" to load this file. \quit
