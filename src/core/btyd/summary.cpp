#include "summary.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include <fmt/format.h>

#include "../errors.h"

namespace pgs::core::btyd {

namespace {
// Beyond a billion repeat purchases the models' gamma-function terms lose all precision.
constexpr double kMaxFrequency = 1e9;
bool unit_is(const char* unit, const char* a, const char* b) {
    return unit != nullptr && (std::strcmp(unit, a) == 0 || std::strcmp(unit, b) == 0);
}
}  // namespace

double period_days_of(const char* unit) {
    if (unit_is(unit, "days", "day")) return 1.0;
    if (unit_is(unit, "weeks", "week")) return 7.0;
    fail(ErrorKind::invalid_argument, fmt::format("unknown time unit \"{}\"", unit ? unit : ""),
         "Use 'days' or 'weeks'.");
}

double periods_per_month_of(const char* unit) {
    if (unit_is(unit, "days", "day")) return 30.0;
    if (unit_is(unit, "weeks", "week")) return 4.345;
    fail(ErrorKind::invalid_argument, fmt::format("unknown time unit \"{}\"", unit ? unit : ""),
         "Use 'days' or 'weeks', the unit the summaries were built in.");
}

RfmSummary summarize_days(std::int32_t first_day, std::int32_t last_day, std::int64_t distinct_days,
                          std::int32_t cutoff_day, double period_days, double repeat_spend) {
    const std::int64_t repeat_days = distinct_days - 1;
    RfmSummary s;
    s.frequency = static_cast<double>(repeat_days);
    s.recency = static_cast<double>(last_day - first_day) / period_days;
    s.age = static_cast<double>(cutoff_day - first_day) / period_days;
    s.monetary = repeat_days > 0 ? repeat_spend / static_cast<double>(repeat_days) : 0.0;
    return s;
}

std::optional<RfmSummary> summarize_orders(DayAmount* first, DayAmount* last, std::int32_t cutoff_day,
                                           double period_days) {
    DayAmount* end = std::remove_if(first, last, [&](const DayAmount& o) { return o.day > cutoff_day; });
    if (end == first) return std::nullopt;
    std::sort(first, end, [](const DayAmount& a, const DayAmount& b) { return a.day < b.day; });
    const std::int32_t first_day = first->day;
    std::int64_t days = 1;
    double repeat_spend = 0;
    std::int32_t last_day = first_day;
    for (DayAmount* o = first; o != end; ++o) {
        if (o->day == first_day) continue;
        if (o->day != last_day) ++days;
        last_day = o->day;
        repeat_spend += o->amount;
    }
    return summarize_days(first_day, last_day, days, cutoff_day, period_days, repeat_spend);
}

void check_summary(double x, double t_x, double T) {
    const char* hint =
        "A summary is (frequency x, recency t_x, age T) with x a whole number of repeat purchases, "
        "0 <= t_x <= T, and t_x = 0 when x = 0; rfm_summary() builds valid ones.";
    if (!std::isfinite(x) || !std::isfinite(t_x) || !std::isfinite(T))
        fail(ErrorKind::invalid_argument, "summary values must be finite", hint);
    auto bad = [hint](const std::string& message) { fail(ErrorKind::invalid_argument, message, hint); };
    if (x < 0) bad(fmt::format("frequency must not be negative, got {:.6g}", x));
    if (x > kMaxFrequency) bad(fmt::format("frequency must be at most 1e9, got {:.6g}", x));
    if (x != std::floor(x)) bad(fmt::format("frequency must be a whole number of repeat purchases, got {:.6g}", x));
    if (t_x < 0) bad(fmt::format("recency must not be negative, got {:.6g}", t_x));
    if (T < 0) bad(fmt::format("age T must not be negative, got {:.6g}", T));
    if (t_x > T) bad(fmt::format("recency {:.6g} exceeds the customer's age T {:.6g}", t_x, T));
    if (x == 0 && t_x != 0) bad(fmt::format("recency must be 0 when frequency is 0, got {:.6g}", t_x));
}

void check_count(double v, const char* what) {
    if (!(v >= 0 && v <= kMaxFrequency) || v != std::floor(v))
        fail(ErrorKind::invalid_argument, fmt::format("{} must be a whole number between 0 and 1e9, got {:.6g}", what, v),
             "Pass a number of purchases (or periods) such as 0, 1, 2.");
}

void check_pmf_arguments(double t, double n) {
    if (!(t >= 0) || !std::isfinite(t))
        fail(ErrorKind::invalid_argument, "the time t must be a non-negative number of periods",
             "Pass e.g. 39 for 39 weeks after the first purchase.");
    check_count(n, "the number of purchases n");
}

void check_parameters(const double* params, std::size_t k, const char* model, const char* names) {
    for (std::size_t i = 0; i < k; ++i)
        if (!(params[i] >= 1e-10 && params[i] <= 1e10))
            fail(ErrorKind::invalid_argument,
                 fmt::format("{} parameters {} must be between 1e-10 and 1e10, got {:.6g}", model, names, params[i]),
                 fmt::format("Use a model returned by the fit (it searches 1e-8 to 1e8), or one made with "
                             "{}_model(...).",
                             model));
}

double finite_or_fail(double value, const char* what) {
    if (!std::isfinite(value))
        fail(ErrorKind::out_of_range, fmt::format("{} is not representable for these inputs", what),
             "An input is too extreme for the model (e.g. a frequency, age or horizon beyond 1e9 periods); "
             "check the summaries and the horizon.");
    return value;
}

void check_monetary(double x, double monetary) {
    const char* hint =
        "Gamma-Gamma needs (frequency, monetary) with monetary the mean spend of the repeat purchases, "
        "positive when frequency > 0.";
    if (!std::isfinite(x) || !std::isfinite(monetary))
        fail(ErrorKind::invalid_argument, "frequency and monetary must be finite", hint);
    if (x < 0 || x != std::floor(x) || x > kMaxFrequency)
        fail(ErrorKind::invalid_argument,
             fmt::format("frequency must be a whole number between 0 and 1e9, got {:.6g}", x), hint);
    if (x > 0 && !(monetary > 0))
        fail(ErrorKind::invalid_argument,
             fmt::format("monetary must be positive for a repeat buyer, got {:.6g}", monetary), hint);
}

}  // namespace pgs::core::btyd
