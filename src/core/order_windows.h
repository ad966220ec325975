// The order facts' counts per window and their horizon (segments_internal.order_facts): what one
// order row adds, given its time, whether it is valid and whether its amount is >= 0, judged on
// as_of. Windows are exact durations (N days = N x 24 hours) ending at as_of: a row is in the
// N-day window when ordered_at > as_of - N days. The one definition of a purchase is
// segments.is_purchase: valid and amount >= 0 (a NULL amount counts as 0); a refund (valid,
// negative) only changes revenue; an attempted order is any row with amount >= 0, valid or not.
// Trivially copyable, all zero bytes is "no rows": it sits in an aggregate state and is sent
// between parallel processes as bytes.
#pragma once
#include <algorithm>
#include <cstdint>
#include <optional>

namespace pgs::core {

constexpr std::int64_t kMicrosPerHour = 3600LL * 1000000;
constexpr std::int64_t kWindowMicros7d = 168 * kMicrosPerHour, kWindowMicros14d = 336 * kMicrosPerHour,
                       kWindowMicros30d = 720 * kMicrosPerHour, kWindowMicros90d = 2160 * kMicrosPerHour;

// What one row is, on as_of.
struct OrderRowKind {
    bool past;       // ordered_at <= as_of
    bool purchase;   // past, valid, amount >= 0
    bool attempted;  // past, amount >= 0
    bool revenue;    // past and valid: its amount counts in revenue
    bool in_30d;     // in the 30-day window
};

// A set of times: how many, and the earliest (valid when n > 0).
struct EarliestOf {
    std::int64_t n;
    std::int64_t earliest;
    void add(std::int64_t at) {
        earliest = n == 0 ? at : std::min(earliest, at);
        ++n;
    }
    void merge(const EarliestOf& o) {
        if (o.n == 0) return;
        earliest = n == 0 ? o.earliest : std::min(earliest, o.earliest);
        n += o.n;
    }
};

struct OrderWindows {
    std::int64_t attempted;
    std::int64_t last_attempted;  // valid when attempted > 0
    EarliestOf orders_7d, orders_14d, orders_30d, orders_90d, attempted_14d;
    EarliestOf revenue_30d;  // past valid rows (refunds too) in the 30-day window
    EarliestOf future;       // rows after as_of: each becomes visible at its time

    OrderRowKind add(std::int64_t at, bool valid, bool amount_nonnegative, std::int64_t as_of) {
        OrderRowKind k{};
        k.past = at <= as_of;
        if (!k.past) {
            future.add(at);
            return k;
        }
        k.attempted = amount_nonnegative;
        k.purchase = valid && amount_nonnegative;
        k.revenue = valid;
        const bool in_7d = at > as_of - kWindowMicros7d, in_14d = at > as_of - kWindowMicros14d;
        k.in_30d = at > as_of - kWindowMicros30d;
        const bool in_90d = at > as_of - kWindowMicros90d;
        if (k.attempted) {
            last_attempted = attempted == 0 ? at : std::max(last_attempted, at);
            ++attempted;
            if (in_14d) attempted_14d.add(at);
        }
        if (k.purchase) {
            if (in_7d) orders_7d.add(at);
            if (in_14d) orders_14d.add(at);
            if (k.in_30d) orders_30d.add(at);
            if (in_90d) orders_90d.add(at);
        }
        if (k.revenue && k.in_30d) revenue_30d.add(at);
        return k;
    }

    void merge(const OrderWindows& o) {
        if (o.attempted > 0) last_attempted = attempted == 0 ? o.last_attempted : std::max(last_attempted, o.last_attempted);
        attempted += o.attempted;
        orders_7d.merge(o.orders_7d);
        orders_14d.merge(o.orders_14d);
        orders_30d.merge(o.orders_30d);
        orders_90d.merge(o.orders_90d);
        attempted_14d.merge(o.attempted_14d);
        revenue_30d.merge(o.revenue_30d);
        future.merge(o.future);
    }

    // The earliest time after as_of at which a count or sum here changes with no new data: a
    // window's oldest row leaves it, a future row becomes visible; `lifecycle_change` (when the
    // life cycle moves) joins them. None when nothing will change. `out_of_range` is set when a
    // window's end lies beyond `max_time` (the caller reports it, as timestamp + interval does).
    std::optional<std::int64_t> horizon(std::optional<std::int64_t> lifecycle_change, std::int64_t max_time,
                                        bool& out_of_range) const {
        std::optional<std::int64_t> h = lifecycle_change;
        auto consider = [&](std::int64_t t) { h = h ? std::min(*h, t) : t; };
        auto leaves = [&](const EarliestOf& w, std::int64_t width) {
            if (w.n == 0) return;
            if (w.earliest > max_time - width) out_of_range = true;
            else consider(w.earliest + width);
        };
        if (future.n > 0) consider(future.earliest);
        leaves(orders_7d, kWindowMicros7d);
        leaves(orders_14d, kWindowMicros14d);
        leaves(revenue_30d, kWindowMicros30d);
        leaves(orders_90d, kWindowMicros90d);
        leaves(attempted_14d, kWindowMicros14d);
        return h;
    }
};

}  // namespace pgs::core
