// clv(numeric): historic customer lifetime value, the sum of order amounts, exactly what
// sum(numeric) returns (value and display scale), with NaN and infinite amounts refused.
//
// The aggregate's state is an integer at a fixed scale (the largest display scale seen): 16 bytes
// per customer while the total fits int64 (numeric's accumulator takes about 400 bytes with its
// digit arrays), so hash aggregation over a million customers stays in memory; then an int128, and
// an amount that does not fit that either (scale above 18, or a sum beyond 128 bits) is added to an
// exact numeric beside it. The final value is the sum of both. The moving-window form (frames that slide) keeps PostgreSQL's numeric machinery, whose
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

// A group's state, 16 bytes: the total in int64 units at `scale` (cents fit up to 9.2e16), or, with
// scale kWide, a pointer to a WideSum in the aggregate context.
struct ClvState {
    union {
        int64 units;
        pgs::WideSum* wide;
    };
    int16 scale;
    int16 has_value;  // a non-NULL amount was seen (sum over no amounts is NULL)
    int32 pad;
};
constexpr int16 kWide = -1;

ClvState* new_state(MemoryContext cxt) {
    return static_cast<ClvState*>(MemoryContextAllocZero(cxt, sizeof(ClvState)));
}

pgs::WideSum* widen(MemoryContext cxt, ClvState* st) {
    if (st->scale == kWide) return st->wide;
    auto* w = static_cast<pgs::WideSum*>(MemoryContextAllocZero(cxt, sizeof(pgs::WideSum)));
    w->fast = FixedDecimalSum{st->units, st->scale};
    st->wide = w;
    st->scale = kWide;
    return w;
}

void add_fixed(MemoryContext cxt, ClvState* st, const FixedDecimal& v) {
    if (st->scale != kWide) {
        FixedDecimalSum s{st->units, st->scale};
        if (s.add(v) && s.units >= PG_INT64_MIN && s.units <= PG_INT64_MAX) {
            st->units = static_cast<int64>(s.units);
            st->scale = static_cast<int16>(s.scale);
            return;
        }
    }
    widen(cxt, st)->add(cxt, v);
}

// The state as an exact sum whatever its form.
pgs::WideSum sum_of(const ClvState* st) {
    return st->scale == kWide ? *st->wide : pgs::WideSum{FixedDecimalSum{st->units, st->scale}, nullptr};
}

}  // namespace

// The moving-window transition (and the 0.1 aggregate's): PostgreSQL's numeric sum state.
PGS_FUNCTION(pgs_clv_accum) {
    if (!PG_ARGISNULL(1)) pgs::check_finite_numeric(PG_GETARG_NUMERIC(1), "clv amount");
    return numeric_avg_accum(fcinfo);
}

PGS_FUNCTION(pgs_clv_fixed_accum) {
    MemoryContext cxt = pgs::aggregate_context(fcinfo, "clv");
    ClvState* st = PG_ARGISNULL(0) ? new_state(cxt) : reinterpret_cast<ClvState*>(PG_GETARG_POINTER(0));
    if (PG_ARGISNULL(1)) PG_RETURN_POINTER(st);
    FixedDecimal v;
    if (pgs::numeric_to_fixed(PG_GETARG_DATUM(1), "clv amount", v) == pgs::NumericFit::fits)
        add_fixed(cxt, st, v);
    else
        widen(cxt, st)->add_numeric(cxt, PG_GETARG_NUMERIC(1));
    st->has_value = 1;
    PG_RETURN_POINTER(st);
}

PGS_FUNCTION(pgs_clv_fixed_combine) {
    return pgs::combine_states<ClvState>(fcinfo, "clv", new_state, [](MemoryContext cxt, ClvState* st, const ClvState* other) {
        const pgs::WideSum of = sum_of(other);
        add_fixed(cxt, st, FixedDecimal{of.fast.units, of.fast.scale});
        if (of.overflow) widen(cxt, st)->add_numeric(cxt, of.overflow);
        st->has_value |= other->has_value;
    });
}

PGS_FUNCTION(pgs_clv_fixed_serialize) {
    const auto* st = reinterpret_cast<ClvState*>(PG_GETARG_POINTER(0));
    const pgs::WideSum sum = sum_of(st);
    pgs::ByteWriter w(sizeof(int32) + sum.serialized_size());
    w.put<int32>(st->has_value);
    sum.write(w);
    PG_RETURN_BYTEA_P(w.out);
}

PGS_FUNCTION(pgs_clv_fixed_deserialize) {
    // In the current (per-input-tuple) context, as PostgreSQL's own deserialize functions: the
    // combine function copies what it keeps into the aggregate's state.
    pgs::aggregate_context(fcinfo, "clv");
    pgs::ByteReader r(PG_GETARG_BYTEA_PP(0));
    ClvState* st = new_state(CurrentMemoryContext);
    st->has_value = static_cast<int16>(r.get<int32>() != 0);
    widen(CurrentMemoryContext, st)->read(r);
    PG_RETURN_POINTER(st);
}

PGS_FUNCTION(pgs_clv_fixed_final) {
    if (PG_ARGISNULL(0)) PG_RETURN_NULL();
    const auto* st = reinterpret_cast<ClvState*>(PG_GETARG_POINTER(0));
    if (!st->has_value) PG_RETURN_NULL();
    PG_RETURN_NUMERIC(sum_of(st).value());
}
