-- Analytics: clv, order_latency, lifecycle_stage, value_band (docs/functions.md). Their comments: sql/comments.sql.

CREATE TYPE @extschema@.lifecycle AS ENUM ('just_ordered', 'active', 'slipping_away', 'lost');
CREATE TYPE @extschema@.value_band AS ENUM ('low', 'medium', 'high', 'very_high');
