#include "fixed_decimal.h"

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdlib>

namespace pgs::core {

int128_t pow10_128(int n) {
    static const auto table = [] {
        struct T {
            int128_t p[39];
        } t{};
        t.p[0] = 1;
        for (int i = 1; i <= 38; ++i) t.p[i] = t.p[i - 1] * 10;
        return t;
    }();
    return table.p[n];
}

bool upscale(int128_t units, int by, int128_t& out) {
    if (by == 0) {
        out = units;
        return true;
    }
    if (by > 38) {
        if (units != 0) return false;
        out = 0;
        return true;
    }
    return !__builtin_mul_overflow(units, pow10_128(by), &out);
}

bool fixed_from_base10000(const std::int16_t* digits, int ndigits, int weight, int dscale, bool negative,
                          FixedDecimal& out) {
    if (dscale < 0 || dscale > kMaxScale) return false;
    // acc = the digits read as one integer = value * 10000^frac, frac = base-10000 digits after the point.
    int128_t acc = 0;
    for (int i = 0; i < ndigits; ++i) {
        if (__builtin_mul_overflow(acc, static_cast<int128_t>(10000), &acc) ||
            __builtin_add_overflow(acc, static_cast<int128_t>(digits[i]), &acc))
            return false;
    }
    const int frac = ndigits - 1 - weight;
    const int shift = dscale - 4 * frac;  // units = acc * 10^shift
    int128_t units;
    if (ndigits == 0) {
        units = 0;
    } else if (shift >= 0) {
        if (!upscale(acc, shift, units)) return false;
    } else {
        // Only zero digits lie beyond the display scale, so the division is exact.
        if (-shift > 38) return false;
        units = acc / pow10_128(-shift);
    }
    out.units = negative ? -units : units;
    out.scale = dscale;
    return true;
}

bool FixedDecimalSum::add(const FixedDecimal& v) {
    int128_t a = units, b = v.units;
    int s = scale;
    if (v.scale > s) {
        if (!upscale(a, v.scale - s, a)) return false;
        s = v.scale;
    } else if (v.scale < s) {
        if (!upscale(b, s - v.scale, b)) return false;
    }
    int128_t r;
    if (__builtin_add_overflow(a, b, &r)) return false;
    units = r;
    scale = s;
    return true;
}

void fixed_to_text(int128_t units, int scale, char (&buf)[kFixedTextSize]) {
    const bool negative = units < 0;
    // |units| as unsigned: |INT128_MIN| does not fit int128.
    unsigned __int128 mag = negative ? -static_cast<unsigned __int128>(units) : static_cast<unsigned __int128>(units);
    char rev[kFixedTextSize];  // digits, least significant first
    int n = 0;
    while (mag != 0) {
        rev[n++] = static_cast<char>('0' + static_cast<int>(mag % 10));
        mag /= 10;
    }
    while (n <= scale) rev[n++] = '0';  // at least one digit before the point
    int k = 0;
    if (negative) buf[k++] = '-';
    for (int i = n; i-- > 0;) {
        buf[k++] = rev[i];
        if (i == scale && scale > 0) buf[k++] = '.';
    }
    buf[k] = '\0';
}

namespace {
// 10^n for n <= 22 (every one an exact double) and n <= 27 (exact in x87's 64-bit mantissa:
// 5^27 < 2^63).
constexpr double kPow10d[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                              1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
#if LDBL_MANT_DIG == 64
long double pow10_ld(int n) {
    static const auto table = [] {
        struct T {
            long double p[28];
        } t{};
        t.p[0] = 1;
        for (int i = 1; i <= 27; ++i) t.p[i] = t.p[i - 1] * 10;
        return t;
    }();
    return table.p[n];
}
#endif
}  // namespace

// Two shortcuts, both giving exactly the double the text round trip gives (its cost, an int128
// division per digit plus strtod, was half of value_band's time):
// - |units| <= 2^53, scale <= 22: both operands are exact doubles, and one IEEE division is
//   correctly rounded (Clinger's fast path).
// - |units| < 2^64, scale <= 27, x87 long double: the quotient correctly rounded to 64 bits, then to
//   53. That second rounding can only go wrong when the 64-bit quotient lies exactly halfway
//   between two doubles (a 64-bit value nearest to the exact quotient cannot lie beyond such a
//   midpoint, which is itself a 64-bit value), so that case takes the text path.
double fixed_to_double(int128_t units, int scale) {
    const bool negative = units < 0;
    const unsigned __int128 mag =
        negative ? -static_cast<unsigned __int128>(units) : static_cast<unsigned __int128>(units);
    if (mag <= (static_cast<unsigned __int128>(1) << 53) && scale <= 22) {
        const double d = static_cast<double>(static_cast<std::uint64_t>(mag)) / kPow10d[scale];
        return negative ? -d : d;
    }
#if LDBL_MANT_DIG == 64
    if (mag <= UINT64_MAX && scale <= 27) {
        const long double q = static_cast<long double>(static_cast<std::uint64_t>(mag)) / pow10_ld(scale);
        int exp;
        const auto bits = static_cast<std::uint64_t>(std::ldexp(std::frexp(q, &exp), 64));  // exact
        if ((bits & 0x7FF) != 0x400) {
            const auto d = static_cast<double>(q);
            return negative ? -d : d;
        }
    }
#endif
    char buf[kFixedTextSize];
    fixed_to_text(units, scale, buf);
    return std::strtod(buf, nullptr);
}

}  // namespace pgs::core
