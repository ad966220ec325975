#include "lapse.h"

#include <algorithm>

#include "errors.h"

namespace pgs::core {

double lost_after_days(const std::vector<double>& sorted_days, const LifecycleRule& rule) {
    if (sorted_days.empty()) fail(ErrorKind::internal, "lost_after_days needs at least one order");
    rule.validate();
    // The same cadence and spread floor as classify(); lost once the silence exceeds both the
    // just-ordered window and mean + lost_sigmas * spread (lost_sigmas >= active_sigmas, validated).
    const Cadence cadence = cadence_of(sorted_days).value_or(
        Cadence{rule.typical_latency_days, rule.typical_latency_days});
    const double spread = std::max(cadence.spread_days, rule.min_spread_ratio * cadence.mean_gap_days);
    return std::max(rule.just_ordered_days, cadence.mean_gap_days + rule.lost_sigmas * spread);
}

}  // namespace pgs::core
