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

// What a group needs once its total leaves int64 (or an amount does not fit the fast path).
struct WideSum {
    FixedDecimalSum fast;
    Numeric overflow;  // exact sum of what did not fit `fast`, in the aggregate context; NULL if none
};

// A group's state, 16 bytes: the total in int64 units at `scale` (cents fit up to 9.2e16), or, with
// scale kWide, a pointer to a WideSum in the aggregate context.
struct ClvState {
    union {
        int64 units;
        WideSum* wide;
    };
    int16 scale;
    int16 has_value;  // a non-NULL amount was seen (sum over no amounts is NULL)
    int32 pad;
};
constexpr int16 kWide = -1;

ClvState* new_state(MemoryContext cxt) {
    return static_cast<ClvState*>(MemoryContextAllocZero(cxt, sizeof(ClvState)));
}

WideSum* widen(MemoryContext cxt, ClvState* st) {
    if (st->scale == kWide) return st->wide;
    auto* w = static_cast<WideSum*>(MemoryContextAllocZero(cxt, sizeof(WideSum)));
    w->fast = FixedDecimalSum{st->units, st->scale};
    st->wide = w;
    st->scale = kWide;
    return w;
}

// overflow += value, in the aggregate context.
void add_overflow(MemoryContext cxt, ClvState* st, Numeric value) {
    WideSum* w = widen(cxt, st);
    MemoryContext old = MemoryContextSwitchTo(cxt);
    Numeric sum = w->overflow ? numeric_add_opt_error(w->overflow, value, nullptr)
                              : reinterpret_cast<Numeric>(PG_DETOAST_DATUM_COPY(NumericGetDatum(value)));
    MemoryContextSwitchTo(old);
    if (w->overflow) pfree(w->overflow);
    w->overflow = sum;
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
    WideSum* w = widen(cxt, st);
    if (!w->fast.add(v)) add_overflow(cxt, st, pgs::fixed_to_numeric(v.units, v.scale));
}

// The state as (fast sum, overflow) whatever its form.
FixedDecimalSum fast_of(const ClvState* st) {
    return st->scale == kWide ? st->wide->fast : FixedDecimalSum{st->units, st->scale};
}
Numeric overflow_of(const ClvState* st) { return st->scale == kWide ? st->wide->overflow : nullptr; }

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
    ClvState* st = PG_ARGISNULL(0) ? new_state(cxt) : reinterpret_cast<ClvState*>(PG_GETARG_POINTER(0));
    const auto* other = reinterpret_cast<ClvState*>(PG_GETARG_POINTER(1));
    const FixedDecimalSum of = fast_of(other);
    add_fixed(cxt, st, FixedDecimal{of.units, of.scale});
    if (Numeric ov = overflow_of(other)) add_overflow(cxt, st, ov);
    st->has_value |= other->has_value;
    PG_RETURN_POINTER(st);
}

PGS_FUNCTION(pgs_clv_fixed_serialize) {
    const auto* st = reinterpret_cast<ClvState*>(PG_GETARG_POINTER(0));
    const FixedDecimalSum fast = fast_of(st);
    const Numeric overflow = overflow_of(st);
    const std::size_t overflow_size = overflow ? VARSIZE(overflow) : 0;
    pgs::ByteWriter w(sizeof(pgs::core::int128_t) + 3 * sizeof(int32) + overflow_size);
    w.put(fast.units);
    w.put<int32>(fast.scale);
    w.put<int32>(st->has_value);
    w.put(static_cast<int32>(overflow_size));
    if (overflow_size > 0) {
        std::memcpy(w.cursor, overflow, overflow_size);
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
    WideSum* w = widen(CurrentMemoryContext, st);
    w->fast.units = r.get<pgs::core::int128_t>();
    w->fast.scale = r.get<int32>();
    st->has_value = static_cast<int16>(r.get<int32>() != 0);
    const int32 overflow_size = r.get<int32>();
    if (overflow_size < 0 || r.cursor + overflow_size > r.end || w->fast.scale < 0 ||
        w->fast.scale > pgs::core::kMaxScale)
        ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED), errmsg("corrupt clv aggregate state")));
    if (overflow_size > 0) {
        w->overflow = static_cast<Numeric>(palloc(overflow_size));
        std::memcpy(w->overflow, r.cursor, overflow_size);
    }
    PG_RETURN_POINTER(st);
}

PGS_FUNCTION(pgs_clv_fixed_final) {
    if (PG_ARGISNULL(0)) PG_RETURN_NULL();
    const auto* st = reinterpret_cast<ClvState*>(PG_GETARG_POINTER(0));
    if (!st->has_value) PG_RETURN_NULL();
    const FixedDecimalSum fast = fast_of(st);
    Numeric sum = pgs::fixed_to_numeric(fast.units, fast.scale);
    if (Numeric ov = overflow_of(st)) sum = numeric_add_opt_error(ov, sum, nullptr);
    PG_RETURN_NUMERIC(sum);
}
