// lifecycle_stage(ordered_at, as_of [, typical_latency]): the Clerk.io life-cycle stage on as_of.
// Mean and spread of consecutive gaps need the customer's order times, so the state keeps them
// (up to as_of), sorted, in a PallocVector: a 64-byte state holds a customer's first four orders
// inline, more go to a chunk of their own in the aggregate context, doubled as it grows; the state
// itself never moves. The state is a chunk of the aggregate context made on the group's first row,
// beside PostgreSQL's hash entry (agg_state.h). Rows that come in time order (a table
// written in time order, an index on (customer, ordered_at)) are appended.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <vector>

#include "../core/errors.h"
#include "../core/lapse.h"
#include "../core/lifecycle.h"
#include "../core/time_units.h"
#include "agg_state.h"
#include "convert.h"
#include "enum_label.h"
#include "guard.h"
#include "palloc_vector.h"
#include "settings.h"

namespace {

// 64 bytes, with room for four order times.
struct LifecycleState {
    TimestampTz as_of;    // kNoAsOf until a row gave one (a given one is finite)
    double typical_days;  // 0: none given (a given one is positive)
    pgs::PallocVector<int64, 4> times;  // ascending, all <= as_of
};
static_assert(sizeof(LifecycleState) == 64, "one cache line");

constexpr TimestampTz kNoAsOf = DT_NOBEGIN;

// A group's state, beside its hash entry (agg_state.h).
LifecycleState* new_group_state(MemoryContext cxt) {
    auto* st = static_cast<LifecycleState*>(MemoryContextAllocZero(cxt, sizeof(LifecycleState)));
    st->as_of = kNoAsOf;
    return st;
}

void insert(LifecycleState* st, int64 at, MemoryContext cxt) {
    auto& t = st->times;
    if (t.empty() || t.back() <= at)
        t.push_back(cxt, at);
    else
        t.insert(cxt, static_cast<std::uint32_t>(std::upper_bound(t.begin(), t.end(), at) - t.begin()), at);
}

void set_as_of(LifecycleState& st, TimestampTz as_of) {
    if (st.as_of != kNoAsOf && st.as_of != as_of)
        pgs::core::fail(pgs::core::ErrorKind::invalid_argument,
                        "lifecycle_stage as_of differs between rows of one group",
                        "Pass one as_of per group, e.g. a constant or now().");
    st.as_of = as_of;
}

void set_typical(LifecycleState& st, double days) {
    if (!(days > 0))
        pgs::core::fail(pgs::core::ErrorKind::invalid_argument, "typical_latency must be a positive interval",
                        "Pass e.g. interval '90 days', or the population's order_latency.");
    st.typical_days = days;
}

LifecycleState* state_arg(FunctionCallInfo fcinfo, int arg, MemoryContext cxt) {
    if (PG_ARGISNULL(arg)) return new_group_state(cxt);
    return reinterpret_cast<LifecycleState*>(PG_GETARG_POINTER(arg));
}

// The stage as an index into core::kLifecycleLabels, or -1 for none. Calls no PostgreSQL.
int compute_stage(const LifecycleState& st, const pgs::core::LifecycleRule& settings_rule) {
    pgs::core::LifecycleRule rule = settings_rule;
    if (st.typical_days > 0) rule.typical_latency_days = st.typical_days;
    auto stage = pgs::core::classify_micros(st.times.data(), st.times.size(), st.as_of, rule);
    return stage ? static_cast<int>(*stage) : -1;
}

// When the stage next changes with no new order, in microseconds since the epoch, or nullopt (no
// orders, or lost). Independent of as_of but for which stage it starts from (days are counted from
// the first order), so facts computed at two as-of times before it agree on it; rounded down, and
// never at or before as_of (a limit within rounding of as_of is re-judged a microsecond later).
// Calls no PostgreSQL.
std::optional<int64> compute_next_change(const LifecycleState& st, const pgs::core::LifecycleRule& settings_rule) {
    if (st.times.empty()) return std::nullopt;
    pgs::core::LifecycleRule rule = settings_rule;
    if (st.typical_days > 0) rule.typical_latency_days = st.typical_days;
    const int64 first = st.times[0], last = st.times.back();
    std::vector<double> days(st.times.size());
    for (std::uint32_t i = 0; i < st.times.size(); ++i) days[i] = pgs::core::micros_to_days(st.times[i] - first);
    const auto next = pgs::core::next_stage_change_days(days, pgs::core::micros_to_days(st.as_of - last), rule);
    if (!next) return std::nullopt;
    return std::max(st.as_of + 1, last + static_cast<int64>(std::floor(*next * pgs::core::kMicrosPerDay)));
}

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
        if (at <= as_of) insert(st, at, cxt);
    }
    PG_RETURN_POINTER(st);
}

