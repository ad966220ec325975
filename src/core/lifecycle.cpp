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

bool GapMoments::append(const GapMoments& later) {
    if (later.count == 0) return true;
    if (count == 0) {
        *this = later;
        return true;
    }
    if (later.first < last) return false;
    const std::uint64_t gap = static_cast<std::uint64_t>(later.first) - static_cast<std::uint64_t>(last);
    sum_sq += static_cast<unsigned __int128>(gap) * gap + later.sum_sq;
    if (count == 1) second = later.first;
    last = later.last;
    count += later.count;
    return true;
}

GapMoments GapMoments::of_sorted(const std::int64_t* sorted_micros, std::size_t n) {
    GapMoments m{};
    for (std::size_t i = 0; i < n; ++i) m.append(sorted_micros[i]);
    return m;
}

std::optional<Cadence> cadence_of(const GapMoments& m) {
    if (m.count < 2) return std::nullopt;
    using u128 = unsigned __int128;
    const std::uint64_t span = static_cast<std::uint64_t>(m.last) - static_cast<std::uint64_t>(m.first);
    const double gaps = static_cast<double>(m.count - 1);
    const double mean = micros_to_days(static_cast<double>(span) / gaps);
    if (m.count == 2) return Cadence{mean, 0.0};
    // Sample variance of the gaps in micros^2: (gaps * sum_sq - span^2) / (gaps * (gaps - 1)), the
    // numerator exact in 128 bits (>= 0 by Cauchy-Schwarz); long double only beyond that.
    const u128 g = m.count - 1, span_sq = static_cast<u128>(span) * span;
    u128 scaled;
    double var;
    if (!__builtin_mul_overflow(m.sum_sq, g, &scaled)) {
        var = static_cast<double>(scaled - span_sq) / (gaps * (gaps - 1));
    } else {
        const long double lg = static_cast<long double>(g);
        const long double v = (static_cast<long double>(m.sum_sq) - static_cast<long double>(span_sq) / lg) / (lg - 1);
        var = static_cast<double>(std::max<long double>(v, 0));
    }
    return Cadence{mean, micros_to_days(std::sqrt(var))};
}

std::optional<Lifecycle> classify(const GapMoments& m, std::int64_t as_of_micros, const LifecycleRule& rule) {
    if (m.count == 0) return std::nullopt;
    rule.validate();
    if (as_of_micros < m.last) fail(ErrorKind::internal, "life-cycle classifier was given an order after as_of");
    const double silence =
        micros_to_days(static_cast<double>(static_cast<std::uint64_t>(as_of_micros) - static_cast<std::uint64_t>(m.last)));
    // One order tells nothing of a cadence: assume the typical one, as spread as an exponential gap.
    const Cadence cadence = cadence_of(m).value_or(Cadence{rule.typical_latency_days, rule.typical_latency_days});
    return classify_silence(silence, cadence, rule);
}

std::optional<Lifecycle> classify_micros(const std::int64_t* sorted_micros, std::size_t n, std::int64_t as_of_micros,
                                         const LifecycleRule& rule) {
    return classify(GapMoments::of_sorted(sorted_micros, n), as_of_micros, rule);
}

}  // namespace pgs::core
