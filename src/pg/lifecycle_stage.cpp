// lifecycle_stage(ordered_at, as_of [, typical_latency]): the Clerk.io life-cycle stage on as_of.
// The stage needs the count, first and last order and the mean and spread of the gaps between
// consecutive orders: the exact gap moments of core::GapMoments. The state has two forms, one per
// call site (fed_in_order, agg_state.h):
// - fed in order (`lifecycle_stage(t, as_of ORDER BY t)`): the moments themselves, updated row by
//   row, O(1) per customer;
// - otherwise the order times (up to as_of), sorted, in a PallocVector: a 64-byte state holds a
//   customer's first four orders inline, more go to a chunk of their own in the aggregate
//   context, doubled as it grows; the state itself never moves. The final function takes the
//   moments of the sorted times, so both forms give the same answer to the bit.
// The state is a chunk of the aggregate context made on the group's first row, beside
// PostgreSQL's hash entry (agg_state.h). Rows that come in time order are appended.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <type_traits>

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

using pgs::core::GapMoments;

// 64 bytes: room for four order times, or the moments. All zero bytes: no orders (either form).
struct LifecycleState {
    TimestampTz as_of;    // kNoAsOf until a row gave one (a given one is finite)
    double typical_days;  // 0: none given (a given one is positive)
    union {
        pgs::PallocVector<int64, 4> times;  // not fed in order: ascending, all <= as_of
        GapMoments moments;                 // fed in order: of the times up to as_of
    };
};
static_assert(sizeof(LifecycleState) == 64, "one cache line");
static_assert(std::is_trivially_destructible_v<LifecycleState>, "dropped with its memory context");

constexpr TimestampTz kNoAsOf = DT_NOBEGIN;

// A group's state, beside its hash entry (agg_state.h).
LifecycleState* new_group_state(MemoryContext cxt) {
    auto* st = static_cast<LifecycleState*>(MemoryContextAllocZero(cxt, sizeof(LifecycleState)));
    st->as_of = kNoAsOf;
    return st;
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

// The call sorts its rows by ordered_at: the state holds the moments. Cached per call site.
bool in_order(FunctionCallInfo fcinfo) {
    auto* known = static_cast<int8*>(fcinfo->flinfo->fn_extra);
    if (known == nullptr) {
        known = static_cast<int8*>(MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(int8)));
        *known = pgs::fed_in_order(fcinfo, 0) ? 1 : 0;
        fcinfo->flinfo->fn_extra = known;
    }
    return *known != 0;
}

// A time at or before as_of, fed in order.
void append(LifecycleState* st, int64 at) {
    if (st->moments.count > 0 && at < st->moments.last)
        elog(ERROR, "lifecycle_stage: rows sorted by ordered_at came out of order");
    st->moments.append(at);
}

GapMoments moments_of(const LifecycleState& st, bool ordered) {
    return ordered ? st.moments : GapMoments::of_sorted(st.times.data(), st.times.size());
}

pgs::core::LifecycleRule rule_of(const LifecycleState& st, const pgs::core::LifecycleRule& settings_rule) {
    pgs::core::LifecycleRule rule = settings_rule;
    if (st.typical_days > 0) rule.typical_latency_days = st.typical_days;
    return rule;
}

// The stage as an index into core::kLifecycleLabels, or -1 for none. Calls no PostgreSQL.
int compute_stage(const LifecycleState& st, bool ordered, const pgs::core::LifecycleRule& settings_rule) {
    auto stage = pgs::core::classify(moments_of(st, ordered), st.as_of, rule_of(st, settings_rule));
    return stage ? static_cast<int>(*stage) : -1;
}

// When the stage next changes with no new order (core::next_stage_change_micros). Calls no
// PostgreSQL.
std::optional<int64> compute_next_change(const LifecycleState& st, bool ordered,
                                         const pgs::core::LifecycleRule& settings_rule) {
    return pgs::core::next_stage_change_micros(moments_of(st, ordered), st.as_of, rule_of(st, settings_rule));
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
        if (at <= as_of) {
            if (in_order(fcinfo))
                append(st, at);
            else
                st->times.insert_sorted(cxt, at);
        }
    }
    PG_RETURN_POINTER(st);
}

PGS_FUNCTION(pgs_lifecycle_combine) {
    const bool ordered = pgs::fed_in_order(fcinfo, 0);
    return pgs::combine_states<LifecycleState>(fcinfo, "lifecycle_stage", new_group_state,
        [&](MemoryContext cxt, LifecycleState* st, const LifecycleState* other) {
            if (other->as_of != kNoAsOf) set_as_of(*st, other->as_of);
            if (other->typical_days > 0) set_typical(*st, other->typical_days);
            if (ordered) {
                // PostgreSQL never combines ordered aggregate calls (they are not partial); should it,
                // the states of two disjoint time ranges still join exactly.
                GapMoments joined = st->moments;
                if (!joined.append(other->moments)) {
                    joined = other->moments;
                    if (!joined.append(st->moments))
                        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                                        errmsg("lifecycle_stage fed in order cannot combine overlapping partial states"),
                                        errhint("Drop the ORDER BY inside the call.")));
                }
                st->moments = joined;
                return;
            }
            st->times.merge_sorted(cxt, other->times.data(), other->times.size());
        });
}

