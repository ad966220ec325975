// bgnbd_fit, mbgnbd_fit, paretonbd_fit, bgbb_fit, gammagamma_fit: maximum-likelihood fits as
// aggregates. The state is a hash map from a distinct summary (x, t_x, T) -- (x, t_x, n) for BG/BB,
// (x, monetary) for Gamma-Gamma -- to its customer count, in the aggregate memory context
// (PallocAllocator, destructor registered with make_in_context): memory grows with the number of
// distinct summaries, not of customers; plus the summaries' time unit (period length in days).
// Combine merges the maps, serialize writes int64 n, n (key, count) rows of 3 doubles + int64, then
// the period length (double; 0 = not set). The final function runs the core optimiser, which polls
// for interrupts.
#include "../core/btyd/models.h"
#include "../core/btyd/summary.h"

#include <cstring>
#include <initializer_list>
#include <functional>
#include <unordered_map>
#include <vector>

#include "agg_state.h"
#include "btyd_common.h"
#include "guard.h"
#include "palloc_allocator.h"

namespace cb = pgs::core::btyd;

namespace {

struct Key {
    double a, b, c;
    bool operator==(const Key& o) const { return a == o.a && b == o.b && c == o.c; }
};

// splitmix64 finaliser over the three bit patterns: summaries are often multiples of 1/7, whose
// low mantissa bits are all alike, so every bit of the key must reach the bucket index.
struct KeyHash {
    static std::uint64_t mix(std::uint64_t z) {
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    std::size_t operator()(const Key& k) const noexcept {
        std::uint64_t h = 0x9e3779b97f4a7c15ULL;
        for (double v : {k.a, k.b, k.c}) {
            std::uint64_t bits;
            std::memcpy(&bits, &v, sizeof bits);
            h = mix(h ^ bits) + 0x9e3779b97f4a7c15ULL;
        }
        return static_cast<std::size_t>(h);
    }
};

using Alloc = pgs::PallocAllocator<std::pair<const Key, int64>>;
using CountMap = std::unordered_map<Key, int64, KeyHash, std::equal_to<Key>, Alloc>;

struct FitState {
    explicit FitState(MemoryContext cxt) : counts(16, KeyHash(), std::equal_to<Key>(), Alloc(cxt)) {}
    CountMap counts;
    double period_days = 0;  // the summaries' unit: 7 weeks, 1 days; 0 until a row sets it
};

// All rows (and partial states) of one fit must share a unit.
void set_unit(FitState* st, double period_days) {
    if (st->period_days != 0 && st->period_days != period_days)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("a fit's summaries must all be in one unit"),
                        errhint("Pass one unit ('days' or 'weeks') for every row of the fit.")));
    st->period_days = period_days;
}

FitState* new_state(MemoryContext cxt) { return pgs::make_in_context<FitState>(cxt, cxt); }

FitState* state_arg(FunctionCallInfo fcinfo, int arg, MemoryContext cxt) {
    if (PG_ARGISNULL(arg)) return new_state(cxt);
    return reinterpret_cast<FitState*>(PG_GETARG_POINTER(arg));
}

// +0.0 for -0.0 so equal values hash equally.
inline double canon(double v) { return v + 0.0; }

// Plain result of a fit, so that no C++ object is alive when the composite is built.
struct FitOut {
    double params[4];
    int nparams;
    double log_likelihood;
    int64 customers;
    bool converged;
    int32 iterations;
    char status[256];
    double std_errors[4];
    double aic, bic;
};

enum class Model { bgnbd, mbgnbd, paretonbd, bgbb, gammagamma };

void set_status(FitOut& out, const cb::FitStatus& status) {
    out.log_likelihood = status.log_likelihood;
    out.customers = static_cast<int64>(status.customers);
    out.converged = status.converged;
    out.iterations = status.iterations;
    std::strncpy(out.status, status.reason.c_str(), sizeof out.status - 1);
    out.status[sizeof out.status - 1] = '\0';
    for (int i = 0; i < out.nparams; ++i)
        out.std_errors[i] = i < static_cast<int>(status.std_errors.size()) ? status.std_errors[i] : get_float8_nan();
    out.aic = status.aic;
    out.bic = status.bic;
}

