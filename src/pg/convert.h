// Checked conversions of SQL values for the core: non-finite input is an error, never a wrong answer.
#pragma once
#include "pg.h"
extern "C" {
#include "utils/timestamp.h"
#include "utils/numeric.h"
}

namespace pgs {

// A finite timestamptz, or ereport 22008 naming the argument.
TimestampTz finite_timestamp(Datum value, const char* what);
// A finite numeric as double, or ereport 22023 (NaN) / 22003 (infinite).
double finite_numeric_to_double(Datum value, const char* what);
// Ereports unless the numeric is finite; cheap enough to call per row.
void check_finite_numeric(Numeric value, const char* what);
// An interval as days (months count 30 days, as PostgreSQL's justify_days does).
double interval_days(Datum value);

}  // namespace pgs
