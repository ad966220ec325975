-- demo/run: the four ready-made packs, left for the background worker to build (build => false).
SELECT p.pack, count(*) AS segments, string_agg(i.status, ',' ORDER BY i.segment) FILTER (WHERE i.status = 'skipped') AS skipped
FROM unnest(ARRAY['ecommerce', 'payments', 'crm', 'lifecycle']) AS p(pack),
     segments.install_pack(p.pack, build => false) AS i
GROUP BY p.pack;
