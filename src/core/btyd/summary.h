// The RFM summary of the buy-till-you-die literature (Fader, Hardie & Lee 2005) and its checks.
//
// Time is counted in whole days (periods of one calendar day); `period_days` converts to the
// user's unit (1 for days, 7 for weeks: the CDNOW summaries are in days / 7).
//   frequency x  = number of repeat purchase days (days with an order, after the first one)
//   recency t_x  = age of the customer at the last purchase day (0 when x = 0)
//   age T        = age of the customer at the cut-off day
//   monetary     = mean spend of the repeat purchase days (the first day excluded); 0 when x = 0
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>

namespace pgs::core::btyd {

struct DayAmount {
    std::int32_t day;  // any day numbering (PostgreSQL date offsets)
    double amount;
};

struct RfmSummary {
    double frequency = 0;
    double recency = 0;
    double age = 0;  // T
    double monetary = 0;
};

// Period length in days of a unit name: "days"/"day" -> 1, "weeks"/"week" -> 7. Throws
// invalid_argument for anything else.
double period_days_of(const char* unit);
// Periods per month of a unit, as lifetimes' customer_lifetime_value uses: 30 days, 4.345 weeks.
double periods_per_month_of(const char* unit);

// The summary from what it depends on: the first and last purchase day, the number of distinct
// purchase days, and the spend of all days but the first (all up to cutoff_day).
RfmSummary summarize_days(std::int32_t first_day, std::int32_t last_day, std::int64_t distinct_days,
                          std::int32_t cutoff_day, double period_days, double repeat_spend);

// Summarises the orders of one customer. Reorders [first, last) (sorts by day). Orders after
// cutoff_day are ignored; none left -> nullopt.
std::optional<RfmSummary> summarize_orders(DayAmount* first, DayAmount* last, std::int32_t cutoff_day,
                                           double period_days);

// Throws Error(invalid_argument) with a hint unless (x, t_x, T) is a valid summary:
// all finite, x a non-negative integer, 0 <= t_x <= T, and t_x = 0 when x = 0.
void check_summary(double x, double t_x, double T);
// A count argument (a number of purchases n, or of periods): a whole number in [0, 1e9].
void check_count(double v, const char* what);
// The (t, n) of P(X(t) = n) in continuous time: t a finite non-negative number of periods, n a count.
void check_pmf_arguments(double t, double n);
// Model parameters: each finite and within [1e-10, 1e10] (the fits search [1e-8, 1e8]; outside that
// range the models' special functions overflow). `names` like "r, alpha, a, b".
void check_parameters(const double* params, std::size_t k, const char* model, const char* names);
// A score that came out non-finite (an extreme but valid input the formulas cannot represent)
// becomes an out_of_range error with a hint instead of NaN or Infinity.
double finite_or_fail(double value, const char* what);

// Gamma-Gamma input: x a non-negative integer; monetary finite, and > 0 when x > 0.
void check_monetary(double x, double monetary);

}  // namespace pgs::core::btyd
