// rfm_summary(ordered_at, amount, cutoff [, unit]): the BTYD summary (frequency, recency, T, monetary)
// of one customer's orders. Days are calendar days in the session time zone; the state is the list
// of (day, amount) of the orders up to the cut-off day (a customer has few orders), a plain palloc'd
// array in the aggregate context. Parallel safe: combine appends, serialize copies the array.
#include "../core/btyd/summary.h"

#include <cstring>

#include "agg_state.h"
#include "btyd_common.h"
#include "convert.h"
#include "guard.h"

extern "C" {
#include "catalog/pg_type_d.h"
#include "utils/date.h"
}

using pgs::core::btyd::DayAmount;

namespace {

struct RfmState {
    int32 cutoff_day;
    int32 has_cutoff;
    double period_days;  // 0 until the first row
    int64 count;
    int64 capacity;
    DayAmount* orders;
};

RfmState* new_state(MemoryContext cxt) {
    auto* st = static_cast<RfmState*>(MemoryContextAllocZero(cxt, sizeof(RfmState)));
    return st;
}

void push(MemoryContext cxt, RfmState* st, DayAmount o) {
    if (st->count == st->capacity) {
        int64 cap = st->capacity == 0 ? 8 : st->capacity * 2;
        auto* grown = static_cast<DayAmount*>(MemoryContextAllocHuge(cxt, sizeof(DayAmount) * cap));
        if (st->count > 0) std::memcpy(grown, st->orders, sizeof(DayAmount) * st->count);
        if (st->orders) pfree(st->orders);
        st->orders = grown;
        st->capacity = cap;
    }
    st->orders[st->count++] = o;
}

int32 day_of(Datum timestamptz) {
    return DatumGetDateADT(DirectFunctionCall1(timestamptz_date, timestamptz));
}

void set_cutoff(RfmState* st, int32 day, double period_days) {
    if (st->has_cutoff && (st->cutoff_day != day || st->period_days != period_days))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("rfm_summary cutoff and unit must be the same for all rows of a group"),
                        errhint("Pass one cut-off date (e.g. a constant) and one unit per customer.")));
    st->has_cutoff = 1;
    st->cutoff_day = day;
    st->period_days = period_days;
}

// The unit argument: text, or the time_unit enum (not collatable, so that postgres_fdw can ship a
// call with a constant unit to a shard). An enum label is looked up once per call site.
double unit_period_days(FunctionCallInfo fcinfo) {
    if (get_fn_expr_argtype(fcinfo->flinfo, 4) == TEXTOID)
        return pgs::core::btyd::period_days_of(text_to_cstring(PG_GETARG_TEXT_PP(4)));
    struct Cached {
        Oid label;
        double period_days;
    };
    auto* cached = static_cast<Cached*>(fcinfo->flinfo->fn_extra);
    const Oid label = PG_GETARG_OID(4);
    if (cached == nullptr || cached->label != label) {
        const char* name = DatumGetCString(DirectFunctionCall1(enum_out, ObjectIdGetDatum(label)));
        const double days = pgs::core::btyd::period_days_of(name);
        if (cached == nullptr)
            cached = static_cast<Cached*>(MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(Cached)));
        *cached = Cached{label, days};
        fcinfo->flinfo->fn_extra = cached;
    }
    return cached->period_days;
}

}  // namespace