template <typename Fitted>
void set_params(FitOut& out, const Fitted& f, std::initializer_list<double> p) {
    out.nparams = static_cast<int>(p.size());
    int i = 0;
    for (double v : p) out.params[i++] = v;
    set_status(out, f.status);
}

FitOut run_fit(const FitState& st, Model model) {
    FitOut out{};
    cb::Poll poll = pgs::btyd::poll_interrupts;
    if (model == Model::gammagamma) {
        std::vector<cb::CountedSpend> rows;
        rows.reserve(st.counts.size());
        for (const auto& [k, n] : st.counts) rows.push_back({k.a, k.b, static_cast<double>(n)});
        auto f = cb::fit_gammagamma(rows.data(), rows.size(), poll);
        set_params(out, f, {f.params.p, f.params.q, f.params.gamma});
        return out;
    }
    std::vector<cb::CountedSummary> rows;
    rows.reserve(st.counts.size());
    for (const auto& [k, n] : st.counts) rows.push_back({k.a, k.b, k.c, static_cast<double>(n)});
    if (model == Model::bgnbd || model == Model::mbgnbd) {
        auto f = model == Model::bgnbd ? cb::fit_bgnbd(rows.data(), rows.size(), poll)
                                       : cb::fit_mbgnbd(rows.data(), rows.size(), poll);
        set_params(out, f, {f.params.r, f.params.alpha, f.params.a, f.params.b});
    } else if (model == Model::paretonbd) {
        auto f = cb::fit_paretonbd(rows.data(), rows.size(), poll);
        set_params(out, f, {f.params.r, f.params.alpha, f.params.s, f.params.beta});
    } else {
        auto f = cb::fit_bgbb(rows.data(), rows.size(), poll);
        set_params(out, f, {f.params.alpha, f.params.beta, f.params.gamma, f.params.delta});
    }
    return out;
}

// The model composite: params, log_likelihood, customers, converged, iterations, status, [unit,]
// std_errors, aic, bic (sql/btyd/types.sql). Gamma-Gamma has no unit.
Datum final_common(FunctionCallInfo fcinfo, Model model) {
    if (PG_ARGISNULL(0)) PG_RETURN_NULL();
    const auto* st = reinterpret_cast<FitState*>(PG_GETARG_POINTER(0));
    if (st->counts.empty()) PG_RETURN_NULL();
    const FitOut f = run_fit(*st, model);
    Datum values[16];
    bool nulls[16] = {false};
    int i = 0;
    for (int k = 0; k < f.nparams; ++k) values[i++] = Float8GetDatum(f.params[k]);
    values[i++] = Float8GetDatum(f.log_likelihood);
    values[i++] = Int64GetDatum(f.customers);
    values[i++] = BoolGetDatum(f.converged);
    values[i++] = Int32GetDatum(f.iterations);
    values[i++] = CStringGetTextDatum(f.status);
    if (model != Model::gammagamma) {
        const char* unit = model == Model::bgbb ? "periods" : st->period_days == 1 ? "days" : "weeks";
        values[i++] = CStringGetTextDatum(unit);
    }
    values[i++] = pgs::btyd::float8_array(f.std_errors, f.nparams);
    values[i++] = Float8GetDatum(f.aic);
    values[i++] = Float8GetDatum(f.bic);
    return pgs::btyd::composite_result(fcinfo, values, nulls, i);
}

Datum combine_common(FunctionCallInfo fcinfo, const char* name) {
    return pgs::combine_states<FitState>(
        fcinfo, name, new_state, [](MemoryContext, FitState* st, const FitState* other) {
            if (other->period_days != 0) set_unit(st, other->period_days);
            for (const auto& [k, n] : other->counts) st->counts[k] += n;
        });
}

Datum serialize_common(FunctionCallInfo fcinfo) {
    const auto* st = reinterpret_cast<FitState*>(PG_GETARG_POINTER(0));
    const int64 n = static_cast<int64>(st->counts.size());
    pgs::ByteWriter w(sizeof(int64) + n * (3 * sizeof(double) + sizeof(int64)) + sizeof(double));
    w.put(n);
    for (const auto& [k, c] : st->counts) {
        w.put(k.a);
        w.put(k.b);
        w.put(k.c);
        w.put(c);
    }
    w.put(st->period_days);
    PG_RETURN_BYTEA_P(w.out);
}

