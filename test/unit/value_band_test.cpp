#include "value_band.h"

#include <cmath>
#include <gtest/gtest.h>

#include "errors.h"

using namespace pgs::core;

TEST(ValueBand, BoundariesAsOmetriaDefinesThem) {
    EXPECT_EQ(value_band(74.99, 100), ValueBand::low);
    EXPECT_EQ(value_band(75, 100), ValueBand::medium);
    EXPECT_EQ(value_band(125, 100), ValueBand::medium);
    EXPECT_EQ(value_band(125.01, 100), ValueBand::high);
    EXPECT_EQ(value_band(250, 100), ValueBand::high);
    EXPECT_EQ(value_band(250.01, 100), ValueBand::very_high);
    EXPECT_EQ(value_band(-10, 100), ValueBand::low);
}

TEST(ValueBand, BadInput) {
    EXPECT_THROW(value_band(NAN, 100), Error);
    EXPECT_THROW(value_band(INFINITY, 100), Error);
    EXPECT_THROW(value_band(10, 0), Error);
    EXPECT_THROW(value_band(10, -5), Error);
}

TEST(ValueBand, Labels) {
    EXPECT_STREQ(value_band_label(ValueBand::very_high), "very_high");
}