PGS_FUNCTION(pgs_rfm_accum) {
    MemoryContext cxt = pgs::aggregate_context(fcinfo, "rfm_summary");
    RfmState* st = PG_ARGISNULL(0) ? new_state(cxt) : reinterpret_cast<RfmState*>(PG_GETARG_POINTER(0));
    if (PG_ARGISNULL(3))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("rfm_summary cutoff must not be NULL"),
                        errhint("Pass the end of the observation period, e.g. now() or a calibration end date.")));
    double period_days = 7.0;
    if (PG_NARGS() > 4) {
        if (PG_ARGISNULL(4))
            ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("rfm_summary unit must not be NULL"),
                            errhint("Use 'days' or 'weeks'.")));
        period_days = unit_period_days(fcinfo);
    }
    const int32 cutoff = day_of(pgs::finite_timestamp(PG_GETARG_DATUM(3), "rfm_summary cutoff"));
    set_cutoff(st, cutoff, period_days);
    if (PG_ARGISNULL(1)) PG_RETURN_POINTER(st);
    const int32 day = day_of(pgs::finite_timestamp(PG_GETARG_DATUM(1), "rfm_summary ordered_at"));
    if (day > cutoff) PG_RETURN_POINTER(st);
    // A NULL amount still counts as an order (with no spend).
    double amount = PG_ARGISNULL(2) ? 0.0 : pgs::finite_numeric_to_double(PG_GETARG_DATUM(2), "rfm_summary amount");
    push(cxt, st, DayAmount{day, amount});
    PG_RETURN_POINTER(st);
}

PGS_FUNCTION(pgs_rfm_combine) {
    MemoryContext cxt = pgs::aggregate_context(fcinfo, "rfm_summary");
    if (PG_ARGISNULL(1)) {
        if (PG_ARGISNULL(0)) PG_RETURN_NULL();
        PG_RETURN_POINTER(PG_GETARG_POINTER(0));
    }
    RfmState* st = PG_ARGISNULL(0) ? new_state(cxt) : reinterpret_cast<RfmState*>(PG_GETARG_POINTER(0));
    const auto* other = reinterpret_cast<RfmState*>(PG_GETARG_POINTER(1));
    if (other->has_cutoff) set_cutoff(st, other->cutoff_day, other->period_days);
    for (int64 i = 0; i < other->count; ++i) push(cxt, st, other->orders[i]);
    PG_RETURN_POINTER(st);
}

PGS_FUNCTION(pgs_rfm_serialize) {
    const auto* st = reinterpret_cast<RfmState*>(PG_GETARG_POINTER(0));
    pgs::ByteWriter w(2 * sizeof(int32) + sizeof(double) + sizeof(int64) + st->count * (sizeof(int32) + sizeof(double)));
    w.put(st->cutoff_day);
    w.put(st->has_cutoff);
    w.put(st->period_days);
    w.put(st->count);
    for (int64 i = 0; i < st->count; ++i) {
        w.put(st->orders[i].day);
        w.put(st->orders[i].amount);
    }
    PG_RETURN_BYTEA_P(w.out);
}

PGS_FUNCTION(pgs_rfm_deserialize) {
    MemoryContext cxt = pgs::aggregate_context(fcinfo, "rfm_summary");
    pgs::ByteReader r(PG_GETARG_BYTEA_PP(0));
    RfmState* st = new_state(cxt);
    st->cutoff_day = r.get<int32>();
    st->has_cutoff = r.get<int32>();
    st->period_days = r.get<double>();
    const int64 n = r.get<int64>();
    for (int64 i = 0; i < n; ++i) {
        DayAmount o;
        o.day = r.get<int32>();
        o.amount = r.get<double>();
        push(cxt, st, o);
    }
    PG_RETURN_POINTER(st);
}

PGS_FUNCTION(pgs_rfm_final) {
    if (PG_ARGISNULL(0)) PG_RETURN_NULL();
    auto* st = reinterpret_cast<RfmState*>(PG_GETARG_POINTER(0));
    if (st->count == 0) PG_RETURN_NULL();
    // Work on a copy: the final function must not change the state (it may be shared).
    auto* copy = static_cast<DayAmount*>(palloc(sizeof(DayAmount) * st->count));
    std::memcpy(copy, st->orders, sizeof(DayAmount) * st->count);
    auto s = pgs::core::btyd::summarize_orders(copy, copy + st->count, st->cutoff_day, st->period_days);
    if (!s) PG_RETURN_NULL();
    Datum values[4] = {Int32GetDatum(static_cast<int32>(s->frequency)), Float8GetDatum(s->recency),
                       Float8GetDatum(s->age), Float8GetDatum(s->monetary)};
    return pgs::btyd::composite_result(fcinfo, values, 4);
}
