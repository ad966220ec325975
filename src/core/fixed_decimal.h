// Exact sums of decimal amounts as 128-bit integers at a fixed scale: the fast path of clv and
// rfm_summary's spend. A value is `units * 10^-scale`. Everything that does not fit (a scale above
// kMaxScale, a magnitude beyond 128 bits) is reported by a false return, and the caller falls back
// to arbitrary-precision arithmetic, so answers never depend on which path ran.
#pragma once
#include <cstdint>

namespace pgs::core {

// 128-bit integer at 8-byte alignment, as PostgreSQL's own int128: states live in palloc'd memory,
// which is aligned to 8 bytes only.
typedef __int128 int128_t __attribute__((aligned(8)));

struct FixedDecimal {
    int128_t units = 0;
    int scale = 0;  // decimal digits after the point, 0..kMaxScale
};

// Scales above this go to the fallback: 10^18 still fits in int64, and int128 keeps 20 integer
// digits beside 18 fraction digits.
constexpr int kMaxScale = 18;

// 10^n for 0 <= n <= 38.
int128_t pow10_128(int n);

// units * 10^by, false on overflow (by >= 0).
bool upscale(int128_t units, int by, int128_t& out);

// A number given as base-10000 digits (the digit at index i weighs 10000^(weight - i)), its
// display scale and sign, as units at scale `dscale`. False when dscale > kMaxScale or it does not
// fit. Digits beyond the display scale must be zero (PostgreSQL's numeric guarantees it).
bool fixed_from_base10000(const std::int16_t* digits, int ndigits, int weight, int dscale, bool negative,
                          FixedDecimal& out);

// An exact running sum. The sum's scale is the largest scale added so far (as numeric's sum keeps
// the largest display scale of its inputs).
struct FixedDecimalSum {
    int128_t units = 0;
    int scale = 0;

    // False (and no change) when the result would overflow: the caller moves the sum, or the
    // value, to its fallback.
    bool add(const FixedDecimal& v);
    bool add(const FixedDecimalSum& other) { return add(FixedDecimal{other.units, other.scale}); }
};

// Longest text of a FixedDecimal: sign, 39 digits, point, NUL.
constexpr int kFixedTextSize = 48;
// Writes "-123.4500" for units -1234500 at scale 4 (what numeric's input function reads back
// exactly) into buf, NUL-terminated.
void fixed_to_text(int128_t units, int scale, char (&buf)[kFixedTextSize]);

// The double nearest to units * 10^-scale (correctly rounded: what strtod reads from the text).
double fixed_to_double(int128_t units, int scale);

}  // namespace pgs::core