PGS_FUNCTION(pgs_lifecycle_combine) {
    MemoryContext cxt = pgs::aggregate_context(fcinfo, "lifecycle_stage");
    if (PG_ARGISNULL(1)) {
        if (PG_ARGISNULL(0)) PG_RETURN_NULL();
        PG_RETURN_POINTER(PG_GETARG_POINTER(0));
    }
    const auto* other = reinterpret_cast<LifecycleState*>(PG_GETARG_POINTER(1));
    LifecycleState* st = PG_ARGISNULL(0) ? new_group_state(cxt)
                                         : reinterpret_cast<LifecycleState*>(PG_GETARG_POINTER(0));
    if (other->as_of != kNoAsOf) set_as_of(*st, other->as_of);
    if (other->typical_days > 0) set_typical(*st, other->typical_days);
    // Merge the two sorted runs from the back, in place.
    std::uint32_t i = st->times.size(), j = other->times.size();
    st->times.resize_for_overwrite(cxt, std::size_t(i) + j);
    int64* t = st->times.data();
    const int64* o = other->times.data();
    for (std::uint32_t k = i + j; j > 0; --k) {
        if (i > 0 && t[i - 1] > o[j - 1])
            t[k - 1] = t[--i];
        else
            t[k - 1] = o[--j];
    }
    PG_RETURN_POINTER(st);
}

PGS_FUNCTION(pgs_lifecycle_serialize) {
    const auto* st = reinterpret_cast<LifecycleState*>(PG_GETARG_POINTER(0));
    const int32 n = static_cast<int32>(st->times.size());
    pgs::ByteWriter w(sizeof(int32) + sizeof(TimestampTz) + sizeof(double) + sizeof(int64) * n);
    w.put(n);
    w.put(st->as_of);
    w.put(st->typical_days);
    std::memcpy(w.cursor, st->times.data(), sizeof(int64) * n);
    w.cursor += sizeof(int64) * n;
    PG_RETURN_BYTEA_P(w.out);
}

PGS_FUNCTION(pgs_lifecycle_deserialize) {
    // Like PostgreSQL's own deserialize functions, build the state in the current (per-input-tuple)
    // memory context: the combine function copies it into the aggregate's state, so it need not
    // outlive this input row.
    pgs::aggregate_context(fcinfo, "lifecycle_stage");
    pgs::ByteReader r(PG_GETARG_BYTEA_PP(0));
    const int32 n = r.get<int32>();
    if (n < 0 || r.cursor + sizeof(TimestampTz) + sizeof(double) + sizeof(int64) * static_cast<std::size_t>(n) > r.end)
        ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED), errmsg("corrupt lifecycle_stage aggregate state")));
    auto* st = static_cast<LifecycleState*>(palloc0(sizeof(LifecycleState)));
    st->as_of = r.get<TimestampTz>();
    st->typical_days = r.get<double>();
    st->times.resize_for_overwrite(CurrentMemoryContext, n);
    std::memcpy(st->times.data(), r.cursor, sizeof(int64) * n);
    PG_RETURN_POINTER(st);
}

PGS_FUNCTION(pgs_lifecycle_final) {
    if (PG_ARGISNULL(0)) PG_RETURN_NULL();
    const int stage = compute_stage(*reinterpret_cast<LifecycleState*>(PG_GETARG_POINTER(0)),
                                    pgs::settings::lifecycle_rule());
    if (stage < 0) PG_RETURN_NULL();
    return pgs::enum_label_datum(fcinfo, pgs::core::kLifecycleLabels, stage);
}

// lifecycle_changes_at(ordered_at, as_of): same state as lifecycle_stage (PostgreSQL shares it
// between the two aggregates in one query), another final function.
PGS_FUNCTION(pgs_lifecycle_changes_at_final) {
    if (PG_ARGISNULL(0)) PG_RETURN_NULL();
    const auto next = compute_next_change(*reinterpret_cast<LifecycleState*>(PG_GETARG_POINTER(0)),
                                          pgs::settings::lifecycle_rule());
    if (!next) PG_RETURN_NULL();
    PG_RETURN_TIMESTAMPTZ(*next);
}

// second_order_at(ordered_at, as_of): the second earliest order time at or before as_of (NULL with
// fewer than two). Same state as lifecycle_stage (sorted order times), so the facts query gets it
// without sorting its rows for a window function.
PGS_FUNCTION(pgs_second_order_at_final) {
    if (PG_ARGISNULL(0)) PG_RETURN_NULL();
    const auto* st = reinterpret_cast<LifecycleState*>(PG_GETARG_POINTER(0));
    if (st->times.size() < 2) PG_RETURN_NULL();
    PG_RETURN_TIMESTAMPTZ(st->times[1]);
}
