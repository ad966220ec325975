#include "fixed_decimal.h"

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

double fixed_to_double(int128_t units, int scale) {
    char buf[kFixedTextSize];
    fixed_to_text(units, scale, buf);
    return std::strtod(buf, nullptr);
}

}  // namespace pgs::core
