// numeric <-> the core's FixedDecimal (fixed-scale int128), for the exact fast sums of clv and
// rfm_summary. Reads the numeric in place (no detoasting copy of the short on-disk form).
#pragma once
#include "../core/fixed_decimal.h"
#include "convert.h"

namespace pgs {

enum class NumericFit {
    fits,     // `out` holds the value exactly
    too_wide, // finite, but beyond the fast path (scale > kMaxScale or more than 128 bits)
};

// A finite numeric as a FixedDecimal. NaN and infinity ereport (22023 / 22003) naming `what`, as
// check_finite_numeric does.
NumericFit numeric_to_fixed(Datum value, const char* what, core::FixedDecimal& out);

// The numeric units * 10^-scale, with display scale `scale` (palloc'd in the current context).
Numeric fixed_to_numeric(core::int128_t units, int scale);

}  // namespace pgs
