#include "lapse.h"

#include <algorithm>
#include <cmath>

#include "errors.h"
#include "time_units.h"

namespace pgs::core {

namespace {

// The limits classify() judges these orders (days, or their gap moments) by (one order: the typical
// cadence, spread as an exponential gap).
template <typename Orders>
StageLimits limits_of(const Orders& orders, std::size_t count, const LifecycleRule& rule, const char* who) {
    if (count == 0) fail(ErrorKind::internal, who);
    rule.validate();
    const Cadence cadence = cadence_of(orders).value_or(Cadence{rule.typical_latency_days, rule.typical_latency_days});
    return stage_limits(cadence, rule);
}

// classify_silence's order of tests: each stage ends at its own limit; none once lost.
std::optional<double> next_change(const StageLimits& l, double silence) {
    if (silence <= l.just_ordered) return l.just_ordered;
    if (silence <= l.active) return l.active;
    if (silence <= l.lost) return l.lost;
    return std::nullopt;
}

}  // namespace

double lost_after_days(const std::vector<double>& sorted_days, const LifecycleRule& rule) {
    // Lost once the silence exceeds both the just-ordered window and the lost limit (which is at
    // least the active one: lost_sigmas >= active_sigmas, validated).
    const StageLimits l = limits_of(sorted_days, sorted_days.size(), rule, "lost_after_days needs at least one order");
    return std::max(l.just_ordered, l.lost);
}

double lost_after_days(const GapMoments& moments, const LifecycleRule& rule) {
    const StageLimits l = limits_of(moments, moments.count, rule, "lost_after_days needs at least one order");
    return std::max(l.just_ordered, l.lost);
}

std::optional<double> next_stage_change_days(const std::vector<double>& sorted_days, double silence,
                                             const LifecycleRule& rule) {
    return next_change(limits_of(sorted_days, sorted_days.size(), rule, "next_stage_change_days needs at least one order"), silence);
}

std::optional<double> next_stage_change_days(const GapMoments& moments, double silence, const LifecycleRule& rule) {
    return next_change(limits_of(moments, moments.count, rule, "next_stage_change_days needs at least one order"), silence);
}

std::optional<std::int64_t> next_stage_change_micros(const GapMoments& m, std::int64_t as_of,
                                                     const LifecycleRule& rule) {
    if (m.count == 0) return std::nullopt;
    const auto next = next_stage_change_days(m, micros_to_days(as_of - m.last), rule);
    if (!next) return std::nullopt;
    return std::max(as_of + 1, m.last + static_cast<std::int64_t>(std::floor(*next * kMicrosPerDay)));
}

}  // namespace pgs::core
