// order_latency(timestamptz): mean days between consecutive orders, O(1) state (count, first,
// last), usable as a plain, parallel or running-window aggregate.
#include "../core/order_span.h"
#include <new>

#include "agg_state.h"
#include "convert.h"
#include "guard.h"

using pgs::core::OrderSpan;

namespace {
// A group's state is a chunk of the aggregate context, allocated on the group's first row right
// after PostgreSQL's hash entry in the same context, so a row's state shares the entry's cache lines
// (agg_state.h).
OrderSpan* new_span(MemoryContext cxt) {
    return new (MemoryContextAllocZero(cxt, sizeof(OrderSpan))) OrderSpan();
}
}  // namespace

PGS_FUNCTION(pgs_order_latency_accum) {
    MemoryContext cxt = pgs::aggregate_context(fcinfo, "order_latency");
    auto* state = PG_ARGISNULL(0) ? new_span(cxt) : reinterpret_cast<OrderSpan*>(PG_GETARG_POINTER(0));
    if (!PG_ARGISNULL(1)) state->add(pgs::finite_timestamp(PG_GETARG_DATUM(1), "order_latency ordered_at"));
    PG_RETURN_POINTER(state);
}

PGS_FUNCTION(pgs_order_latency_combine) {
    return pgs::combine_states<OrderSpan>(fcinfo, "order_latency", new_span,
        [](MemoryContext, OrderSpan* state, const OrderSpan* other) { state->merge(*other); });
}

PGS_FUNCTION(pgs_order_latency_serialize) {
    const auto* state = reinterpret_cast<OrderSpan*>(PG_GETARG_POINTER(0));
    pgs::ByteWriter w(3 * sizeof(int64));
    w.put(state->count);
    w.put(state->first);
    w.put(state->last);
    PG_RETURN_BYTEA_P(w.out);
}

PGS_FUNCTION(pgs_order_latency_deserialize) {
    // In the current (per-input-tuple) context, as PostgreSQL's own deserialize functions do: the
    // combine function copies the values into the aggregate's state.
    pgs::aggregate_context(fcinfo, "order_latency");
    pgs::ByteReader r(PG_GETARG_BYTEA_PP(0));
    OrderSpan* state = new_span(CurrentMemoryContext);
    state->count = r.get<int64>();
    state->first = r.get<int64>();
    state->last = r.get<int64>();
    PG_RETURN_POINTER(state);
}

PGS_FUNCTION(pgs_order_latency_final) {
    if (PG_ARGISNULL(0)) PG_RETURN_NULL();
    auto gap = reinterpret_cast<OrderSpan*>(PG_GETARG_POINTER(0))->mean_gap_days();
    if (!gap) PG_RETURN_NULL();
    PG_RETURN_FLOAT8(*gap);
}
