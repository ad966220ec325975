// Checked conversions of SQL values for the core: non-finite input is an error, never a wrong answer.
#pragma once
#include "pg.h"
extern "C" {
#include "utils/timestamp.h"
#include "utils/numeric.h"
#include "pgtime.h"
}

namespace pgs {

// A finite timestamptz, or ereport 22008 naming the argument.
TimestampTz finite_timestamp(Datum value, const char* what);
// A finite numeric as double (exactly numeric::float8's), or ereport 22023 (NaN) / 22003 (infinite).
double finite_numeric_to_double(Datum value, const char* what);
// Ereports unless the numeric is finite; cheap enough to call per row.
void check_finite_numeric(Numeric value, const char* what);
// The calendar day (a PostgreSQL date) of a timestamptz in the session time zone, exactly as
// timestamptz::date, with the last day's bounds remembered: rows of one scan are mostly close in
// time, and the time-zone lookup is the costly part of the cast. Only days of exactly 24 hours are
// remembered, so a day with a time-zone offset change is looked up row by row, unless the same
// timestamp comes again (a constant cut-off). Zeroed = empty.
struct LocalDayCache {
    const pg_tz* tz;
    TimestampTz start, end;  // [start, end) is `day` in `tz`
    TimestampTz last;        // the timestamp last looked up: its day is `day` in `tz`
    int32 day;
    bool valid;  // [start, end) holds
    bool seen;   // `last` holds
};
int32 local_day(LocalDayCache& cache, TimestampTz ts);

// An interval as days (months count 30 days, as PostgreSQL's justify_days does).
double interval_days(Datum value);

}  // namespace pgs
