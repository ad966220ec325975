// Scoring with a fitted model: scalar functions taking the model composite and one customer's
// summary, so that one fit scores every row set-based. The core checks model and summary (22023).
// Functions taking a unit read the model's own (attribute `unit`) when the argument is NULL and
// refuse a different one.
#include "../core/btyd/models.h"
#include "../core/btyd/summary.h"

#include <cmath>
#include <cstring>

#include "btyd_common.h"
#include "guard.h"

extern "C" {
#include "utils/timestamp.h"
}

namespace cb = pgs::core::btyd;

namespace {

// Attribute number of `unit` in the four-parameter model composites (sql/btyd/types.sql).
constexpr int kUnitAttribute = 10;

template <int N>
struct Params {
    double v[N];
};
template <int N>
Params<N> params_arg(FunctionCallInfo fcinfo, int arg) {
    Params<N> p;
    pgs::btyd::read_float8_fields(PG_GETARG_HEAPTUPLEHEADER(arg), 1, N, p.v);
    return p;
}
cb::BgNbd bgnbd_arg(FunctionCallInfo fcinfo, int arg) {
    auto p = params_arg<4>(fcinfo, arg);
    return {p.v[0], p.v[1], p.v[2], p.v[3]};
}
cb::ParetoNbd paretonbd_arg(FunctionCallInfo fcinfo, int arg) {
    auto p = params_arg<4>(fcinfo, arg);
    return {p.v[0], p.v[1], p.v[2], p.v[3]};
}
cb::BgBb bgbb_arg(FunctionCallInfo fcinfo, int arg) {
    auto p = params_arg<4>(fcinfo, arg);
    return {p.v[0], p.v[1], p.v[2], p.v[3]};
}
cb::GammaGamma gammagamma_arg(FunctionCallInfo fcinfo, int arg) {
    auto p = params_arg<3>(fcinfo, arg);
    return {p.v[0], p.v[1], p.v[2]};
}

// The unit to score in: the argument if given, else the model's, else 'weeks' (models made before
// 0.2 or by hand without one). A given unit that differs from the model's is an error.
pgs::btyd::ShortText unit_for(FunctionCallInfo fcinfo, int model_arg, int unit_arg) {
    bool isnull;
    Datum d = GetAttributeByNum(PG_GETARG_HEAPTUPLEHEADER(model_arg), kUnitAttribute, &isnull);
    pgs::btyd::ShortText model_unit{};
    if (!isnull) model_unit = pgs::btyd::short_text(DatumGetTextPP(d));
    if (PG_ARGISNULL(unit_arg)) {
        if (isnull) std::strcpy(model_unit.text, "weeks");
        return model_unit;
    }
    pgs::btyd::ShortText given = pgs::btyd::short_text(PG_GETARG_TEXT_PP(unit_arg));
    const double days = cb::period_days_of(given.text);
    if (!isnull && cb::period_days_of(model_unit.text) != days)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("the model was fitted on summaries in %s, not %s", model_unit.text, given.text),
                        errhint("Omit unit to use the model's, or fit again with unit => '%s'.", given.text)));
    return given;
}

// For CALLED ON NULL INPUT functions whose only optional argument is the unit: NULL elsewhere -> NULL.
bool any_null_but(FunctionCallInfo fcinfo, int except) {
    for (int i = 0; i < PG_NARGS(); ++i)
        if (i != except && PG_ARGISNULL(i)) return true;
    return false;
}

template <typename Model, typename Expected>
double clv_of(const Model& m, const cb::GammaGamma& gg, double x, double t_x, double T, double monetary, int months,
              double discount, const char* unit, Expected expected) {
    cb::check_summary(x, t_x, T);
    cb::check_clv_arguments(months, discount);
    const double per_month = cb::periods_per_month_of(unit);
    const double spend = cb::gammagamma_expected_spend(gg, x, monetary);
    return cb::finite_or_fail(
        cb::discounted_value([&](double t) { return expected(m, x, t_x, T, t); }, spend, months, discount, per_month),
        "the predicted CLV");
}

