#include "convert.h"

#include "../core/time_units.h"
#include "numeric_fixed.h"

extern "C" {
#include "utils/date.h"
}

namespace pgs {

TimestampTz finite_timestamp(Datum value, const char* what) {
    TimestampTz ts = DatumGetTimestampTz(value);
    if (TIMESTAMP_NOT_FINITE(ts))
        ereport(ERROR, (errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
                        errmsg("%s must be a finite timestamp", what),
                        errhint("'infinity' and '-infinity' are not order dates; filter them out.")));
    return ts;
}

void check_finite_numeric(Numeric value, const char* what) {
    if (numeric_is_nan(value))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("%s must not be NaN", what),
                        errhint("Filter out or fix the NaN amounts (WHERE amount <> 'NaN').")));
    if (numeric_is_inf(value))
        ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE), errmsg("%s must be finite", what),
                        errhint("Infinite amounts cannot be summed into a customer value.")));
}

double finite_numeric_to_double(Datum value, const char* what) {
    // The usual amounts read as fixed-scale integers and go to double through a stack buffer: the
    // same correctly rounded double as numeric::float8 (which goes through numeric_out's palloc'd
    // text), at a fraction of the cost.
    core::FixedDecimal f;
    if (numeric_to_fixed(value, what, f) == NumericFit::fits) return core::fixed_to_double(f.units, f.scale);
    return DatumGetFloat8(DirectFunctionCall1(numeric_float8, value));
}

int32 local_day(LocalDayCache& c, TimestampTz ts) {
    if (c.seen && c.tz == session_timezone && (ts == c.last || (c.valid && ts >= c.start && ts < c.end))) return c.day;
    const int32 day = DatumGetDateADT(DirectFunctionCall1(timestamptz_date, TimestampTzGetDatum(ts)));
    int overflow = 0;
    const TimestampTz start = date2timestamptz_opt_overflow(day, &overflow);
    const TimestampTz end = overflow ? 0 : date2timestamptz_opt_overflow(day + 1, &overflow);
    c.tz = session_timezone;
    c.start = start;
    c.end = end;
    c.last = ts;
    c.seen = true;
    c.day = day;
    c.valid = overflow == 0 && end - start == USECS_PER_DAY && ts >= start && ts < end;
    return day;
}

double interval_days(Datum value) {
    const Interval* iv = DatumGetIntervalP(value);
    return iv->month * static_cast<double>(DAYS_PER_MONTH) + iv->day + core::micros_to_days(iv->time);
}

}  // namespace pgs
