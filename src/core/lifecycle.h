// Clerk.io's customer life cycle, judged against each customer's own purchase cadence.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <vector>

namespace pgs::core {

enum class Lifecycle { just_ordered = 0, active = 1, slipping_away = 2, lost = 3 };
// The labels, indexed by Lifecycle: the only list in C++ (the glue returns these). The SQL enum
// lifecycle (sql/analytics/types.sql) lists the same in the same order; analytics_labels checks it.
inline constexpr std::array<const char*, 4> kLifecycleLabels = {"just_ordered", "active", "slipping_away", "lost"};
inline const char* lifecycle_label(Lifecycle stage) { return kLifecycleLabels[static_cast<int>(stage)]; }

struct LifecycleRule {
    double just_ordered_days = 30;   // last order at most this many days ago: just ordered
    double active_sigmas = 1.0;      // active while silence <= mean gap + active_sigmas * spread
    double lost_sigmas = 3.0;        // lost once silence > mean gap + lost_sigmas * spread
    double min_spread_ratio = 0.5;   // spread is never taken below this fraction of the mean gap
    double typical_latency_days = 90;  // cadence assumed for one-order customers

    void validate() const;  // throws core::Error on a nonsensical rule
};

// Mean and sample standard deviation of the gaps between consecutive sorted order times (days).
struct Cadence {
    double mean_gap_days;
    double spread_days;
};
std::optional<Cadence> cadence_of(const std::vector<double>& sorted_days);

// The same from order times in microseconds (sorted ascending, all <= as_of_micros), with no
// copy: each time is read as micros_to_days(t - as_of_micros), so the answer is the one classify()
// gives for those days and as_of 0.
std::optional<Lifecycle> classify_micros(const std::int64_t* sorted_micros, std::size_t n, std::int64_t as_of_micros,
                                         const LifecycleRule& rule);

// Stage of a customer whose orders (in days, sorted ascending, all <= as_of) are given.
// None when there are no orders. Monotone: with no new order a later as_of never gives a better stage.
std::optional<Lifecycle> classify(const std::vector<double>& sorted_days, double as_of_days,
                                  const LifecycleRule& rule);

// The silences (days since the last order) up to which each stage lasts: just_ordered up to
// `just_ordered`, then active up to `active`, slipping_away up to `lost`, lost beyond.
struct StageLimits {
    double just_ordered;
    double active;
    double lost;
};
StageLimits stage_limits(const Cadence& cadence, const LifecycleRule& rule);

// The same rule from a cadence and the silence alone (what the segment engine stores).
Lifecycle classify_silence(double days_since_last, const Cadence& cadence, const LifecycleRule& rule);

}  // namespace pgs::core
