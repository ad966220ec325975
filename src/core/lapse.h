// When a customer lapses: the silence after which the life-cycle classifier says `lost`.
// Lets the insights compute "became lost during a period" for every order in one pass.
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

#include "lifecycle.h"

namespace pgs::core {

// Days of silence after the last of `sorted_days` beyond which classify() gives Lifecycle::lost:
// classify(sorted_days, last + s, rule) == lost  <=>  s > lost_after_days(sorted_days, rule).
// Throws (like classify) on an invalid rule; requires at least one order.
double lost_after_days(const std::vector<double>& sorted_days, const LifecycleRule& rule);
// The same from the exact gap moments of the orders (what lifecycle_lost_at computes from).
double lost_after_days(const GapMoments& moments, const LifecycleRule& rule);

// The silence (days after the last of `sorted_days`) beyond which classify() next gives another
// stage than at `silence`: the limit of the current stage; none once the customer is lost
// (with no new order the stage never changes again). What the facts store as their life-cycle
// horizon. Throws (like classify) on an invalid rule; requires at least one order.
std::optional<double> next_stage_change_days(const std::vector<double>& sorted_days, double silence,
                                             const LifecycleRule& rule);

// The same from the exact gap moments of the orders (what lifecycle_changes_at keeps).
std::optional<double> next_stage_change_days(const GapMoments& moments, double silence, const LifecycleRule& rule);

// When the stage on as_of (microseconds, >= moments.last) next changes with no new order, in
// microseconds since the epoch; none with no orders, or once lost. Independent of as_of but for
// which stage it starts from (the cadence comes from the exact gap moments), so facts computed at
// two as-of times before it agree on it; rounded down, and never at or before as_of (a limit within
// rounding of as_of is re-judged a microsecond later). lifecycle_changes_at and the order facts.
std::optional<std::int64_t> next_stage_change_micros(const GapMoments& moments, std::int64_t as_of,
                                                     const LifecycleRule& rule);

}  // namespace pgs::core
