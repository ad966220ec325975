#include "fixed_decimal.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <string>

using namespace pgs::core;

namespace {
std::string text(int128_t units, int scale) {
    char buf[kFixedTextSize];
    fixed_to_text(units, scale, buf);
    return buf;
}
const int128_t kMax = static_cast<int128_t>((~static_cast<unsigned __int128>(0)) >> 1);
const int128_t kMin = -kMax - 1;
}  // namespace

TEST(FixedDecimal, FromBase10000Digits) {
    FixedDecimal v;
    const std::int16_t d1[] = {123, 4500};  // 123.45 (dscale 2), weight 0
    ASSERT_TRUE(fixed_from_base10000(d1, 2, 0, 2, false, v));
    EXPECT_EQ(text(v.units, v.scale), "123.45");
    const std::int16_t d2[] = {1};  // 10000, stored as one digit of weight 1
    ASSERT_TRUE(fixed_from_base10000(d2, 1, 1, 0, true, v));
    EXPECT_EQ(text(v.units, v.scale), "-10000");
    const std::int16_t d3[] = {5};  // 0.0005 at dscale 6 -> 0.000500
    ASSERT_TRUE(fixed_from_base10000(d3, 1, -1, 6, false, v));
    EXPECT_EQ(text(v.units, v.scale), "0.000500");
    ASSERT_TRUE(fixed_from_base10000(nullptr, 0, 0, 3, false, v));  // zero keeps its scale
    EXPECT_EQ(text(v.units, v.scale), "0.000");
}

TEST(FixedDecimal, TooWideIsRefused) {
    FixedDecimal v;
    const std::int16_t one[] = {1};
    EXPECT_FALSE(fixed_from_base10000(one, 1, -5, kMaxScale + 1, false, v));  // scale 19
    EXPECT_TRUE(fixed_from_base10000(one, 1, -4, kMaxScale - 2, false, v));
    const std::int16_t big[] = {1, 0, 0, 0, 0, 0, 0, 0, 0, 0};  // 10^36: fits at scale 0 ...
    EXPECT_TRUE(fixed_from_base10000(big, 10, 9, 0, false, v));
    EXPECT_FALSE(fixed_from_base10000(big, 10, 9, 3, false, v));  // ... not at scale 3
}

TEST(FixedDecimal, SumKeepsLargestScaleAndRefusesOverflow) {
    FixedDecimalSum s;
    ASSERT_TRUE(s.add(FixedDecimal{150, 2}));    // 1.50
    ASSERT_TRUE(s.add(FixedDecimal{2250, 3}));   // 2.250
    ASSERT_TRUE(s.add(FixedDecimal{-375, 2}));   // -3.75
    EXPECT_EQ(text(s.units, s.scale), "0.000");
    FixedDecimalSum m{kMax, 0};
    EXPECT_FALSE(m.add(FixedDecimal{1, 0}));
    EXPECT_EQ(m.units, kMax);  // unchanged
    EXPECT_FALSE(m.add(FixedDecimal{0, 1}));  // rescaling the sum overflows
    EXPECT_TRUE(m.add(FixedDecimal{-1, 0}));
    FixedDecimalSum n{kMin, 0};
    EXPECT_FALSE(n.add(FixedDecimal{-1, 0}));
}

TEST(FixedDecimal, TextAndDouble) {
    EXPECT_EQ(text(0, 0), "0");
    EXPECT_EQ(text(-5, 3), "-0.005");
    EXPECT_EQ(text(kMax, 0), "170141183460469231731687303715884105727");
    EXPECT_EQ(text(kMin, 18), "-170141183460469231731.687303715884105728");
    EXPECT_DOUBLE_EQ(fixed_to_double(1, 1), 0.1);  // correctly rounded, not 1 / 10.0 by luck
    EXPECT_EQ(fixed_to_double(-12345, 2), -123.45);
}

// fixed_to_double's shortcuts against the text round trip (strtod) it replaces: random magnitudes of
// every bit length to 2^70 at every scale, and quotients that lie exactly halfway between two
// doubles (where a second rounding could go wrong).
TEST(FixedDecimal, DoubleEqualsTextRoundTrip) {
    auto via_text = [](int128_t units, int scale) {
        char buf[kFixedTextSize];
        fixed_to_text(units, scale, buf);
        return std::strtod(buf, nullptr);
    };
    std::uint64_t x = 88172645463325252ULL;  // xorshift64
    auto next = [&x] {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        return x;
    };
    int checked = 0;
    for (int bits = 1; bits <= 70; ++bits) {
        for (int scale = 0; scale <= kMaxScale; ++scale) {
            for (int i = 0; i < 200; ++i) {
                unsigned __int128 r = (static_cast<unsigned __int128>(next()) << 64) | next();
                auto units = static_cast<int128_t>(r >> (128 - bits));
                if (i % 2) units = -units;
                ASSERT_EQ(fixed_to_double(units, scale), via_text(units, scale)) << bits << " bits, scale " << scale;
                ++checked;
            }
        }
    }
    // Exact midpoints: (2^53 + 1) * 2^k is halfway between two doubles; so is such a value times 10^s
    // read at scale s, and the neighbours one unit either side are not.
    for (int k = 0; k <= 10; ++k) {
        for (int s = 0; s <= 1; ++s) {
            const int128_t mid = ((static_cast<int128_t>(1) << 53) + 1) * (static_cast<int128_t>(1) << k) * (s ? 10 : 1);
            for (int128_t d = -1; d <= 1; ++d) {
                EXPECT_EQ(fixed_to_double(mid + d, s), via_text(mid + d, s));
                EXPECT_EQ(fixed_to_double(-(mid + d), s), via_text(-(mid + d), s));
            }
        }
    }
    EXPECT_GT(checked, 200000);
}
