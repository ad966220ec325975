// lifecycle_stage(ordered_at, as_of [, typical_latency]): the Clerk.io life-cycle stage on as_of.
// The state keeps the customer's order times up to as_of, sorted (a customer has few orders;
// mean and spread of consecutive gaps need them all).
#include <boost/container/small_vector.hpp>

#include <algorithm>
#include <optional>
#include <vector>

#include "../core/errors.h"
#include "../core/lifecycle.h"
#include "../core/time_units.h"
#include "agg_state.h"
#include "convert.h"
#include "enum_label.h"
#include "guard.h"
#include "palloc_allocator.h"
#include "settings.h"

namespace {

// Most customers have a handful of orders: keep up to 6 in the state itself, so a group needs no
// second allocation and its orders sit next to the rest of its state (fewer cache misses when
// rows of many customers interleave, as in a time-ordered orders table).
using Orders = boost::container::small_vector<int64, 6, pgs::PallocAllocator<int64>>;

struct LifecycleState {
    explicit LifecycleState(MemoryContext cxt) : orders(Orders::allocator_type(pgs::PallocAllocator<int64>(cxt))) {}
    bool has_as_of = false;
    TimestampTz as_of = 0;
    bool has_typical = false;
    double typical_days = 0;
    Orders orders;  // sorted ascending, all <= as_of

    void insert(int64 at) {
        if (orders.empty() || orders.back() <= at)
            orders.push_back(at);
        else
            orders.insert(std::upper_bound(orders.begin(), orders.end(), at), at);
    }
};

void set_as_of(LifecycleState& st, TimestampTz as_of) {
    if (st.has_as_of && st.as_of != as_of)
        pgs::core::fail(pgs::core::ErrorKind::invalid_argument,
                        "lifecycle_stage as_of differs between rows of one group",
                        "Pass one as_of per group, e.g. a constant or now().");
    st.has_as_of = true;
    st.as_of = as_of;
}

void set_typical(LifecycleState& st, double days) {
    if (!(days > 0))
        pgs::core::fail(pgs::core::ErrorKind::invalid_argument, "typical_latency must be a positive interval",
                        "Pass e.g. interval '90 days', or the population's order_latency.");
    st.has_typical = true;
    st.typical_days = days;
}

LifecycleState* state_arg(FunctionCallInfo fcinfo, int arg, MemoryContext cxt) {
    if (PG_ARGISNULL(arg)) return pgs::make_in_context<LifecycleState>(cxt, cxt);
    return reinterpret_cast<LifecycleState*>(PG_GETARG_POINTER(arg));
}

// The stage as an index into kLabels, or -1 for none. Holds C++ objects: calls no PostgreSQL.
int compute_stage(const LifecycleState& st, const pgs::core::LifecycleRule& settings_rule) {
    if (st.orders.empty()) return -1;
    pgs::core::LifecycleRule rule = settings_rule;
    if (st.has_typical) rule.typical_latency_days = st.typical_days;
    std::vector<double> days;
    days.reserve(st.orders.size());
    for (int64 at : st.orders) days.push_back(pgs::core::micros_to_days(at - st.as_of));
    auto stage = pgs::core::classify(days, 0.0, rule);
    return stage ? static_cast<int>(*stage) : -1;
}

const char* const kLabels[] = {"just_ordered", "active", "slipping_away", "lost"};

}  // namespace

PGS_FUNCTION(pgs_lifecycle_accum) {
    MemoryContext cxt = pgs::aggregate_context(fcinfo, "lifecycle_stage");
    LifecycleState* st = state_arg(fcinfo, 0, cxt);
    if (PG_ARGISNULL(2))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("lifecycle_stage as_of must not be NULL"),
                        errhint("Pass the date to judge the life cycle on, e.g. now().")));
    TimestampTz as_of = pgs::finite_timestamp(PG_GETARG_DATUM(2), "lifecycle_stage as_of");
    set_as_of(*st, as_of);
    if (PG_NARGS() > 3 && !PG_ARGISNULL(3)) set_typical(*st, pgs::interval_days(PG_GETARG_DATUM(3)));
    if (!PG_ARGISNULL(1)) {
        TimestampTz at = pgs::finite_timestamp(PG_GETARG_DATUM(1), "lifecycle_stage ordered_at");
        if (at <= as_of) st->insert(at);
    }
    PG_RETURN_POINTER(st);
}

PGS_FUNCTION(pgs_lifecycle_combine) {
    MemoryContext cxt = pgs::aggregate_context(fcinfo, "lifecycle_stage");
    if (PG_ARGISNULL(1)) {
        if (PG_ARGISNULL(0)) PG_RETURN_NULL();
        PG_RETURN_POINTER(PG_GETARG_POINTER(0));
    }
    LifecycleState* st = state_arg(fcinfo, 0, cxt);
    const auto* other = reinterpret_cast<LifecycleState*>(PG_GETARG_POINTER(1));
    if (other->has_as_of) set_as_of(*st, other->as_of);
    if (other->has_typical) set_typical(*st, other->typical_days);
    // Merge the two sorted runs from the back, in place (std::inplace_merge would malloc a buffer
    // on every call).
    std::size_t i = st->orders.size(), j = other->orders.size();
    st->orders.resize(i + j);
    for (std::size_t k = i + j; j > 0; --k) {
        if (i > 0 && st->orders[i - 1] > other->orders[j - 1])
            st->orders[k - 1] = st->orders[--i];
        else
            st->orders[k - 1] = other->orders[--j];
    }
    PG_RETURN_POINTER(st);
}

PGS_FUNCTION(pgs_lifecycle_serialize) {
    const auto* st = reinterpret_cast<LifecycleState*>(PG_GETARG_POINTER(0));
    const int64 n = static_cast<int64>(st->orders.size());
    pgs::ByteWriter w(2 * sizeof(int32) + sizeof(TimestampTz) + sizeof(double) + sizeof(int64) * (n + 1));
    w.put<int32>(st->has_as_of);
    w.put<int32>(st->has_typical);
    w.put(st->as_of);
    w.put(st->typical_days);
    w.put(n);
    for (int64 at : st->orders) w.put(at);
    PG_RETURN_BYTEA_P(w.out);
}

PGS_FUNCTION(pgs_lifecycle_deserialize) {
    // Like PostgreSQL's own deserialize functions, build the state in the current (per-input-tuple)
    // memory context: the combine function copies it into the aggregate's state, so it need not
    // outlive this input row.
    pgs::aggregate_context(fcinfo, "lifecycle_stage");
    MemoryContext cxt = CurrentMemoryContext;
    pgs::ByteReader r(PG_GETARG_BYTEA_PP(0));
    auto* st = pgs::make_in_context<LifecycleState>(cxt, cxt);
    st->has_as_of = r.get<int32>() != 0;
    st->has_typical = r.get<int32>() != 0;
    st->as_of = r.get<TimestampTz>();
    st->typical_days = r.get<double>();
    const int64 n = r.get<int64>();
    st->orders.reserve(static_cast<std::size_t>(n));
    for (int64 i = 0; i < n; ++i) st->orders.push_back(r.get<int64>());
    PG_RETURN_POINTER(st);
}

PGS_FUNCTION(pgs_lifecycle_final) {
    if (PG_ARGISNULL(0)) PG_RETURN_NULL();
    const int stage = compute_stage(*reinterpret_cast<LifecycleState*>(PG_GETARG_POINTER(0)),
                                    pgs::lifecycle_rule_from_settings());
    if (stage < 0) PG_RETURN_NULL();
    return pgs::enum_label_datum(fcinfo, kLabels, 4, stage);
}
