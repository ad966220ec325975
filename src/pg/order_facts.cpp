// segments_internal.order_facts_of(ordered_at, amount, valid, as_of): every column of the orders
// part of the customer facts (segments_internal.order_facts) from one transition call per order
// row, parallel safe. The SQL formulation it replaces ran 17 aggregates with FILTERs over a fenced
// subquery (so the per-row flags were computed once), and the fence kept the orders part serial.
// The pieces are the ones the single aggregates use, so the answers are theirs to the bit:
// - counts per window and the horizon: core::OrderWindows;
// - revenue, revenue_30d: WideSum, numeric's exact sum (clv's);
// - first, second, last order, latency, life cycle and when it changes: the purchase times, sorted
//   (lifecycle_stage's form: PallocVector, four inline), core::GapMoments / OrderSpan / classify;
// - rfm: rfm_summary's state (rfm_state.h), in weeks.
// The state is one chunk of the aggregate context made on the group's first row (agg_state.h).
#include <cstring>
#include <optional>
#include <type_traits>

#include "../core/lapse.h"
#include "../core/lifecycle.h"
#include "../core/order_span.h"
#include "../core/order_windows.h"
#include "agg_state.h"
#include "convert.h"
#include "enum_label.h"
#include "guard.h"
#include "numeric_fixed.h"
#include "palloc_vector.h"
#include "rfm_state.h"
#include "settings.h"

extern "C" {
#include "access/htup_details.h"
#include "funcapi.h"
#include "utils/typcache.h"
}

namespace {

constexpr double kRfmPeriodDays = 7.0;  // the facts' rfm is in weeks

struct OrderFactsState {
    TimestampTz as_of;
    int32 has_as_of;
    int32 pad;
    pgs::core::OrderWindows windows;
    pgs::WideSum revenue;      // past valid rows (refunds too); 0 with none, as coalesce(sum, 0)
    pgs::WideSum revenue_30d;  // the same in the 30-day window
    pgs::PallocVector<int64, 4> purchases;  // purchase times, ascending
    pgs::rfm::RfmState rfm;                 // of the purchases
};
static_assert(std::is_trivially_destructible_v<OrderFactsState>, "dropped with its memory context");

OrderFactsState* new_state(MemoryContext cxt) {
    return static_cast<OrderFactsState*>(MemoryContextAllocZero(cxt, sizeof(OrderFactsState)));
}

void set_as_of(OrderFactsState* st, TimestampTz as_of) {
    if (st->has_as_of && st->as_of != as_of)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("order_facts_of as_of differs between rows of one group"),
                        errhint("Pass one as_of per group, e.g. a constant or now().")));
    st->as_of = as_of;
    st->has_as_of = 1;
}

// Kept across rows (fn_extra): the calendar-day lookups of rfm (order times, the cut-off).
struct AccumCache {
    pgs::LocalDayCache order, cutoff;
};

AccumCache& cache_of(FunctionCallInfo fcinfo) {
    if (fcinfo->flinfo->fn_extra == nullptr)
        fcinfo->flinfo->fn_extra = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(AccumCache));
    return *static_cast<AccumCache*>(fcinfo->flinfo->fn_extra);
}

// One purchase's spend for rfm: a NULL amount counts as an order with no spend.
pgs::rfm::Spend spend_of(bool has_amount, pgs::NumericFit fit, const pgs::core::FixedDecimal& fixed, Datum amount) {
    pgs::rfm::Spend s{false, pgs::core::FixedDecimal{}, 0.0};
    if (!has_amount) return s;
    if (fit == pgs::NumericFit::fits) {
        s.fixed = fixed;
    } else {
        s.wide = true;
        s.approx = pgs::finite_numeric_to_double(amount, "order amount");
    }
    return s;
}

int32 count_arg(int64 n) {
    if (n > PG_INT32_MAX) ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE), errmsg("integer out of range")));
    return static_cast<int32>(n);
}

// Kept across groups by the final function: the result's row type, the rfm row type, the
// life-cycle label OIDs.
struct FinalCache {
    TupleDesc result, rfm;
    Oid lifecycle_labels[pgs::core::kLifecycleLabels.size()];
};

// The result's columns, in the order of the type segments_internal.order_facts_row.
enum Column {
    kOrders, kAttempted, kRevenue, kFirstOrder, kSecondOrder, kLastOrder, kLastAttempted, kLatency, kLifecycle,
    kOrders7d, kOrders14d, kOrders30d, kOrders90d, kRevenue30d, kRfm, kAttempted14d, kHorizon, kColumns
};

