// clv(numeric): historic customer lifetime value, the sum of order amounts, exactly what
// sum(numeric) returns (value and display scale), with NaN and infinite amounts refused.
//
// The aggregate's state is an int128 at a fixed scale (the largest display scale seen), 32 bytes
// per customer instead of numeric's accumulator (about 400 bytes with its digit arrays), so hash
// aggregation over a million customers stays in memory. An amount that does not fit (scale above
// 18, or a sum beyond 128 bits) is added to an exact numeric beside it; the final value is the sum
// of both. The moving-window form (frames that slide) keeps PostgreSQL's numeric machinery, whose
// inverse transition it needs.
#include "../core/fixed_decimal.h"

#include <cstring>

#include "agg_state.h"
#include "convert.h"
#include "guard.h"
#include "numeric_fixed.h"

using pgs::core::FixedDecimal;
using pgs::core::FixedDecimalSum;

namespace {

struct ClvState {
    FixedDecimalSum fast;
    int32 has_value;  // a non-NULL amount was seen (sum over no amounts is NULL)
    int32 pad;
    Numeric overflow;  // exact sum of what did not fit `fast`, in the aggregate context; NULL if none
};

ClvState* new_state(MemoryContext cxt) {
    return static_cast<ClvState*>(MemoryContextAllocZero(cxt, sizeof(ClvState)));
}
// A group's state: 32 bytes from the function's arena (agg_state.h).
ClvState* new_group_state(FunctionCallInfo fcinfo, MemoryContext cxt) {
    return static_cast<ClvState*>(pgs::arena_alloc(pgs::fn_arena(fcinfo), cxt, sizeof(ClvState)));
}

// overflow += value, in the aggregate context.
void add_overflow(MemoryContext cxt, ClvState* st, Numeric value) {
    MemoryContext old = MemoryContextSwitchTo(cxt);
    Numeric sum = st->overflow ? numeric_add_opt_error(st->overflow, value, nullptr)
                               : reinterpret_cast<Numeric>(PG_DETOAST_DATUM_COPY(NumericGetDatum(value)));
    MemoryContextSwitchTo(old);
    if (st->overflow) pfree(st->overflow);
    st->overflow = sum;
}

void add_fixed(MemoryContext cxt, ClvState* st, const FixedDecimal& v) {
    if (!st->fast.add(v)) add_overflow(cxt, st, pgs::fixed_to_numeric(v.units, v.scale));
}

}  // namespace

// The moving-window transition (and the 0.1 aggregate's): PostgreSQL's numeric sum state.
PGS_FUNCTION(pgs_clv_accum) {
    if (!PG_ARGISNULL(1)) pgs::check_finite_numeric(PG_GETARG_NUMERIC(1), "clv amount");
    return numeric_avg_accum(fcinfo);
}

PGS_FUNCTION(pgs_clv_fixed_accum) {
    MemoryContext cxt = pgs::aggregate_context(fcinfo, "clv");
    ClvState* st = PG_ARGISNULL(0) ? new_group_state(fcinfo, cxt) : reinterpret_cast<ClvState*>(PG_GETARG_POINTER(0));
    if (PG_ARGISNULL(1)) PG_RETURN_POINTER(st);
    FixedDecimal v;
    if (pgs::numeric_to_fixed(PG_GETARG_DATUM(1), "clv amount", v) == pgs::NumericFit::fits)
        add_fixed(cxt, st, v);
    else
        add_overflow(cxt, st, PG_GETARG_NUMERIC(1));
    st->has_value = 1;
    PG_RETURN_POINTER(st);
}

PGS_FUNCTION(pgs_clv_fixed_combine) {
    MemoryContext cxt = pgs::aggregate_context(fcinfo, "clv");
    if (PG_ARGISNULL(1)) {
        if (PG_ARGISNULL(0)) PG_RETURN_NULL();
        PG_RETURN_POINTER(PG_GETARG_POINTER(0));
    }
    ClvState* st = PG_ARGISNULL(0) ? new_group_state(fcinfo, cxt) : reinterpret_cast<ClvState*>(PG_GETARG_POINTER(0));
    const auto* other = reinterpret_cast<ClvState*>(PG_GETARG_POINTER(1));
    add_fixed(cxt, st, FixedDecimal{other->fast.units, other->fast.scale});
    if (other->overflow) add_overflow(cxt, st, other->overflow);
    st->has_value |= other->has_value;
    PG_RETURN_POINTER(st);
}

PGS_FUNCTION(pgs_clv_fixed_serialize) {
    const auto* st = reinterpret_cast<ClvState*>(PG_GETARG_POINTER(0));
    const std::size_t overflow_size = st->overflow ? VARSIZE(st->overflow) : 0;
    pgs::ByteWriter w(sizeof(pgs::core::int128_t) + 3 * sizeof(int32) + overflow_size);
    w.put(st->fast.units);
    w.put<int32>(st->fast.scale);
    w.put(st->has_value);
    w.put(static_cast<int32>(overflow_size));
    if (overflow_size > 0) {
        std::memcpy(w.cursor, st->overflow, overflow_size);
        w.cursor += overflow_size;
    }
    PG_RETURN_BYTEA_P(w.out);
}

PGS_FUNCTION(pgs_clv_fixed_deserialize) {
    // In the current (per-input-tuple) context, as PostgreSQL's own deserialize functions: the
    // combine function copies what it keeps into the aggregate's state.
    pgs::aggregate_context(fcinfo, "clv");
    pgs::ByteReader r(PG_GETARG_BYTEA_PP(0));
    ClvState* st = new_state(CurrentMemoryContext);
    st->fast.units = r.get<pgs::core::int128_t>();
    st->fast.scale = r.get<int32>();
    st->has_value = r.get<int32>();
    const int32 overflow_size = r.get<int32>();
    if (overflow_size < 0 || r.cursor + overflow_size > r.end || st->fast.scale < 0 ||
        st->fast.scale > pgs::core::kMaxScale)
        ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED), errmsg("corrupt clv aggregate state")));
    if (overflow_size > 0) {
        st->overflow = static_cast<Numeric>(palloc(overflow_size));
        std::memcpy(st->overflow, r.cursor, overflow_size);
    }
    PG_RETURN_POINTER(st);
}

PGS_FUNCTION(pgs_clv_fixed_final) {
    if (PG_ARGISNULL(0)) PG_RETURN_NULL();
    const auto* st = reinterpret_cast<ClvState*>(PG_GETARG_POINTER(0));
    if (!st->has_value) PG_RETURN_NULL();
    Numeric sum = pgs::fixed_to_numeric(st->fast.units, st->fast.scale);
    if (st->overflow) sum = numeric_add_opt_error(st->overflow, sum, nullptr);
    PG_RETURN_NUMERIC(sum);
}
