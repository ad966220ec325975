#include "lifecycle.h"

#include <algorithm>
#include <cmath>

#include "errors.h"
#include "time_units.h"

namespace pgs::core {

void LifecycleRule::validate() const {
    auto finite_nonneg = [](double v) { return std::isfinite(v) && v >= 0; };
    if (!finite_nonneg(just_ordered_days) || !finite_nonneg(active_sigmas) ||
        !finite_nonneg(lost_sigmas) || !finite_nonneg(min_spread_ratio))
        fail(ErrorKind::invalid_argument, "life-cycle thresholds must be finite and not negative",
             "Check the pg_segments.lifecycle_* settings.");
    if (lost_sigmas < active_sigmas)
        fail(ErrorKind::invalid_argument, "pg_segments.lifecycle_lost_sigmas is below pg_segments.lifecycle_active_sigmas",
             "A customer must slip away before being lost: set lost_sigmas >= active_sigmas.");
    if (!std::isfinite(typical_latency_days) || typical_latency_days <= 0)
        fail(ErrorKind::invalid_argument, "typical latency must be a positive, finite number of days",
             "Pass e.g. interval '90 days', or the population's order_latency.");
}

namespace {

// Mean and sample spread of the gaps between n sorted days, day(i) giving the i-th.
template <typename DayAt>
std::optional<Cadence> cadence_over(std::size_t n, DayAt day) {
    if (n < 2) return std::nullopt;
    const double gaps = static_cast<double>(n - 1);
    const double mean = (day(n - 1) - day(0)) / gaps;
    double ss = 0;
    double prev = day(0);
    for (std::size_t i = 1; i < n; ++i) {
        const double cur = day(i);
        const double d = (cur - prev) - mean;
        ss += d * d;
        prev = cur;
    }
    const double sd = n > 2 ? std::sqrt(ss / (gaps - 1)) : 0.0;
    return Cadence{mean, sd};
}

template <typename DayAt>
std::optional<Lifecycle> classify_over(std::size_t n, DayAt day, double as_of, const LifecycleRule& rule) {
    if (n == 0) return std::nullopt;
    rule.validate();
    const double silence = as_of - day(n - 1);
    if (silence < 0)
        fail(ErrorKind::internal, "life-cycle classifier was given an order after as_of");
    // One order tells nothing of a cadence: assume the typical one, as spread as an exponential gap.
    const Cadence cadence = cadence_over(n, day).value_or(Cadence{rule.typical_latency_days, rule.typical_latency_days});
    return classify_silence(silence, cadence, rule);
}

}  // namespace

std::optional<Cadence> cadence_of(const std::vector<double>& sorted_days) {
    return cadence_over(sorted_days.size(), [&](std::size_t i) { return sorted_days[i]; });
}

StageLimits stage_limits(const Cadence& cadence, const LifecycleRule& rule) {
    const double spread = std::max(cadence.spread_days, rule.min_spread_ratio * cadence.mean_gap_days);
    return {rule.just_ordered_days, cadence.mean_gap_days + rule.active_sigmas * spread,
            cadence.mean_gap_days + rule.lost_sigmas * spread};
}

Lifecycle classify_silence(double silence, const Cadence& cadence, const LifecycleRule& rule) {
    const StageLimits limits = stage_limits(cadence, rule);
    if (silence <= limits.just_ordered) return Lifecycle::just_ordered;
    if (silence <= limits.active) return Lifecycle::active;
    if (silence <= limits.lost) return Lifecycle::slipping_away;
    return Lifecycle::lost;
}

std::optional<Lifecycle> classify(const std::vector<double>& sorted_days, double as_of,
                                  const LifecycleRule& rule) {
    return classify_over(sorted_days.size(), [&](std::size_t i) { return sorted_days[i]; }, as_of, rule);
}

std::optional<Lifecycle> classify_micros(const std::int64_t* sorted_micros, std::size_t n, std::int64_t as_of_micros,
                                         const LifecycleRule& rule) {
    return classify_over(n, [&](std::size_t i) { return micros_to_days(sorted_micros[i] - as_of_micros); }, 0.0,
                         rule);
}

}  // namespace pgs::core
