// Scoring with a fitted model: scalar functions taking the model composite and one customer's
// summary, so that one fit scores every row set-based. The core checks model and summary (22023).
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

cb::BgNbd bgnbd_arg(FunctionCallInfo fcinfo, int arg) {
    double p[4];
    pgs::btyd::read_float8_fields(PG_GETARG_HEAPTUPLEHEADER(arg), 1, 4, p);
    return {p[0], p[1], p[2], p[3]};
}

cb::ParetoNbd paretonbd_arg(FunctionCallInfo fcinfo, int arg) {
    double p[4];
    pgs::btyd::read_float8_fields(PG_GETARG_HEAPTUPLEHEADER(arg), 1, 4, p);
    return {p[0], p[1], p[2], p[3]};
}

cb::GammaGamma gammagamma_arg(FunctionCallInfo fcinfo, int arg) {
    double p[3];
    pgs::btyd::read_float8_fields(PG_GETARG_HEAPTUPLEHEADER(arg), 1, 3, p);
    return {p[0], p[1], p[2]};
}

// Unit names are short; copy into a fixed buffer so no palloc'd string outlives a throw.
struct UnitName {
    char text[16];
};
UnitName unit_arg(FunctionCallInfo fcinfo, int arg) {
    UnitName u{};
    text* t = PG_GETARG_TEXT_PP(arg);
    int len = VARSIZE_ANY_EXHDR(t);
    if (len >= static_cast<int>(sizeof u.text)) len = sizeof u.text - 1;
    std::memcpy(u.text, VARDATA_ANY(t), len);
    u.text[len] = '\0';
    return u;
}

template <typename Model, typename Expected>
double clv_of(const Model& m, const cb::GammaGamma& gg, double x, double t_x, double T, double monetary, int months,
              double discount, const char* unit, Expected expected) {
    cb::check_summary(x, t_x, T);
    cb::check_clv_arguments(months, discount);
    const double per_month = cb::periods_per_month_of(unit);
    const double spend = cb::gammagamma_expected_spend(gg, x, monetary);
    return cb::discounted_value([&](double t) { return expected(m, x, t_x, T, t); }, spend, months, discount,
                                per_month);
}

// last_order_at + median time to the next order (core median_time_to_next_purchase), 'infinity'
// when that is beyond the timestamp range.
Datum next_order_at(double r, double alpha, FunctionCallInfo fcinfo) {
    const double x = PG_GETARG_FLOAT8(1), t_x = PG_GETARG_FLOAT8(2);
    const TimestampTz last = PG_GETARG_TIMESTAMPTZ(3);
    const double period_days = cb::period_days_of(unit_arg(fcinfo, 4).text);
    const double periods = cb::median_time_to_next_purchase(r, alpha, x, t_x);
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

PGS_FUNCTION(pgs_bgnbd_p_alive) {
    PG_RETURN_FLOAT8(cb::bgnbd_p_alive(bgnbd_arg(fcinfo, 0), PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2), PG_GETARG_FLOAT8(3)));
}
PGS_FUNCTION(pgs_paretonbd_p_alive) {
    PG_RETURN_FLOAT8(
        cb::paretonbd_p_alive(paretonbd_arg(fcinfo, 0), PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2), PG_GETARG_FLOAT8(3)));
}

PGS_FUNCTION(pgs_bgnbd_expected_purchases) {
    PG_RETURN_FLOAT8(cb::bgnbd_expected_purchases(bgnbd_arg(fcinfo, 0), PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2),
                                                  PG_GETARG_FLOAT8(3), PG_GETARG_FLOAT8(4)));
}
PGS_FUNCTION(pgs_paretonbd_expected_purchases) {
    PG_RETURN_FLOAT8(cb::paretonbd_expected_purchases(paretonbd_arg(fcinfo, 0), PG_GETARG_FLOAT8(1),
                                                      PG_GETARG_FLOAT8(2), PG_GETARG_FLOAT8(3), PG_GETARG_FLOAT8(4)));
}

PGS_FUNCTION(pgs_gammagamma_expected_spend) {
    PG_RETURN_FLOAT8(cb::gammagamma_expected_spend(gammagamma_arg(fcinfo, 0), PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2)));
}

// predicted_clv(model, spend_model, frequency, recency, T, monetary, months, monthly_discount, unit)
PGS_FUNCTION(pgs_bgnbd_clv) {
    const double v = clv_of(bgnbd_arg(fcinfo, 0), gammagamma_arg(fcinfo, 1), PG_GETARG_FLOAT8(2), PG_GETARG_FLOAT8(3),
                            PG_GETARG_FLOAT8(4), PG_GETARG_FLOAT8(5), PG_GETARG_INT32(6), PG_GETARG_FLOAT8(7),
                            unit_arg(fcinfo, 8).text, cb::bgnbd_expected_purchases);
    PG_RETURN_FLOAT8(v);
}
PGS_FUNCTION(pgs_paretonbd_clv) {
    const double v = clv_of(paretonbd_arg(fcinfo, 0), gammagamma_arg(fcinfo, 1), PG_GETARG_FLOAT8(2),
                            PG_GETARG_FLOAT8(3), PG_GETARG_FLOAT8(4), PG_GETARG_FLOAT8(5), PG_GETARG_INT32(6),
                            PG_GETARG_FLOAT8(7), unit_arg(fcinfo, 8).text, cb::paretonbd_expected_purchases);
    PG_RETURN_FLOAT8(v);
}

PGS_FUNCTION(pgs_bgnbd_time_to_next_order) {
    PG_RETURN_FLOAT8(cb::median_time_to_next_purchase(bgnbd_arg(fcinfo, 0), PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2)));
}
PGS_FUNCTION(pgs_paretonbd_time_to_next_order) {
    PG_RETURN_FLOAT8(
        cb::median_time_to_next_purchase(paretonbd_arg(fcinfo, 0), PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2)));
}

PGS_FUNCTION(pgs_bgnbd_next_order_at) {
    cb::BgNbd m = bgnbd_arg(fcinfo, 0);
    return next_order_at(m.r, m.alpha, fcinfo);
}
PGS_FUNCTION(pgs_paretonbd_next_order_at) {
    cb::ParetoNbd m = paretonbd_arg(fcinfo, 0);
    return next_order_at(m.r, m.alpha, fcinfo);
}
