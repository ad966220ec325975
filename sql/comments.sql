-- What the schemas and types mean (\dn+, \dT+, a BI tool's schema browser). Replaceable, so an
-- upgrade re-runs them and no migration copies a comment; after the once files that create them.

-- schemas.sql
COMMENT ON SCHEMA segments IS
  'pg_segments engine: source mapping, customer facts, segments, membership, change log, history, runs';
COMMENT ON SCHEMA segment_rules IS
  'pg_segments internal: one materialized view per segment (the rule, owned by the segment owner)';
COMMENT ON SCHEMA segment_members IS
  'pg_segments: one view per segment, named like the segment: members joined with segments.customers';
COMMENT ON SCHEMA segments_internal IS 'pg_segments internal helpers (not part of the API)';

-- analytics/types.sql
COMMENT ON TYPE @extschema@.lifecycle IS
  'Clerk.io customer life cycle, best first: just_ordered, active, slipping_away, lost';
COMMENT ON TYPE @extschema@.value_band IS
  'Ometria customer value band: value against the mean (low < 0.75 <= medium <= 1.25 < high <= 2.5 < very_high)';

-- btyd/types.sql
COMMENT ON TYPE @extschema@.rfm IS
  'BTYD summary of one customer: frequency = repeat purchase days, recency = age at the last purchase, t = age T at the cut-off (both in the unit asked for), monetary = mean spend of the repeat purchase days';
COMMENT ON TYPE @extschema@.bgnbd_model IS
  'Fitted BG/NBD model (Fader, Hardie & Lee 2005): purchase rates Gamma(r, alpha), drop-out probabilities Beta(a, b); with the maximised log-likelihood, customers fitted and convergence';
COMMENT ON TYPE @extschema@.paretonbd_model IS
  'Fitted Pareto/NBD model: purchase rates Gamma(r, alpha), drop-out rates Gamma(s, beta); with the maximised log-likelihood, customers fitted and convergence';
COMMENT ON TYPE @extschema@.gammagamma_model IS
  'Fitted Gamma-Gamma spend model: mean spend per transaction, fitted on repeat buyers; with the maximised log-likelihood, customers fitted and convergence';
COMMENT ON TYPE @extschema@.mbgnbd_model IS
  'Fitted MBG/NBD model (Batislam, Denizel & Filiztekin 2007): the BG/NBD where a customer may also drop out right after the first purchase; same parameters r, alpha, a, b';
COMMENT ON TYPE @extschema@.bgbb_model IS
  'Fitted BG/BB model (Fader, Hardie & Shang 2010) for discrete transaction opportunities: purchase probability per period Beta(alpha, beta), drop-out probability per period Beta(gamma, delta)';
COMMENT ON TYPE @extschema@.time_unit IS
  'Period of a BTYD summary: days or weeks (an enum, so that calls with it can be pushed down to shards)';
