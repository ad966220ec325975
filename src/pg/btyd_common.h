// Glue shared by the BTYD entry points (btyd_rfm.cpp, btyd_fit.cpp, btyd_score.cpp): the
// cancellation poll handed to the core, and composite (model) values in and out.
#pragma once
#include <cmath>
#include <cstring>

#include "../core/btyd/lbfgs.h"
#include "../core/btyd/summary.h"
#include "../core/errors.h"

#include "pg.h"
extern "C" {
#include "executor/executor.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
}

namespace pgs::btyd {

// The core's optimiser loops call this. It never calls PostgreSQL: it looks at the interrupt flags
// and throws only for a cancel (query cancel, statement_timeout) or a termination request; other
// pending interrupts (parallel worker messages, sinval catch-up...) wait until the fit returns. The
// guard then runs CHECK_FOR_INTERRUPTS() outside every C++ frame, so PostgreSQL reports the
// interrupt itself (57014 "canceling statement due to ...", or FATAL on termination).
inline void poll_interrupts() {
    if (INTERRUPTS_PENDING_CONDITION() && (QueryCancelPending || ProcDiePending))
        throw core::Error(core::ErrorKind::query_canceled, "canceling statement: BTYD model fit interrupted");
}

// Reads `n` float8 attributes (1-based, from `first`) of a composite argument. NULL fields read as
// NaN, which the core rejects as an invalid model.
inline void read_float8_fields(HeapTupleHeader tuple, int first, int n, double* out) {
    for (int i = 0; i < n; ++i) {
        bool isnull;
        Datum d = GetAttributeByNum(tuple, static_cast<AttrNumber>(first + i), &isnull);
        out[i] = isnull ? get_float8_nan() : DatumGetFloat8(d);
    }
}

// Builds the function's composite result from datums (nulls[i] marks a NULL field).
inline Datum composite_result(FunctionCallInfo fcinfo, Datum* values, bool* nulls, int natts) {
    TupleDesc desc;
    if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("function returning a model called in a context "
                                                                       "that cannot accept a composite")));
    desc = BlessTupleDesc(desc);
    if (desc->natts != natts)
        ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH), errmsg("model type has %d attributes, expected %d",
                                                                   desc->natts, natts)));
    HeapTuple tuple = heap_form_tuple(desc, values, nulls);
    return HeapTupleGetDatum(tuple);
}
inline Datum composite_result(FunctionCallInfo fcinfo, Datum* values, int natts) {
    bool nulls[16] = {false};
    return composite_result(fcinfo, values, nulls, natts);
}

// A float8[] of n values; NaN (not computable) becomes a NULL element.
inline Datum float8_array(const double* v, int n) {
    Datum elems[8];
    bool nulls[8];
    for (int i = 0; i < n; ++i) {
        nulls[i] = std::isnan(v[i]);
        elems[i] = Float8GetDatum(nulls[i] ? 0.0 : v[i]);
    }
    int dims[1] = {n}, lbs[1] = {1};
    return PointerGetDatum(construct_md_array(elems, nulls, 1, dims, lbs, FLOAT8OID, 8, FLOAT8PASSBYVAL, 'd'));
}

// A short text argument copied into a fixed buffer (so no palloc'd string outlives a throw).
struct ShortText {
    char text[16];
};
inline ShortText short_text(text* t) {
    ShortText u{};
    int len = VARSIZE_ANY_EXHDR(t);
    if (len >= static_cast<int>(sizeof u.text)) len = sizeof u.text - 1;
    std::memcpy(u.text, VARDATA_ANY(t), len);
    u.text[len] = '\0';
    return u;
}

// Period length in days of a unit argument ('days', 'weeks'); 22023 otherwise.
inline double period_days_arg(FunctionCallInfo fcinfo, int arg) {
    return core::btyd::period_days_of(short_text(PG_GETARG_TEXT_PP(arg)).text);
}

}  // namespace pgs::btyd
