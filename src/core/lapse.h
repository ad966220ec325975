// When a customer lapses: the silence after which the life-cycle classifier says `lost`.
// Lets the insights compute "became lost during a period" for every order in one pass.
#pragma once
#include <vector>

#include "lifecycle.h"

namespace pgs::core {

// Days of silence after the last of `sorted_days` beyond which classify() gives Lifecycle::lost:
// classify(sorted_days, last + s, rule) == lost  <=>  s > lost_after_days(sorted_days, rule).
// Throws (like classify) on an invalid rule; requires at least one order.
double lost_after_days(const std::vector<double>& sorted_days, const LifecycleRule& rule);

}  // namespace pgs::core
