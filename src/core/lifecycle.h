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

// 128 bits at 8-byte alignment (as fixed_decimal.h's int128_t): states live in palloc'd memory.
typedef unsigned __int128 uint128_t __attribute__((aligned(8)));

// What the cadence of order times in microseconds needs, exactly: the count, the first, second and
// last time and the sum of the squared gaps between consecutive times. Kept row by row when the
// times come in ascending order (lifecycle_stage(... ORDER BY ordered_at): O(1) state), or taken
// from a sorted array; the same times give the same integers, so both give one answer to the bit.
// Trivial on purpose (all zero bytes: no orders), so it can sit in a zeroed aggregate state.
struct GapMoments {
    explicit GapMoments() = default;  // trivial, and not an aggregate: {days...} means a vector of days
    std::uint64_t count;
    std::int64_t first;   // valid when count > 0
    std::int64_t second;  // valid when count > 1
    std::int64_t last;
    uint128_t sum_sq;     // <= (last - first)^2 < 2^127: no overflow over any timestamps

    // Adds the next time, at >= last (the caller guarantees the order).
    void append(std::int64_t at) {
        if (count == 0) {
            first = at;
        } else {
            const std::uint64_t gap = static_cast<std::uint64_t>(at) - static_cast<std::uint64_t>(last);
            sum_sq += static_cast<unsigned __int128>(gap) * gap;
            if (count == 1) second = at;
        }
        last = at;
        ++count;
    }
    // Appends the moments of times that all come at or after these (later.first >= last when both
    // have orders); false, and no change, when they overlap.
    bool append(const GapMoments& later);
    static GapMoments of_sorted(const std::int64_t* sorted_micros, std::size_t n);
};
static_assert(sizeof(GapMoments) == 48, "an aggregate state's size");

// Mean and sample standard deviation of the gaps (days) from the moments; none below two orders.
// The mean is order_latency's, (last - first) / (count - 1).
std::optional<Cadence> cadence_of(const GapMoments& moments);

// The stage on as_of_micros (>= moments.last) from the moments; none with no orders.
std::optional<Lifecycle> classify(const GapMoments& moments, std::int64_t as_of_micros, const LifecycleRule& rule);

// The same from order times in microseconds (sorted ascending, all <= as_of_micros).
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