// The bytes: a count n of order times (-1: the moments follow instead), as_of, typical_days, then
// the n times or the moments.
PGS_FUNCTION(pgs_lifecycle_serialize) {
    const auto* st = reinterpret_cast<LifecycleState*>(PG_GETARG_POINTER(0));
    const bool ordered = pgs::fed_in_order(fcinfo, 0);
    const int32 n = ordered ? -1 : static_cast<int32>(st->times.size());
    const std::size_t payload = ordered ? sizeof(GapMoments) : sizeof(int64) * n;
    pgs::ByteWriter w(sizeof(int32) + sizeof(TimestampTz) + sizeof(double) + payload);
    w.put(n);
    w.put(st->as_of);
    w.put(st->typical_days);
    std::memcpy(w.cursor, ordered ? static_cast<const void*>(&st->moments) : st->times.data(), payload);
    w.cursor += payload;
    PG_RETURN_BYTEA_P(w.out);
}

PGS_FUNCTION(pgs_lifecycle_deserialize) {
    // Like PostgreSQL's own deserialize functions, build the state in the current (per-input-tuple)
    // memory context: the combine function copies it into the aggregate's state, so it need not
    // outlive this input row.
    pgs::aggregate_context(fcinfo, "lifecycle_stage");
    pgs::ByteReader r(PG_GETARG_BYTEA_PP(0));
    const int32 n = r.get<int32>();
    const bool ordered = n == -1;
    const std::size_t payload = ordered ? sizeof(GapMoments) : sizeof(int64) * static_cast<std::size_t>(std::max(n, 0));
    if ((n < 0 && !ordered) || ordered != pgs::fed_in_order(fcinfo, 0) ||
        r.cursor + sizeof(TimestampTz) + sizeof(double) + payload > r.end)
        ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED), errmsg("corrupt lifecycle_stage aggregate state")));
    auto* st = static_cast<LifecycleState*>(palloc0(sizeof(LifecycleState)));
    st->as_of = r.get<TimestampTz>();
    st->typical_days = r.get<double>();
    if (ordered) {
        std::memcpy(&st->moments, r.cursor, payload);
    } else {
        st->times.resize_for_overwrite(CurrentMemoryContext, n);
        std::memcpy(st->times.data(), r.cursor, payload);
    }
    PG_RETURN_POINTER(st);
}

PGS_FUNCTION(pgs_lifecycle_final) {
    if (PG_ARGISNULL(0)) PG_RETURN_NULL();
    const int stage = compute_stage(*reinterpret_cast<LifecycleState*>(PG_GETARG_POINTER(0)),
                                    pgs::fed_in_order(fcinfo, 0), pgs::settings::lifecycle_rule());
    if (stage < 0) PG_RETURN_NULL();
    return pgs::enum_label_datum(fcinfo, pgs::core::kLifecycleLabels, stage);
}

// lifecycle_changes_at(ordered_at, as_of): same state as lifecycle_stage (PostgreSQL shares it
// between the two aggregates in one query), another final function.
PGS_FUNCTION(pgs_lifecycle_changes_at_final) {
    if (PG_ARGISNULL(0)) PG_RETURN_NULL();
    const auto next = compute_next_change(*reinterpret_cast<LifecycleState*>(PG_GETARG_POINTER(0)),
                                          pgs::fed_in_order(fcinfo, 0), pgs::settings::lifecycle_rule());
    if (!next) PG_RETURN_NULL();
    PG_RETURN_TIMESTAMPTZ(*next);
}

// second_order_at(ordered_at, as_of): the second earliest order time at or before as_of (NULL with
// fewer than two). Same state as lifecycle_stage (sorted order times), so the facts query gets it
// without sorting its rows for a window function.
PGS_FUNCTION(pgs_second_order_at_final) {
    if (PG_ARGISNULL(0)) PG_RETURN_NULL();
    const auto* st = reinterpret_cast<LifecycleState*>(PG_GETARG_POINTER(0));
    if (pgs::fed_in_order(fcinfo, 0)) {
        if (st->moments.count < 2) PG_RETURN_NULL();
        PG_RETURN_TIMESTAMPTZ(st->moments.second);
    }
    if (st->times.size() < 2) PG_RETURN_NULL();
    PG_RETURN_TIMESTAMPTZ(st->times[1]);
}
