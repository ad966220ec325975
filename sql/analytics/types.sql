-- Analytics: clv, order_latency, lifecycle_stage, value_band (docs/functions.md).

CREATE TYPE @extschema@.lifecycle AS ENUM ('just_ordered', 'active', 'slipping_away', 'lost');
COMMENT ON TYPE @extschema@.lifecycle IS
  'Clerk.io customer life cycle, best first: just_ordered, active, slipping_away, lost';
CREATE TYPE @extschema@.value_band AS ENUM ('low', 'medium', 'high', 'very_high');
COMMENT ON TYPE @extschema@.value_band IS
  'Ometria customer value band: value against the mean (low < 0.75 <= medium <= 1.25 < high <= 2.5 < very_high)';
