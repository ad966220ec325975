// numeric <-> the core's FixedDecimal (fixed-scale int128), for the exact fast sums of clv and
// rfm_summary. Reads the numeric in place (no detoasting copy of the short on-disk form).
#pragma once
#include "../core/fixed_decimal.h"
#include "agg_state.h"
#include "convert.h"

namespace pgs {

enum class NumericFit {
    fits,     // `out` holds the value exactly
    too_wide, // finite, but beyond the fast path (scale > kMaxScale or more than 128 bits)
};

// A finite numeric as a FixedDecimal. NaN and infinity ereport (22023 / 22003) naming `what`, as
// check_finite_numeric does.
NumericFit numeric_to_fixed(Datum value, const char* what, core::FixedDecimal& out);

// amount >= 0 as PostgreSQL compares numerics (NaN sorts above every number, so it is >= 0, as is
// +infinity), read from the header in place.
bool numeric_nonnegative(Datum value);

// The numeric units * 10^-scale, with display scale `scale` (palloc'd in the current context).
Numeric fixed_to_numeric(core::int128_t units, int scale);

// An exact sum of numerics, numeric's sum to the digit and the display scale: a fixed-scale int128
// sum, and an exact numeric beside it for what does not fit (clv's wide form, the order facts'
// revenue). Trivially copyable, all zero bytes is 0; the numeric lives in the memory context given.
struct WideSum {
    core::FixedDecimalSum fast;
    Numeric overflow;  // the exact sum of what did not fit `fast`; NULL if none

    void add(MemoryContext cxt, const core::FixedDecimal& v);  // into fast, else into overflow
    void add_numeric(MemoryContext cxt, Numeric v);           // overflow += v
    void add(MemoryContext cxt, const WideSum& other);
    // The total (palloc'd in the current context).
    Numeric value() const;
    // Between parallel processes: read() keeps the numeric in the current context.
    std::size_t serialized_size() const;
    void write(ByteWriter& w) const;
    void read(ByteReader& r);
};

}  // namespace pgs