// predicted_clv(model, spend_model, frequency, recency, T, monetary, months, monthly_discount, unit)
template <typename Model, typename Expected>
Datum clv_common(FunctionCallInfo fcinfo, const Model& m, Expected expected) {
    const pgs::btyd::ShortText unit = unit_for(fcinfo, 0, 8);
    PG_RETURN_FLOAT8(clv_of(m, gammagamma_arg(fcinfo, 1), PG_GETARG_FLOAT8(2), PG_GETARG_FLOAT8(3),
                            PG_GETARG_FLOAT8(4), PG_GETARG_FLOAT8(5), PG_GETARG_INT32(6), PG_GETARG_FLOAT8(7), unit.text,
                            expected));
}

// last_order_at + median time to the next order (core median_time_to_next_purchase), 'infinity'
// when that is beyond the timestamp range.
template <typename Model>
Datum next_order_at(const Model& m, FunctionCallInfo fcinfo) {
    const double x = PG_GETARG_FLOAT8(1), t_x = PG_GETARG_FLOAT8(2);
    const TimestampTz last = PG_GETARG_TIMESTAMPTZ(3);
    const double period_days = cb::period_days_of(unit_for(fcinfo, 0, 4).text);
    const double periods = cb::median_time_to_next_purchase(m, x, t_x);
    if (TIMESTAMP_NOT_FINITE(last)) PG_RETURN_TIMESTAMPTZ(last);
    const double micros = std::round(periods * period_days * USECS_PER_DAY);
    const double at = static_cast<double>(last) + micros;
    if (!(at < static_cast<double>(END_TIMESTAMP))) {
        TimestampTz inf;
        TIMESTAMP_NOEND(inf);
        PG_RETURN_TIMESTAMPTZ(inf);
    }
    PG_RETURN_TIMESTAMPTZ(static_cast<TimestampTz>(at));
}

}  // namespace

#define PGS_F8(name) PG_GETARG_FLOAT8(name)

// (model, frequency, recency, T) -> float8
#define PGS_SUMMARY_SCORE(entry, reader, fn) \
    PGS_FUNCTION(entry) { PG_RETURN_FLOAT8(cb::fn(reader(fcinfo, 0), PGS_F8(1), PGS_F8(2), PGS_F8(3))); }
// (model, frequency, recency, T, horizon) -> float8
#define PGS_HORIZON_SCORE(entry, reader, fn) \
    PGS_FUNCTION(entry) { PG_RETURN_FLOAT8(cb::fn(reader(fcinfo, 0), PGS_F8(1), PGS_F8(2), PGS_F8(3), PGS_F8(4))); }
// (model, t) and (model, t, n) -> float8
#define PGS_NEW_SCORE(entry, reader, fn) \
    PGS_FUNCTION(entry) { PG_RETURN_FLOAT8(cb::fn(reader(fcinfo, 0), PGS_F8(1))); }
#define PGS_PMF_SCORE(entry, reader, fn) \
    PGS_FUNCTION(entry) { PG_RETURN_FLOAT8(cb::fn(reader(fcinfo, 0), PGS_F8(1), PGS_F8(2))); }

PGS_SUMMARY_SCORE(pgs_bgnbd_p_alive, bgnbd_arg, bgnbd_p_alive)
PGS_SUMMARY_SCORE(pgs_mbgnbd_p_alive, bgnbd_arg, mbgnbd_p_alive)
PGS_SUMMARY_SCORE(pgs_paretonbd_p_alive, paretonbd_arg, paretonbd_p_alive)
PGS_SUMMARY_SCORE(pgs_bgbb_p_alive, bgbb_arg, bgbb_p_alive)

PGS_HORIZON_SCORE(pgs_bgnbd_expected_purchases, bgnbd_arg, bgnbd_expected_purchases)
PGS_HORIZON_SCORE(pgs_mbgnbd_expected_purchases, bgnbd_arg, mbgnbd_expected_purchases)
PGS_HORIZON_SCORE(pgs_paretonbd_expected_purchases, paretonbd_arg, paretonbd_expected_purchases)
PGS_HORIZON_SCORE(pgs_bgbb_expected_purchases, bgbb_arg, bgbb_expected_purchases)

