-- The labels the C functions return are the SQL enums' labels, in the same order (the C side takes
-- them from the core's kLifecycleLabels / kValueBandLabels): each function is given inputs that hit
-- every label in the core's order (lowest value first, best life-cycle stage first), and its
-- answers, in that order, must equal enum_range() of its return type.
CREATE EXTENSION IF NOT EXISTS pg_segments;
SET timezone = 'UTC';
-- The defaults, whatever the server says: limits 30, 180 and 360 days for one order and 90 days.
SET pg_segments.lifecycle_just_ordered_days = 30;
SET pg_segments.lifecycle_active_sigmas = 1;
SET pg_segments.lifecycle_lost_sigmas = 3;
SET pg_segments.lifecycle_min_spread_ratio = 0.5;
SET pg_segments.typical_latency_days = 90;

-- value_band(aov, reference): one value per band against 100.
SELECT array_agg(value_band(v, 100) ORDER BY v) AS labels,
       array_agg(value_band(v, 100) ORDER BY v) = enum_range(NULL::value_band) AS equal
FROM unnest('{50, 100, 200, 300}'::numeric[]) v;

-- value_band(aov) OVER (): the mean of 20 x 100, 10, 200 and 400 is 113.5.
SELECT array_agg(band ORDER BY v) AS labels, array_agg(band ORDER BY v) = enum_range(NULL::value_band) AS equal
FROM (SELECT DISTINCT v, value_band(v) OVER () AS band
      FROM unnest(array_fill(100::numeric, '{20}') || '{10, 200, 400}'::numeric[]) v) b;

-- lifecycle_stage(ordered_at, as_of [, typical_latency]): one order, silent 10, 100, 200, 400 days.
SELECT array_agg(stage ORDER BY silence) AS labels,
       array_agg(stage ORDER BY silence) = enum_range(NULL::lifecycle) AS equal,
       array_agg(stage_90 ORDER BY silence) = enum_range(NULL::lifecycle) AS equal_with_latency
FROM (SELECT silence,
             lifecycle_stage(timestamptz '2024-01-01' - make_interval(days => silence), '2024-01-01') AS stage,
             lifecycle_stage(timestamptz '2024-01-01' - make_interval(days => silence), '2024-01-01',
                             interval '90 days') AS stage_90
      FROM unnest('{10, 100, 200, 400}'::int[]) silence GROUP BY silence) s;

-- lifecycle_stage_before(ordered_at) OVER (...): a second order 10, 100, 200, 400 days after the first.
SELECT array_agg(stage ORDER BY silence) AS labels,
       array_agg(stage ORDER BY silence) = enum_range(NULL::lifecycle) AS equal
FROM (SELECT silence, lifecycle_stage_before(at) OVER (PARTITION BY silence ORDER BY at) AS stage, at
      FROM unnest('{10, 100, 200, 400}'::int[]) silence,
           LATERAL (VALUES (timestamptz '2024-01-01'),
                           (timestamptz '2024-01-01' + make_interval(days => silence))) o(at)) s
WHERE at > '2024-01-01';