FinalCache& final_cache(FunctionCallInfo fcinfo) {
    auto* cache = static_cast<FinalCache*>(fcinfo->flinfo->fn_extra);
    if (cache != nullptr) return *cache;
    TupleDesc desc;
    if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE || desc->natts != kColumns)
        ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                        errmsg("order_facts_of must return segments_internal.order_facts_row (%d columns)", kColumns)));
    MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
    cache = static_cast<FinalCache*>(palloc0(sizeof(FinalCache)));
    cache->result = BlessTupleDesc(CreateTupleDescCopy(desc));
    cache->rfm = BlessTupleDesc(lookup_rowtype_tupdesc_copy(TupleDescAttr(desc, kRfm)->atttypid, -1));
    MemoryContextSwitchTo(old);
    pgs::enum_label_oids(TupleDescAttr(desc, kLifecycle)->atttypid, pgs::core::kLifecycleLabels.data(),
                         static_cast<int>(pgs::core::kLifecycleLabels.size()), cache->lifecycle_labels);
    fcinfo->flinfo->fn_extra = cache;
    return *cache;
}

}  // namespace

PGS_FUNCTION(pgs_order_facts_accum) {
    MemoryContext cxt = pgs::aggregate_context(fcinfo, "order_facts_of");
    OrderFactsState* st = PG_ARGISNULL(0) ? new_state(cxt) : reinterpret_cast<OrderFactsState*>(PG_GETARG_POINTER(0));
    if (PG_ARGISNULL(4))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("order_facts_of as_of must not be NULL"),
                        errhint("Pass the time the facts are computed at, e.g. now().")));
    const TimestampTz as_of = pgs::finite_timestamp(PG_GETARG_DATUM(4), "order_facts_of as_of");
    if (!st->has_as_of || st->as_of != as_of) set_as_of(st, as_of);
    if (PG_ARGISNULL(1)) PG_RETURN_POINTER(st);  // a row with no time is no order
    const TimestampTz at = PG_GETARG_TIMESTAMPTZ(1);
    const bool has_amount = !PG_ARGISNULL(2);
    const Datum amount = has_amount ? PG_GETARG_DATUM(2) : Datum(0);
    const bool valid = !PG_ARGISNULL(3) && PG_GETARG_BOOL(3);
    const auto kind = st->windows.add(at, valid, !has_amount || pgs::numeric_nonnegative(amount), as_of);
    if (!kind.revenue) PG_RETURN_POINTER(st);
    pgs::core::FixedDecimal fixed;
    pgs::NumericFit fit = pgs::NumericFit::fits;
    if (has_amount) {
        fit = pgs::numeric_to_fixed(amount, "order amount", fixed);
        if (fit == pgs::NumericFit::fits) {
            st->revenue.add(cxt, fixed);
            if (kind.in_30d) st->revenue_30d.add(cxt, fixed);
        } else {
            st->revenue.add_numeric(cxt, DatumGetNumeric(amount));
            if (kind.in_30d) st->revenue_30d.add_numeric(cxt, DatumGetNumeric(amount));
        }
    }
    if (!kind.purchase) PG_RETURN_POINTER(st);
    // A purchase feeds the life cycle, latency and rfm, which need a finite time.
    pgs::finite_timestamp(PG_GETARG_DATUM(1), "order_facts_of ordered_at");
    st->purchases.insert_sorted(cxt, at);
    AccumCache& dc = cache_of(fcinfo);
    pgs::rfm::set_cutoff(&st->rfm, pgs::local_day(dc.cutoff, as_of), kRfmPeriodDays);
    pgs::rfm::add_order(cxt, &st->rfm, pgs::local_day(dc.order, at), spend_of(has_amount, fit, fixed, amount));
    PG_RETURN_POINTER(st);
}

PGS_FUNCTION(pgs_order_facts_combine) {
    return pgs::combine_states<OrderFactsState>(fcinfo, "order_facts_of", new_state,
        [](MemoryContext cxt, OrderFactsState* st, const OrderFactsState* other) {
            if (other->has_as_of) set_as_of(st, other->as_of);
            st->windows.merge(other->windows);
            st->revenue.add(cxt, other->revenue);
            st->revenue_30d.add(cxt, other->revenue_30d);
            st->purchases.merge_sorted(cxt, other->purchases.data(), other->purchases.size());
            pgs::rfm::combine(cxt, &st->rfm, &other->rfm, false);
        });
}

// The bytes: as_of, has_as_of, the windows, the two sums, the purchase count and times, rfm's state.
PGS_FUNCTION(pgs_order_facts_serialize) {
    const auto* st = reinterpret_cast<OrderFactsState*>(PG_GETARG_POINTER(0));
    const uint32 n = st->purchases.size();
    pgs::ByteWriter w(sizeof(TimestampTz) + sizeof(int32) + sizeof(pgs::core::OrderWindows) +
                      st->revenue.serialized_size() + st->revenue_30d.serialized_size() + sizeof(uint32) +
                      sizeof(int64) * n + pgs::rfm::serialized_size(&st->rfm, false));
    w.put(st->as_of);
    w.put(st->has_as_of);
    w.put(st->windows);
    st->revenue.write(w);
    st->revenue_30d.write(w);
    w.put(n);
    std::memcpy(w.cursor, st->purchases.data(), sizeof(int64) * n);
    w.cursor += sizeof(int64) * n;
    pgs::rfm::write(w, &st->rfm, false);
    PG_RETURN_BYTEA_P(w.out);
}