PGS_NEW_SCORE(pgs_bgnbd_expected_purchases_new, bgnbd_arg, bgnbd_expected_purchases_new)
PGS_NEW_SCORE(pgs_mbgnbd_expected_purchases_new, bgnbd_arg, mbgnbd_expected_purchases_new)
PGS_NEW_SCORE(pgs_paretonbd_expected_purchases_new, paretonbd_arg, paretonbd_expected_purchases_new)
PGS_NEW_SCORE(pgs_bgbb_expected_purchases_new, bgbb_arg, bgbb_expected_purchases_new)

PGS_PMF_SCORE(pgs_bgnbd_probability_of_purchases, bgnbd_arg, bgnbd_probability_of_purchases)
PGS_PMF_SCORE(pgs_mbgnbd_probability_of_purchases, bgnbd_arg, mbgnbd_probability_of_purchases)
PGS_PMF_SCORE(pgs_paretonbd_probability_of_purchases, paretonbd_arg, paretonbd_probability_of_purchases)
PGS_PMF_SCORE(pgs_bgbb_probability_of_purchases, bgbb_arg, bgbb_probability_of_purchases)

PGS_SUMMARY_SCORE(pgs_bgnbd_log_likelihood, bgnbd_arg, bgnbd_customer_loglik)
PGS_SUMMARY_SCORE(pgs_mbgnbd_log_likelihood, bgnbd_arg, mbgnbd_customer_loglik)
PGS_SUMMARY_SCORE(pgs_paretonbd_log_likelihood, paretonbd_arg, paretonbd_customer_loglik)
PGS_SUMMARY_SCORE(pgs_bgbb_log_likelihood, bgbb_arg, bgbb_customer_loglik)

PGS_FUNCTION(pgs_gammagamma_expected_spend) {
    PG_RETURN_FLOAT8(cb::gammagamma_expected_spend(gammagamma_arg(fcinfo, 0), PGS_F8(1), PGS_F8(2)));
}

PGS_FUNCTION(pgs_bgnbd_clv) {
    if (any_null_but(fcinfo, 8)) PG_RETURN_NULL();
    return clv_common(fcinfo, bgnbd_arg(fcinfo, 0), cb::bgnbd_expected_purchases);
}
PGS_FUNCTION(pgs_mbgnbd_clv) {
    if (any_null_but(fcinfo, 8)) PG_RETURN_NULL();
    return clv_common(fcinfo, bgnbd_arg(fcinfo, 0), cb::mbgnbd_expected_purchases);
}
PGS_FUNCTION(pgs_paretonbd_clv) {
    if (any_null_but(fcinfo, 8)) PG_RETURN_NULL();
    return clv_common(fcinfo, paretonbd_arg(fcinfo, 0), cb::paretonbd_expected_purchases);
}

// MBG/NBD shares the BG/NBD's Gamma(r, alpha) purchase process, hence its waiting time.
PGS_FUNCTION(pgs_bgnbd_time_to_next_order) {
    PG_RETURN_FLOAT8(cb::finite_or_fail(cb::median_time_to_next_purchase(bgnbd_arg(fcinfo, 0), PGS_F8(1), PGS_F8(2)),
                                        "the time to the next order"));
}
PGS_FUNCTION(pgs_paretonbd_time_to_next_order) {
    PG_RETURN_FLOAT8(cb::finite_or_fail(
        cb::median_time_to_next_purchase(paretonbd_arg(fcinfo, 0), PGS_F8(1), PGS_F8(2)), "the time to the next order"));
}

PGS_FUNCTION(pgs_bgnbd_next_order_at) {
    if (any_null_but(fcinfo, 4)) PG_RETURN_NULL();
    return next_order_at(bgnbd_arg(fcinfo, 0), fcinfo);
}
PGS_FUNCTION(pgs_paretonbd_next_order_at) {
    if (any_null_but(fcinfo, 4)) PG_RETURN_NULL();
    return next_order_at(paretonbd_arg(fcinfo, 0), fcinfo);
}