Datum deserialize_common(FunctionCallInfo fcinfo, const char* name) {
    MemoryContext cxt = pgs::aggregate_context(fcinfo, name);
    pgs::ByteReader r(PG_GETARG_BYTEA_PP(0));
    FitState* st = pgs::make_in_context<FitState>(cxt, cxt);
    const int64 n = r.get<int64>();
    st->counts.reserve(static_cast<std::size_t>(n));
    for (int64 i = 0; i < n; ++i) {
        Key k;
        k.a = r.get<double>();
        k.b = r.get<double>();
        k.c = r.get<double>();
        st->counts[k] += r.get<int64>();
    }
    st->period_days = r.get<double>();
    PG_RETURN_POINTER(st);
}

// Transition for (frequency, recency, T [, unit]): NULL anywhere skips the row; invalid summaries are
// errors. Without a unit the summaries are in weeks (rfm_summary's default).
Datum accum_summary(FunctionCallInfo fcinfo, const char* name, bool periods) {
    MemoryContext cxt = pgs::aggregate_context(fcinfo, name);
    FitState* st = state_arg(fcinfo, 0, cxt);
    if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3)) PG_RETURN_POINTER(st);
    double period_days = 7.0;
    if (PG_NARGS() > 4) {
        if (PG_ARGISNULL(4))
            ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("%s unit must not be NULL", name),
                            errhint("Use 'days' or 'weeks', the unit the summaries were built in.")));
        period_days = pgs::btyd::period_days_arg(fcinfo, 4);
    }
    if (st->period_days != period_days) set_unit(st, period_days);
    const double x = PG_GETARG_FLOAT8(1), t_x = PG_GETARG_FLOAT8(2), T = PG_GETARG_FLOAT8(3);
    if (periods)
        cb::check_periods(x, t_x, T);
    else
        cb::check_summary(x, t_x, T);
    st->counts[Key{canon(x), canon(t_x), canon(T)}] += 1;
    PG_RETURN_POINTER(st);
}

}  // namespace

PGS_FUNCTION(pgs_bgnbd_accum) { return accum_summary(fcinfo, "bgnbd_fit", false); }
PGS_FUNCTION(pgs_mbgnbd_accum) { return accum_summary(fcinfo, "mbgnbd_fit", false); }
PGS_FUNCTION(pgs_paretonbd_accum) { return accum_summary(fcinfo, "paretonbd_fit", false); }
PGS_FUNCTION(pgs_bgbb_accum) { return accum_summary(fcinfo, "bgbb_fit", true); }

// Transition for (frequency, monetary): rows with frequency 0 carry no spend information and are
// counted out at the fit (the core skips them), so they are not stored.
PGS_FUNCTION(pgs_gammagamma_accum) {
    MemoryContext cxt = pgs::aggregate_context(fcinfo, "gammagamma_fit");
    FitState* st = state_arg(fcinfo, 0, cxt);
    if (PG_ARGISNULL(1) || PG_ARGISNULL(2)) PG_RETURN_POINTER(st);
    const double x = PG_GETARG_FLOAT8(1), m = PG_GETARG_FLOAT8(2);
    if (x == 0) PG_RETURN_POINTER(st);
    cb::check_monetary(x, m);
    st->counts[Key{canon(x), canon(m), 0.0}] += 1;
    PG_RETURN_POINTER(st);
}

PGS_FUNCTION(pgs_btyd_fit_combine) { return combine_common(fcinfo, "BTYD fit"); }
PGS_FUNCTION(pgs_btyd_fit_serialize) { return serialize_common(fcinfo); }
PGS_FUNCTION(pgs_btyd_fit_deserialize) { return deserialize_common(fcinfo, "BTYD fit"); }

PGS_FUNCTION(pgs_bgnbd_final) { return final_common(fcinfo, Model::bgnbd); }
PGS_FUNCTION(pgs_mbgnbd_final) { return final_common(fcinfo, Model::mbgnbd); }
PGS_FUNCTION(pgs_paretonbd_final) { return final_common(fcinfo, Model::paretonbd); }
PGS_FUNCTION(pgs_bgbb_final) { return final_common(fcinfo, Model::bgbb); }
PGS_FUNCTION(pgs_gammagamma_final) { return final_common(fcinfo, Model::gammagamma); }