PGS_FUNCTION(pgs_order_facts_deserialize) {
    // In the current (per-input-tuple) context, as PostgreSQL's own deserialize functions: the
    // combine function copies what it keeps into the aggregate's state.
    pgs::aggregate_context(fcinfo, "order_facts_of");
    pgs::ByteReader r(PG_GETARG_BYTEA_PP(0));
    OrderFactsState* st = new_state(CurrentMemoryContext);
    st->as_of = r.get<TimestampTz>();
    st->has_as_of = r.get<int32>();
    st->windows = r.get<pgs::core::OrderWindows>();
    st->revenue.read(r);
    st->revenue_30d.read(r);
    const uint32 n = r.get<uint32>();
    if (r.cursor + sizeof(int64) * std::size_t(n) > r.end)
        ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED), errmsg("corrupt order_facts_of aggregate state")));
    st->purchases.resize_for_overwrite(CurrentMemoryContext, n);
    std::memcpy(st->purchases.data(), r.cursor, sizeof(int64) * n);
    r.cursor += sizeof(int64) * n;
    pgs::rfm::read(r, &st->rfm, CurrentMemoryContext, false);
    PG_RETURN_POINTER(st);
}

PGS_FUNCTION(pgs_order_facts_final) {
    if (PG_ARGISNULL(0)) PG_RETURN_NULL();
    const auto* st = reinterpret_cast<OrderFactsState*>(PG_GETARG_POINTER(0));
    FinalCache& fc = final_cache(fcinfo);
    const pgs::core::OrderWindows& w = st->windows;
    const int64* times = st->purchases.data();
    const uint32 n = st->purchases.size();
    Datum values[kColumns];
    bool nulls[kColumns];
    std::memset(nulls, 0, sizeof nulls);
    values[kOrders] = Int32GetDatum(count_arg(n));
    values[kAttempted] = Int32GetDatum(count_arg(w.attempted));
    values[kRevenue] = NumericGetDatum(st->revenue.value());
    values[kFirstOrder] = TimestampTzGetDatum(n > 0 ? times[0] : 0);
    nulls[kFirstOrder] = n == 0;
    values[kSecondOrder] = TimestampTzGetDatum(n > 1 ? times[1] : 0);
    nulls[kSecondOrder] = n < 2;
    values[kLastOrder] = TimestampTzGetDatum(n > 0 ? times[n - 1] : 0);
    nulls[kLastOrder] = n == 0;
    values[kLastAttempted] = TimestampTzGetDatum(w.last_attempted);
    nulls[kLastAttempted] = w.attempted == 0;
    std::optional<int64> lifecycle_change;
    nulls[kLatency] = nulls[kLifecycle] = nulls[kRfm] = true;
    if (n > 0) {
        pgs::core::OrderSpan span;
        span.count = n;
        span.first = times[0];
        span.last = times[n - 1];
        if (const auto gap = span.mean_gap_days()) {
            values[kLatency] = Float8GetDatum(*gap);
            nulls[kLatency] = false;
        }
        const pgs::core::LifecycleRule rule = pgs::settings::lifecycle_rule();
        const auto moments = pgs::core::GapMoments::of_sorted(times, n);
        if (const auto stage = pgs::core::classify(moments, st->as_of, rule)) {
            values[kLifecycle] = ObjectIdGetDatum(fc.lifecycle_labels[static_cast<int>(*stage)]);
            nulls[kLifecycle] = false;
        }
        lifecycle_change = pgs::core::next_stage_change_micros(moments, st->as_of, rule);
        const auto s = pgs::rfm::summarize(&st->rfm, false);
        Datum rfm[4] = {Int32GetDatum(static_cast<int32>(s.frequency)), Float8GetDatum(s.recency),
                        Float8GetDatum(s.age), Float8GetDatum(s.monetary)};
        bool rfm_nulls[4] = {false, false, false, false};
        values[kRfm] = HeapTupleGetDatum(heap_form_tuple(fc.rfm, rfm, rfm_nulls));
        nulls[kRfm] = false;
    }
    values[kOrders7d] = Int32GetDatum(count_arg(w.orders_7d.n));
    values[kOrders14d] = Int32GetDatum(count_arg(w.orders_14d.n));
    values[kOrders30d] = Int32GetDatum(count_arg(w.orders_30d.n));
    values[kOrders90d] = Int32GetDatum(count_arg(w.orders_90d.n));
    values[kRevenue30d] = NumericGetDatum(st->revenue_30d.value());
    values[kAttempted14d] = Int32GetDatum(count_arg(w.attempted_14d.n));
    bool out_of_range = false;
    const auto horizon = w.horizon(lifecycle_change, END_TIMESTAMP - 1, out_of_range);
    if (out_of_range)
        ereport(ERROR, (errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE), errmsg("timestamp out of range"),
                        errdetail("An order facts window ends beyond the last timestamp PostgreSQL can represent.")));
    values[kHorizon] = TimestampTzGetDatum(horizon.value_or(0));
    nulls[kHorizon] = !horizon;
    return HeapTupleGetDatum(heap_form_tuple(fc.result, values, nulls));
}
