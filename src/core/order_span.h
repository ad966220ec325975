// O(1) state of order_latency: the mean gap between consecutive orders telescopes to
// (last - first) / (n - 1), so count, first and last are all we keep; order of arrival is irrelevant.
#pragma once
#include <algorithm>
#include <cstdint>
#include <optional>

#include "time_units.h"

namespace pgs::core {

struct OrderSpan {
    std::int64_t count = 0;
    std::int64_t first = 0;  // microseconds, valid when count > 0
    std::int64_t last = 0;

    void add(std::int64_t at) {
        if (count == 0) {
            first = last = at;
        } else {
            first = std::min(first, at);
            last = std::max(last, at);
        }
        ++count;
    }

    void merge(const OrderSpan& other) {
        if (other.count == 0) return;
        if (count == 0) {
            *this = other;
            return;
        }
        first = std::min(first, other.first);
        last = std::max(last, other.last);
        count += other.count;
    }

    // Mean days between consecutive orders; none with fewer than two orders.
    std::optional<double> mean_gap_days() const {
        if (count < 2) return std::nullopt;
        return micros_to_days(static_cast<double>(last - first) / static_cast<double>(count - 1));
    }
};

}  // namespace pgs::core
